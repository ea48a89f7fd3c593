import type { ArtifactReport, BlobReport } from '../report';
import type { TransferOpSettings } from '../settings';
import type { OpContext, OperationResult } from '../operation';
import { copyContainers, runCopy } from './copy';
import { type ExportResult, planExport } from './export';
import { planImport, runImport } from './import';
import { refuseDrift } from './pipelines';
import { streamBatches } from './stream';

/** Later reports of the same artifact or blob replace earlier ones, in the first one's place. */
function merge<T>(key: (t: T) => string, ...lists: (readonly T[])[]): T[] {
  const out = new Map<string, T>();
  for (const list of lists) for (const t of list) out.set(key(t), { ...out.get(key(t)), ...t });
  return [...out.values()];
}

const byArtifact = (a: ArtifactReport): string => a.artifact;
const byName = (b: BlobReport): string => b.name;

/** A dry run changes nothing and waits for nothing: the stages' plans one after the other. */
async function dryRun(ctx: OpContext<TransferOpSettings>, ex: ExportResult): Promise<OperationResult> {
  const cp = await runCopy(ctx, { blobs: ex.exported.map((e) => e.blob), ...(ex.container !== undefined ? { from: ex.container } : {}) });
  const im = await runImport(
    ctx,
    ex.exported.map((e) => ({ blob: e.blob, artifacts: e.artifacts, ...(e.catalogDigest !== undefined ? { catalogDigest: e.catalogDigest } : {}) })),
  );
  return { artifacts: merge(byArtifact, ex.artifacts, im.artifacts), runs: [...ex.runs, ...im.runs], blobs: merge(byName, ex.blobs, cp.blobs), failures: [] };
}

/**
 * Transfer: export, copy the blobs the export wrote, import them, verify; one report. Each batch streams through the
 * stages on its own (stream.ts); without ContinueOnErrors a failure stops new stages from starting.
 */
export async function runTransfer(ctx: OpContext<TransferOpSettings>): Promise<OperationResult> {
  // update-pipelines: false refuses a differing import pipeline before the export runs, not after.
  await refuseDrift(ctx, [
    { kind: 'export', reg: ctx.settings.source },
    { kind: 'import', reg: ctx.settings.target },
  ]);
  const start = await planExport(ctx);
  if ('done' in start) return ctx.settings.dryRun && start.done.exported.length > 0 ? dryRun(ctx, start.done) : start.done;
  const exports = start.plan;
  const imports = await planImport(ctx);
  const { from, to } = await copyContainers(ctx, {
    ...(exports.container !== undefined ? { from: exports.container } : {}),
    ...(imports.container !== undefined ? { to: imports.container } : {}),
  });
  const { states, timeline, interrupted } = await streamBatches(ctx, { exports, imports, from, to });
  return {
    artifacts: [...exports.before, ...states.flatMap((s) => s.artifacts)],
    runs: [...states.flatMap((s) => (s.exportRun ? [s.exportRun] : [])), ...states.flatMap((s) => (s.importRun ? [s.importRun] : []))],
    blobs: states.flatMap((s) => (s.blob ? [s.blob] : [])),
    failures: (['export', 'copy', 'import'] as const).flatMap((side) => states.flatMap((s) => s.failures[side])),
    timeline,
    ...(interrupted ? { interrupted } : {}),
  };
}
