/**
 * ACR's metadata API besides the manifest list (manifests.ts), which distribution lacks and the az CLI's
 * `az acr repository` commands read: `GET /acr/v1/_catalog`, `/acr/v1/{repo}`, `/acr/v1/{repo}/_tags`,
 * `/acr/v1/{repo}/_tags/{tag}` and `/acr/v1/{repo}/_manifests/{digest}`, computed from the registry's storage.
 * Shapes as ACR answers them (the data-plane REST reference, https://learn.microsoft.com/rest/api/containerregistry/,
 * and the recordings in Azure/azure-sdk-for-js sdk/containerregistry/container-registry/recordings): tags ordered by
 * name unless `orderby=timedesc|timeasc`, pages of `n` (at most 100) after `last` with a Link to the next page, errors
 * in the registry API's `{"errors":[…]}` shape (a missing repository NAME_UNKNOWN, tag TAG_UNKNOWN, manifest
 * MANIFEST_UNKNOWN).
 */
import { type Json, obj } from '../context';
import { API_VERSION_HEADER, registryError } from './errors';
import { listStoredManifests, type ManifestEntry, storedManifests, storedTags, type StoredTag } from './manifests';
import { pageOf, pageSize } from './paging';
import { REPOSITORY } from './scopes';

export interface Page {
  readonly body: unknown;
  readonly headers: Record<string, string>;
}

const ATTRIBUTES = { deleteEnabled: true, writeEnabled: true, readEnabled: true, listEnabled: true } as const;
const ORDERS = ['', 'timedesc', 'timeasc'];
const DIGEST = /^sha256:[a-f0-9]{64}$/;

const iso = (ms: number): string => new Date(ms).toISOString();

function checkRepository(repo: string): void {
  if (!REPOSITORY.test(repo)) throw registryError(400, 'NAME_INVALID', 'invalid repository name', { name: repo });
}

const unknownRepository = (repo: string): Error => registryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name: repo });

async function tagsOf(rootDir: string, repo: string): Promise<StoredTag[]> {
  checkRepository(repo);
  const tags = await storedTags(rootDir, repo);
  if (!tags) throw unknownRepository(repo);
  return tags;
}

function tagBody(t: StoredTag): Json {
  return { name: t.name, digest: t.digest, createdTime: iso(t.mtimeMs), lastUpdateTime: iso(t.mtimeMs), signed: false, changeableAttributes: ATTRIBUTES };
}

/** `GET /acr/v1/_catalog`: the repositories (from the backend's catalog), a page of `n` after `last`. */
export function catalogPage(repositories: readonly string[], q: URLSearchParams): Page {
  const page = pageOf(repositories, q);
  const headers: Record<string, string> = { ...API_VERSION_HEADER };
  if (page.more) headers['link'] = `</acr/v1/_catalog?last=${encodeURIComponent(page.items.at(-1)!)}&n=${page.n}>; rel="next"`;
  return { body: { repositories: page.items }, headers };
}

/** `GET /acr/v1/{repo}`: the repository's properties. */
export async function repositoryProperties(rootDir: string, loginServer: string, repo: string): Promise<Page> {
  const tags = await tagsOf(rootDir, repo);
  const manifests = (await storedManifests(rootDir, repo)) ?? [];
  const times = [...manifests.map((m) => m.mtimeMs), ...tags.map((t) => t.mtimeMs)];
  const body = {
    registry: loginServer,
    imageName: repo,
    createdTime: iso(Math.min(...manifests.map((m) => m.mtimeMs), Date.now())),
    lastUpdateTime: iso(Math.max(0, ...times)),
    manifestCount: manifests.length,
    tagCount: tags.length,
    changeableAttributes: ATTRIBUTES,
  };
  return { body, headers: { ...API_VERSION_HEADER } };
}

/** `GET /acr/v1/{repo}/_tags`: by name, or by time with `orderby`; `digest=` keeps the tags on one manifest. */
export async function tagPage(rootDir: string, loginServer: string, repo: string, q: URLSearchParams): Promise<Page> {
  const orderby = (q.get('orderby') ?? '').toLowerCase();
  if (!ORDERS.includes(orderby)) throw registryError(400, 'UNSUPPORTED', `orderby '${orderby}' is not supported; use timedesc or timeasc`);
  const n = pageSize(q);
  const digest = q.get('digest');
  const tags = (await tagsOf(rootDir, repo)).filter((t) => !digest || t.digest === digest);
  const byName = (a: StoredTag, b: StoredTag): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const byTime = (a: StoredTag, b: StoredTag): number => a.mtimeMs - b.mtimeMs || byName(a, b);
  const sorted = [...tags].sort(orderby === 'timedesc' ? (a, b) => byTime(b, a) : orderby === 'timeasc' ? byTime : byName);
  const last = q.get('last');
  let start = 0;
  if (last) {
    const i = sorted.findIndex((t) => t.name === last);
    start = i >= 0 ? i + 1 : orderby === '' ? sorted.filter((t) => t.name <= last).length : sorted.length;
  }
  const page = sorted.slice(start, start + n);
  const headers: Record<string, string> = { ...API_VERSION_HEADER };
  if (n > 0 && start + n < sorted.length)
    headers['link'] = `</acr/v1/${repo}/_tags?last=${encodeURIComponent(page.at(-1)!.name)}&n=${n}&orderby=${orderby}>; rel="next"`;
  return { body: { registry: loginServer, imageName: repo, tags: page.map(tagBody) }, headers };
}

/** `GET /acr/v1/{repo}/_tags/{tag}`. */
export async function tagProperties(rootDir: string, loginServer: string, repo: string, tag: string): Promise<Page> {
  const found = (await tagsOf(rootDir, repo)).find((t) => t.name === tag);
  if (!found) throw registryError(404, 'TAG_UNKNOWN', 'the specified tag does not exist', { name: repo, tag });
  return { body: { registry: loginServer, imageName: repo, tag: tagBody(found) }, headers: { ...API_VERSION_HEADER } };
}

/** `GET /acr/v1/{repo}/_manifests/{digest}`: the manifest as the list shows it, and an index's platforms as `references`. */
export async function manifestProperties(rootDir: string, loginServer: string, repo: string, digest: string): Promise<Page> {
  checkRepository(repo);
  if (!DIGEST.test(digest)) throw registryError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { digest });
  const all = await listStoredManifests(rootDir, repo);
  if (!all) throw unknownRepository(repo);
  const entry: ManifestEntry | undefined = all.find((m) => m.digest === digest);
  if (!entry) throw registryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { name: repo, digest });
  const json = (await storedManifests(rootDir, repo))?.find((m) => m.digest === digest)?.json ?? {};
  const children = Array.isArray(json['manifests']) ? json['manifests'].map(obj) : [];
  const references = children.map((c) => {
    const platform = obj(c['platform']);
    return { digest: c['digest'], architecture: platform['architecture'], os: platform['os'] };
  });
  const manifest = { ...entry, ...(references.length > 0 ? { references } : {}) };
  return { body: { registry: loginServer, imageName: repo, manifest }, headers: { ...API_VERSION_HEADER } };
}
