/**
 * The export blob: an OCI image layout in a tar (https://github.com/opencontainers/image-spec/blob/main/image-layout.md),
 * so that `skopeo copy oci-archive:<file>:<repo>:<tag> …` reads it and every manifest keeps its digest
 * (oci-archive keeps digests, docker-archive does not: docs/local-azure.md#oci-archive-keeps-digests-docker-archive-does-not).
 * The real service's format is undocumented (docs/azure-service.md#the-export-blob); only our own import has to understand this one.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { childManifests, type Descriptor, isDigest, manifestBlobs, type ManifestBytes, mediaTypeOf, OCI_INDEX } from './registry-client';

/** The name skopeo and containerd select an image by (https://github.com/opencontainers/image-spec/blob/main/annotations.md). */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** Our own annotations: the repository and the tag or digest, so that `repo@sha256:…` references round-trip too. */
export const REPOSITORY_ANNOTATION = 'io.acr-transfer.repository';
export const REFERENCE_ANNOTATION = 'io.acr-transfer.reference';

// Fixed, so that exporting the same artifacts twice gives the same tar (and the same catalogDigest).
const MTIME = new Date(0);

export interface ArtifactRef {
  readonly repo: string;
  /** A tag or a `sha256:` digest. */
  readonly reference: string;
}

/** `repo` (= `repo:latest`), `repo:tag` or `repo@sha256:<hex>`; nested repositories allowed (docs/azure-service.md#artifact-references). */
export function parseArtifact(text: string): ArtifactRef | undefined {
  const at = text.indexOf('@');
  if (at >= 0) {
    const repo = text.slice(0, at);
    const digest = text.slice(at + 1);
    return validRepo(repo) && isDigest(digest) ? { repo, reference: digest } : undefined;
  }
  const colon = text.lastIndexOf(':');
  const slash = text.lastIndexOf('/');
  const [repo, tag] = colon > slash ? [text.slice(0, colon), text.slice(colon + 1)] : [text, 'latest'];
  return validRepo(repo) && /^[\w][\w.-]{0,127}$/.test(tag) ? { repo, reference: tag } : undefined;
}

function validRepo(repo: string): boolean {
  return /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repo);
}

export function formatArtifact(a: ArtifactRef): string {
  return isDigest(a.reference) ? `${a.repo}@${a.reference}` : `${a.repo}:${a.reference}`;
}

/** Where an export reads from: the registry client, or a fake in unit tests. */
export interface ArchiveSource {
  getManifest(repo: string, ref: string): Promise<ManifestBytes | undefined>;
  blobStream(repo: string, digest: string): Promise<{ stream: Readable; size: number }>;
}

export interface ResolvedArtifact {
  readonly ref: ArtifactRef;
  readonly manifest: ManifestBytes;
  /** Child manifests of an index (all of them, every platform), in index order. */
  readonly children: readonly ManifestBytes[];
}

export class MissingArtifactError extends Error {}

/** Looks the artifact up with all its child manifests; throws MissingArtifactError naming what is missing. */
export async function resolveArtifact(src: ArchiveSource, ref: ArtifactRef): Promise<ResolvedArtifact> {
  const manifest = await src.getManifest(ref.repo, ref.reference);
  if (!manifest) throw new MissingArtifactError(`Artifact '${formatArtifact(ref)}' was not found in the source registry.`);
  const children: ManifestBytes[] = [];
  for (const d of childManifests(manifest)) {
    const child = await src.getManifest(ref.repo, d.digest);
    if (!child) throw new MissingArtifactError(`Artifact '${formatArtifact(ref)}': its child manifest ${d.digest} was not found in the source registry.`);
    children.push(child);
  }
  return { ref, manifest, children };
}

export interface TarSummary {
  /** Hex SHA-256 of the whole tar (reported as `sha256:<hex>` catalogDigest). */
  readonly sha256: string;
  readonly contentMD5: Buffer;
  readonly size: number;
}

/** A pass-through that hashes and counts what flows through it. */
class Hasher extends Transform {
  private readonly sha = createHash('sha256');
  private readonly hashMD5: Hash = createHash('md5');
  size = 0;

  constructor(private readonly onBytes?: (total: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.sha.update(chunk);
    this.hashMD5.update(chunk);
    this.size += chunk.length;
    this.onBytes?.(this.size);
    cb(null, chunk);
  }

  summary(): TarSummary {
    return { sha256: this.sha.digest('hex'), contentMD5: this.hashMD5.digest(), size: this.size };
  }
}

function blobName(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

function indexEntry(a: ResolvedArtifact): Descriptor {
  const name = formatArtifact(a.ref);
  return {
    mediaType: a.manifest.mediaType,
    digest: a.manifest.digest,
    size: a.manifest.bytes.length,
    annotations: { [REF_NAME]: name, [REPOSITORY_ANNOTATION]: a.ref.repo, [REFERENCE_ANNOTATION]: a.ref.reference },
  };
}

async function addEntry(pack: tar.Pack, name: string, content: Buffer | { stream: Readable; size: number; digest: string }): Promise<void> {
  if (Buffer.isBuffer(content)) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: content.length, mtime: MTIME, mode: 0o644 }, content, (e) => (e ? reject(e) : resolve())),
    );
    return;
  }
  const done = new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ name, size: content.size, mtime: MTIME, mode: 0o644 }, (e) => (e ? reject(e) : resolve()));
    entry.on('error', reject);
    const sha = createHash('sha256');
    void (async () => {
      try {
        for await (const chunk of content.stream) {
          sha.update(chunk as Buffer);
          if (!entry.write(chunk)) await new Promise<void>((r) => entry.once('drain', () => r()));
        }
        const got = `sha256:${sha.digest('hex')}`;
        if (got !== content.digest) throw new Error(`blob ${content.digest} read from the registry has digest ${got}`);
        entry.end(undefined);
      } catch (e) {
        content.stream.destroy();
        entry.destroy(e as Error);
        reject(e as Error);
      }
    })();
  });
  await done;
}

/**
 * Writes the artifacts as an OCI layout tar to `file`, streaming blobs from `src` (layers are never held in memory),
 * and returns the tar's SHA-256, MD5 and size. Blobs shared by several artifacts are written once.
 */
export async function writeArchive(
  src: ArchiveSource,
  artifacts: readonly ResolvedArtifact[],
  file: string,
  onBytes?: (total: number) => void,
): Promise<TarSummary> {
  const pack = tar.pack();
  const hasher = new Hasher(onBytes);
  const written = pipeline(pack, hasher, createWriteStream(file));
  // If the file side fails, the entry callbacks never fire: race every step against the pipeline.
  const failed = written.then(() => new Promise<never>(() => undefined));
  const step = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failed]);
  try {
    await step(addEntry(pack, 'oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))));
    for (const dir of ['blobs/', 'blobs/sha256/'])
      await step(new Promise<void>((r, j) => pack.entry({ name: dir, type: 'directory', mode: 0o755, mtime: MTIME }, (e) => (e ? j(e) : r()))));
    const seen = new Set<string>();
    const addManifest = async (repo: string, m: ManifestBytes): Promise<void> => {
      for (const b of manifestBlobs(m)) {
        if (seen.has(b.digest)) continue;
        seen.add(b.digest);
        const { stream } = await step(src.blobStream(repo, b.digest));
        await step(addEntry(pack, blobName(b.digest), { stream, size: b.size, digest: b.digest }));
      }
      if (seen.has(m.digest)) return;
      seen.add(m.digest);
      await step(addEntry(pack, blobName(m.digest), m.bytes));
    };
    for (const a of artifacts) {
      for (const child of a.children) await addManifest(a.ref.repo, child);
      await addManifest(a.ref.repo, a.manifest);
    }
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: artifacts.map(indexEntry) };
    await step(addEntry(pack, 'index.json', Buffer.from(JSON.stringify(index))));
    pack.finalize();
    await written;
  } catch (e) {
    pack.destroy(e as Error);
    await written.catch(() => undefined);
    throw e;
  }
  return hasher.summary();
}

/** One artifact in an archive's index.json. */
export interface ArchivedArtifact {
  readonly ref: ArtifactRef;
  /** As written in the archive: `repo:tag` or `repo@sha256:…`. */
  readonly name: string;
  readonly digest: string;
  readonly mediaType: string;
}

const MAX_JSON = 16 * 1024 * 1024;

/**
 * An archive extracted into a directory: blobs are checked against their digests while they are written, and
 * read back from disk as streams when they are pushed.
 */
export class ExtractedArchive {
  private constructor(
    readonly dir: string,
    readonly artifacts: readonly ArchivedArtifact[],
    /** Entries of index.json that name no repository and reference, with the reason. */
    readonly invalid: readonly string[],
    readonly summary: TarSummary,
  ) {}

  /** Extracts the tar read from `input` into `dir` (which must exist and be empty). */
  static async extract(input: Readable, dir: string, onBytes?: (total: number) => void): Promise<ExtractedArchive> {
    await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const hasher = new Hasher(onBytes);
    const extract = tar.extract();
    // Iterate right after piping: entries that arrive before the iterator exists would be lost.
    const fed = pipeline(input, hasher, extract);
    let indexJson: Buffer | undefined;
    try {
      for await (const entry of extract) {
        const name = entry.header.name.replace(/^\.\//, '');
        if (entry.header.type === 'directory' || name === 'oci-layout' || name === '') entry.resume();
        else if (name === 'index.json') indexJson = await readSmall(entry);
        else if (/^blobs\/sha256\/[a-f0-9]{64}$/.test(name)) await writeBlob(entry, path.join(dir, name), `sha256:${name.slice(-64)}`);
        else throw new Error(`unexpected entry '${name}' in the archive: not an OCI image layout`);
      }
      await fed;
    } catch (e) {
      input.destroy();
      await fed.catch(() => undefined);
      throw e;
    }
    if (!indexJson) throw new Error('the archive has no index.json: not an OCI image layout');
    const { artifacts, invalid } = parseIndex(indexJson);
    return new ExtractedArchive(dir, artifacts, invalid, hasher.summary());
  }

  blobPath(digest: string): string {
    return path.join(this.dir, blobName(digest));
  }

  async manifest(digest: string): Promise<ManifestBytes> {
    const bytes = await readFile(this.blobPath(digest)).catch(() => {
      throw new Error(`manifest ${digest} is missing from the archive`);
    });
    return { bytes, digest, mediaType: mediaTypeOf(bytes) };
  }

  openBlob(digest: string): Readable {
    if (!existsSync(this.blobPath(digest))) throw new Error(`blob ${digest} is missing from the archive`);
    return createReadStream(this.blobPath(digest));
  }
}

async function readSmall(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of entry) {
    size += (c as Buffer).length;
    if (size > MAX_JSON) throw new Error('index.json in the archive is too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function writeBlob(entry: AsyncIterable<unknown>, file: string, digest: string): Promise<void> {
  const sha = createHash('sha256');
  const hashed = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of entry) {
      sha.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  };
  await pipeline(hashed(), createWriteStream(file));
  const got = `sha256:${sha.digest('hex')}`;
  if (got !== digest) throw new Error(`archive entry ${blobName(digest)} has digest ${got}: the archive is corrupt`);
}

function parseIndex(bytes: Buffer): { artifacts: ArchivedArtifact[]; invalid: string[] } {
  const index = JSON.parse(bytes.toString('utf8')) as { manifests?: Descriptor[] };
  const artifacts: ArchivedArtifact[] = [];
  const invalid: string[] = [];
  for (const d of index.manifests ?? []) {
    const a = d.annotations ?? {};
    const repo = a[REPOSITORY_ANNOTATION];
    const reference = a[REFERENCE_ANNOTATION];
    // Our annotations first; a plain `repo:tag` ref.name (e.g. a layout written by skopeo) works too.
    const ref = repo && reference ? { repo, reference } : a[REF_NAME] ? parseArtifact(a[REF_NAME]) : undefined;
    if (!ref || (isDigest(ref.reference) && ref.reference !== d.digest)) {
      invalid.push(`index.json entry ${d.digest} names no repository and tag (annotation ${REF_NAME}: ${a[REF_NAME] ?? 'missing'})`);
      continue;
    }
    artifacts.push({ ref, name: formatArtifact(ref), digest: d.digest, mediaType: d.mediaType });
  }
  return { artifacts, invalid };
}

/** The bytes an archive of these artifacts holds, for progress (at least 1). */
export function estimateSize(resolved: readonly ResolvedArtifact[]): number {
  let total = 0;
  for (const r of resolved) for (const m of [...r.children, r.manifest]) total += m.bytes.length + manifestBlobs(m).reduce((s, b) => s + b.size, 0);
  return Math.max(1, total);
}
