import type { ExportSettings, RegistryRef, TransferOpSettings } from '../settings';
import type { ArtifactReport, BlobReport } from '../report';
import { type ResolvedArtifact, resolveArtifacts } from '../domain/artifacts';
import { continueOnErrors, failuresOf, mapLimit, type OpContext, type OperationResult, warn } from '../operation';
import { ensurePipeline } from './pipelines';
import { type Batch, planBatches } from './plan';
import { executeRuns } from './runs';

/** A blob the export wrote (or, in a dry run, would write), with the artifacts in it. */
export interface ExportedBlob {
  readonly blob: string;
  readonly batch: Batch;
  /** The export's reports of the artifacts in this blob; later stages extend them. */
  readonly artifacts: readonly ArtifactReport[];
  /** response.catalogDigest of the export run: passed to the import run, which can check it. */
  readonly catalogDigest?: string;
}

export interface ExportResult extends OperationResult {
  /** Blobs whose run succeeded and which are in the export container; every planned blob in a dry run. */
  readonly exported: readonly ExportedBlob[];
  readonly container?: string;
}

const inBatch = (a: ResolvedArtifact, b: Batch): Omit<ArtifactReport, 'result'> => ({
  artifact: a.ref,
  sourceDigest: a.sourceDigest,
  batch: b.index,
  exportRun: b.exportRun,
  blob: b.blob,
});

/** Leaves out artifacts whose digest the target registry already has under that tag (or, for a digest reference, at all). */
async function splitExisting(
  ctx: OpContext,
  registry: RegistryRef,
  artifacts: readonly ResolvedArtifact[],
): Promise<{ todo: ResolvedArtifact[]; skipped: ArtifactReport[] }> {
  const info = await ctx.services.arm.getRegistry(registry);
  const target = ctx.services.registries.forLoginServer(info.loginServer);
  const digests = await mapLimit(artifacts, 8, (a) => target.manifestDigest(a.repository, a.tag ?? a.digest!));
  const todo: ResolvedArtifact[] = [];
  const skipped: ArtifactReport[] = [];
  artifacts.forEach((a, i) => {
    const d = digests[i];
    if (d !== undefined && (a.digest !== undefined || d === a.sourceDigest)) {
      skipped.push({
        artifact: a.ref,
        sourceDigest: a.sourceDigest,
        targetDigest: d,
        result: 'skipped',
        reason: `${info.loginServer} already has ${d}${a.tag !== undefined ? ` as ${a.ref}` : ''}`,
      });
    } else todo.push(a);
  });
  ctx.log.info(`skip-existing: ${skipped.length} of ${artifacts.length} artifacts are already in ${info.loginServer}`);
  return { todo, skipped };
}

/** Export: resolve, skip what the target has, plan batches, run the export runs, check the blobs. */
export async function runExport(ctx: OpContext<ExportSettings | TransferOpSettings>): Promise<ExportResult> {
  const { settings, services } = ctx;
  const { source } = settings;
  const info = await services.arm.getRegistry(source);
  const resolution = await ctx.log.group(`Resolve artifacts in ${info.loginServer}`, () =>
    resolveArtifacts(settings.artifacts, services.registries.forLoginServer(info.loginServer)),
  );
  ctx.log.info(`${resolution.artifacts.length} artifacts resolved${resolution.missing.length > 0 ? `, ${resolution.missing.length} not found` : ''}`);
  const missing: ArtifactReport[] = resolution.missing.map((m) => ({ artifact: m.ref, result: 'failed', reason: m.reason }));
  if (missing.length > 0 && !continueOnErrors(settings, 'export')) {
    // Stop before any ARM write: a misspelled artifact would otherwise fail a run after minutes of work.
    const rest: ArtifactReport[] = resolution.artifacts.map((a) => ({ artifact: a.ref, sourceDigest: a.sourceDigest, result: 'pending' }));
    return { artifacts: [...missing, ...rest], runs: [], blobs: [], failures: failuresOf(missing), exported: [] };
  }

  const { todo, skipped } = settings.skipExistingIn
    ? await splitExisting(ctx, settings.skipExistingIn, resolution.artifacts)
    : { todo: [...resolution.artifacts], skipped: [] };
  const plan = planBatches(todo, settings);
  ctx.log.info(
    `${todo.length} artifacts in ${plan.batches.length} batch${plan.batches.length === 1 ? '' : 'es'} of at most ${settings.maxArtifactsPerRun}: ${plan.batches.map((b) => `${b.blob} (run ${b.exportRun})`).join(', ')}`,
  );
  if (plan.batches.length === 0) return { artifacts: [...missing, ...skipped], runs: [], blobs: [], failures: [], exported: [] };

  const pipeline = await ensurePipeline(ctx, source, 'export', { write: !settings.dryRun });
  const container = pipeline.storageUri;
  if (settings.dryRun) {
    const exported = plan.batches.map((b) => ({
      blob: b.blob,
      batch: b,
      artifacts: b.artifacts.map((a): ArtifactReport => ({ ...inBatch(a, b), result: 'planned' })),
    }));
    return {
      artifacts: [...missing, ...skipped, ...exported.flatMap((e) => e.artifacts)],
      runs: plan.batches.map((b) => ({
        name: b.exportRun,
        pipeline: pipeline.name,
        kind: 'export',
        status: 'planned',
        blob: b.blob,
        artifacts: b.artifacts.map((a) => a.ref),
      })),
      blobs: plan.batches.map((b) => ({ name: b.blob })),
      failures: [],
      exported,
      ...(container !== undefined ? { container } : {}),
    };
  }
  if (container === undefined) warn(ctx, `export pipeline '${pipeline.name}' reports no container URI: the blobs cannot be checked`);

  const jobs = plan.batches.map((b) => ({
    name: b.exportRun,
    kind: 'export' as const,
    registry: source,
    pipelineId: pipeline.id,
    pipelineName: pipeline.name,
    blob: b.blob,
    artifacts: b.artifacts.map((a) => a.ref),
  }));
  const { outcomes, interrupted } = await ctx.log.group(`Export runs (${jobs.length})`, () =>
    executeRuns(ctx, jobs, {
      // A succeeded run whose blob is gone (cleaned up, or moved on by DeleteSourceBlobOnSuccess) is run again.
      reusable: async (job) => container === undefined || (await services.blobs.getBlob(container, job.blob)) !== undefined,
    }),
  );

  const artifacts: ArtifactReport[] = [...missing, ...skipped];
  const blobs: BlobReport[] = [];
  const exported: ExportedBlob[] = [];
  for (const [i, { report, run }] of outcomes.entries()) {
    const batch = plan.batches[i]!;
    const mark = (result: ArtifactReport['result'], reason?: string): ArtifactReport[] =>
      batch.artifacts.map((a) => ({ ...inBatch(a, batch), result, ...(reason !== undefined ? { reason } : {}) }));
    if (report.status === 'succeeded' || report.status === 'reused') {
      // After a cancel or time-out nothing more is asked of Azure: the report of what is done must come out now.
      const look = container !== undefined && interrupted === undefined;
      const blob = look ? await services.blobs.getBlob(container, batch.blob) : undefined;
      if (look && blob === undefined) {
        const reason = `run '${report.name}' succeeded but blob '${batch.blob}' is not in ${container}`;
        blobs.push({ name: batch.blob, error: reason });
        artifacts.push(...mark('failed', reason));
        continue;
      }
      blobs.push({ name: batch.blob, ...(blob ? { size: blob.size, ...(blob.contentMD5 !== undefined ? { contentMD5: blob.contentMD5 } : {}) } : {}) });
      const reports = mark('exported');
      artifacts.push(...reports);
      exported.push({ blob: batch.blob, batch, artifacts: reports, ...(run?.catalogDigest !== undefined ? { catalogDigest: run.catalogDigest } : {}) });
    } else if (report.status === 'failed') {
      artifacts.push(...mark('failed', report.error));
    } else {
      artifacts.push(...mark('pending'));
    }
  }
  return {
    artifacts,
    runs: outcomes.map((o) => o.report),
    blobs,
    failures: continueOnErrors(settings, 'export') ? [] : failuresOf(artifacts),
    exported,
    ...(container !== undefined ? { container } : {}),
    ...(interrupted ? { interrupted } : {}),
  };
}
