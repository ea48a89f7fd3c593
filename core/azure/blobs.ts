/**
 * Blob storage for the transfer containers: properties, lists, server-side copies and deletes. The core passes
 * container URLs without SAS; a copy reads its source with a SAS from blob-sas.ts. Every call goes through
 * blob-calls.ts (one retry layer, storage errors with their code and message, any signature stripped); no URL with
 * `sig=` is logged.
 */
import type { BlobBeginCopyFromUrlPollState, BlobClient } from '@azure/storage-blob';
import { definedOnly } from '../domain/objects';
import { AzureRequestError, CancelledError, redact } from '../errors';
import type { BlobCopyResult, BlobInfo, BlobStore, Logger, SasRequest } from '../ports';
import { pollUntil } from '../retry';
import { type BlobCallOptions, BlobCalls } from './blob-calls';
import { REQUEST_TIMEOUT_MS } from './request-bounds';
import { BlobSas, type BlobSasOptions } from './blob-sas';

/** Copy Blob From URL is synchronous only up to 256 MiB (https://learn.microsoft.com/rest/api/storageservices/copy-blob-from-url). */
export const SYNC_COPY_LIMIT_BYTES = 256 * 1024 * 1024;
/** The metadata the source trigger needs on an import blob (docs/azure-service.md#source-trigger). */
export const TRANSFER_BLOB_METADATA = { category: 'acr-transfer-blob' } as const;

export interface BlobStoreOptions extends BlobCallOptions, BlobSasOptions {
  readonly syncCopyLimitBytes?: number;
  /** Asynchronous copy polling (when the service sends no hint). */
  readonly poll?: { readonly intervalMs: number; readonly maxIntervalMs: number };
  /** Absolute clock time after which an asynchronous copy is abandoned (CancelledError 'timeout'). */
  readonly deadline?: number;
  readonly logger?: Pick<Logger, 'debug' | 'info'>;
}

interface BlobRef {
  readonly containerUri: string;
  readonly blob: string;
}

export class AzureBlobStore implements BlobStore {
  private readonly calls: BlobCalls;
  private readonly sas: BlobSas;

  constructor(private readonly o: BlobStoreOptions) {
    this.calls = new BlobCalls(o);
    this.sas = new BlobSas(this.calls, o);
  }

  async getBlob(containerUri: string, blob: string): Promise<BlobInfo | undefined> {
    const what = `get properties of blob '${blob}' in ${containerUri}`;
    try {
      const p = await this.calls.retrying(what, (a) => this.calls.blobClient(containerUri, blob).getProperties(a));
      return toInfo(blob, p, p.metadata);
    } catch (e) {
      if (e instanceof AzureRequestError && e.status === 404 && e.code !== 'ContainerNotFound') return undefined;
      throw e;
    }
  }

  async listBlobs(containerUri: string, prefix?: string): Promise<BlobInfo[]> {
    const what = `list blobs in ${containerUri}`;
    const out: BlobInfo[] = [];
    const container = this.calls.container(containerUri);
    let marker: string | undefined;
    for (;;) {
      const page = await this.calls.retrying(what, async (a) => {
        const iter = container
          .listBlobsFlat({ includeMetadata: true, ...(prefix !== undefined ? { prefix } : {}), ...a })
          .byPage({ maxPageSize: 5000, ...(marker !== undefined ? { continuationToken: marker } : {}) });
        const r = await iter.next();
        return r.done ? undefined : r.value;
      });
      if (!page) break;
      out.push(...page.segment.blobItems.map((b) => toInfo(b.name, b.properties, b.metadata)));
      marker = page.continuationToken || undefined;
      if (!marker) break;
    }
    return out;
  }

  async deleteBlob(containerUri: string, blob: string): Promise<void> {
    await this.calls.retrying(`delete blob '${blob}' in ${containerUri}`, (a) => this.calls.blobClient(containerUri, blob).deleteIfExists(a));
  }

  async setBlobMetadata(containerUri: string, blob: string, metadata: Readonly<Record<string, string>>): Promise<void> {
    await this.calls.retrying(`set metadata of blob '${blob}' in ${containerUri}`, (a) =>
      this.calls.blobClient(containerUri, blob).setMetadata({ ...metadata }, a),
    );
  }

  async containerExists(containerUri: string): Promise<boolean> {
    return this.calls.retrying(`check container ${containerUri}`, (a) => this.calls.container(containerUri).exists(a));
  }

  async createSas(containerUri: string, o: SasRequest): Promise<string> {
    return this.sas.create(containerUri, o);
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
    const sas = await this.sas.forSource(from.containerUri, what);
    const sourceUrl = `${this.calls.blobClient(from.containerUri, from.blob).url}?${sas}`;
    const target = this.calls.blobClient(to.containerUri, to.blob);
    const mode: BlobCopyResult['mode'] = source.size <= (this.o.syncCopyLimitBytes ?? SYNC_COPY_LIMIT_BYTES) ? 'sync' : 'async';
    this.o.logger?.debug(`${what}: ${source.size} bytes, ${mode} copy`);
    if (mode === 'sync') {
      // One request copies the whole blob: the storage time limit for data, not for metadata.
      await this.calls.retrying(what, (a) => target.syncCopyFromURL(sourceUrl, { metadata: { ...source.metadata }, ...a }), {}, this.copyBounds(signal));
    } else {
      await this.asyncCopy(target, sourceUrl, source, what, signal);
    }
    const result = await this.restoreProperties(target, source, what);
    return definedOnly<BlobCopyResult>({ blob: to.blob, size: result.size, mode, contentMD5: result.contentMD5 });
  }

  private copyBounds(signal: AbortSignal | undefined): { timeoutMs: number; also?: AbortSignal } {
    return { timeoutMs: REQUEST_TIMEOUT_MS.storageCopy, ...(signal ? { also: signal } : {}) };
  }

  /** Copy Blob (any size) polled through core/retry's pollUntil; aborted on the copy when we are cancelled. */
  private async asyncCopy(target: BlobClient, sourceUrl: string, source: BlobInfo, what: string, signal: AbortSignal | undefined): Promise<void> {
    const abort = signal ?? this.o.signal;
    const poller = await this.calls.retrying(
      what,
      (a) => target.beginCopyFromURL(sourceUrl, { metadata: { ...source.metadata }, ...a }),
      {},
      signal ? { also: signal } : {},
    );
    // The poller's first poll started the copy: it keeps the copy id, and isCompleted when the service copied at once.
    const started = poller.getOperationState() as BlobBeginCopyFromUrlPollState;
    const copyId = started.copyId;
    let status: string | undefined = started.isCompleted ? (started.result?.copyStatus ?? 'success') : 'pending';
    if (status === 'pending') {
      try {
        const props = await pollUntil(
          async () => ({ value: await this.calls.retrying(what, (a) => target.getProperties(a), {}, signal ? { also: signal } : {}) }),
          {
            intervalMs: this.o.poll?.intervalMs ?? 2000,
            maxIntervalMs: this.o.poll?.maxIntervalMs ?? 15_000,
            clock: this.calls.clock,
            done: (p) => p.copyStatus !== 'pending' || (copyId !== undefined && p.copyId !== undefined && p.copyId !== copyId),
            onPoll: (p) => this.o.logger?.debug(`${what}: ${p.copyStatus ?? '?'} ${p.copyProgress ?? ''}`),
            what,
            ...(this.o.deadline !== undefined ? { deadline: this.o.deadline } : {}),
            ...(abort ? { signal: abort } : {}),
          },
        );
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
        if (copyId !== undefined && (abort?.aborted || e instanceof CancelledError)) {
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
    let p = await this.calls.retrying(what, (a) => target.getProperties(a));
    const metadata = p.metadata ?? {};
    if (Object.entries(source.metadata).some(([k, v]) => metadata[k] !== v)) {
      await this.calls.retrying(what, (a) => target.setMetadata({ ...metadata, ...source.metadata }, a));
    }
    if (source.contentMD5 !== undefined && base64Md5(p.contentMD5) === undefined) {
      // Set Blob Properties replaces every header: carry the others over.
      await this.calls.retrying(what, (a) =>
        target.setHTTPHeaders(
          {
            blobContentMD5: Buffer.from(source.contentMD5!, 'base64'),
            ...(p.contentType !== undefined ? { blobContentType: p.contentType } : {}),
            ...(p.contentEncoding !== undefined ? { blobContentEncoding: p.contentEncoding } : {}),
            ...(p.contentLanguage !== undefined ? { blobContentLanguage: p.contentLanguage } : {}),
            ...(p.contentDisposition !== undefined ? { blobContentDisposition: p.contentDisposition } : {}),
            ...(p.cacheControl !== undefined ? { blobCacheControl: p.cacheControl } : {}),
          },
          a,
        ),
      );
    }
    p = await this.calls.retrying(what, (a) => target.getProperties(a));
    const info = toInfo('', p, p.metadata);
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
    return definedOnly<{ size: number; contentMD5?: string }>({ size: info.size, contentMD5: info.contentMD5 });
  }
}

/** The properties a blob's GET or list entry carries, as BlobInfo. */
function toInfo(
  name: string,
  p: { readonly contentLength?: number; readonly contentMD5?: Uint8Array; readonly lastModified?: Date; readonly etag?: string },
  metadata: Readonly<Record<string, string>> | undefined,
): BlobInfo {
  return definedOnly<BlobInfo>({
    name,
    size: p.contentLength ?? 0,
    metadata: { ...(metadata ?? {}) },
    contentMD5: base64Md5(p.contentMD5),
    lastModified: p.lastModified?.toISOString(),
    etag: p.etag,
  });
}

/** Content-MD5 as the SDK gives it (bytes) → base64, as BlobInfo carries it; undefined when the blob has none. */
function base64Md5(md5: Uint8Array | undefined): string | undefined {
  return md5 && md5.length ? Buffer.from(md5).toString('base64') : undefined;
}
