/**
 * Blob names the tool accepts: Azure's rules (1 to 1024 characters, at most 254 path segments, no name ending in a dot
 * or a slash: https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata#blob-names)
 * narrowed to characters every tool carries safely across clouds, and no empty, `.` or `..` segment, which URL
 * resolution would turn into another blob's address.
 */

const BLOB_CHARS = /^[A-Za-z0-9._/-]+$/;
const MAX_LENGTH = 1024;
const MAX_SEGMENTS = 254;

/** What is wrong with a blob name, or undefined when it is fine. */
export function blobNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_LENGTH) return `a blob name has 1 to ${MAX_LENGTH} characters`;
  if (!BLOB_CHARS.test(name)) return 'a blob name has letters, digits, dots, hyphens, underscores and slashes only';
  if (!/^[A-Za-z0-9]/.test(name)) return 'a blob name starts with a letter or digit';
  if (/[./]$/.test(name)) return 'a blob name does not end in a dot or a slash';
  const segments = name.split('/');
  if (segments.length > MAX_SEGMENTS) return `a blob name has at most ${MAX_SEGMENTS} path segments`;
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return "a blob name has no empty, '.' or '..' path segment";
  return undefined;
}

/** Base names given with `blob-name` (batches append -1, -2, …): one segment, 1 to 200 characters. */
export const BLOB_BASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
