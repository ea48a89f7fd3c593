/** URLs and resource ids as the services compare them. */

/** Without trailing slashes: `https://x/` and `https://x` name the same endpoint or container. */
export function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Container and resource URLs compare without case and trailing slashes (the az CLI lower-cases them). */
export function sameUri(a: string | undefined, b: string | undefined): boolean {
  return withoutTrailingSlash(a ?? '').toLowerCase() === withoutTrailingSlash(b ?? '').toLowerCase();
}
