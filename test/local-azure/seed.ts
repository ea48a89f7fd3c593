/**
 * Builds small OCI images without Docker (layer tar + gzip, config, manifest; optionally a multi-arch index)
 * and pushes them into a plain distribution registry. Deterministic: the same spec gives the same digests.
 *
 * Referrers (referrers.ts) can be attached: a Notation-style signature, an SPDX SBOM (optionally signed), a cosign
 * tag-scheme signature; to the image (the index of a multi-arch one) and to each child.
 *
 * CLI: node --import tsx test/local-azure/seed.ts <backendUrl> <repo:tag>[,multi][,mb=<MiB>][,seed=<text>][,refs=a+b][,childrefs=a+b] …
 *   prints one line per image: `<repo:tag> <digest>`, and one per referrer.
 */
import { execFile } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { type ManifestBytes, OCI_INDEX, OCI_MANIFEST, RegistryClient, sha256Digest } from './emulator/transfer/registry-client';
import { buildReferrers, pushReferrers, type ReferrerKind, type BuiltReferrer, type SeededReferrer, seededReferrer } from './referrers';

export interface ImageSpec {
  readonly repo: string;
  readonly tag: string;
  /** Makes the content (and so the digests) distinct; defaults to `repo:tag`. */
  readonly seed?: string;
  /** Size of a pseudo-random (incompressible, deterministic) payload file in the layer. */
  readonly payloadBytes?: number;
  /** An OCI index with linux/amd64 and linux/arm64 child manifests. */
  readonly multiArch?: boolean;
  /** Referrers of the image (of the index, for a multi-arch image). */
  readonly referrers?: readonly ReferrerKind[];
  /** Referrers of each child of a multi-arch image. */
  readonly childReferrers?: readonly ReferrerKind[];
}

export interface Blob {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export interface BuiltImage {
  readonly spec: ImageSpec;
  /** The image manifest, or the index for a multi-arch image. */
  readonly manifest: ManifestBytes;
  /** Child manifests of an index (empty for a single image). */
  readonly children: readonly ManifestBytes[];
  /** Configs and layers of all manifests. */
  readonly blobs: readonly Blob[];
  /** Signatures, SBOMs… that refer to the image or its children, parents before what refers to them. */
  readonly referrers: readonly BuiltReferrer[];
}

export interface SeededImage {
  /** `repo:tag` */
  readonly ref: string;
  readonly digest: string;
  readonly children: readonly { readonly platform: string; readonly digest: string }[];
  readonly referrers: readonly SeededReferrer[];
}

const MTIME = new Date('2024-01-01T00:00:00Z');
const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
] as const;

/** Deterministic incompressible bytes: AES-256-CTR keystream keyed by the seed. */
function pseudoRandom(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(`payload:${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

async function layerTar(files: readonly { name: string; content: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  pack.entry({ name: 'app/', type: 'directory', mode: 0o755, mtime: MTIME, uid: 0, gid: 0 });
  for (const f of files) pack.entry({ name: f.name, size: f.content.length, mode: 0o644, mtime: MTIME, uid: 0, gid: 0 }, f.content);
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function manifestOf(bytes: Buffer, mediaType: string): ManifestBytes {
  return { bytes, mediaType, digest: sha256Digest(bytes) };
}

async function buildSingle(
  seed: string,
  platform: { os: string; architecture: string },
  payloadBytes: number,
): Promise<{ manifest: ManifestBytes; blobs: Blob[] }> {
  const files: { name: string; content: Buffer }[] = [
    { name: 'app/hello.txt', content: Buffer.from(`hello from ${seed} (${platform.os}/${platform.architecture})\n`) },
  ];
  if (payloadBytes > 0) files.push({ name: 'app/payload.bin', content: pseudoRandom(`${seed}/${platform.architecture}`, payloadBytes) });
  const layerTarBytes = await layerTar(files);
  const layer = gzipSync(layerTarBytes);
  const config = jsonBytes({ ...platform, created: MTIME.toISOString(), config: {}, rootfs: { type: 'layers', diff_ids: [sha256Digest(layerTarBytes)] } });
  const blobs: Blob[] = [
    { digest: sha256Digest(config), mediaType: 'application/vnd.oci.image.config.v1+json', bytes: config },
    { digest: sha256Digest(layer), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes: layer },
  ];
  const [c, l] = blobs as [Blob, Blob];
  const manifest = jsonBytes({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: c.mediaType, digest: c.digest, size: c.bytes.length },
    layers: [{ mediaType: l.mediaType, digest: l.digest, size: l.bytes.length }],
  });
  return { manifest: manifestOf(manifest, OCI_MANIFEST), blobs };
}

export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const seed = spec.seed ?? `${spec.repo}:${spec.tag}`;
  const payload = spec.payloadBytes ?? 0;
  if (!spec.multiArch) {
    const { manifest, blobs } = await buildSingle(seed, PLATFORMS[0], payload);
    return { spec, manifest, children: [], blobs, referrers: buildReferrers(spec.repo, manifest, spec.referrers ?? [], seed) };
  }
  const built = await Promise.all(PLATFORMS.map((p) => buildSingle(seed, p, payload)));
  const index = jsonBytes({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: built.map((b, i) => ({ mediaType: OCI_MANIFEST, digest: b.manifest.digest, size: b.manifest.bytes.length, platform: PLATFORMS[i] })),
  });
  const top = manifestOf(index, OCI_INDEX);
  const referrers = [
    ...buildReferrers(spec.repo, top, spec.referrers ?? [], seed),
    ...built.flatMap((b) => buildReferrers(spec.repo, b.manifest, spec.childReferrers ?? [], seed)),
  ];
  return { spec, manifest: top, children: built.map((b) => b.manifest), blobs: built.flatMap((b) => b.blobs), referrers };
}

function seeded(image: BuiltImage): SeededImage {
  return {
    ref: `${image.spec.repo}:${image.spec.tag}`,
    digest: image.manifest.digest,
    children: image.children.map((c, i) => ({ platform: `${PLATFORMS[i]!.os}/${PLATFORMS[i]!.architecture}`, digest: c.digest })),
    referrers: image.referrers.map(seededReferrer),
  };
}

export async function pushImage(client: RegistryClient, image: BuiltImage): Promise<SeededImage> {
  for (const b of image.blobs) await client.pushBlob(image.spec.repo, b.digest, b.bytes.length, b.bytes);
  for (const c of image.children) await client.putManifest(image.spec.repo, c.digest, c);
  await client.putManifest(image.spec.repo, image.spec.tag, image.manifest);
  await pushReferrers(client, image.spec.repo, image.referrers);
  return seeded(image);
}

/** Writes images as an OCI layout directory; each is named `repo:tag` in index.json (for `skopeo copy oci:<dir>:<repo:tag>`). */
export async function writeOciLayout(dir: string, images: readonly BuiltImage[]): Promise<void> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (digest: string, bytes: Buffer): Promise<void> => writeFile(path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
  for (const img of images) {
    for (const b of img.blobs) await put(b.digest, b.bytes);
    for (const m of [...img.children, img.manifest]) await put(m.digest, m.bytes);
  }
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests = images.map((i) => ({
    mediaType: i.manifest.mediaType,
    digest: i.manifest.digest,
    size: i.manifest.bytes.length,
    annotations: { 'org.opencontainers.image.ref.name': `${i.spec.repo}:${i.spec.tag}` },
  }));
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
}

function hostOf(backendUrl: string): string {
  return backendUrl.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

export function run(cmd: string, args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.toString('utf8').trim() || err.message}`)) : resolve(stdout),
    ),
  );
}

/**
 * Builds and pushes images into the registry at `backendUrl` (http, no auth). `via: 'http'` (default) pushes with
 * the registry client in-process; `via: 'skopeo'` writes an OCI layout and runs `skopeo copy` per image, to `login.host`
 * with `login.args` when given (a registry's login server and its credentials).
 */
export async function seedImages(
  backendUrl: string,
  specs: readonly ImageSpec[],
  opts: { via?: 'http' | 'skopeo'; tmpDir?: string; login?: { readonly host: string; readonly args: readonly string[] } } = {},
): Promise<SeededImage[]> {
  const images = await Promise.all(specs.map(buildImage));
  if (opts.via !== 'skopeo') {
    const client = new RegistryClient(backendUrl);
    const out: SeededImage[] = [];
    for (const img of images) out.push(await pushImage(client, img));
    return out;
  }
  // Through a login server instead (`login`: its host and skopeo's credential options), referrers are not pushed.
  if (opts.login && specs.some((s) => s.referrers?.length || s.childReferrers?.length)) throw new Error('seeding through a login server pushes no referrers');
  const dir = await mkdtemp(path.join(opts.tmpDir ?? tmpdir(), 'seed-'));
  try {
    await writeOciLayout(dir, images);
    for (const img of images) {
      const ref = `${img.spec.repo}:${img.spec.tag}`;
      // --all: a multi-arch index is copied whole (by default skopeo picks one platform and the digest changes).
      await run('skopeo', [
        '--insecure-policy',
        'copy',
        '--all',
        '--quiet',
        ...(opts.login?.args ?? ['--dest-tls-verify=false']),
        `oci:${dir}:${ref}`,
        `docker://${opts.login?.host ?? hostOf(backendUrl)}/${ref}`,
      ]);
      if (!opts.login) await pushReferrers(new RegistryClient(backendUrl), img.spec.repo, img.referrers);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return images.map(seeded);
}

/**
 * The digest of a manifest as skopeo sees it: `skopeo inspect --raw` and sha256 of the bytes.
 * `ref` is `<host:port>/<repo>:<tag>` or `…@sha256:…`; an http:// prefix is dropped.
 */
export async function skopeoDigest(ref: string): Promise<string> {
  return sha256Digest(await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${hostOf(ref)}`]));
}

const REPO = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const KINDS: readonly ReferrerKind[] = ['notation', 'sbom', 'signed-sbom', 'cosign'];

/**
 * One image as the CLI and the local-azure step name it: `repo:tag[,multi][,mb=<MiB>][,seed=<text>][,refs=a+b][,childrefs=a+b]`.
 * Names follow the distribution spec's grammar; a bad one is refused in one line naming it.
 */
export function parseImageSpec(arg: string): ImageSpec {
  const [ref = '', ...opts] = arg.split(',');
  const colon = ref.lastIndexOf(':');
  const repo = colon > 0 ? ref.slice(0, colon) : ref;
  const tag = colon > 0 ? ref.slice(colon + 1) : '';
  const shown = JSON.stringify(arg.slice(0, 80));
  if (!REPO.test(repo) || repo.length > 200 || !TAG.test(tag))
    throw new Error(`image ${shown}: expected repo:tag (lower-case repository path, tag of letters, digits, '.', '_' or '-')`);
  const kinds = (v: string): ReferrerKind[] => {
    const list = v.split('+');
    const bad = list.find((k) => !KINDS.includes(k as ReferrerKind));
    if (bad !== undefined) throw new Error(`image ${shown}: unknown referrer kind ${JSON.stringify(bad)} (known: ${KINDS.join(', ')})`);
    return list as ReferrerKind[];
  };
  let spec: ImageSpec = { repo, tag };
  for (const o of opts) {
    const [k, v = ''] = o.split('=');
    if (k === 'multi' && v === '') spec = { ...spec, multiArch: true };
    else if (k === 'mb' && /^\d+(\.\d+)?$/.test(v) && Number(v) <= 1024) spec = { ...spec, payloadBytes: Math.round(Number(v) * 1024 * 1024) };
    else if (k === 'seed' && /^[\w.:/@-]{1,100}$/.test(v)) spec = { ...spec, seed: v };
    else if (k === 'refs') spec = { ...spec, referrers: kinds(v) };
    else if (k === 'childrefs') spec = { ...spec, childReferrers: kinds(v) };
    else
      throw new Error(`image ${shown}: unknown option ${JSON.stringify(o)} (known: multi, mb=<MiB up to 1024>, seed=<text>, refs=<kinds>, childrefs=<kinds>)`);
  }
  return spec;
}

if (require.main === module) {
  const [backendUrl, ...refs] = process.argv.slice(2);
  if (!backendUrl || refs.length === 0) {
    process.stderr.write('usage: seed.ts <backendUrl> <repo:tag>[,multi][,mb=<MiB>][,seed=<text>] …\n');
    process.exit(2);
  }
  seedImages(backendUrl, refs.map(parseImageSpec)).then(
    (out) =>
      out.forEach((s) => {
        process.stdout.write(`${s.ref} ${s.digest}${s.children.map((c) => ` ${c.platform}=${c.digest}`).join('')}\n`);
        for (const r of s.referrers) process.stdout.write(`  ${r.artifactType} ${r.digest}${r.tag ? ` tag ${r.tag}` : ''} -> ${r.subject}\n`);
      }),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
