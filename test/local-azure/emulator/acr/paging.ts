/**
 * ACR's pages of tags, repositories and manifests: `n` results at most (never more than 100) after `last`, with a
 * Link header to the next page.
 */
import { registryError } from './errors';

/** ACR never returns more than 100 tags or repositories per page. */
const PAGE_MAX = 100;

/** The page size a query asks for (`n`), at most 100; 100 when it names none. */
export function pageSize(query: URLSearchParams): number {
  const raw = query.get('n');
  if (raw === null || raw === '') return PAGE_MAX;
  const x = Number(raw);
  if (!Number.isInteger(x) || x < 0) throw registryError(400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { n: raw });
  return Math.min(x, PAGE_MAX);
}

/** Sorted, de-duplicated, then the page after `last`, at most `n` (≤ 100) long. */
export function pageOf(all: readonly string[], query: URLSearchParams): { items: string[]; n: number; more: boolean } {
  const n = pageSize(query);
  const sorted = [...new Set(all)].sort();
  const last = query.get('last');
  let start = last ? sorted.findIndex((t) => t > last) : 0;
  if (start < 0) start = sorted.length;
  const items = sorted.slice(start, start + n);
  return { items, n, more: n > 0 && start + n < sorted.length };
}
