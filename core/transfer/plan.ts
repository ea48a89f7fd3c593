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

/** Splits the (sorted) artifacts into batches of at most `maxArtifactsPerRun`; blobs are `<base>-1`, `<base>-2`, … */
export function planBatches(artifacts: readonly ResolvedArtifact[], o: { readonly blobName?: string; readonly maxArtifactsPerRun: number }): Plan {
  const base = o.blobName ?? derivedBlobBase(artifacts, o.maxArtifactsPerRun);
  const batches: Batch[] = [];
  for (let i = 0; i < artifacts.length; i += o.maxArtifactsPerRun) {
    const index = batches.length + 1;
    const blob = `${base}-${index}`;
    const slice = artifacts.slice(i, i + o.maxArtifactsPerRun);
    batches.push({ index, blob, exportRun: exportRunName(blob), importRun: importRunName(blob), artifacts: slice, stamp: batchStamp(slice) });
  }
  return { base, batches };
}
