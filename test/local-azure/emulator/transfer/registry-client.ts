/**
 * A small client for the plain distribution registries behind the emulated ACRs (http, no auth).
 * Distribution API: https://distribution.github.io/distribution/spec/api/
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MANIFEST_TYPES: readonly string[] = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];

export function isIndexType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST;
}

export interface ManifestBytes {
  readonly bytes: Buffer;
  readonly mediaType: string;
  /** sha256 of exactly `bytes`. */
  readonly digest: string;
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
export function isDigest(ref: string): boolean {
  return DIGEST_RE.test(ref);
}

/** A registry answer other than the expected one; `code` is the first distribution error code, if any. */
export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

async function registryError(res: Response, what: string): Promise<RegistryError> {
  const text = await res.text().catch(() => '');
  let code: string | undefined;
  let detail = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = body.errors?.[0];
    if (first) {
      code = first.code;
      detail = `${first.code ?? ''} ${first.message ?? ''}`.trim();
    }
  } catch {
    /* not a distribution error body */
  }
  return new RegistryError(res.status, code, `${what}: HTTP ${res.status} ${detail}`.trim());
}

/** Writes into one repository of one registry, one after the other (see `exclusive`). */
const repoLocks = new Map<string, Promise<unknown>>();

export class RegistryClient {
  private readonly base: string;

  /** `baseUrl`: e.g. http://127.0.0.1:5301 (emu.config.registries.<side>.backendUrl). */
  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  private url(path: string): string {
    return `${this.base}/v2/${path}`;
  }

  /** The manifest `repo:ref` (tag or digest) exactly as stored, or undefined when the registry does not have it. */
  async getManifest(repo: string, ref: string): Promise<ManifestBytes | undefined> {
    const res = await fetch(this.url(`${repo}/manifests/${ref}`), { headers: { accept: MANIFEST_TYPES.join(', ') } });
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw await registryError(res, `GET manifest ${repo}:${ref}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256Digest(bytes);
    const served = res.headers.get('docker-content-digest');
    if (served && served !== digest) throw new Error(`manifest ${repo}:${ref}: Docker-Content-Digest ${served} does not match the bytes (${digest})`);
    if (isDigest(ref) && ref !== digest) throw new Error(`manifest ${repo}@${ref}: content has digest ${digest}`);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim() || mediaTypeOf(bytes);
    return { bytes, mediaType, digest };
  }

  /** Streams a blob; the caller must consume or destroy the stream. */
  async blobStream(repo: string, digest: string): Promise<{ stream: Readable; size: number }> {
    const res = await fetch(this.url(`${repo}/blobs/${digest}`));
    if (!res.ok || !res.body) throw await registryError(res, `GET blob ${repo}@${digest}`);
    return { stream: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), size: Number(res.headers.get('content-length') ?? -1) };
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await fetch(this.url(`${repo}/blobs/${digest}`), { method: 'HEAD' });
    if (res.status === 404) return false;
    if (!res.ok) throw await registryError(res, `HEAD blob ${repo}@${digest}`);
    return true;
  }

  /**
   * Monolithic upload (POST, then PUT with the whole content and ?digest=). Skipped when the blob already exists.
   * `content` is a buffer or a function that opens a stream, so that nothing is opened for a blob that exists.
   * Returns true when the blob was uploaded.
   */
  async pushBlob(repo: string, digest: string, size: number, content: Buffer | (() => Readable | Promise<Readable>)): Promise<boolean> {
    if (await this.hasBlob(repo, digest)) return false;
    const start = await fetch(this.url(`${repo}/blobs/uploads/`), { method: 'POST', headers: { 'content-length': '0' } });
    if (start.status !== 202) throw await registryError(start, `POST blob upload ${repo}`);
    await start.body?.cancel();
    const location = start.headers.get('location');
    if (!location) throw new Error(`POST blob upload ${repo}: no Location header`);
    // The backends run with `relativeurls: true`, so Location is usually a path: resolve it against the registry.
    const put = new URL(location, `${this.base}/`);
    put.searchParams.set('digest', digest);
    const body = Buffer.isBuffer(content) ? content : Readable.toWeb(await content());
    const res = await fetch(put, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: body as NonNullable<RequestInit['body']>,
      // A stream body needs half duplex (https://github.com/nodejs/node/issues/46221).
      ...(Buffer.isBuffer(content) ? {} : { duplex: 'half' as const }),
    });
    if (res.status !== 201) throw await registryError(res, `PUT blob ${repo}@${digest}`);
    await res.body?.cancel();
    return true;
  }

  /**
   * Runs `fn` alone among the writes to `repo` in this process. Concurrent import runs push the same layers into the same
   * repository; the distribution backend can then see a layer mid-commit and refuse a manifest (DIGEST_INVALID), which ACR
   * does not do.
   */
  exclusive<T>(repo: string, fn: () => Promise<T>): Promise<T> {
    const key = `${this.base}/${repo}`;
    const run = (repoLocks.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    const tail = run.catch(() => undefined);
    repoLocks.set(key, tail);
    void tail.then(() => repoLocks.get(key) === tail && repoLocks.delete(key));
    return run;
  }

  /** Puts a manifest under a tag or its digest; returns the digest the registry reports. */
  async putManifest(repo: string, ref: string, manifest: { bytes: Buffer; mediaType: string }): Promise<string> {
    const res = await fetch(this.url(`${repo}/manifests/${ref}`), { method: 'PUT', headers: { 'content-type': manifest.mediaType }, body: manifest.bytes });
    if (res.status !== 201) throw await registryError(res, `PUT manifest ${repo}:${ref}`);
    await res.body?.cancel();
    return res.headers.get('docker-content-digest') ?? sha256Digest(manifest.bytes);
  }

  /** Tags of a repository; an unknown repository has none. Follows `Link` pagination. */
  async listTags(repo: string): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = this.url(`${repo}/tags/list`);
    while (next) {
      const res: Response = await fetch(next);
      if (res.status === 404) {
        await res.body?.cancel();
        return tags;
      }
      if (!res.ok) throw await registryError(res, `GET tags ${repo}`);
      tags.push(...(((await res.json()) as { tags?: string[] | null }).tags ?? []));
      const link = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      next = link?.[1] ? new URL(link[1], `${this.base}/`).toString() : undefined;
    }
    return tags;
  }
}

/** The media type a manifest declares in its own `mediaType` field (Docker v2 and OCI both write it; OCI may omit it). */
export function mediaTypeOf(bytes: Buffer): string {
  const m = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
  if (m.mediaType) return m.mediaType;
  return Array.isArray(m.manifests) ? OCI_INDEX : OCI_MANIFEST;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly platform?: { readonly architecture?: string; readonly os?: string; readonly variant?: string };
  readonly annotations?: Readonly<Record<string, string>>;
}

interface ManifestJson {
  readonly config?: Descriptor;
  readonly layers?: readonly Descriptor[];
  readonly manifests?: readonly Descriptor[];
}

/** Child manifests of an index or manifest list. */
export function childManifests(m: ManifestBytes): Descriptor[] {
  return isIndexType(m.mediaType) ? [...((JSON.parse(m.bytes.toString('utf8')) as ManifestJson).manifests ?? [])] : [];
}

/**
 * The blobs an image manifest references: config and layers. Foreign (non-distributable) layers that carry
 * `urls` are left out: registries do not hold them (docs/azure-service.md#non-distributable-layers).
 */
export function manifestBlobs(m: ManifestBytes): Descriptor[] {
  if (isIndexType(m.mediaType)) return [];
  const j = JSON.parse(m.bytes.toString('utf8')) as ManifestJson;
  const layers = (j.layers ?? []).filter((l) => !(l.urls?.length && /foreign|nondistributable/.test(l.mediaType)));
  return [...(j.config ? [j.config] : []), ...layers];
}
