import { createHash } from 'node:crypto';
import type { BlobCopyResult, BlobInfo, BlobStore } from '../../../core/ports';
import type { FakeClock } from './clock';

/** A blob and what a fake export put in it: `repo:tag` or `repo@digest` with the manifest digest. */
export interface StoredBlob extends BlobInfo {
  readonly payload: readonly { readonly ref: string; readonly digest: string }[];
}

const key = (uri: string): string => uri.replace(/\/+$/, '').toLowerCase();

export class FakeBlobStore implements BlobStore {
  readonly containers = new Map<string, Map<string, StoredBlob>>();
  readonly copies: string[] = [];
  /** Simulates a copy tool that drops metadata. */
  stripMetadataOnCopy = false;

  constructor(private readonly clock: FakeClock) {}

  container(uri: string): Map<string, StoredBlob> {
    if (!this.containers.has(key(uri))) this.containers.set(key(uri), new Map());
    return this.containers.get(key(uri))!;
  }

  put(uri: string, name: string, payload: StoredBlob['payload'], o: { metadata?: Record<string, string>; md5?: boolean } = {}): StoredBlob {
    const body = JSON.stringify(payload);
    const blob: StoredBlob = {
      name,
      size: body.length,
      ...(o.md5 === false ? {} : { contentMD5: createHash('md5').update(body).digest('base64') }),
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

  deleteBlob(containerUri: string, blob: string): Promise<void> {
    this.containers.get(key(containerUri))?.delete(blob);
    return Promise.resolve();
  }
}
