/**
 * The one way to ARM, shared by both ARM clients (pipelines.ts, access.ts): @azure/core-client's ServiceClient (bearer
 * auth) with the pipeline's own retries off. core/retry.ts does the retrying (408/429/5xx, connection resets,
 * Retry-After) and the polling, so both are bounded by the run's deadline, cancellable by its signal, and testable
 * with a fake HttpClient and Clock.
 */
import type { TokenCredential } from '@azure/core-auth';
import { ServiceClient } from '@azure/core-client';
import { createHttpHeaders, createPipelineRequest, type HttpClient, type HttpHeaders, type HttpMethods } from '@azure/core-rest-pipeline';
import { withoutTrailingSlash } from '../../domain/urls';
import { AzureRequestError, CancelledError, ConfigError, errorMessage } from '../../errors';
import type { Logger } from '../../ports';
import { abortError, type Clock, type PollOptions, realClock, retry } from '../../retry';
import { DEFAULT_HTTP_RETRY, type HttpRetryPolicy, isRetryableError, isTransientStatus, retryAfterMs, TransientHttpError } from '../http-retry';
import { correlationOf, describe, errorOf, fixFor, responseError, type Target } from './errors';
import type { ListResult } from './models';

export interface ArmTransportOptions {
  /** ARM base URL, e.g. https://management.azure.com */
  readonly endpoint: string;
  readonly credential: TokenCredential;
  /** `<ARM audience>/.default` of the cloud. */
  readonly scope: string;
  /** The transport; tests pass a fake. Default: core-rest-pipeline's Node client. */
  readonly httpClient?: HttpClient;
  readonly clock?: Clock;
  /** Cancels requests in flight and waits (host.signal). */
  readonly signal?: AbortSignal;
  /** Absolute clock time after which LRO polling gives up with CancelledError('timeout'). */
  readonly deadline?: number;
  readonly retry?: HttpRetryPolicy;
  /** LRO polling interval when the service sends no Retry-After: first, and maximum after backing off. */
  readonly poll?: { readonly intervalMs: number; readonly maxIntervalMs: number };
  readonly logger?: Pick<Logger, 'debug'>;
}

export interface ArmResponse {
  readonly status: number;
  readonly headers: HttpHeaders;
  readonly text: string;
  /** The parsed JSON body; undefined when there is none or it does not parse. */
  readonly body: unknown;
}

const SIGN_IN_FIX =
  "Check the sign-in inputs ('auth-type', 'client-id', 'tenant-id', the secret, certificate or federated credential) and the cloud ('environment', 'authority-host')";

export class ArmTransport {
  readonly clock: Clock;
  readonly signal: AbortSignal | undefined;
  /** LRO polling intervals. */
  readonly poll: { readonly intervalMs: number; readonly maxIntervalMs: number };
  private readonly client: ServiceClient;
  private readonly endpoint: string;
  private readonly retryPolicy: HttpRetryPolicy;

  constructor(private readonly o: ArmTransportOptions) {
    this.endpoint = withoutTrailingSlash(o.endpoint);
    this.clock = o.clock ?? realClock;
    this.signal = o.signal;
    this.retryPolicy = o.retry ?? DEFAULT_HTTP_RETRY;
    this.poll = o.poll ?? { intervalMs: 2000, maxIntervalMs: 30_000 };
    this.client = new ServiceClient({
      endpoint: this.endpoint,
      credential: o.credential,
      credentialScopes: o.scope,
      // One retry layer only: ours (core/retry.ts).
      retryOptions: { maxRetries: 0 },
      userAgentOptions: { userAgentPrefix: 'acr-transfer' },
      ...(o.httpClient ? { httpClient: o.httpClient } : {}),
    });
  }

  /** `path` is a resource id path (starting with /subscriptions); adds the api-version. */
  url(path: string, apiVersion: string): string {
    return `${this.endpoint}${path
      .split('/')
      .map((s) => encodeURIComponent(s))
      .join('/')}?api-version=${encodeURIComponent(apiVersion)}`;
  }

  /** nextLink and monitor URLs are used as given (ACR signs them), but only on the ARM host: they get our ARM token. */
  checkedUrl(url: string, t: Target): string {
    let u: URL;
    try {
      u = new URL(url, this.endpoint);
    } catch {
      throw new AzureRequestError(describe(t), 200, 'InvalidUrl', `ARM returned a URL that does not parse: ${url}`);
    }
    if (u.origin !== new URL(this.endpoint).origin) {
      throw new AzureRequestError(
        describe(t),
        200,
        'UnexpectedHost',
        `ARM pointed at ${u.origin}, not ${new URL(this.endpoint).origin}; refusing to send the ARM token there`,
      );
    }
    return u.toString();
  }

  /** The wait the answer asks for before the next request (Retry-After and its variants). */
  retryAfter(res: ArmResponse): number | undefined {
    return retryAfterMs(res.headers, this.clock.now());
  }

  /** Polling bounded by the run's deadline and signal, at the transport's intervals. */
  pollOptions<T>(t: Target, done: (v: T) => boolean): PollOptions<T> {
    return {
      intervalMs: this.poll.intervalMs,
      maxIntervalMs: this.poll.maxIntervalMs,
      clock: this.clock,
      done,
      what: describe(t),
      ...(this.o.deadline !== undefined ? { deadline: this.o.deadline } : {}),
      ...(this.signal ? { signal: this.signal } : {}),
    };
  }

  /** GETs every page of an ARM list from `first` on (nextLink on the ARM host only). */
  async listAll<T>(first: string, t: Target): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = first;
    for (let page = 0; next !== undefined; page++) {
      if (page >= 1000) throw new AzureRequestError(describe(t), 200, 'TooManyPages', 'the list did not end after 1000 pages');
      const res = await this.send('GET', next, undefined, t);
      if (res.status !== 200) throw responseError(res, t);
      const list = res.body as ListResult<T>;
      out.push(...(list.value ?? []));
      next = list.nextLink ? this.checkedUrl(list.nextLink, t) : undefined;
    }
    return out;
  }

  /** One request with bounded retries on 408/429/5xx and connection errors; other statuses are returned. */
  async send(method: string, url: string, body: unknown, t: Target): Promise<ArmResponse> {
    try {
      return await retry(
        async () => {
          const request = createPipelineRequest({
            url,
            method: method as HttpMethods,
            headers: createHttpHeaders({ accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }),
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            ...(this.signal ? { abortSignal: this.signal } : {}),
          });
          const res = await this.client.sendRequest(request);
          const text = res.bodyAsText ?? '';
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (isTransientStatus(res.status)) {
            const { code, message } = errorOf(parsed, text);
            throw new TransientHttpError(res.status, retryAfterMs(res.headers, this.clock.now()), code, message, correlationOf(res.headers));
          }
          return { status: res.status, headers: res.headers, text, body: parsed };
        },
        {
          ...this.retryPolicy,
          retryable: isRetryableError,
          clock: this.clock,
          ...(this.signal ? { signal: this.signal } : {}),
          onRetry: (e, attempt, delay) => this.o.logger?.debug(`${describe(t)}: ${errorMessage(e)}; retry ${attempt} in ${delay} ms`),
        },
      );
    } catch (e) {
      throw this.failure(e, t);
    }
  }

  /** What `send` throws once retrying is over: always an AzureRequestError, unless cancelled or misconfigured. */
  private failure(e: unknown, t: Target): Error {
    if (e instanceof TransientHttpError) {
      return new AzureRequestError(
        describe(t),
        e.status,
        e.code || `HTTP${e.status}`,
        e.serviceMessage || e.message,
        e.correlationId,
        fixFor(e.status, e.code, e.serviceMessage, t),
      );
    }
    if (e instanceof AzureRequestError || e instanceof CancelledError || e instanceof ConfigError) return e;
    if (this.signal?.aborted) return abortError(this.signal);
    // The Azure SDK's sign-in errors (@azure/identity), whose classes this module does not import.
    if (e instanceof Error && /^(CredentialUnavailableError|AuthenticationError|AuthenticationRequiredError)$/.test(e.name)) {
      return new AzureRequestError(`${describe(t)}: sign-in`, 401, e.name, errorMessage(e), undefined, SIGN_IN_FIX);
    }
    const code = typeof (e as { code?: unknown }).code === 'string' ? String((e as { code: string }).code) : 'RequestFailed';
    return new AzureRequestError(
      describe(t),
      0,
      code,
      errorMessage(e),
      undefined,
      code === 'RequestFailed' ? undefined : `Check that this machine can reach ${this.endpoint}`,
    );
  }
}
