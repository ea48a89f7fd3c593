/**
 * What counts as transient for the Azure clients here, and how long the service asked us to wait. The retrying
 * itself is core/retry.ts; the SDK pipelines' own retry policies are switched off (maxRetries 0 / maxTries 1) so
 * that there is exactly one retry layer.
 */
import type { HttpHeaders } from '@azure/core-rest-pipeline';
import type { InFlight } from '../budget';
import { AzureRequestError, CancelledError, errorMessage, redact } from '../errors';
import type { Logger } from '../ports';
import { type Clock, retry } from '../retry';
import { boundedAttempt } from './request-bounds';
import { isRefusedToken, refusedAgainFix, type SignInRenewal } from './sign-in';

/** A response worth another try (408, 429, 5xx): thrown inside retry() and turned into a typed error after the last attempt. */
export class TransientHttpError extends Error {
  override readonly name = 'TransientHttpError';
  constructor(
    readonly status: number,
    readonly afterMs?: number,
    readonly code = '',
    readonly serviceMessage = '',
    readonly correlationId?: string,
  ) {
    super(`HTTP ${status}${code ? ` ${code}` : ''}${serviceMessage ? `: ${serviceMessage}` : ''}`);
  }
}

/** Statuses the Azure SDKs retry too (core-rest-pipeline exponential + throttling strategies); 501/505 are permanent. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'REQUEST_SEND_ERROR',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A transport failure (reset, refused, time-out) rather than an answer from the service. */
export function isConnectionError(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  const message = (e as { message?: unknown }).message;
  return typeof message === 'string' && /socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT/.test(message);
}

/** The retry() verdict for the errors the Azure clients here throw. */
export function isRetryableError(e: unknown): { retry: boolean; afterMs?: number } {
  if (e instanceof TransientHttpError) return e.afterMs !== undefined ? { retry: true, afterMs: e.afterMs } : { retry: true };
  if (isAbort(e)) return { retry: false };
  return { retry: isConnectionError(e) };
}

/** Ours (CancelledError), or an abort of an Azure SDK or fetch call (AbortError, a class this module does not import). */
export function isAbort(e: unknown): boolean {
  return e instanceof CancelledError || (!!e && typeof e === 'object' && (e as { name?: unknown }).name === 'AbortError');
}

/**
 * The wait the service asked for: `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds) or `Retry-After`
 * (seconds, or an HTTP date), https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling.
 */
export function retryAfterMs(headers: Pick<HttpHeaders, 'get'>, now: number): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = headers.get(name);
    if (v !== undefined && /^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v));
  }
  const v = headers.get('retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Bounded attempts and backoff shared by the HTTP clients (the first attempt included). */
export interface HttpRetryPolicy {
  readonly attempts: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_HTTP_RETRY: HttpRetryPolicy = { attempts: 6, minDelayMs: 1000, maxDelayMs: 60_000 };

export interface SdkRetryOptions {
  readonly retry?: HttpRetryPolicy;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  readonly logger?: Pick<Logger, 'debug'>;
  /** The run's deadline: no retry waits past it. */
  readonly deadline?: number;
  readonly inFlight?: InFlight;
  /** Signs in again once when the service refuses the token; the call's SDK client must then be rebuilt (see generation). */
  readonly signIn?: SignInRenewal;
}

/** Per call: its own time limit, and another signal that stops it (e.g. a copy's own). */
export interface SdkCallBounds {
  readonly timeoutMs: number;
  readonly also?: AbortSignal;
}

/** The HTTP status of an Azure SDK RestError, if it carries one. */
export function statusOf(e: unknown): number | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const s = (e as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** A RestError's service code: x-ms-error-code (the only source for HEAD requests, which have no body), else the body's. */
export function sdkCodeOf(e: unknown): string | undefined {
  const err = e as { code?: unknown; details?: { errorCode?: unknown }; response?: { headers?: { get(n: string): string | undefined } } } | undefined;
  const header = err?.response?.headers?.get('x-ms-error-code');
  if (header) return header;
  if (typeof err?.details?.errorCode === 'string') return err.details.errorCode;
  return typeof err?.code === 'string' ? err.code : undefined;
}

/**
 * Runs one call of an Azure SDK client (storage, Key Vault) under core/retry.ts: transient statuses and transport
 * failures are retried, bounded, after the service's Retry-After when it sends one, with the SDK's own retries off;
 * each attempt gets its own signal and time limit. A
 * refused token gets one fresh sign-in (the caller's client getter rebuilds its SDK client for the new generation).
 * Errors come out as the SDK threw them, but a token refused again is an AzureRequestError naming the sign-in.
 */
export async function retrySdkCall<T>(what: string, fn: (abortSignal: AbortSignal) => Promise<T>, o: SdkRetryOptions, bounds: SdkCallBounds): Promise<T> {
  const entry = o.inFlight?.start(what);
  const once = (): Promise<T> =>
    retry(() => boundedAttempt({ signal: o.signal, also: bounds.also, timeoutMs: bounds.timeoutMs }, what, fn), {
      ...(o.retry ?? DEFAULT_HTTP_RETRY),
      clock: o.clock,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
      retryable: (e) => {
        const status = statusOf(e);
        if (status === undefined) return { retry: isConnectionError(e) };
        // The service's Retry-After wins over the backoff, as ARM's and the registry's do (retry() caps it at maxDelayMs).
        const headers = (e as { response?: { headers?: Pick<HttpHeaders, 'get'> } }).response?.headers;
        const afterMs = headers && typeof headers.get === 'function' ? retryAfterMs(headers, o.clock.now()) : undefined;
        return { retry: isTransientStatus(status), ...(afterMs !== undefined ? { afterMs } : {}) };
      },
      onRetry: (e, attempt, delay) => {
        entry?.note(`retrying after ${redact(errorMessage(e))}`);
        o.logger?.debug(`${what}: ${redact(errorMessage(e))}; retry ${attempt} in ${delay} ms`);
      },
    });
  const refused = (e: unknown): boolean => isRefusedToken(statusOf(e) ?? 0, sdkCodeOf(e) ?? '');
  try {
    const seen = o.signIn?.generation ?? 0;
    try {
      return await once();
    } catch (e) {
      if (!o.signIn || !refused(e)) throw e;
      o.signIn.renew(seen, `${what}: HTTP 401 ${sdkCodeOf(e) ?? ''}`);
    }
    try {
      return await once();
    } catch (e) {
      if (!refused(e)) throw e;
      const headers = (e as { response?: { headers?: { get(n: string): string | undefined } } }).response?.headers;
      throw new AzureRequestError(
        what,
        401,
        sdkCodeOf(e) ?? 'HTTP401',
        redact(errorMessage(e).split('\n')[0] ?? ''),
        headers?.get('x-ms-request-id'),
        refusedAgainFix(o.signIn),
      );
    }
  } finally {
    entry?.done();
  }
}
