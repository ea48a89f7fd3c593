import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpError } from './http';

/** Which emulated service a request belongs to; faults and the request log are keyed by it. */
export type Service = 'entra' | 'arm' | 'keyvault' | 'oidc' | 'msi' | 'acr' | 'storage' | 'control';

export interface Request {
  readonly service: Service;
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly raw: IncomingMessage;
  /** Route parameters from the pattern's named groups, URI-decoded. */
  readonly params: Readonly<Record<string, string>>;
}

export type Handler = (req: Request, res: ServerResponse) => Promise<void> | void;

interface Route {
  readonly service: Service;
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
}

/** What a port answers when no route serves a request: which service answers, in its own error shape. */
export interface Fallback {
  readonly service: Service;
  /** For a path no route serves (`pathMatched` false: 404), or a method none of the path's routes serves (405). */
  readonly answer: (method: string, url: URL, pathMatched: boolean) => HttpError;
}

export class Router {
  private readonly routes: Route[] = [];

  constructor(readonly fallback: Fallback) {}

  add(service: Service, method: string, pattern: RegExp, handler: Handler): this {
    this.routes.push({ service, method, pattern, handler });
    return this;
  }

  /** The first route whose pattern matches the path (any method), and the one that also matches the method. */
  match(method: string, pathname: string): { route: Route; params: Record<string, string> } | { pathMatched: boolean } {
    let pathMatched = false;
    for (const route of this.routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== '*' && route.method !== method) continue;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) params[k] = safeDecode(v);
      return { route, params };
    }
    return { pathMatched };
  }
}

/** A malformed escape (e.g. `%E0`) stays as sent: decodeURIComponent would throw outside any handler and end the process. */
function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
