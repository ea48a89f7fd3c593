import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  type ArchiveSource,
  ExtractedArchive,
  formatArtifact,
  MissingArtifactError,
  parseArtifact,
  REF_NAME,
  resolveArtifact,
  writeArchive,
} from '../local-azure/emulator/transfer/archive';
import { isDigest, type ManifestBytes } from '../local-azure/emulator/transfer/registry-client';
import { buildImage, type BuiltImage } from '../local-azure/seed';
import { itWith } from '../prerequisites';

/** An in-memory registry holding built images; counts blob reads to show that shared blobs are read once. */
class FakeSource implements ArchiveSource {
  readonly blobReads = new Map<string, number>();
  private readonly manifests = new Map<string, ManifestBytes>();
  private readonly blobs = new Map<string, Buffer>();

  constructor(images: readonly BuiltImage[]) {
    for (const img of images) {
      for (const m of [...img.children, img.manifest]) this.manifests.set(`${img.spec.repo}@${m.digest}`, m);
      this.manifests.set(`${img.spec.repo}:${img.spec.tag}`, img.manifest);
      for (const b of img.blobs) this.blobs.set(b.digest, b.bytes);
    }
  }

  getManifest(repo: string, ref: string): Promise<ManifestBytes | undefined> {
    return Promise.resolve(this.manifests.get(isDigest(ref) ? `${repo}@${ref}` : `${repo}:${ref}`));
  }

  blobStream(_repo: string, digest: string): Promise<{ stream: Readable; size: number }> {
    const b = this.blobs.get(digest);
    if (!b) return Promise.reject(new Error(`no blob ${digest}`));
    this.blobReads.set(digest, (this.blobReads.get(digest) ?? 0) + 1);
    // Small chunks, so that the tar entry sees several writes.
    const chunks = Array.from({ length: Math.ceil(b.length / 1000) }, (_, i) => b.subarray(i * 1000, (i + 1) * 1000));
    return Promise.resolve({ stream: Readable.from(chunks), size: b.length });
  }
}

const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;

describe('artifact references', () => {
  it('parses repo, repo:tag, nested repos and digests', () => {
    expect(parseArtifact('hello')).toEqual({ repo: 'hello', reference: 'latest' });
    expect(parseArtifact('samples/hello-world:v1')).toEqual({ repo: 'samples/hello-world', reference: 'v1' });
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseArtifact(`a/b@${d}`)).toEqual({ repo: 'a/b', reference: d });
    expect(formatArtifact({ repo: 'a/b', reference: d })).toBe(`a/b@${d}`);
    expect(parseArtifact('Upper:v1')).toBeUndefined();
    expect(parseArtifact('a@sha256:short')).toBeUndefined();
  });
});

describe('export archive (OCI layout tar)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'archive-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a single image, a multi-arch index and a digest reference, writing shared blobs once', async () => {
    const single = await buildImage({ repo: 'demo/hello', tag: 'v1', payloadBytes: 50_000 });
    const multi = await buildImage({ repo: 'demo/multi', tag: 'v2', multiArch: true });
    const src = new FakeSource([single, multi]);
    const refs = ['demo/hello:v1', `demo/hello@${single.manifest.digest}`, 'demo/multi:v2'].map((r) => parseArtifact(r)!);
    const resolved = await Promise.all(refs.map((r) => resolveArtifact(src, r)));
    expect(resolved[2]!.children.map((c) => c.digest)).toEqual(multi.children.map((c) => c.digest));

    const file = path.join(dir, 'export.tar');
    const summary = await writeArchive(src, resolved, file);
    const bytes = await readFile(file);
    expect(summary.size).toBe(bytes.length);
    expect(summary.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(summary.contentMD5.equals(createHash('md5').update(bytes).digest())).toBe(true);
    expect([...src.blobReads.values()].every((n) => n === 1)).toBe(true);
    expect(src.blobReads.size).toBe(single.blobs.length + multi.blobs.length);

    // Deterministic: the same export gives the same tar.
    expect((await writeArchive(src, resolved, path.join(dir, 'again.tar'))).sha256).toBe(summary.sha256);

    const out = path.join(dir, 'out');
    const archive = await ExtractedArchive.extract(createReadStream(file), out);
    expect(archive.summary.sha256).toBe(summary.sha256);
    expect(archive.invalid).toEqual([]);
    expect(archive.artifacts.map((a) => a.name)).toEqual(['demo/hello:v1', `demo/hello@${single.manifest.digest}`, 'demo/multi:v2']);
    expect(archive.artifacts.map((a) => a.digest)).toEqual([single.manifest.digest, single.manifest.digest, multi.manifest.digest]);
    for (const m of [single.manifest, multi.manifest, ...multi.children]) expect((await archive.manifest(m.digest)).bytes.equals(m.bytes)).toBe(true);
    for (const b of [...single.blobs, ...multi.blobs]) expect((await readFile(archive.blobPath(b.digest))).equals(b.bytes)).toBe(true);
    expect((await archive.manifest(multi.manifest.digest)).mediaType).toBe('application/vnd.oci.image.index.v1+json');
  });

  it('names a missing artifact and a missing child manifest', async () => {
    const multi = await buildImage({ repo: 'demo/multi', tag: 'v2', multiArch: true });
    const src = new FakeSource([multi]);
    await expect(resolveArtifact(src, parseArtifact('demo/multi:nope')!)).rejects.toThrow(
      new MissingArtifactError("Artifact 'demo/multi:nope' was not found in the source registry."),
    );
    const broken: ArchiveSource = {
      getManifest: (repo, ref) => (isDigest(ref) ? Promise.resolve(undefined) : src.getManifest(repo, ref)),
      blobStream: (repo, d) => src.blobStream(repo, d),
    };
    await expect(resolveArtifact(broken, parseArtifact('demo/multi:v2')!)).rejects.toThrow(/child manifest sha256:[a-f0-9]{64} was not found/);
  });

  it('fails when a blob from the registry does not match its digest, and rejects a corrupt archive', async () => {
    const img = await buildImage({ repo: 'demo/hello', tag: 'v1' });
    const src = new FakeSource([img]);
    const tampered: ArchiveSource = {
      getManifest: (r, ref) => src.getManifest(r, ref),
      blobStream: async (r, d) => {
        const s = await src.blobStream(r, d);
        const bytes = Buffer.alloc(s.size, 1);
        return { stream: Readable.from([bytes]), size: bytes.length };
      },
    };
    const resolved = [await resolveArtifact(src, parseArtifact('demo/hello:v1')!)];
    await expect(writeArchive(tampered, resolved, path.join(dir, 'bad.tar'))).rejects.toThrow(/has digest sha256:/);

    const file = path.join(dir, 'ok.tar');
    await writeArchive(src, resolved, file);
    const bytes = await readFile(file);
    // Flip one byte inside the layer blob (the biggest entry), keeping the tar structure intact.
    const layer = img.blobs.find((b) => b.mediaType.includes('layer'))!;
    const at = bytes.indexOf(layer.bytes.subarray(0, 64));
    bytes[at + 20] = (bytes[at + 20]! + 1) % 256;
    await writeFile(file, bytes);
    await expect(ExtractedArchive.extract(createReadStream(file), path.join(dir, 'out'))).rejects.toThrow(/the archive is corrupt/);
  });

  itWith(
    hasSkopeo,
    'skopeo',
    'install it with scripts/setup.sh (apt-get install skopeo)',
  )('is readable by skopeo as oci-archive, by tag and by digest reference, keeping digests', async () => {
    const single = await buildImage({ repo: 'demo/hello', tag: 'v1' });
    const multi = await buildImage({ repo: 'demo/multi', tag: 'v2', multiArch: true });
    const src = new FakeSource([single, multi]);
    const refs = ['demo/hello:v1', `demo/hello@${single.manifest.digest}`, 'demo/multi:v2'].map((r) => parseArtifact(r)!);
    const file = path.join(dir, 'export.tar');
    await writeArchive(src, await Promise.all(refs.map((r) => resolveArtifact(src, r))), file);
    for (const [name, digest] of [
      ['demo/hello:v1', single.manifest.digest],
      [`demo/hello@${single.manifest.digest}`, single.manifest.digest],
      ['demo/multi:v2', multi.manifest.digest],
    ] as const) {
      const raw = spawnSync('skopeo', ['inspect', '--raw', `oci-archive:${file}:${name}`]);
      expect(raw.stderr.toString()).toBe('');
      expect(`sha256:${createHash('sha256').update(raw.stdout).digest('hex')}`).toBe(digest);
    }
    // skopeo picks a platform's child manifest through the index: the arm64 child keeps its digest.
    const outDir = path.join(dir, 'arm64');
    const copy = spawnSync('skopeo', ['--override-arch', 'arm64', 'copy', '--quiet', `oci-archive:${file}:demo/multi:v2`, `oci:${outDir}:x`]);
    expect(copy.stderr.toString()).toBe('');
    const copied = JSON.parse(await readFile(path.join(outDir, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    expect(copied.manifests[0]?.digest).toBe(multi.children[1]!.digest);
    expect(copied.manifests[0]?.annotations[REF_NAME]).toBe('x');
  });
});
