/**
 * Fakes for the core/azure unit tests: an HttpClient that answers from a script and records every request, a
 * clock that only moves when slept on, and a credential that hands out JWT-shaped tokens.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { createHttpHeaders, type HttpClient, type PipelineRequest, type PipelineResponse, RestError } from '@azure/core-rest-pipeline';
import { CancelledError } from '../../core/errors';
import type { Clock } from '../../core/retry';

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export type Reply = { readonly status: number; readonly headers?: Record<string, string>; readonly body?: unknown } | { readonly error: string };

interface Route {
  readonly method: string;
  readonly match: (url: URL) => boolean;
  readonly replies: Array<Reply | ((r: Recorded) => Reply)>;
}

/** Answers each request from the first route that matches; a route's replies are used in order, the last one repeats. */
export class FakeHttp implements HttpClient {
  readonly calls: Recorded[] = [];
  private readonly routes: Route[] = [];

  on(method: string, match: string | RegExp | ((u: URL) => boolean), ...replies: Array<Reply | ((r: Recorded) => Reply)>): this {
    const m =
      typeof match === 'function'
        ? match
        : typeof match === 'string'
          ? (u: URL) => `${u.origin}${u.pathname}` === match || u.pathname === match
          : (u: URL) => match.test(u.toString());
    this.routes.push({ method: method.toUpperCase(), match: m, replies });
    return this;
  }

  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const rec: Recorded = {
      method: request.method,
      url: request.url,
      headers: request.headers.toJSON(),
      ...(typeof request.body === 'string' ? { body: request.body } : {}),
    };
    this.calls.push(rec);
    const url = new URL(request.url);
    const route = this.routes.find((r) => (r.method === '*' || r.method === request.method) && r.match(url));
    if (!route) return { request, status: 599, headers: createHttpHeaders({}), bodyAsText: `no fake route for ${request.method} ${request.url}` };
    const next = route.replies.length > 1 ? route.replies.shift()! : route.replies[0]!;
    const reply = typeof next === 'function' ? next(rec) : next;
    if ('error' in reply) throw new RestError(`connect ${reply.error}`, { code: reply.error, request });
    const text = reply.body === undefined ? undefined : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const headers = { ...(text !== undefined && typeof reply.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...reply.headers };
    return { request, status: reply.status, headers: createHttpHeaders(headers), ...(text !== undefined ? { bodyAsText: text } : {}) };
  }

  /** Requests whose URL contains `part`. */
  to(part: string, method?: string): Recorded[] {
    return this.calls.filter((c) => c.url.includes(part) && (method === undefined || c.method === method));
  }
}

/** Time stands still until something sleeps; every sleep is recorded. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public time = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new CancelledError('cancelled', 'cancelled');
    this.sleeps.push(ms);
    this.time += ms;
  }
}

export function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.sig`;
}

/** Hands out distinct JWT-shaped tokens and remembers which scopes were asked for. */
export class FakeCredential implements TokenCredential {
  readonly scopes: string[] = [];
  constructor(private readonly clock: Clock = { now: () => Date.now(), sleep: async () => undefined }) {}
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes.join(' ') : scopes;
    this.scopes.push(scope);
    const exp = Math.floor(this.clock.now() / 1000) + 3600;
    return { token: jwt({ aud: scope, n: this.scopes.length, exp }), expiresOnTimestamp: exp * 1000 };
  }
}
