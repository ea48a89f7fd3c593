/**
 * Every call to Blob storage goes through here: @azure/storage-blob clients with the caller's Entra credential and the
 * SDK's retry policy off (maxTries 1), core/retry.ts as the one retry layer, and failures as AzureRequestError with
 * the storage error code, the message's first line with any signature stripped, and a fix where known.
 */
import type { TokenCredential } from '@azure/core-auth';
import { type BlobClient, BlobServiceClient, ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { withoutTrailingSlash } from '../domain/urls';
import { AzureRequestError, CancelledError, redact } from '../errors';
import type { Logger } from '../ports';
import { abortError, type Clock, realClock } from '../retry';
import { type HttpRetryPolicy, retrySdkCall, statusOf } from './http-retry';

export interface BlobCallOptions {
  readonly credential: TokenCredential;
  /** `<storage audience>/.default` of the cloud. */
  readonly scope: string;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  readonly retry?: HttpRetryPolicy;
  readonly logger?: Pick<Logger, 'debug'>;
  /** Extra storage pipeline options (tests: a fake httpClient). */
  readonly pipelineOptions?: StoragePipelineOptions;
}

/** A fix per HTTP status, for the call at hand; the general ones are storageFix's. */
export type Fixes = Readonly<Record<number, string>>;

export class BlobCalls {
  readonly clock: Clock;
  private readonly containers = new Map<string, ContainerClient>();

  constructor(private readonly o: BlobCallOptions) {
    this.clock = o.clock ?? realClock;
  }

  service(serviceUrl: string): BlobServiceClient {
    return new BlobServiceClient(serviceUrl, this.o.credential, this.pipelineOptions());
  }

  container(containerUri: string): ContainerClient {
    const key = withoutTrailingSlash(containerUri);
    let c = this.containers.get(key);
    if (!c) {
      c = new ContainerClient(key, this.o.credential, this.pipelineOptions());
      this.containers.set(key, c);
    }
    return c;
  }

  blobClient(containerUri: string, blob: string): BlobClient {
    return this.container(containerUri).getBlobClient(blob);
  }

  abortOpt(): { abortSignal?: AbortSignal } {
    return this.o.signal ? { abortSignal: this.o.signal } : {};
  }

  async retrying<T>(what: string, fn: () => Promise<T>, fixes: Fixes = {}): Promise<T> {
    try {
      return await retrySdkCall(what, fn, { ...this.o, clock: this.clock });
    } catch (e) {
      throw this.storageError(e, what, fixes);
    }
  }

  private pipelineOptions(): StoragePipelineOptions {
    // One retry layer: ours. The audience is the cloud's storage scope.
    return { ...this.o.pipelineOptions, retryOptions: { maxTries: 1 }, audience: this.o.scope, userAgentOptions: { userAgentPrefix: 'acr-transfer' } };
  }

  private storageError(e: unknown, what: string, fixes: Fixes): unknown {
    if (e instanceof AzureRequestError || e instanceof CancelledError) return e;
    if (this.o.signal?.aborted) return abortError(this.o.signal);
    const status = statusOf(e) ?? 0;
    const code = storageCodeOf(e) ?? (status ? `HTTP${status}` : 'RequestFailed');
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

/** Storage's error code: x-ms-error-code (the only source for HEAD requests, which have no body), else the parsed body's. */
function storageCodeOf(e: unknown): string | undefined {
  const err = e as { code?: unknown; details?: { errorCode?: unknown }; response?: { headers?: { get(n: string): string | undefined } } };
  const header = err.response?.headers?.get('x-ms-error-code');
  if (header) return header;
  if (typeof err.details?.errorCode === 'string') return err.details.errorCode;
  return typeof err.code === 'string' ? err.code : undefined;
}
