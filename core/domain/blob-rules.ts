/**
 * What makes a blob one the import pipeline's source trigger picks up
 * (https://learn.microsoft.com/azure/container-registry/container-registry-transfer-troubleshooting, docs/azure-service.md#source-trigger):
 * the export's category metadata, a Content-MD5, and a recent Last-Modified. Copies must keep the first two.
 */
import type { BlobInfo } from '../ports';

export const BLOB_CATEGORY = 'acr-transfer-blob';

/** Storage returns metadata keys in lower case, but other stores may not. */
export function category(blob: BlobInfo): string | undefined {
  return Object.entries(blob.metadata).find(([k]) => k.toLowerCase() === 'category')?.[1];
}

// The source trigger ignores blobs last modified more than 60 days ago (docs/azure-service.md#source-trigger).
const TRIGGER_MAX_AGE_MS = 60 * 24 * 3600 * 1000;

/** Why the source trigger would ignore this blob; undefined when it would import it. */
export function triggerProblem(blob: BlobInfo, now: number): string | undefined {
  if (blob.lastModified !== undefined && now - Date.parse(blob.lastModified) > TRIGGER_MAX_AGE_MS)
    return `was last modified on ${blob.lastModified}, more than 60 days ago`;
  if (blob.contentMD5 === undefined) return 'has no Content-MD5';
  if (category(blob) !== BLOB_CATEGORY) return `lacks the metadata category=${BLOB_CATEGORY}`;
  return undefined;
}

/**
 * The metadata this tool adds to an export blob once its run succeeded: the hash of the batch it holds
 * (core/transfer/plan.ts). A re-run whose run record is gone recognises its own blob by it (docs/interface.md#resuming-without-run-records).
 */
export const SET_STAMP_KEY = 'acrtransfer_set';

export function setStamp(blob: BlobInfo): string | undefined {
  return Object.entries(blob.metadata).find(([k]) => k.toLowerCase() === SET_STAMP_KEY)?.[1];
}
