/**
 * The supply chain of an artifact: the signatures, SBOMs and attestations that refer to it in the source registry, found
 * recursively (a signature of an SBOM), for the artifact and for each child of an index, through
 * - the OCI 1.1 referrers API, which lists manifests whose `subject` is a digest
 *   (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers); these travel by digest;
 * - cosign's tag scheme, `sha256-<hex>.sig`, `.att` and `.sbom` in the subject's repository
 *   (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md); these travel by tag, which is how cosign finds them.
 * Digests are content addresses, so a cycle can only come back to a digest already seen: each is expanded once. The walk
 * is bounded in depth and in count (docs/azure-service.md#referrers).
 */
import type { RegistryDataPlane } from '../ports';
import type { ResolvedArtifact } from './artifacts';

export const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;
/** A signature of an attestation of an SBOM… is 3 deep; past this the registry is not describing a supply chain. */
export const MAX_REFERRER_DEPTH = 8;
/** Referrers carried with one artifact at most: each is an artifact of a run (50 per run). */
export const MAX_REFERRERS_PER_ARTIFACT = 500;

/** What a referrer's row carries besides the artifact fields: whose supply chain it is part of, and what it is. */
export interface ReferrerOf {
  /** The artifact as requested (`repo:tag` or `repo@sha256:…`) whose supply chain it belongs to. */
  readonly of: string;
  /** The digest it refers to: the artifact, a child of it, or another referrer. */
  readonly subject: string;
  readonly artifactType?: string;
  /** api: the referrers API lists it (it has a `subject`); tag: a cosign tag names it. */
  readonly via: 'api' | 'tag';
}

/** Too many referrers, or too deep: one line naming the artifact. */
export class ReferrerLimitError extends Error {
  override readonly name = 'ReferrerLimitError';
}

/** The tags of each repository, read once per discovery for the cosign tag scheme. */
export type TagCache = Map<string, Promise<ReadonlySet<string>>>;

const byTypeThenDigest = (a: { artifactType?: string; digest: string }, b: { artifactType?: string; digest: string }): number =>
  (a.artifactType ?? '').localeCompare(b.artifactType ?? '') || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);

/** Everything that refers to `artifact` (and to the children of an index), parents before the referrers that refer to them. */
export async function discoverReferrers(registry: RegistryDataPlane, artifact: ResolvedArtifact, tags: TagCache = new Map()): Promise<ResolvedArtifact[]> {
  const repo = artifact.repository;
  const tagsOf = (): Promise<ReadonlySet<string>> => {
    let t = tags.get(repo);
    if (!t) tags.set(repo, (t = registry.listTags(repo).then((list) => new Set(list))));
    return t;
  };
  const top = await registry.getManifest(repo, artifact.sourceDigest);
  const seen = new Set<string>([artifact.sourceDigest, ...(top?.manifests ?? []).map((c) => c.digest)]);
  const out: ResolvedArtifact[] = [];
  let frontier = [...seen];
  for (let depth = 0; frontier.length > 0; depth++) {
    if (depth >= MAX_REFERRER_DEPTH)
      throw new ReferrerLimitError(`artifact '${artifact.ref}': referrers nest deeper than ${MAX_REFERRER_DEPTH} levels in ${registry.loginServer}`);
    const next: string[] = [];
    for (const subject of frontier) {
      const found: ResolvedArtifact[] = [];
      for (const d of [...(await registry.listReferrers(repo, subject))].sort(byTypeThenDigest)) {
        if (seen.has(d.digest)) continue;
        seen.add(d.digest);
        const referrer: ReferrerOf = { of: artifact.ref, subject, via: 'api', ...(d.artifactType !== undefined ? { artifactType: d.artifactType } : {}) };
        found.push({ repository: repo, digest: d.digest, ref: `${repo}@${d.digest}`, sourceDigest: d.digest, referrer });
      }
      const names = await tagsOf();
      for (const suffix of COSIGN_SUFFIXES) {
        const tag = `${subject.replace(':', '-')}.${suffix}`;
        if (!names.has(tag)) continue;
        const m = await registry.getManifest(repo, tag);
        if (!m || seen.has(m.digest)) continue;
        seen.add(m.digest);
        // cosign's manifests carry no artifactType: their payload's media type says what they are (simplesigning, DSSE, SPDX…).
        const artifactType = m.artifactType ?? m.layers[0]?.mediaType;
        const referrer: ReferrerOf = { of: artifact.ref, subject, via: 'tag', ...(artifactType !== undefined ? { artifactType } : {}) };
        found.push({ repository: repo, tag, ref: `${repo}:${tag}`, sourceDigest: m.digest, referrer });
      }
      out.push(...found);
      next.push(...found.map((f) => f.sourceDigest));
      if (out.length > MAX_REFERRERS_PER_ARTIFACT)
        throw new ReferrerLimitError(
          `artifact '${artifact.ref}' has more than ${MAX_REFERRERS_PER_ARTIFACT} referrers in ${registry.loginServer}: give it with 'referrers: skip', or remove old signatures`,
        );
    }
    frontier = next;
  }
  return out;
}

/** The required artifact types no referrer of the artifact's own manifest (for an index: the index) has. */
export function missingTypes(artifact: ResolvedArtifact, referrers: readonly ResolvedArtifact[], required: readonly string[]): string[] {
  const have = new Set(referrers.filter((r) => r.referrer?.subject === artifact.sourceDigest).map((r) => r.referrer?.artifactType));
  return required.filter((t) => !have.has(t));
}

/** Each artifact followed by its referrers; a referrer shared by several artifacts follows the first. */
export function withReferrers(artifacts: readonly ResolvedArtifact[], referrers: readonly (readonly ResolvedArtifact[])[]): ResolvedArtifact[] {
  const out: ResolvedArtifact[] = [];
  // An artifact given in 'artifacts' stays one of its own, even when it also refers to another.
  const refs = new Set<string>(artifacts.map((a) => a.ref));
  artifacts.forEach((a, i) => {
    out.push(a);
    for (const r of referrers[i] ?? []) {
      if (refs.has(r.ref)) continue;
      refs.add(r.ref);
      out.push(r);
    }
  });
  return out;
}
