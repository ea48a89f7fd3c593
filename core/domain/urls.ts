/** URLs and resource ids as the services compare them. */

/** Without trailing slashes: `https://x/` and `https://x` name the same endpoint or container. */
export function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Container and resource URLs compare without case and trailing slashes (the az CLI lower-cases them). */
export function sameUri(a: string | undefined, b: string | undefined): boolean {
  return withoutTrailingSlash(a ?? '').toLowerCase() === withoutTrailingSlash(b ?? '').toLowerCase();
}

/** Whether a path has a `.` or `..` segment (also percent-encoded), which URL resolution would follow elsewhere. */
export function hasDotSegment(path: string): boolean {
  return path.split(/[/\\]/).some((seg) => /^(?:\.|%2e){1,2}$/i.test(seg));
}
