/**
 * Turns `artifacts` into the exact list a transfer moves: plain references looked up, patterns expanded
 * against the source registry, each with its source manifest digest, duplicates removed, in a stable order.
 *
 * Duplicates: entries are the same when they have the same text after expansion (`repo:tag`, or
 * `repo@sha256:…`). A digest reference is kept next to a tag of the same repository even when the tag
 * points at that digest: the user wrote it separately, and in the target they differ (a tag versus an
 * untagged manifest). Patterns only ever yield tag references.
 */
import type { RegistryDataPlane } from '../ports';
import { type ArtifactSpec, printArtifact } from './reference';
import type { ReferrerOf } from './referrers';
import { mapLimit } from '../operation';

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
}

/** Stable order: repository, then tags before digests, then the tag or digest, by code unit (not locale). */
export function compareArtifacts(a: ResolvedArtifact, b: ResolvedArtifact): number {
  const key = (x: ResolvedArtifact): string => `${x.repository}\u0000${x.tag !== undefined ? `0${x.tag}` : `1${x.digest ?? ''}`}`;
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export async function resolveArtifacts(specs: readonly ArtifactSpec[], registry: RegistryDataPlane, concurrency = 8): Promise<Resolution> {
  const candidates = new Map<string, Candidate>();
  const add = (c: Omit<Candidate, 'patterns' | 'explicit'>, pattern?: string): void => {
    const known = candidates.get(c.ref);
    const entry = known ?? { ...c, explicit: false, patterns: [] };
    if (pattern === undefined) entry.explicit = true;
    else entry.patterns.push(pattern);
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
        const tags = tagRe ? (await registry.listTags(repository)).filter((t) => tagRe.test(t)) : [spec.tag];
        for (const tag of tags) add({ repository, tag, ref: printArtifact({ repository, tag }) }, spec.text);
      }
    }
  }

  const all = [...candidates.values()];
  const digests = await mapLimit(all, concurrency, (c) => registry.manifestDigest(c.repository, c.tag ?? c.digest!));
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
