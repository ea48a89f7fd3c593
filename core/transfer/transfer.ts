import type { ArtifactReport, BlobReport } from '../report';
import type { TransferOpSettings } from '../settings';
import { continueOnErrors, failuresOf, type OpContext, type OperationResult } from '../operation';
import { runCopy } from './copy';
import { runExport } from './export';
import { runImport } from './import';
import { refuseDrift } from './pipelines';

/** Later reports of the same artifact or blob replace earlier ones, in the first one's place. */
function merge<T>(key: (t: T) => string, ...lists: (readonly T[])[]): T[] {
  const out = new Map<string, T>();
  for (const list of lists) for (const t of list) out.set(key(t), { ...out.get(key(t)), ...t });
  return [...out.values()];
}

const byArtifact = (a: ArtifactReport): string => a.artifact;
const byName = (b: BlobReport): string => b.name;

/**
 * Transfer: export, copy the blobs the export wrote, import them, verify; one report. Without
 * ContinueOnErrors a failure stops it after the stage where it happened.
 */
export async function runTransfer(ctx: OpContext<TransferOpSettings>): Promise<OperationResult> {
  // update-pipelines: false refuses a differing import pipeline before the export runs, not after.
  await refuseDrift(ctx, [
    { kind: 'export', reg: ctx.settings.source },
    { kind: 'import', reg: ctx.settings.target },
  ]);
  const ex = await runExport(ctx);
  if (ex.interrupted || ex.failures.length > 0 || ex.exported.length === 0) return ex;

  const cp = await runCopy(ctx, { blobs: ex.exported.map((e) => e.blob), ...(ex.container !== undefined ? { from: ex.container } : {}) });
  const copyErrors = new Map(cp.blobs.filter((b) => b.error !== undefined).map((b) => [b.name, b.error!]));
  const notCopied = ex.exported.flatMap((e) => {
    const error = copyErrors.get(e.blob);
    if (error === undefined) return [];
    return e.artifacts.map((a): ArtifactReport =>
      cp.interrupted ? { ...a, result: 'pending' } : { ...a, result: 'failed', reason: `copy of blob '${e.blob}' failed: ${error}` },
    );
  });
  const copyFailures = continueOnErrors(ctx.settings, 'import') ? [] : failuresOf(notCopied);
  const blobs = merge(byName, ex.blobs, cp.blobs);
  if (cp.interrupted || copyFailures.length > 0) {
    return {
      artifacts: merge(byArtifact, ex.artifacts, notCopied),
      runs: ex.runs,
      blobs,
      failures: copyFailures,
      ...(cp.interrupted ? { interrupted: cp.interrupted } : {}),
    };
  }

  const ready = ex.exported.filter((e) => cp.ready.includes(e.blob));
  const im = await runImport(
    ctx,
    ready.map((e) => ({ blob: e.blob, artifacts: e.artifacts, ...(e.catalogDigest !== undefined ? { catalogDigest: e.catalogDigest } : {}) })),
  );
  return {
    artifacts: merge(byArtifact, ex.artifacts, notCopied, im.artifacts),
    runs: [...ex.runs, ...im.runs],
    blobs,
    failures: [...copyFailures, ...im.failures],
    ...(im.interrupted ? { interrupted: im.interrupted } : {}),
  };
}
