/**
 * Turns `artifacts` into the exact list a transfer moves: plain references looked up, patterns expanded
 * against the source registry, each with its source manifest digest, duplicates removed, in a stable order.
 *
 * Duplicates: entries are the same when they have the same text after expansion (`repo:tag`, or
 * `repo@sha256:…`). A digest reference is kept next to a tag of the same repository even when the tag
 * points at that digest: the user wrote it separately, and in the target they differ (a tag versus an
 * untagged manifest). Patterns only ever yield tag references.
 */
import { CancelledError } from '../errors';
import type { RegistryDataPlane } from '../ports';
import { type ArtifactSpec, printArtifact } from './reference';
import type { ReferrerOf } from './referrers';
import { mapLimit } from '../operation';
import { MAX_ARTIFACTS_PER_STEP } from './limits';

export interface ResolvedArtifact {
  readonly repository: string;
  /** Exactly one of tag and digest is set. */
  readonly tag?: string;
  readonly digest?: string;
  /** `repo:tag` or `repo@sha256:…`, what the run request carries. */
  readonly ref: string;
  /** The manifest digest in the source registry. */
  readonly sourceDigest: string;
  /** Set on a signature, SBOM or attestation carried with an artifact (domain/referrers.ts). */
  readonly referrer?: ReferrerOf;
}

export interface MissingArtifact {
  readonly ref: string;
  readonly reason: string;
}

export interface Resolution {
  readonly artifacts: readonly ResolvedArtifact[];
  /** Plain references the source registry does not have. */
  readonly missing: readonly MissingArtifact[];
}

/** A pattern matched nothing in the source registry. */
export class PatternError extends Error {
  override readonly name = 'PatternError';
}

/** Tag globs: `*` any run of characters, `?` one character. */
export function tagGlob(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escape(c)))
      .join('')}$`,
  );
}

/** Repository globs: `*` stays inside one path segment (`team/*` is not `team/a/b`), `**` crosses segments. */
export function repositoryGlob(pattern: string): RegExp {
  const parts = pattern.split('**').map((p) => p.split('*').map(escape).join('[^/]*'));
  return new RegExp(`^${parts.join('.*')}$`);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

const isGlob = (s: string): boolean => /[*?]/.test(s);

interface Candidate {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
  readonly ref: string;
  /** Written as a plain reference: missing is a failure. Only pattern matches: missing just does not match. */
  explicit: boolean;
  readonly patterns: string[];
  /** The digest a listing already gave: no HEAD needed. */
  listed?: string;
}

export interface ResolveOptions {
  /** HEAD requests in flight at once. */
  readonly concurrency?: number;
  /** Called as manifests are looked up: (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Stable order: repository, then tags before digests, then the tag or digest, by code unit (not locale). */
export function compareArtifacts(a: ResolvedArtifact, b: ResolvedArtifact): number {
  const key = (x: ResolvedArtifact): string => `${x.repository}\u0000${x.tag !== undefined ? `0${x.tag}` : `1${x.digest ?? ''}`}`;
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Resolves `specs` against the source registry. Requests stay a small constant per artifact (docs/azure-service.md#token-economy):
 * a tag pattern is expanded from ACR's manifest list, which carries each tag's digest (100 manifests a page), and only
 * plain references are looked up one HEAD each, with the repositories' pull tokens fetched a few to a request first.
 */
export async function resolveArtifacts(specs: readonly ArtifactSpec[], registry: RegistryDataPlane, o: ResolveOptions = {}): Promise<Resolution> {
  const candidates = new Map<string, Candidate>();
  const add = (c: Omit<Candidate, 'patterns' | 'explicit'>, pattern?: string): void => {
    const known = candidates.get(c.ref);
    const entry = known ?? { ...c, explicit: false, patterns: [] };
    if (pattern === undefined) entry.explicit = true;
    else entry.patterns.push(pattern);
    if (c.listed !== undefined) entry.listed = c.listed;
    if (!known) candidates.set(c.ref, entry);
  };

  let repositories: Promise<string[]> | undefined;
  const patterns: string[] = [];
  for (const spec of specs) {
    if (spec.kind === 'tag') add({ repository: spec.repository, tag: spec.tag, ref: printArtifact(spec) });
    else if (spec.kind === 'digest') add({ repository: spec.repository, digest: spec.digest, ref: printArtifact(spec) });
    else {
      patterns.push(spec.text);
      let repos = [spec.repository];
      if (isGlob(spec.repository)) {
        repositories ??= registry.listRepositories();
        const re = repositoryGlob(spec.repository);
        repos = (await repositories).filter((r) => re.test(r));
      }
      const tagRe = isGlob(spec.tag) ? tagGlob(spec.tag) : undefined;
      for (const repository of repos) {
        if (!tagRe) add({ repository, tag: spec.tag, ref: printArtifact({ repository, tag: spec.tag }) }, spec.text);
        else
          for (const [tag, listed] of await taggedIn(registry, repository, tagRe))
            add({ repository, tag, ref: printArtifact({ repository, tag }), ...(listed !== undefined ? { listed } : {}) }, spec.text);
      }
    }
  }

  const all = [...candidates.values()];
  const lookups = all.filter((c) => c.listed === undefined);
  if (lookups.length > 1) await registry.prepare([...new Set(lookups.map((c) => c.repository))]);
  let done = 0;
  const looked = await mapLimit(lookups, o.concurrency ?? 8, async (c) => {
    const d = await registry.manifestDigest(c.repository, c.tag ?? c.digest!);
    o.onProgress?.(++done, lookups.length);
    return d;
  });
  const found = new Map(lookups.map((c, i) => [c, looked[i]]));
  const digests = all.map((c) => c.listed ?? found.get(c));
  const artifacts: ResolvedArtifact[] = [];
  const missing: MissingArtifact[] = [];
  const matched = new Set<string>();
  all.forEach((c, i) => {
    const sourceDigest = digests[i];
    if (sourceDigest === undefined) {
      if (c.explicit) missing.push({ ref: c.ref, reason: `not found in the source registry ${registry.loginServer}` });
      return;
    }
    c.patterns.forEach((p) => matched.add(p));
    artifacts.push({ repository: c.repository, ref: c.ref, sourceDigest, ...(c.tag !== undefined ? { tag: c.tag } : { digest: c.digest! }) });
  });
  const empty = patterns.filter((p) => !matched.has(p));
  if (empty.length > 0) {
    throw new PatternError(
      `Input 'artifacts': ${empty.map((p) => `'${p}'`).join(', ')} ${empty.length === 1 ? 'matches' : 'match'} nothing in the source registry ${registry.loginServer}`,
    );
  }
  artifacts.sort(compareArtifacts);
  missing.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return { artifacts, missing };
}

/**
 * The tags of a repository matching `re`, with their digests, from ACR's manifest list; where that list cannot be read
 * (an identity without metadata_read), the tags list, whose entries are then looked up one by one.
 */
async function taggedIn(registry: RegistryDataPlane, repository: string, re: RegExp): Promise<[string, string | undefined][]> {
  try {
    return (await registry.listManifests(repository)).flatMap((m) => m.tags.filter((t) => re.test(t)).map((t): [string, string] => [t, m.digest]));
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    return (await registry.listTags(repository)).filter((t) => re.test(t)).map((t): [string, undefined] => [t, undefined]);
  }
}

/**
 * The resolution of `specs` on `registry`, computed once per step: the preflight and the export resolve the same
 * settings against the same data plane (a failure is not kept, so a later caller tries again).
 */
const resolved = new WeakMap<RegistryDataPlane, WeakMap<readonly ArtifactSpec[], Promise<Resolution>>>();
export function resolveOnce(specs: readonly ArtifactSpec[], registry: RegistryDataPlane, o: ResolveOptions = {}): Promise<Resolution> {
  let bySpecs = resolved.get(registry);
  if (!bySpecs) resolved.set(registry, (bySpecs = new WeakMap()));
  const hit = bySpecs.get(specs);
  if (hit) return hit;
  const p = resolveArtifacts(specs, registry, o);
  bySpecs.set(specs, p);
  p.catch(() => bySpecs.delete(specs));
  return p;
}

/** More artifacts than one step moves (docs/interface.md#limits): one line naming the count and the limit. */
export function tooMany(count: number): string | undefined {
  return count > MAX_ARTIFACTS_PER_STEP
    ? `Input 'artifacts' resolves to ${count} artifacts; one step moves at most ${MAX_ARTIFACTS_PER_STEP}: split them across steps (for example by repository pattern)`
    : undefined;
}
