import { createHash } from 'node:crypto';
import type { BlobCopyResult, BlobInfo, BlobStore, ManifestInfo, SasRequest } from '../../../core/ports';
import type { FakeClock } from './clock';

/** A blob and what a fake export put in it: `repo:tag` or `repo@digest` with the manifest digest. */
export interface StoredBlob extends BlobInfo {
  /** What an export put in it: references, their digests and, when the registry had one, each manifest's body. */
  readonly payload: readonly { readonly ref: string; readonly digest: string; readonly body?: Omit<ManifestInfo, 'digest'> }[];
}

const key = (uri: string): string => uri.replace(/\/+$/, '').toLowerCase();

export class FakeBlobStore implements BlobStore {
  readonly containers = new Map<string, Map<string, StoredBlob>>();
  readonly copies: string[] = [];
  /** Simulates a copy tool that drops metadata. */
  stripMetadataOnCopy = false;
  /** Containers that do not exist (every other one does). */
  readonly missingContainers = new Set<string>();
  /** Every SAS made, with what it was asked for. */
  readonly sasMade: { containerUri: string; request: SasRequest; sas: string }[] = [];

  constructor(private readonly clock: FakeClock) {}

  container(uri: string): Map<string, StoredBlob> {
    if (!this.containers.has(key(uri))) this.containers.set(key(uri), new Map());
    return this.containers.get(key(uri))!;
  }

  put(uri: string, name: string, payload: StoredBlob['payload'], o: { metadata?: Record<string, string>; contentMD5?: boolean } = {}): StoredBlob {
    const body = JSON.stringify(payload);
    const blob: StoredBlob = {
      name,
      size: body.length,
      ...(o.contentMD5 === false ? {} : { contentMD5: createHash('md5').update(body).digest('base64') }),
      metadata: o.metadata ?? { category: 'acr-transfer-blob' },
      lastModified: this.clock.iso(),
      payload,
    };
    this.container(uri).set(name, blob);
    return blob;
  }

  get(uri: string, name: string): StoredBlob | undefined {
    return this.containers.get(key(uri))?.get(name);
  }

  getBlob(containerUri: string, blob: string): Promise<BlobInfo | undefined> {
    return Promise.resolve(this.get(containerUri, blob));
  }

  /** Every metadata write, `<blob> <key>=<value>,…`. */
  readonly metadataSet: string[] = [];

  setBlobMetadata(containerUri: string, blob: string, metadata: Readonly<Record<string, string>>): Promise<void> {
    const b = this.get(containerUri, blob);
    if (!b) return Promise.reject(new Error(`BlobNotFound: ${blob}`));
    this.metadataSet.push(
      `${blob} ${Object.entries(metadata)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`,
    );
    this.container(containerUri).set(blob, { ...b, metadata: { ...metadata }, lastModified: this.clock.iso() });
    return Promise.resolve();
  }

  listBlobs(containerUri: string, prefix = ''): Promise<BlobInfo[]> {
    return Promise.resolve([...(this.containers.get(key(containerUri))?.values() ?? [])].filter((b) => b.name.startsWith(prefix)));
  }

  copyBlob(from: { containerUri: string; blob: string }, to: { containerUri: string; blob: string }): Promise<BlobCopyResult> {
    const src = this.get(from.containerUri, from.blob);
    if (!src) return Promise.reject(new Error(`BlobNotFound: ${from.blob}`));
    this.copies.push(to.blob);
    const copy: StoredBlob = { ...src, name: to.blob, lastModified: this.clock.iso(), metadata: this.stripMetadataOnCopy ? {} : src.metadata };
    this.container(to.containerUri).set(to.blob, copy);
    return Promise.resolve({ blob: to.blob, size: src.size, ...(src.contentMD5 !== undefined ? { contentMD5: src.contentMD5 } : {}), mode: 'sync' });
  }

  containerExists(containerUri: string): Promise<boolean> {
    return Promise.resolve(!this.missingContainers.has(key(containerUri)));
  }

  /** A SAS-shaped string (the fields check reads) with a unique fake signature. */
  createSas(containerUri: string, request: SasRequest): Promise<string> {
    const perms = 'racwdl'
      .split('')
      .filter((l) => request.permissions.includes(l))
      .join('');
    const sas = fakeSas({ sp: perms, st: request.startsOn, se: request.expiresOn, sig: `fake${this.sasMade.length + 1}${request.accountKey ? 'key' : 'ud'}` });
    this.sasMade.push({ containerUri, request, sas });
    return Promise.resolve(sas);
  }

  deleteBlob(containerUri: string, blob: string): Promise<void> {
    this.containers.get(key(containerUri))?.delete(blob);
    return Promise.resolve();
  }
}

/** A container SAS query string with the fields check reads; `spr` https unless given. */
export function fakeSas(o: { sp: string; se: Date; st?: Date; sig?: string; spr?: string | null; sr?: string }): string {
  const q = new URLSearchParams({ sv: '2025-05-05', ...(o.st ? { st: o.st.toISOString() } : {}), se: o.se.toISOString(), sr: o.sr ?? 'c', sp: o.sp });
  if (o.spr !== null) q.set('spr', o.spr ?? 'https');
  q.set('sig', o.sig ?? 'fakesignature0123456789');
  return q.toString();
}
