/**
 * One HTTPS port of the emulator: routes each request, applies injected faults, renders errors, and logs every
 * request, including the ones whose client went away before the answer reached it.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { armError } from './arm/frame';
import type { Emulator, Fault } from './context';
import { injectFault } from './faults';
import { HttpError, sendJson } from './http';
import { redactedPath, type RequestLog, type RequestLogEntry } from './request-log';
import type { Router, Service } from './router';
import { trackingHeaders } from './tracking';

/** Renders what a handler threw: its HttpError as it says, anything else as a 500. */
function answerError(res: ServerResponse, e: unknown, method: string, url: URL): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e instanceof HttpError) {
    if (typeof e.body === 'string') {
      res.writeHead(e.status, { 'content-type': 'text/plain', ...e.headers });
      res.end(e.body);
    } else sendJson(res, e.status, e.body, { ...e.headers });
    return;
  }
  process.stderr.write(`emulator error on ${method} ${url.pathname}: ${(e as Error).stack ?? String(e)}\n`);
  const internal = armError(500, 'InternalServerError', (e as Error).message);
  sendJson(res, internal.status, internal.body);
}

/**
 * The request's URL. The path is taken as sent: `//metadata/endpoints` (what the az CLI asks for when the cloud's ARM
 * endpoint ends in a slash) is a path, not a scheme-relative URL naming the host `metadata`.
 */
function requestUrl(raw: IncomingMessage, fallbackHost: string): URL {
  const target = raw.url ?? '/';
  const path = target.startsWith('/') ? target : `/${target}`;
  try {
    return new URL(`https://${raw.headers.host ?? fallbackHost}${path}`);
  } catch {
    // A Host header that is no host name must not end the process: the request is answered as if to the port's address.
    return new URL(`https://${fallbackHost}${path.replace(/[^\x21-\x7e]/g, encodeURIComponent)}`);
  }
}

export function serve(emu: Emulator, router: Router, port: number, log: RequestLog): Server {
  const tls = { cert: readFileSync(emu.config.certPath), key: readFileSync(emu.config.keyPath) };
  const server = createServer(tls, (raw: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const url = requestUrl(raw, `${emu.config.host}:${port}`);
    const method = (raw.method ?? 'GET').toUpperCase();
    const found = router.match(method, url.pathname);
    const service: Service = 'route' in found ? found.route.service : router.fallback.service;
    for (const [k, v] of Object.entries(trackingHeaders(service, raw))) res.setHeader(k, v);
    let faultKind: Fault['kind'] | undefined;
    // Set once a handler has produced its answer, even if a held (delay fault) answer never reaches the client.
    let handled = false;
    const entry = (status: number, clientGone: boolean): RequestLogEntry => ({
      time: new Date(started).toISOString(),
      port,
      service,
      method,
      path: redactedPath(url),
      status,
      ms: Date.now() - started,
      ...(faultKind ? { fault: faultKind } : {}),
      ...(clientGone ? { clientGone: true } : {}),
    });
    res.on('finish', () => log.write(entry(res.statusCode, false)));
    res.on('close', () => {
      if (!res.writableFinished) log.write(entry(handled ? res.statusCode : 0, true));
    });
    void (async () => {
      try {
        if (!('route' in found)) throw router.fallback.answer(method, url, found.pathMatched);
        if (found.route.service !== 'control') {
          const fault = injectFault(emu.knobs, found.route.service, method, url.pathname, res);
          faultKind = fault?.kind;
          if (fault?.answered) return;
        }
        await found.route.handler({ service: found.route.service, method, url, headers: raw.headers, raw, params: found.params }, res);
        handled = true;
      } catch (e) {
        answerError(res, e, method, url);
      }
    })();
  });
  server.keepAliveTimeout = 5000;
  server.listen(port, emu.config.host);
  return server;
}
