/**
 * The OCI 1.1 referrers API (`GET /v2/{repo}/referrers/{digest}`), which ACR answers (it is OCI 1.1 conformant,
 * docs/azure-service.md#referrers) and the distribution registry behind the emulator lacks: computed from the manifests
 * stored in the repository whose `subject` is the digest, whether pushed directly or by an import run.
 * Shape (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers): an OCI image index of
 * descriptors with `artifactType` (the manifest's, else its config's media type) and the manifest's annotations; 200
 * with an empty list for a digest nothing refers to; `?artifactType=` filters and says so in `OCI-Filters-Applied`;
 * pages of `n` (at most 100, as ACR's other lists) after the digest `last`, with a Link rel="next" (the parameters are
 * the emulator's own: clients follow the link as given, docs/local-azure.md#referrers).
 */
import { type Json, obj } from '../context';
import { API_VERSION_HEADER, registryError } from './errors';
import { storedManifests } from './manifests';
import { pageSize } from './paging';
import { REPOSITORY } from './scopes';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DIGEST = /^sha256:[a-f0-9]{64}$/;

interface ReferrerDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Json;
}

function descriptorOf(digest: string, bytes: number, m: Json): ReferrerDescriptor {
  const config = obj(m['config']);
  const artifactType = typeof m['artifactType'] === 'string' ? m['artifactType'] : typeof config['mediaType'] === 'string' ? config['mediaType'] : undefined;
  const annotations = m['annotations'];
  return {
    mediaType: typeof m['mediaType'] === 'string' ? m['mediaType'] : Array.isArray(m['manifests']) ? OCI_INDEX : OCI_MANIFEST,
    digest,
    size: bytes,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(annotations !== null && typeof annotations === 'object' && !Array.isArray(annotations) ? { annotations: annotations as Json } : {}),
  };
}

/** One page of the referrers of `digest` in `repo`, after the caller checked `pull` on the repository. */
export async function referrersPage(
  rootDir: string,
  repo: string,
  digest: string,
  q: URLSearchParams,
): Promise<{ body: unknown; headers: Record<string, string> }> {
  if (!REPOSITORY.test(repo)) throw registryError(400, 'NAME_INVALID', 'invalid repository name', { name: repo });
  if (!DIGEST.test(digest)) throw registryError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { digest });
  const n = pageSize(q);
  const stored = await storedManifests(rootDir, repo);
  if (!stored) throw registryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name: repo });
  const artifactType = q.get('artifactType');
  const all = stored
    .filter((m) => obj(m.json['subject'])['digest'] === digest)
    .map((m) => descriptorOf(m.digest, m.bytes, m.json))
    .filter((d) => !artifactType || d.artifactType === artifactType)
    .sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const last = q.get('last');
  const start = last ? all.filter((d) => d.digest <= last).length : 0;
  const page = all.slice(start, start + n);
  const headers: Record<string, string> = { ...API_VERSION_HEADER, 'content-type': OCI_INDEX };
  if (artifactType) headers['oci-filters-applied'] = 'artifactType';
  if (n > 0 && start + n < all.length) {
    const next = new URLSearchParams({ last: page.at(-1)!.digest, n: String(n), ...(artifactType ? { artifactType } : {}) });
    headers['link'] = `</v2/${repo}/referrers/${digest}?${next.toString()}>; rel="next"`;
  }
  return { body: { schemaVersion: 2, mediaType: OCI_INDEX, manifests: page }, headers };
}
