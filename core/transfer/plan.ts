/**
 * Batches and names. Every name is a pure function of the inputs, so a re-run with the same inputs finds the
 * blobs and runs of the last attempt and resumes instead of duplicating them.
 */
import { createHash } from 'node:crypto';
import type { ResolvedArtifact } from '../domain/artifacts';

export interface Batch {
  /** 1-based. */
  readonly index: number;
  readonly blob: string;
  readonly exportRun: string;
  readonly importRun: string;
  readonly artifacts: readonly ResolvedArtifact[];
  /** The hash of exactly these artifacts and digests: the blob's stamp (core/domain/blob-rules.ts, SET_STAMP_KEY). */
  readonly stamp: string;
}

export interface Plan {
  readonly base: string;
  readonly batches: readonly Batch[];
}

const hash = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * `acrtransfer-<16 hex>` over the artifact set with its source digests and the batch size: a tag that moved
 * gets a new blob (the old one holds the old image), and so does a different batching (blob `-1` would
 * otherwise be asked to hold other artifacts than the one already written).
 */
export function derivedBlobBase(artifacts: readonly ResolvedArtifact[], maxArtifactsPerRun: number): string {
  const lines = artifacts.map((a) => `${a.ref} ${a.sourceDigest}`).sort();
  return `acrtransfer-${hash(`per-run=${maxArtifactsPerRun}\n${lines.join('\n')}`).slice(0, 16)}`;
}

/** The stamp of a batch: its references and source digests, order aside. */
export function batchStamp(artifacts: readonly ResolvedArtifact[]): string {
  return hash(
    artifacts
      .map((a) => `${a.ref} ${a.sourceDigest}`)
      .sort()
      .join('\n'),
  ).slice(0, 32);
}

/**
 * Run names must be 5–50 letters or digits (`^[a-zA-Z0-9]*$`, no hyphens; see the pipelineRunName
 * parameter in the ACR swagger). The readable part is the blob name without other characters; the hash of
 * the whole blob name keeps names apart that only differ in the characters dropped or cut.
 */
function runName(prefix: 'exp' | 'imp', blob: string): string {
  return `${prefix}${blob.replace(/[^A-Za-z0-9]/g, '').slice(0, 35)}${hash(blob).slice(0, 10)}`;
}

export const exportRunName = (blob: string): string => runName('exp', blob);
export const importRunName = (blob: string): string => runName('imp', blob);

/**
 * Splits the artifacts into batches of at most `maxArtifactsPerRun`, in order; blobs are `<base>-1`, `<base>-2`, …
 * An artifact and the referrers carried with it (domain/referrers.ts) stay in one batch where they fit: a group that
 * does not fit in what is left of the current batch starts the next one, and only a group larger than a batch is split.
 */
export function planBatches(artifacts: readonly ResolvedArtifact[], o: { readonly blobName?: string; readonly maxArtifactsPerRun: number }): Plan {
  const base = o.blobName ?? derivedBlobBase(artifacts, o.maxArtifactsPerRun);
  const max = o.maxArtifactsPerRun;
  const groups = new Map<string, ResolvedArtifact[]>();
  for (const a of artifacts) {
    const key = a.referrer?.of ?? a.ref;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  const lists: ResolvedArtifact[][] = [];
  for (const group of groups.values()) {
    let rest = group;
    const current = lists.at(-1);
    if (current && current.length + rest.length <= max) {
      current.push(...rest);
      continue;
    }
    if (rest.length > max && current && current.length < max) {
      // Too large for any batch: fill the current one first, then whole batches.
      const room = max - current.length;
      current.push(...rest.slice(0, room));
      rest = rest.slice(room);
    }
    for (let i = 0; i < rest.length; i += max) lists.push(rest.slice(i, i + max));
  }
  const batches = lists.map((list, i): Batch => {
    const blob = `${base}-${i + 1}`;
    return { index: i + 1, blob, exportRun: exportRunName(blob), importRun: importRunName(blob), artifacts: list, stamp: batchStamp(list) };
  });
  return { base, batches };
}
