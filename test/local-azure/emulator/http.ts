import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from './router';

/** Thrown by handlers to answer with a given status and body; the server renders it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': Buffer.byteLength(text).toString(),
    ...headers,
  });
  res.end(text);
}

export async function readBody(raw: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Parses a JSON body (undefined when empty). An unparsable one is ARM's 400 InvalidRequestContent
 * (`{"error":{code,message}}`), which every JSON service of the emulator answers alike.
 */
export async function readJson(req: Request): Promise<unknown> {
  const buf = await readBody(req.raw);
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (e) {
    const message = `The request content was invalid and could not be deserialized: ${(e as Error).message}`;
    throw new HttpError(400, { error: { code: 'InvalidRequestContent', message } });
  }
}

export async function readForm(req: Request): Promise<URLSearchParams> {
  return new URLSearchParams((await readBody(req.raw)).toString('utf8'));
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The bearer token of a request, if any. */
export function bearerToken(req: Pick<Request, 'headers'>): string | undefined {
  const auth = headerValue(req.headers.authorization);
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m?.[1];
}
