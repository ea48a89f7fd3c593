/**
 * Artifact references, parsed and printed in one place: `repo` (= `repo:latest`, as the service reads it),
 * `repo:tag`, `repo@sha256:<hex>`, and the patterns `artifacts` allows (`repo:v1.*`, `team/*:latest`).
 * The grammar is distribution's (https://github.com/distribution/reference/blob/main/reference.go): lower-case path
 * components, tags of at most 128 word characters, dots and dashes.
 */

/** One entry of `artifacts`: a plain reference, or a pattern to expand against the source registry. */
export type ArtifactSpec =
  | { readonly kind: 'tag'; readonly repository: string; readonly tag: string }
  | { readonly kind: 'digest'; readonly repository: string; readonly digest: string }
  | { readonly kind: 'pattern'; readonly repository: string; readonly tag: string; readonly text: string };

/** A plain reference: exactly one of tag and digest. */
export type Reference = { readonly repository: string; readonly tag: string } | { readonly repository: string; readonly digest: string };

/** distribution's NameTotalLengthMax: a repository name has at most 255 characters. */
export const MAX_REPOSITORY_LENGTH = 255;
const REPO_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${REPO_COMPONENT}(?:/${REPO_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const REPO_PATTERN = /^[a-z0-9._\-/*]+$/;
const TAG_PATTERN = /^[\w.*?-]{1,128}$/;

/** What `artifacts` accepts, for error messages. */
export const ARTIFACT_GRAMMAR = `each artifact must be repo, repo:tag, repo@sha256:<64 hex> or a pattern such as repo:v1.* or team/*:latest (lower-case repository names of at most ${MAX_REPOSITORY_LENGTH} characters)`;

export const isDigest = (text: string): boolean => DIGEST.test(text);

/**
 * Splits without judging: `@` starts a digest; otherwise the last `:` not followed by a `/` starts a tag (so
 * `host:5000/a` is a repository); no tag means `latest`.
 */
function split(text: string): { repository: string; tag: string } | { repository: string; digest: string } {
  const at = text.indexOf('@');
  if (at >= 0) return { repository: text.slice(0, at), digest: text.slice(at + 1) };
  const colon = text.lastIndexOf(':');
  if (colon >= 0 && !text.includes('/', colon)) return { repository: text.slice(0, colon), tag: text.slice(colon + 1) };
  return { repository: text, tag: 'latest' };
}

/** Parses one `artifacts` entry; undefined when it is not in the grammar (ARTIFACT_GRAMMAR says what is). */
export function parseArtifact(text: string): ArtifactSpec | undefined {
  const parts = split(text);
  if (parts.repository.length > MAX_REPOSITORY_LENGTH) return undefined;
  if ('digest' in parts) return REPOSITORY.test(parts.repository) && DIGEST.test(parts.digest) ? { kind: 'digest', ...parts } : undefined;
  if (/[*?]/.test(text)) {
    const ok = REPO_PATTERN.test(parts.repository) && !parts.repository.includes('?') && TAG_PATTERN.test(parts.tag);
    return ok ? { kind: 'pattern', ...parts, text } : undefined;
  }
  return REPOSITORY.test(parts.repository) && TAG.test(parts.tag) ? { kind: 'tag', ...parts } : undefined;
}

/** `repo:tag` or `repo@sha256:…`, what a run request carries; a pattern prints as written. */
export function printArtifact(a: ArtifactSpec | Reference): string {
  if ('kind' in a && a.kind === 'pattern') return a.text;
  return 'digest' in a ? `${a.repository}@${a.digest}` : `${a.repository}:${a.tag}`;
}

/** A printed reference (ours, or one the service reports) back into repository and tag or digest, without judging it. */
export function splitRef(ref: string): { repository: string; reference: string } {
  const parts = split(ref);
  return { repository: parts.repository, reference: 'digest' in parts ? parts.digest : parts.tag };
}
