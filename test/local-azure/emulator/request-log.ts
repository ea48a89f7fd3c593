/**
 * The request log (`GET {controlUrl}/requests`): one JSON line per request the emulator's ports saw, appended to
 * `requestLogPath`; query values that could be secrets are redacted.
 */
import { createWriteStream } from 'node:fs';
import type { Fault } from './context';
import type { Service } from './router';

export interface RequestLogEntry {
  readonly time: string;
  readonly port: number;
  readonly service: Service;
  readonly method: string;
  readonly path: string;
  /** The status the emulator answered; 0 when it never handled the request (the client went away first). */
  readonly status: number;
  readonly ms: number;
  readonly fault?: Fault['kind'];
  /** The client closed the connection before the whole answer reached it. */
  readonly clientGone?: true;
}

export interface RequestLog {
  write(entry: RequestLogEntry): void;
  close(): void;
}

export function openRequestLog(file: string): RequestLog {
  const stream = createWriteStream(file, { flags: 'a' });
  return {
    write: (e) => void stream.write(`${JSON.stringify(e)}\n`),
    close: () => void stream.end(),
  };
}

/** Query strings in the request log keep their keys but lose values that could be secrets. */
export function redactedPath(url: URL): string {
  const q = new URLSearchParams();
  for (const [k, v] of url.searchParams) q.append(k, /^(sig|code|client_secret|token|refresh_token|access_token)$/i.test(k) ? 'REDACTED' : v);
  const qs = q.toString();
  return url.pathname + (qs ? `?${qs}` : '');
}
