/**
 * Every call to Blob storage goes through here: @azure/storage-blob clients with the caller's Entra credential and the
 * SDK's retry policy off (maxTries 1), core/retry.ts as the one retry layer (each attempt time-limited), and failures
 * as AzureRequestError with the storage error code, the message's first line with any signature stripped, and a fix
 * where known. A URL outside the cloud's storage suffix, or a blob name with a `.`/`..` segment, gets no request.
 */
import type { TokenCredential } from '@azure/core-auth';
import { type BlobClient, BlobServiceClient, ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { hasDotSegment, withoutTrailingSlash } from '../domain/urls';
import { AzureRequestError, CancelledError, ConfigError, redact, sanitize } from '../errors';
import type { Logger } from '../ports';
import { abortError, type Clock, realClock } from '../retry';
import { type HttpRetryPolicy, retrySdkCall, sdkCodeOf, type SdkRetryOptions, statusOf } from './http-retry';
import { REQUEST_TIMEOUT_MS } from './request-bounds';

export interface BlobCallOptions extends Omit<SdkRetryOptions, 'clock'> {
  readonly credential: TokenCredential;
  /** `<storage audience>/.default` of the cloud. */
  readonly scope: string;
  readonly clock?: Clock;
  readonly retry?: HttpRetryPolicy;
  readonly logger?: Pick<Logger, 'debug'>;
  /** Extra storage pipeline options (tests: a fake httpClient). */
  readonly pipelineOptions?: StoragePipelineOptions;
  /** Throws when the URL is not a blob endpoint of the cloud (hosts.ts); it then gets no request. */
  readonly checkStorageHost?: (url: string) => void;
  /** Each attempt's own time limit; default REQUEST_TIMEOUT_MS.storage (copies: storageCopy). */
  readonly timeoutMs?: number;
}

/** A call's own bounds: a longer time limit (copies), another signal that stops it. */
export interface CallBounds {
  readonly timeoutMs?: number;
  readonly also?: AbortSignal;
}

/** A fix per HTTP status, for the call at hand; the general ones are storageFix's. */
export type Fixes = Readonly<Record<number, string>>;

export class BlobCalls {
  readonly clock: Clock;
  private readonly containers = new Map<string, ContainerClient>();
  private generation = 0;

  constructor(private readonly o: BlobCallOptions) {
    this.clock = o.clock ?? realClock;
  }

  service(serviceUrl: string): BlobServiceClient {
    this.o.checkStorageHost?.(serviceUrl);
    return new BlobServiceClient(serviceUrl, this.o.credential, this.pipelineOptions());
  }

  /** One client per container and sign-in generation: a client's bearer policy caches its token, which a fresh sign-in replaces. */
  container(containerUri: string): ContainerClient {
    const generation = this.o.signIn?.generation ?? 0;
    if (generation !== this.generation) {
      this.containers.clear();
      this.generation = generation;
    }
    const key = withoutTrailingSlash(containerUri);
    let c = this.containers.get(key);
    if (!c) {
      this.o.checkStorageHost?.(key);
      c = new ContainerClient(key, this.o.credential, this.pipelineOptions());
      this.containers.set(key, c);
    }
    return c;
  }

  /** A blob's client; a name with a `.` or `..` segment would address another blob once the URL is resolved. */
  blobClient(containerUri: string, blob: string): BlobClient {
    if (hasDotSegment(blob)) throw new ConfigError(`refusing blob name '${sanitize(blob)}': it has a '.' or '..' segment`);
    return this.container(containerUri).getBlobClient(blob);
  }

  /** One call: retried, each attempt with its own signal (`{abortSignal}`, for the SDK call) and time limit. */
  async retrying<T>(what: string, fn: (abort: { abortSignal: AbortSignal }) => Promise<T>, fixes: Fixes = {}, bounds: CallBounds = {}): Promise<T> {
    try {
      return await retrySdkCall(
        what,
        (abortSignal) => fn({ abortSignal }),
        { ...this.o, clock: this.clock },
        { timeoutMs: bounds.timeoutMs ?? this.o.timeoutMs ?? REQUEST_TIMEOUT_MS.storage, ...(bounds.also ? { also: bounds.also } : {}) },
      );
    } catch (e) {
      throw this.storageError(e, what, fixes);
    }
  }

  private pipelineOptions(): StoragePipelineOptions {
    // One retry layer: ours. The audience is the cloud's storage scope.
    return { ...this.o.pipelineOptions, retryOptions: { maxTries: 1 }, audience: this.o.scope, userAgentOptions: { userAgentPrefix: 'acr-transfer' } };
  }

  private storageError(e: unknown, what: string, fixes: Fixes): unknown {
    if (e instanceof AzureRequestError || e instanceof CancelledError || e instanceof ConfigError) return e;
    if (this.o.signal?.aborted) return abortError(this.o.signal);
    const status = statusOf(e) ?? 0;
    const code = sdkCodeOf(e) ?? (status ? `HTTP${status}` : 'RequestFailed');
    const err = e as { message?: unknown; response?: { headers?: { get(n: string): string | undefined } } };
    // Storage messages carry the XML error text with RequestId/Time lines; keep the first line.
    const message = redact(String(err.message ?? e).split('\n')[0] ?? '');
    const requestId = err.response?.headers?.get('x-ms-request-id');
    return new AzureRequestError(redact(what), status, code, message, requestId, fixes[status] ?? storageFix(status, code));
  }
}

function storageFix(status: number, code: string): string | undefined {
  if (code === 'ContainerNotFound') return 'Create the blob container, or check the container URL';
  if (code === 'CannotVerifyCopySource') return 'The copy source is not readable with its SAS: check that the SAS grants read and has not expired';
  if (status === 403 && /Permission|Authorization/i.test(code)) {
    return 'The signed-in identity needs Storage Blob Data Contributor on the account (Storage Blob Data Reader to read); new role assignments can take minutes to work';
  }
  if (status === 401 || status === 403) return 'Check that the signed-in identity can reach the storage account (RBAC role, firewall, private endpoints)';
  return undefined;
}
