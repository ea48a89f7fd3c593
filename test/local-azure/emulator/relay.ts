/**
 * One streaming relay for the emulator's proxies (the ACR front end's registry backend, the storage front's Azurite):
 * the request goes upstream as it came, the answer comes back as it went, bytes untouched; a client that goes away
 * ends the upstream request, and an upstream that does not answer is the caller's error.
 */
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { HttpError } from './http';
import type { Request } from './router';

/** Headers of one connection, not of the message: never relayed (and Host and Expect are the relay's own). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);

export interface RelayTo {
  /** Starts the upstream request; `onAnswer` gets its response. */
  readonly send: (onAnswer: (up: IncomingMessage) => void) => ClientRequest;
  /** The response headers to pass back (without hop-by-hop headers). */
  readonly headers: (up: IncomingMessage) => OutgoingHttpHeaders | string[];
  /** The answer when the upstream fails before answering. */
  readonly unavailable: (e: Error) => HttpError;
}

export function relay(req: Request, res: ServerResponse, to: RelayTo): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const up = to.send((upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', to.headers(upRes));
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
      res.on('close', () => {
        if (!upRes.complete) upRes.destroy();
        resolve();
      });
    });
    up.on('error', (e) => {
      if (res.headersSent) {
        res.destroy();
        resolve();
      } else reject(to.unavailable(e));
    });
    req.raw.on('aborted', () => up.destroy());
    req.raw.pipe(up);
  });
}
