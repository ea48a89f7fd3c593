/**
 * ACR's manifest list (`GET /acr/v1/{repo}/_manifests`, which distribution lacks), computed from the distribution
 * registry's storage, which has no API for it:
 * `{rootDir}/docker/registry/v2/repositories/{repo}/_manifests/revisions/sha256/{hex}/link` for every
 * manifest still stored and `…/_manifests/tags/{tag}/current/link` for where each tag points. A manifest DELETE removes
 * its revision link and the tags on it, so the list follows deletes at once.
 * Shape (one entry per manifest): as ACR answers, e.g. the recording in Azure/azure-sdk-for-js
 * sdk/containerregistry/container-registry/recordings (`tags` only when tagged; architecture/os for image manifests).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { type Json, obj } from '../context';
import { API_VERSION_HEADER, registryError } from './errors';
import { pageSize } from './paging';
import { REPOSITORY } from './scopes';

export interface ManifestEntry {
  readonly digest: string;
  /** The manifest's size plus the sizes of the config and layers it names (for an index: the index alone). */
  readonly imageSize: number;
  readonly createdTime: string;
  readonly lastUpdateTime: string;
  readonly architecture?: string;
  readonly os?: string;
  readonly mediaType: string;
  readonly configMediaType?: string;
  readonly tags?: readonly string[];
  readonly changeableAttributes: { deleteEnabled: boolean; writeEnabled: boolean; readEnabled: boolean; listEnabled: boolean };
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_ORDERS = ['', 'timedesc', 'timeasc'];

async function readLink(file: string): Promise<{ digest: string; mtimeMs: number } | undefined> {
  try {
    const [text, s] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    const digest = text.trim();
    return /^sha256:[a-f0-9]{64}$/.test(digest) ? { digest, mtimeMs: s.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

function blobPath(v2: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return path.join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

async function readJsonBlob(v2: string, digest: string): Promise<{ bytes: number; json: Json } | undefined> {
  try {
    const buf = await readFile(blobPath(v2, digest));
    return { bytes: buf.length, json: obj(JSON.parse(buf.toString('utf8'))) };
  } catch {
    return undefined;
  }
}

/** A tag of a repository: where it points, and when it was last written there. */
export interface StoredTag {
  readonly name: string;
  readonly digest: string;
  readonly mtimeMs: number;
}

/** Tags are files under `tags/` whose names may hold no slash, so one level is enough. */
async function readTags(manifestsDir: string): Promise<StoredTag[]> {
  const out: StoredTag[] = [];
  for (const name of await entries(path.join(manifestsDir, 'tags'))) {
    const link = await readLink(path.join(manifestsDir, 'tags', name, 'current', 'link'));
    if (link) out.push({ name, ...link });
  }
  return out;
}

async function tagsByDigest(manifestsDir: string): Promise<Map<string, { tags: string[]; mtimeMs: number }>> {
  const out = new Map<string, { tags: string[]; mtimeMs: number }>();
  for (const tag of await readTags(manifestsDir)) {
    const e = out.get(tag.digest) ?? { tags: [], mtimeMs: 0 };
    e.tags.push(tag.name);
    e.mtimeMs = Math.max(e.mtimeMs, tag.mtimeMs);
    out.set(tag.digest, e);
  }
  return out;
}

/** A manifest still stored in a repository: its digest, bytes parsed, and when its revision link was written. */
export interface StoredManifest {
  readonly digest: string;
  readonly mtimeMs: number;
  /** The manifest's size in bytes; 0 when its blob is unreadable. */
  readonly bytes: number;
  readonly json: Json;
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

function manifestsDirOf(rootDir: string, repo: string): { v2: string; manifestsDir: string } {
  const v2 = path.join(rootDir, 'docker', 'registry', 'v2');
  return { v2, manifestsDir: path.join(v2, 'repositories', ...repo.split('/'), '_manifests') };
}

/** Every manifest stored in `repo` (a revision link and its blob), or undefined when the repository does not exist. */
export async function storedManifests(rootDir: string, repo: string): Promise<StoredManifest[] | undefined> {
  const { v2, manifestsDir } = manifestsDirOf(rootDir, repo);
  if (!(await isDirectory(manifestsDir))) return undefined;
  const out: StoredManifest[] = [];
  for (const hex of await entries(path.join(manifestsDir, 'revisions', 'sha256'))) {
    // A deleted manifest leaves its directory behind without the link.
    const link = await readLink(path.join(manifestsDir, 'revisions', 'sha256', hex, 'link'));
    if (!link) continue;
    const blob = await readJsonBlob(v2, link.digest);
    out.push({ digest: link.digest, mtimeMs: link.mtimeMs, bytes: blob?.bytes ?? 0, json: blob?.json ?? {} });
  }
  return out;
}

/** The tags of `repo`, or undefined when the repository does not exist. */
export async function storedTags(rootDir: string, repo: string): Promise<StoredTag[] | undefined> {
  const { manifestsDir } = manifestsDirOf(rootDir, repo);
  return (await isDirectory(manifestsDir)) ? readTags(manifestsDir) : undefined;
}

/** Every manifest stored in `repo` as ACR lists it, or undefined when the repository does not exist. */
export async function listStoredManifests(rootDir: string, repo: string): Promise<ManifestEntry[] | undefined> {
  const stored = await storedManifests(rootDir, repo);
  if (!stored) return undefined;
  const { v2, manifestsDir } = manifestsDirOf(rootDir, repo);
  const tags = await tagsByDigest(manifestsDir);
  const out: ManifestEntry[] = [];
  for (const link of stored) {
    const m = link.json;
    const isIndex = Array.isArray(m['manifests']);
    const mediaType = typeof m['mediaType'] === 'string' ? m['mediaType'] : isIndex ? OCI_INDEX : OCI_MANIFEST;
    const config = obj(m['config']);
    const layers = Array.isArray(m['layers']) ? m['layers'].map(obj) : [];
    const sizeOf = (d: Json): number => (typeof d['size'] === 'number' ? d['size'] : 0);
    const imageSize = link.bytes + (isIndex ? 0 : sizeOf(config) + layers.reduce((s, l) => s + sizeOf(l), 0));
    let platform: { architecture?: string; os?: string } = {};
    if (!isIndex && typeof config['digest'] === 'string') {
      const c = (await readJsonBlob(v2, config['digest']))?.json ?? {};
      platform = {
        ...(typeof c['architecture'] === 'string' ? { architecture: c['architecture'] } : {}),
        ...(typeof c['os'] === 'string' ? { os: c['os'] } : {}),
      };
    }
    const tagged = tags.get(link.digest);
    out.push({
      digest: link.digest,
      imageSize,
      createdTime: new Date(link.mtimeMs).toISOString(),
      lastUpdateTime: new Date(Math.max(link.mtimeMs, tagged?.mtimeMs ?? 0)).toISOString(),
      ...platform,
      mediaType,
      ...(typeof config['mediaType'] === 'string' ? { configMediaType: config['mediaType'] } : {}),
      ...(tagged ? { tags: tagged.tags.sort() } : {}),
      changeableAttributes: { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true },
    });
  }
  return out;
}

/**
 * One page of the list, after the caller checked `metadata_read` on the repository (what ACR's challenge asks for):
 * ordered by digest, or by time with `orderby=timedesc|timeasc`; pages of `n` (≤ 100) after the digest `last`, with a
 * Link header to the next.
 */
export async function manifestPage(
  rootDir: string,
  loginServer: string,
  repo: string,
  q: URLSearchParams,
): Promise<{ body: unknown; headers: Record<string, string> }> {
  if (!REPOSITORY.test(repo)) throw registryError(400, 'NAME_INVALID', 'invalid repository name', { name: repo });
  const orderby = (q.get('orderby') ?? '').toLowerCase();
  if (!MANIFEST_ORDERS.includes(orderby)) throw registryError(400, 'UNSUPPORTED', `orderby '${orderby}' is not supported; use timedesc or timeasc`);
  const n = pageSize(q);
  const all = await listStoredManifests(rootDir, repo);
  if (!all) throw registryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name: repo });
  const byTime = (a: ManifestEntry, b: ManifestEntry): number => a.lastUpdateTime.localeCompare(b.lastUpdateTime) || a.digest.localeCompare(b.digest);
  const sorted = [...all].sort(orderby === 'timedesc' ? (a, b) => byTime(b, a) : orderby === 'timeasc' ? byTime : (a, b) => a.digest.localeCompare(b.digest));
  const last = q.get('last');
  let start = 0;
  if (last) {
    const i = sorted.findIndex((m) => m.digest === last);
    start = i >= 0 ? i + 1 : orderby === '' ? sorted.findIndex((m) => m.digest > last) : sorted.length;
    if (start < 0) start = sorted.length;
  }
  const page = sorted.slice(start, start + n);
  const headers: Record<string, string> = { ...API_VERSION_HEADER };
  if (n > 0 && start + n < sorted.length)
    headers['link'] = `</acr/v1/${repo}/_manifests?last=${encodeURIComponent(page.at(-1)!.digest)}&n=${n}&orderby=${orderby}>; rel="next"`;
  return { body: { registry: loginServer, imageName: repo, manifests: page }, headers };
}
