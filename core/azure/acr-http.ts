/**
 * Requests to one registry's data plane (https://{loginServer}/), token endpoints included: bounded retries through
 * core/retry.ts, each attempt time-limited (request-bounds.ts), and every failure as an AzureRequestError naming the
 * registry, with the registry API's error shapes. A login server outside the cloud's registry suffix gets no request.
 */
import { createHttpHeaders, createPipelineRequest, type HttpClient, type HttpMethods, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { InFlight } from '../budget';
import { AzureRequestError, CancelledError, errorMessage } from '../errors';
import type { Logger } from '../ports';
import { abortError, type Clock, retry } from '../retry';
import { DEFAULT_HTTP_RETRY, type HttpRetryPolicy, isRetryableError, isTransientStatus, retryAfterMs, TransientHttpError } from './http-retry';
import { boundedAttempt, REQUEST_TIMEOUT_MS } from './request-bounds';

export interface AcrHttpOptions {
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  readonly retry?: HttpRetryPolicy;
  readonly logger?: Pick<Logger, 'debug'>;
  /** The run's deadline: no retry waits past it. */
  readonly deadline?: number;
  /** Each attempt's own time limit; default REQUEST_TIMEOUT_MS.registry. */
  readonly timeoutMs?: number;
  readonly inFlight?: InFlight;
  /** Throws when the login server is not a registry host of the cloud (hosts.ts); it then gets no token. */
  readonly checkRegistryHost?: (loginServer: string) => void;
}

export class AcrHttp {
  /** https://{loginServer} */
  readonly base: string;

  constructor(
    readonly loginServer: string,
    private readonly http: HttpClient,
    private readonly o: AcrHttpOptions,
  ) {
    this.base = `https://${loginServer}`;
    o.checkRegistryHost?.(loginServer);
  }

  /** "`what` on registry '…'": the operation named in errors. */
  on(what: string): string {
    return `${what} on registry '${this.loginServer}'`;
  }

  async send(method: HttpMethods, url: string, headers: Record<string, string>, body: string | undefined, what: string): Promise<PipelineResponse> {
    const entry = this.o.inFlight?.start(this.on(what));
    try {
      return await retry(
        () =>
          boundedAttempt({ signal: this.o.signal, timeoutMs: this.o.timeoutMs ?? REQUEST_TIMEOUT_MS.registry }, this.on(what), (abortSignal) =>
            this.once(method, url, headers, body, abortSignal),
          ),
        {
          ...(this.o.retry ?? DEFAULT_HTTP_RETRY),
          retryable: isRetryableError,
          clock: this.o.clock,
          ...(this.o.signal ? { signal: this.o.signal } : {}),
          ...(this.o.deadline !== undefined ? { deadline: this.o.deadline } : {}),
          onRetry: (e, attempt, delay) => {
            entry?.note(`retrying after ${errorMessage(e)}`);
            this.o.logger?.debug(`${what} on ${this.loginServer}: ${errorMessage(e)}; retry ${attempt} in ${delay} ms`);
          },
        },
      );
    } catch (e) {
      throw this.failure(e, what);
    } finally {
      entry?.done();
    }
  }

  /** One attempt: a transient status (408, 429, 5xx) is thrown for retry(), any other answer returned. */
  private async once(
    method: HttpMethods,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    abortSignal: AbortSignal,
  ): Promise<PipelineResponse> {
    const res = await this.http.sendRequest(
      createPipelineRequest({ url, method, headers: createHttpHeaders(headers), ...(body !== undefined ? { body } : {}), abortSignal }),
    );
    if (isTransientStatus(res.status)) {
      const { code, message } = registryErrorOf(res);
      throw new TransientHttpError(res.status, retryAfterMs(res.headers, this.o.clock.now()), code, message, res.headers.get('x-ms-correlation-request-id'));
    }
    return res;
  }

  /** What `send` throws once retrying is over: an AzureRequestError naming the registry, unless cancelled. */
  private failure(e: unknown, what: string): unknown {
    const op = this.on(what);
    if (e instanceof TransientHttpError)
      return new AzureRequestError(op, e.status, e.code || `HTTP${e.status}`, e.serviceMessage || e.message, e.correlationId);
    if (e instanceof AzureRequestError || e instanceof CancelledError) return e;
    if (this.o.signal?.aborted) return abortError(this.o.signal);
    const code = typeof (e as { code?: unknown }).code === 'string' ? String((e as { code: string }).code) : 'RequestFailed';
    return new AzureRequestError(
      op,
      0,
      code,
      errorMessage(e),
      undefined,
      `Check that this machine can reach https://${this.loginServer} (private endpoints, firewall rules)`,
    );
  }

  /** An answer that is not the one the call expects, as an error. */
  error(res: PipelineResponse, what: string, fix?: string): AzureRequestError {
    const { code, message } = registryErrorOf(res);
    return new AzureRequestError(
      this.on(what),
      res.status,
      code || `HTTP${res.status}`,
      message || `unexpected HTTP ${res.status}`,
      res.headers.get('x-ms-correlation-request-id') ?? undefined,
      fix ?? (res.status === 401 || res.status === 403 ? fixForAuth(this.loginServer) : undefined),
    );
  }
}

export function fixForAuth(loginServer: string): string {
  return `The signed-in identity needs data access to ${loginServer} (AcrPull, or Container Registry Repository Reader); new role assignments can take up to 10 minutes to work`;
}

/** `{"errors":[{"code","message"}]}` (Docker registry API); token endpoints answer with `{error, error_description}` or text. */
function registryErrorOf(res: PipelineResponse): { code: string; message: string } {
  const text = res.bodyAsText ?? '';
  try {
    const b = JSON.parse(text) as { errors?: { code?: string; message?: string }[]; error?: unknown; error_description?: unknown; details?: unknown };
    const first = b.errors?.[0];
    if (first) return { code: first.code ?? '', message: first.message ?? '' };
    if (typeof b.error === 'string')
      return { code: b.error, message: typeof b.error_description === 'string' ? b.error_description : typeof b.details === 'string' ? b.details : '' };
  } catch {
    /* not JSON */
  }
  return { code: '', message: text.slice(0, 300) };
}
