/**
 * Blob storage for the transfer containers, with @azure/storage-blob and the caller's Entra credential. The core
 * passes container URLs without SAS. A server-side copy between accounts needs a SAS on the source
 * (https://learn.microsoft.com/rest/api/storageservices/copy-blob-from-url): the `sourceSas` provider gives one
 * (the export SAS from Key Vault), else a short-lived user-delegation SAS is made with the caller's token.
 * The SDK's retry policy is off (maxTries 1): core/retry.ts is the one retry layer. No URL with `sig=` is logged,
 * and storage errors keep their code and message with any signature stripped.
 */
import type { TokenCredential } from '@azure/core-auth';
import {
  type BlobBeginCopyFromUrlPollState,
  type BlobClient,
  type BlobGetPropertiesResponse,
  BlobServiceClient,
  ContainerClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { AzureRequestError, redact } from '../errors';
import type { BlobCopyResult, BlobInfo, BlobStore, Logger, SasRequest } from '../ports';
import { abortError, type Clock, pollUntil, realClock } from '../retry';
import { type HttpRetryPolicy, retrySdkCall, statusOf } from './http-retry';

/** Copy Blob From URL is synchronous only up to 256 MiB (https://learn.microsoft.com/rest/api/storageservices/copy-blob-from-url). */
export const SYNC_COPY_LIMIT_BYTES = 256 * 1024 * 1024;
/** The metadata the source trigger needs on an import blob (docs/azure-service.md#source-trigger). */
export const TRANSFER_BLOB_METADATA = { category: 'acr-transfer-blob' } as const;
const USER_DELEGATION_SAS_MS = 60 * 60_000;
const ACCOUNT_KEY_SAS_VERSION = '2025-05-05';
/** Storage rejects a SAS whose start lies in its future; allow for clock skew. */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface BlobStoreOptions {
  readonly credential: TokenCredential;
  /** `<storage audience>/.default` of the cloud. */
  readonly scope: string;
  /** A SAS (with or without the leading '?') that lets the copy read from this container; undefined → user-delegation SAS. */
  readonly sourceSas?: (containerUri: string) => Promise<string | undefined>;
  readonly mask: (secret: string) => void;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  readonly retry?: HttpRetryPolicy;
  readonly syncCopyLimitBytes?: number;
  /** Asynchronous copy polling (when the service sends no hint). */
  readonly poll?: { readonly intervalMs: number; readonly maxIntervalMs: number };
  /** Absolute clock time after which an asynchronous copy is abandoned (CancelledError 'timeout'). */
  readonly deadline?: number;
  readonly logger?: Pick<Logger, 'debug' | 'info'>;
  /** Extra storage pipeline options (tests: a fake httpClient). */
  readonly pipelineOptions?: StoragePipelineOptions;
}

interface BlobRef {
  readonly containerUri: string;
  readonly blob: string;
}

/** Splits `https://host[:port]/[account/]container` into the service URL and the container name. */
export function splitContainerUri(containerUri: string): { serviceUrl: string; container: string } {
  const u = new URL(containerUri);
  u.search = '';
  const segments = u.pathname.split('/').filter(Boolean);
  const container = segments.pop();
  if (!container) throw new AzureRequestError(`use container '${redact(containerUri)}'`, 0, 'InvalidUri', 'the URL names no blob container');
  u.pathname = segments.length ? `/${segments.join('/')}` : '/';
  return { serviceUrl: u.toString().replace(/\/+$/, ''), container };
}

export class AzureBlobStore implements BlobStore {
  private readonly clock: Clock;
  private readonly containers = new Map<string, ContainerClient>();
  private readonly sasCache = new Map<string, { sas: string; expiresAt: number }>();

  constructor(private readonly o: BlobStoreOptions) {
    this.clock = o.clock ?? realClock;
  }

  async getBlob(containerUri: string, blob: string): Promise<BlobInfo | undefined> {
    const what = `get properties of blob '${blob}' in ${containerUri}`;
    try {
      const p = await this.retrying(what, () => this.blobClient(containerUri, blob).getProperties(this.abortOpt()));
      return toInfo(blob, p);
    } catch (e) {
      if (e instanceof AzureRequestError && e.status === 404 && e.code !== 'ContainerNotFound') return undefined;
      throw e;
    }
  }

  async listBlobs(containerUri: string, prefix?: string): Promise<BlobInfo[]> {
    const what = `list blobs in ${containerUri}`;
    const out: BlobInfo[] = [];
    const container = this.container(containerUri);
    let marker: string | undefined;
    for (;;) {
      const page = await this.retrying(what, async () => {
        const iter = container
          .listBlobsFlat({ includeMetadata: true, ...(prefix !== undefined ? { prefix } : {}), ...this.abortOpt() })
          .byPage({ maxPageSize: 5000, ...(marker !== undefined ? { continuationToken: marker } : {}) });
        const r = await iter.next();
        return r.done ? undefined : r.value;
      });
      if (!page) break;
      for (const b of page.segment.blobItems) {
        const md5 = b.properties.contentMD5;
        out.push(
          withOptional(
            { name: b.name, size: b.properties.contentLength ?? 0, metadata: { ...(b.metadata ?? {}) } },
            {
              contentMD5: md5 && md5.length ? Buffer.from(md5).toString('base64') : undefined,
              lastModified: b.properties.lastModified?.toISOString(),
              etag: b.properties.etag,
            },
          ),
        );
      }
      marker = page.continuationToken || undefined;
      if (!marker) break;
    }
    return out;
  }

  async deleteBlob(containerUri: string, blob: string): Promise<void> {
    await this.retrying(`delete blob '${blob}' in ${containerUri}`, () => this.blobClient(containerUri, blob).deleteIfExists(this.abortOpt()));
  }

  async containerExists(containerUri: string): Promise<boolean> {
    return this.retrying(`check container ${containerUri}`, () => this.container(containerUri).exists(this.abortOpt()));
  }

  async createSas(containerUri: string, o: SasRequest): Promise<string> {
    const { serviceUrl, container } = splitContainerUri(containerUri);
    const service = new BlobServiceClient(serviceUrl, this.o.credential, this.pipelineOptions());
    const base = {
      containerName: container,
      permissions: ContainerSASPermissions.parse(o.permissions),
      protocol: SASProtocol.Https,
      startsOn: o.startsOn,
      expiresOn: o.expiresOn,
    };
    let sas: string;
    if (o.accountKey !== undefined) {
      this.o.mask(o.accountKey);
      // A version both Azure and Azurite 3.35 know (the SDK's newest, 2026-04-06, is refused by Azurite).
      sas = generateBlobSASQueryParameters(
        { ...base, version: ACCOUNT_KEY_SAS_VERSION },
        new StorageSharedKeyCredential(service.accountName, o.accountKey),
      ).toString();
    } else {
      // The key must cover the SAS's whole life; the service refuses keys longer than 7 days.
      const key = await this.retrying(
        `get a user delegation key from ${serviceUrl}`,
        () => service.getUserDelegationKey(o.startsOn, o.expiresOn, this.abortOpt()),
        {
          403: `The signed-in identity needs a role that can create user delegation keys on the account (e.g. Storage Blob Data Contributor or Storage Blob Delegator), or set 'sas-signing' to account-key`,
        },
      );
      this.o.mask(key.value);
      sas = generateBlobSASQueryParameters({ ...base, ...(key.signedVersion ? { version: key.signedVersion } : {}) }, key, service.accountName).toString();
    }
    this.o.mask(sas);
    return sas;
  }

  async copyBlob(from: BlobRef, to: BlobRef, signal?: AbortSignal): Promise<BlobCopyResult> {
    const what = `copy blob '${from.blob}' from ${from.containerUri} to '${to.blob}' in ${to.containerUri}`;
    const source = await this.getBlob(from.containerUri, from.blob);
    if (!source)
      throw new AzureRequestError(
        what,
        404,
        'BlobNotFound',
        `blob '${from.blob}' does not exist in ${from.containerUri}`,
        undefined,
        'Check the blob name and that the export run finished',
      );
    const sas = await this.sasFor(from.containerUri, what);
    const sourceUrl = `${this.blobClient(from.containerUri, from.blob).url}?${sas}`;
    const target = this.blobClient(to.containerUri, to.blob);
    const abort = signal ?? this.o.signal;
    const mode: BlobCopyResult['mode'] = source.size <= (this.o.syncCopyLimitBytes ?? SYNC_COPY_LIMIT_BYTES) ? 'sync' : 'async';
    this.o.logger?.debug(`${what}: ${source.size} bytes, ${mode} copy`);
    if (mode === 'sync') {
      await this.retrying(what, () => target.syncCopyFromURL(sourceUrl, { metadata: { ...source.metadata }, ...(abort ? { abortSignal: abort } : {}) }));
    } else {
      await this.asyncCopy(target, sourceUrl, source, what, abort);
    }
    const result = await this.restoreProperties(target, source, what);
    return withOptional({ blob: to.blob, size: result.size, mode }, { contentMD5: result.contentMD5 });
  }

  /** Copy Blob (any size) polled through core/retry's pollUntil; aborted on the copy when we are cancelled. */
  private async asyncCopy(target: BlobClient, sourceUrl: string, source: BlobInfo, what: string, abort: AbortSignal | undefined): Promise<void> {
    const poller = await this.retrying(what, () =>
      target.beginCopyFromURL(sourceUrl, { metadata: { ...source.metadata }, ...(abort ? { abortSignal: abort } : {}) }),
    );
    // The poller's first poll started the copy: it keeps the copy id, and isCompleted when the service copied at once.
    const started = poller.getOperationState() as BlobBeginCopyFromUrlPollState;
    const copyId = started.copyId;
    let status: string | undefined = started.isCompleted ? (started.result?.copyStatus ?? 'success') : 'pending';
    if (status === 'pending') {
      try {
        const props = await pollUntil(async () => ({ value: await this.retrying(what, () => target.getProperties(abort ? { abortSignal: abort } : {})) }), {
          intervalMs: this.o.poll?.intervalMs ?? 2000,
          maxIntervalMs: this.o.poll?.maxIntervalMs ?? 15_000,
          clock: this.clock,
          done: (p) => p.copyStatus !== 'pending' || (copyId !== undefined && p.copyId !== undefined && p.copyId !== copyId),
          onPoll: (p) => this.o.logger?.debug(`${what}: ${p.copyStatus ?? '?'} ${p.copyProgress ?? ''}`),
          what,
          ...(this.o.deadline !== undefined ? { deadline: this.o.deadline } : {}),
          ...(abort ? { signal: abort } : {}),
        });
        if (copyId !== undefined && props.copyId !== undefined && props.copyId !== copyId) {
          throw new AzureRequestError(what, 409, 'CopySuperseded', `another copy (id ${props.copyId}) replaced this one`);
        }
        status = props.copyStatus;
        if (status !== 'success')
          throw new AzureRequestError(
            what,
            200,
            `Copy${status ?? 'Unknown'}`,
            redact(props.copyStatusDescription ?? `the copy ended ${status ?? 'without a status'}`),
          );
      } catch (e) {
        if (copyId !== undefined && (abort?.aborted || (e instanceof Error && e.name === 'CancelledError'))) {
          // Leave no half-written target behind a cancelled run.
          await target.abortCopyFromURL(copyId).catch(() => undefined);
        }
        throw e;
      }
    } else if (status !== 'success') {
      throw new AzureRequestError(what, 200, `Copy${status ?? 'Unknown'}`, 'the copy did not start');
    }
  }

  /**
   * Copies may drop Content-MD5 or metadata (docs/azure-service.md#source-trigger: stripped by some copy methods); the
   * source trigger needs both. Sets what is missing, then checks size and MD5 against the source.
   */
  private async restoreProperties(target: BlobClient, source: BlobInfo, what: string): Promise<{ size: number; contentMD5?: string }> {
    let p = await this.retrying(what, () => target.getProperties(this.abortOpt()));
    const metadata = p.metadata ?? {};
    if (Object.entries(source.metadata).some(([k, v]) => metadata[k] !== v)) {
      await this.retrying(what, () => target.setMetadata({ ...metadata, ...source.metadata }, this.abortOpt()));
    }
    const targetMd5 = p.contentMD5 && p.contentMD5.length ? Buffer.from(p.contentMD5).toString('base64') : undefined;
    if (source.contentMD5 !== undefined && targetMd5 === undefined) {
      // Set Blob Properties replaces every header: carry the others over.
      await this.retrying(what, () =>
        target.setHTTPHeaders(
          {
            blobContentMD5: Buffer.from(source.contentMD5!, 'base64'),
            ...(p.contentType !== undefined ? { blobContentType: p.contentType } : {}),
            ...(p.contentEncoding !== undefined ? { blobContentEncoding: p.contentEncoding } : {}),
            ...(p.contentLanguage !== undefined ? { blobContentLanguage: p.contentLanguage } : {}),
            ...(p.contentDisposition !== undefined ? { blobContentDisposition: p.contentDisposition } : {}),
            ...(p.cacheControl !== undefined ? { blobCacheControl: p.cacheControl } : {}),
          },
          this.abortOpt(),
        ),
      );
    }
    p = await this.retrying(what, () => target.getProperties(this.abortOpt()));
    const info = toInfo('', p);
    if (info.size !== source.size)
      throw new AzureRequestError(what, 200, 'CopyVerificationFailed', `the copy has ${info.size} bytes, the source ${source.size}`);
    if (source.contentMD5 !== undefined && info.contentMD5 !== source.contentMD5) {
      throw new AzureRequestError(
        what,
        200,
        'CopyVerificationFailed',
        `the copy's Content-MD5 ${info.contentMD5 ?? '(none)'} differs from the source's ${source.contentMD5}`,
      );
    }
    const missing = Object.entries(source.metadata).filter(([k, v]) => info.metadata[k] !== v);
    if (missing.length)
      throw new AzureRequestError(what, 200, 'CopyVerificationFailed', `the copy lacks metadata ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}`);
    return withOptional({ size: info.size }, { contentMD5: info.contentMD5 });
  }

  /** The SAS that lets the copy read the source container: the provider's, or a user-delegation SAS (read+list, 1 h, https). */
  private async sasFor(containerUri: string, what: string): Promise<string> {
    const given = await this.o.sourceSas?.(containerUri);
    if (given) {
      const sas = given.replace(/^\?/, '');
      this.o.mask(sas);
      return sas;
    }
    const hit = this.sasCache.get(containerUri);
    if (hit && hit.expiresAt - CLOCK_SKEW_MS > this.clock.now()) return hit.sas;
    const { serviceUrl, container } = splitContainerUri(containerUri);
    const service = new BlobServiceClient(serviceUrl, this.o.credential, this.pipelineOptions());
    const now = this.clock.now();
    const startsOn = new Date(now - CLOCK_SKEW_MS);
    const expiresOn = new Date(now + USER_DELEGATION_SAS_MS);
    const key = await this.retrying(
      `${what}: get a user delegation key from ${serviceUrl}`,
      () => service.getUserDelegationKey(startsOn, expiresOn, this.abortOpt()),
      {
        403: `The signed-in identity needs a role that can create user delegation keys on the source account (e.g. Storage Blob Data Reader or Storage Blob Delegator), or give the export SAS through Key Vault ('export-sas-secret-uri')`,
      },
    );
    this.o.mask(key.value);
    const sas = generateBlobSASQueryParameters(
      // Sign in the version the service issued the key for: Azure answers the request's x-ms-version, and a service that
      // does not know the SDK's newest SAS layout (Azurite 3.35 rejects sv=2026-04-06) still verifies the signature.
      {
        containerName: container,
        permissions: ContainerSASPermissions.parse('rl'),
        protocol: SASProtocol.Https,
        startsOn,
        expiresOn,
        ...(key.signedVersion ? { version: key.signedVersion } : {}),
      },
      key,
      service.accountName,
    ).toString();
    this.o.mask(sas);
    this.sasCache.set(containerUri, { sas, expiresAt: expiresOn.getTime() });
    return sas;
  }

  // ---- clients and retries

  private pipelineOptions(): StoragePipelineOptions {
    // One retry layer: ours. The audience is the cloud's storage scope.
    return { ...this.o.pipelineOptions, retryOptions: { maxTries: 1 }, audience: this.o.scope, userAgentOptions: { userAgentPrefix: 'acr-transfer' } };
  }

  private container(containerUri: string): ContainerClient {
    const key = containerUri.replace(/\/+$/, '');
    let c = this.containers.get(key);
    if (!c) {
      c = new ContainerClient(key, this.o.credential, this.pipelineOptions());
      this.containers.set(key, c);
    }
    return c;
  }

  private blobClient(containerUri: string, blob: string): BlobClient {
    return this.container(containerUri).getBlobClient(blob);
  }

  private abortOpt(): { abortSignal?: AbortSignal } {
    return this.o.signal ? { abortSignal: this.o.signal } : {};
  }

  private async retrying<T>(what: string, fn: () => Promise<T>, fixes: Readonly<Record<number, string>> = {}): Promise<T> {
    try {
      return await retrySdkCall(what, fn, { ...this.o, clock: this.clock });
    } catch (e) {
      throw this.storageError(e, what, fixes);
    }
  }

  private storageError(e: unknown, what: string, fixes: Readonly<Record<number, string>>): unknown {
    if (e instanceof AzureRequestError || (e instanceof Error && e.name === 'CancelledError')) return e;
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

function toInfo(name: string, p: BlobGetPropertiesResponse): BlobInfo {
  return withOptional(
    { name, size: p.contentLength ?? 0, metadata: { ...(p.metadata ?? {}) } },
    {
      contentMD5: p.contentMD5 && p.contentMD5.length ? Buffer.from(p.contentMD5).toString('base64') : undefined,
      lastModified: p.lastModified?.toISOString(),
      etag: p.etag,
    },
  );
}

/** `base` plus the members of `extra` that are defined (exactOptionalPropertyTypes). */
function withOptional<B extends object, E extends object>(base: B, extra: { [K in keyof E]: E[K] | undefined }): B & Partial<E> {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out as B & Partial<E>;
}
