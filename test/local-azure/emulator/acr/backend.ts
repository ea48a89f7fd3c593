/**
 * The plain distribution registry behind one ACR front end: requests streamed to it and its answers streamed back,
 * bytes untouched (digests must survive), and its full JSON lists read page by page.
 */
import { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, request as httpRequest, type ServerResponse } from 'node:http';
import { HOP_BY_HOP, relay } from '../relay';
import type { Request } from '../router';
import { registryError } from './errors';

/** Page size when reading the backend's full list. */
const BACKEND_PAGE = 1000;
export class Backend {
  private readonly url: URL;

  /** `loginServer` is the front end's, which backend Locations are pointed at. */
  constructor(
    backendUrl: string,
    private readonly loginServer: string,
  ) {
    this.url = new URL(backendUrl);
  }

  /** GETs a JSON list from the backend, following its Link pages; a non-200 first answer is passed on as is. */
  async fetchAll(
    path: string,
    field: 'tags' | 'repositories',
    paged: boolean,
  ): Promise<{ items: string[] } | { status: number; body: string; contentType: string }> {
    const items: string[] = [];
    let next: string | undefined = paged ? `${path}?n=${BACKEND_PAGE}` : path;
    while (next) {
      const r = await fetch(new URL(next, this.url));
      const body = await r.text();
      if (r.status !== 200) return { status: r.status, body, contentType: r.headers.get('content-type') ?? 'application/json' };
      const list = (JSON.parse(body) as Record<string, unknown>)[field];
      if (Array.isArray(list)) items.push(...list.filter((x): x is string => typeof x === 'string'));
      next = /<([^>]+)>;\s*rel="?next"?/.exec(r.headers.get('link') ?? '')?.[1];
    }
    return { items };
  }

  private requestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'authorization') out[k] = v;
    out['host'] = this.url.host;
    out['x-forwarded-proto'] = 'https';
    out['x-forwarded-host'] = this.loginServer;
    return out;
  }

  /** Response headers as the backend sent them (repeats kept), with backend Locations pointed at the front end. */
  private responseHeaders(up: IncomingMessage): OutgoingHttpHeaders {
    const out: Record<string, string | string[]> = {};
    for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) {
      const k = up.rawHeaders[i]!.toLowerCase();
      let v = up.rawHeaders[i + 1]!;
      if (HOP_BY_HOP.has(k)) continue;
      if (k === 'location' && /^https?:\/\//i.test(v)) {
        const u = new URL(v);
        if (u.host === this.url.host) v = `https://${this.loginServer}${u.pathname}${u.search}`;
      }
      const prev = out[k];
      out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    return out;
  }

  /**
   * Streams the request to the backend and the answer back, bytes untouched (digests must survive). The path sent is
   * the normalised one the scope check saw, so `..` segments cannot reach another repository.
   */
  proxy(req: Request, res: ServerResponse): Promise<void> {
    return relay(req, res, {
      send: (onAnswer) =>
        httpRequest(
          {
            protocol: this.url.protocol,
            hostname: this.url.hostname,
            port: this.url.port,
            method: req.method,
            path: req.url.pathname + req.url.search,
            headers: this.requestHeaders(req.headers),
          },
          onAnswer,
        ),
      headers: (upRes) => this.responseHeaders(upRes),
      unavailable: (e) => registryError(502, 'UNAVAILABLE', `the registry backend did not answer: ${e.message}`),
    });
  }
}
