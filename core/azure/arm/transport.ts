/**
 * The one way to ARM, shared by both ARM clients (pipelines.ts, access.ts): @azure/core-client's ServiceClient (bearer
 * auth) with the pipeline's own retries off. core/retry.ts does the retrying (408/429/5xx, connection resets,
 * Retry-After) and the polling, so both are bounded by the run's deadline, cancellable by its signal, and testable
 * with a fake HttpClient and Clock. Each attempt has its own time limit (request-bounds.ts), and a token ARM stops
 * accepting mid-run gets one fresh sign-in (sign-in.ts).
 */
import type { TokenCredential } from '@azure/core-auth';
import { ServiceClient } from '@azure/core-client';
import { createHttpHeaders, createPipelineRequest, type HttpClient, type HttpHeaders, type HttpMethods } from '@azure/core-rest-pipeline';
import type { InFlight } from '../../budget';
import { hasDotSegment, withoutTrailingSlash } from '../../domain/urls';
import { AzureRequestError, CancelledError, ConfigError, errorMessage } from '../../errors';
import type { Logger } from '../../ports';
import { abortError, type Clock, type PollOptions, realClock, retry } from '../../retry';
import { DEFAULT_HTTP_RETRY, type HttpRetryPolicy, isRetryableError, isTransientStatus, retryAfterMs, TransientHttpError } from '../http-retry';
import { boundedAttempt, REQUEST_TIMEOUT_MS } from '../request-bounds';
import { isRefusedToken, refusedAgainFix, type SignInRenewal } from '../sign-in';
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
  /** Each attempt's own time limit; default REQUEST_TIMEOUT_MS.arm. */
  readonly timeoutMs?: number;
  /** The requests in flight (the run budget's), named for the time-out report. */
  readonly inFlight?: InFlight;
  /** Signs in again once when ARM refuses the token mid-run; `credential` is then the session itself. */
  readonly signIn?: SignInRenewal;
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
  private client: ServiceClient;
  /** The sign-in generation `client` was built in: its bearer policy caches that sign-in's token. */
  private clientGeneration: number;
  private readonly endpoint: string;
  private readonly retryPolicy: HttpRetryPolicy;

  constructor(private readonly o: ArmTransportOptions) {
    this.endpoint = withoutTrailingSlash(o.endpoint);
    this.clock = o.clock ?? realClock;
    this.signal = o.signal;
    this.retryPolicy = o.retry ?? DEFAULT_HTTP_RETRY;
    this.poll = o.poll ?? { intervalMs: 2000, maxIntervalMs: 30_000 };
    this.clientGeneration = o.signIn?.generation ?? 0;
    this.client = this.newClient();
  }

  private newClient(): ServiceClient {
    return new ServiceClient({
      endpoint: this.endpoint,
      credential: this.o.credential,
      credentialScopes: this.o.scope,
      // One retry layer only: ours (core/retry.ts).
      retryOptions: { maxRetries: 0 },
      userAgentOptions: { userAgentPrefix: 'acr-transfer' },
      ...(this.o.httpClient ? { httpClient: this.o.httpClient } : {}),
    });
  }

  /** The client of the current sign-in: one built before a fresh sign-in would send the refused token again. */
  private current(): ServiceClient {
    const generation = this.o.signIn?.generation ?? 0;
    if (generation !== this.clientGeneration) {
      this.client = this.newClient();
      this.clientGeneration = generation;
    }
    return this.client;
  }

  /**
   * `path` is a resource id path (starting with /subscriptions); adds the api-version. No segment may be `.` or `..`:
   * URL resolution would turn the request into one on another resource (settings refuse them; this is the backstop).
   */
  url(path: string, apiVersion: string): string {
    if (hasDotSegment(path)) throw new ConfigError(`refusing the ARM path '${path}': it has a '.' or '..' segment`);
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

  /**
   * What the answer says of the read budget: its Retry-After, and ARM's x-ms-ratelimit-remaining-subscription-reads
   * (docs/azure-service.md#watching-runs).
   */
  readBudget(res: ArmResponse): { retryAfterMs?: number; remainingReads?: number } {
    const retryAfterMs = this.retryAfter(res);
    const reads = Number.parseInt(res.headers.get('x-ms-ratelimit-remaining-subscription-reads') ?? '', 10);
    return { ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...(Number.isFinite(reads) && reads >= 0 ? { remainingReads: reads } : {}) };
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

  /**
   * One request with bounded retries on 408/429/5xx and connection errors, each attempt time-limited; other statuses
   * are returned. A token ARM refuses (401 InvalidAuthenticationToken) gets one fresh sign-in and one more try.
   */
  async send(method: string, url: string, body: unknown, t: Target): Promise<ArmResponse> {
    const entry = this.o.inFlight?.start(describe(t));
    try {
      const seen = this.clientGeneration;
      const res = await this.attempts(method, url, body, t, (note) => entry?.note(note));
      const signIn = this.o.signIn;
      if (!signIn) return res;
      const refused = errorOf(res.body, res.text);
      if (!isRefusedToken(res.status, refused.code)) return res;
      signIn.renew(seen, `${describe(t)}: HTTP 401 ${refused.code}`);
      const again = await this.attempts(method, url, body, t, (note) => entry?.note(note));
      if (again.status !== 401) return again;
      const { code, message } = errorOf(again.body, again.text);
      throw new AzureRequestError(describe(t), 401, code || 'HTTP401', message || 'unauthorized', correlationOf(again.headers), refusedAgainFix(signIn));
    } catch (e) {
      throw this.failure(e, t);
    } finally {
      entry?.done();
    }
  }

  /** The bounded retries of one request. */
  private attempts(method: string, url: string, body: unknown, t: Target, note: (text: string) => void): Promise<ArmResponse> {
    return retry(
      () =>
        boundedAttempt({ signal: this.signal, timeoutMs: this.o.timeoutMs ?? REQUEST_TIMEOUT_MS.arm }, describe(t), async (abortSignal) => {
          const request = createPipelineRequest({
            url,
            method: method as HttpMethods,
            headers: createHttpHeaders({ accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }),
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            abortSignal,
          });
          const res = await this.current().sendRequest(request);
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
        }),
      {
        ...this.retryPolicy,
        retryable: isRetryableError,
        clock: this.clock,
        ...(this.signal ? { signal: this.signal } : {}),
        ...(this.o.deadline !== undefined ? { deadline: this.o.deadline } : {}),
        onRetry: (e, attempt, delay) => {
          note(`retrying after ${errorMessage(e)}`);
          this.o.logger?.debug(`${describe(t)}: ${errorMessage(e)}; retry ${attempt} in ${delay} ms`);
        },
      },
    );
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
