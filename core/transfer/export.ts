import type { ExportSettings, RegistryRef, TransferOpSettings } from '../settings';
import type { ArtifactReport, BlobReport } from '../report';
import { type ResolvedArtifact, resolveOnce, tooMany } from '../domain/artifacts';
import { listProgress } from '../progress';
import { continueOnErrors, failuresOf, mapLimit, type OpContext, type OperationResult, TransferError, warn } from '../operation';
import { ensurePipeline } from './pipelines';
import { type Batch, planBatches } from './plan';
import { supplyChain } from './referrers';
import { executeRuns, type RunHooks, type RunJob, type RunOutcome } from './runs';
import { SET_STAMP_KEY, setStamp } from '../domain/blob-rules';

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

/** The report of an artifact before it is in a batch: a referrer's row says whose it is. */
const rowOf = (a: ResolvedArtifact): Pick<ArtifactReport, 'artifact' | 'sourceDigest' | 'referrer'> => ({
  artifact: a.ref,
  sourceDigest: a.sourceDigest,
  ...(a.referrer !== undefined ? { referrer: a.referrer } : {}),
});

const inBatch = (a: ResolvedArtifact, b: Batch): Omit<ArtifactReport, 'result'> => ({
  ...rowOf(a),
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
  await target.prepare([...new Set(artifacts.map((a) => a.repository))]);
  const progress = listProgress(ctx.log, `skip-existing: looked up in ${info.loginServer}`);
  let done = 0;
  const digests = await mapLimit(artifacts, 8, async (a) => {
    const d = await target.manifestDigest(a.repository, a.tag ?? a.digest!);
    progress(++done, artifacts.length);
    return d;
  });
  const todo: ResolvedArtifact[] = [];
  const skipped: ArtifactReport[] = [];
  artifacts.forEach((a, i) => {
    const d = digests[i];
    if (d !== undefined && (a.digest !== undefined || d === a.sourceDigest)) {
      skipped.push({
        ...rowOf(a),
        targetDigest: d,
        result: 'skipped',
        reason: `${info.loginServer} already has ${d}${a.tag !== undefined ? ` as ${a.ref}` : ''}`,
      });
    } else todo.push(a);
  });
  ctx.log.info(`skip-existing: ${skipped.length} of ${artifacts.length} artifacts are already in ${info.loginServer}`);
  return { todo, skipped };
}

/**
 * Before an export run is created: a blob of that name this tool stamped for this batch is the run's result already
 * (its record was deleted); any other blob of that name would fail the run for lack of OverwriteBlobs
 * (docs/azure-service.md#the-export-blob), so the batch fails first, in one line with the fix.
 */
function blobHooks(ctx: OpContext, container: string, batchOf: ReadonlyMap<string, Batch>, overwrite: boolean): Pick<RunHooks, 'alreadyDone' | 'beforeCreate'> {
  return {
    alreadyDone: async (job) => {
      const blob = await ctx.services.blobs.getBlob(container, job.blob);
      const stamp = batchOf.get(job.blob)?.stamp;
      return blob && stamp !== undefined && setStamp(blob) === stamp
        ? `blob '${job.blob}' in ${container} carries this batch's ${SET_STAMP_KEY}=${stamp}`
        : undefined;
    },
    beforeCreate: async (job) => {
      if (overwrite) return undefined;
      const blob = await ctx.services.blobs.getBlob(container, job.blob);
      if (!blob) return undefined;
      const stamp = setStamp(blob);
      return (
        `blob '${job.blob}' already exists in ${container} and is not this batch's (${stamp === undefined ? `no ${SET_STAMP_KEY} metadata` : `${SET_STAMP_KEY}=${stamp}`}): ` +
        `the export run would fail because the export pipeline lacks OverwriteBlobs; add OverwriteBlobs to 'export-options', choose another 'blob-name', or delete the blob`
      );
    },
  };
}

/** What the export runs need once the artifacts are resolved and batched, and the pipeline is there. */
export interface ExportPlan {
  /** The reports of artifacts in no batch: not found, refused by require-referrers, or already in the target. */
  readonly before: readonly ArtifactReport[];
  readonly batches: readonly Batch[];
  readonly pipelineId: string;
  readonly pipelineName: string;
  readonly container?: string;
  readonly hooks: RunHooks;
}

/** Either the export is over before any run (nothing to do, a refusal, a dry run), or its plan. */
export type ExportStart = { readonly done: ExportResult } | { readonly plan: ExportPlan };

/** Export up to its runs: resolve, skip what the target has, plan batches, ensure the pipeline. */
export async function planExport(ctx: OpContext<ExportSettings | TransferOpSettings>): Promise<ExportStart> {
  const { settings, services } = ctx;
  const { source } = settings;
  const info = await services.arm.getRegistry(source);
  const registry = services.registries.forLoginServer(info.loginServer);
  const resolution = await ctx.log.group(`Resolve artifacts in ${info.loginServer}`, () =>
    resolveOnce(settings.artifacts, registry, { onProgress: listProgress(ctx.log, `resolved in ${info.loginServer}`) }),
  );
  const excess = tooMany(resolution.artifacts.length + resolution.missing.length);
  if (excess !== undefined) throw new TransferError(excess);
  ctx.log.info(`${resolution.artifacts.length} artifacts resolved${resolution.missing.length > 0 ? `, ${resolution.missing.length} not found` : ''}`);
  const chain = await supplyChain(ctx, registry, resolution.artifacts);
  const missing: ArtifactReport[] = [
    ...resolution.missing.map((m): ArtifactReport => ({ artifact: m.ref, result: 'failed', reason: m.reason })),
    ...chain.refused,
  ];
  if (missing.length > 0 && !continueOnErrors(settings, 'export')) {
    // Stop before any ARM write: a misspelled or unsigned artifact would otherwise fail (or pass) after minutes of work.
    const rest: ArtifactReport[] = chain.artifacts.map((a) => ({ ...rowOf(a), result: 'pending' }));
    return { done: { artifacts: [...missing, ...rest], runs: [], blobs: [], failures: failuresOf(missing), exported: [] } };
  }

  const { todo, skipped } = settings.skipExistingIn
    ? await splitExisting(ctx, settings.skipExistingIn, chain.artifacts)
    : { todo: [...chain.artifacts], skipped: [] };
  const plan = planBatches(todo, settings);
  ctx.log.info(
    `${todo.length} artifacts in ${plan.batches.length} batch${plan.batches.length === 1 ? '' : 'es'} of at most ${settings.maxArtifactsPerRun}: ${plan.batches.map((b) => `${b.blob} (run ${b.exportRun})`).join(', ')}`,
  );
  if (plan.batches.length === 0) return { done: { artifacts: [...missing, ...skipped], runs: [], blobs: [], failures: [], exported: [] } };

  const pipeline = await ensurePipeline(ctx, source, 'export', { write: !settings.dryRun });
  const container = pipeline.storageUri;
  if (settings.dryRun) {
    const exported = plan.batches.map((b) => ({
      blob: b.blob,
      batch: b,
      artifacts: b.artifacts.map((a): ArtifactReport => ({ ...inBatch(a, b), result: 'planned' })),
    }));
    return {
      done: {
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
      },
    };
  }
  if (container === undefined) warn(ctx, `export pipeline '${pipeline.name}' reports no container URI: the blobs cannot be checked`);
  const batchOf = new Map(plan.batches.map((b) => [b.blob, b]));
  const overwrite = (pipeline.options ?? []).some((o) => o.toLowerCase() === 'overwriteblobs');
  const hooks: RunHooks = {
    // A succeeded run whose blob is gone (cleaned up, or moved on by DeleteSourceBlobOnSuccess) is run again.
    reusable: async (job) => container === undefined || (await services.blobs.getBlob(container, job.blob)) !== undefined,
    ...(container !== undefined ? blobHooks(ctx, container, batchOf, overwrite) : {}),
  };
  return {
    plan: {
      before: [...missing, ...skipped],
      batches: plan.batches,
      pipelineId: pipeline.id,
      pipelineName: pipeline.name,
      ...(container !== undefined ? { container } : {}),
      hooks,
    },
  };
}

export function exportJob(ctx: OpContext<ExportSettings | TransferOpSettings>, plan: ExportPlan, b: Batch): RunJob {
  return {
    name: b.exportRun,
    kind: 'export',
    registry: ctx.settings.source,
    pipelineId: plan.pipelineId,
    pipelineName: plan.pipelineName,
    blob: b.blob,
    artifacts: b.artifacts.map((a) => a.ref),
  };
}

/** One batch after its export run: its artifacts' reports, its blob's, and the blob when it is there to copy or import. */
export interface BatchExported {
  readonly artifacts: readonly ArtifactReport[];
  readonly blob?: BlobReport;
  readonly exported?: ExportedBlob;
}

/** Checks the blob of a batch whose export run ended and stamps it (docs/interface.md#resuming-without-run-records). */
export async function afterExport(ctx: OpContext, plan: ExportPlan, batch: Batch, o: RunOutcome, interrupted: boolean): Promise<BatchExported> {
  const { report, run } = o;
  const { container } = plan;
  const mark = (result: ArtifactReport['result'], reason?: string): ArtifactReport[] =>
    batch.artifacts.map((a) => ({ ...inBatch(a, batch), result, ...(reason !== undefined ? { reason } : {}) }));
  if (report.status === 'failed') return { artifacts: mark('failed', report.error) };
  if (report.status !== 'succeeded' && report.status !== 'reused') return { artifacts: mark('pending') };
  // After a cancel or time-out nothing more is asked of Azure: the report of what is done must come out now.
  const look = container !== undefined && !interrupted;
  const blob = look ? await ctx.services.blobs.getBlob(container, batch.blob) : undefined;
  if (look && blob === undefined) {
    const reason = `run '${report.name}' succeeded but blob '${batch.blob}' is not in ${container}`;
    return { artifacts: mark('failed', reason), blob: { name: batch.blob, error: reason } };
  }
  if (container !== undefined && blob !== undefined && setStamp(blob) !== batch.stamp) {
    // The proof, for a re-run that finds no run record, that this blob holds this batch.
    await ctx.services.blobs.setBlobMetadata(container, batch.blob, { ...blob.metadata, [SET_STAMP_KEY]: batch.stamp });
  }
  const reports = mark('exported');
  return {
    artifacts: reports,
    blob: { name: batch.blob, ...(blob ? { size: blob.size, ...(blob.contentMD5 !== undefined ? { contentMD5: blob.contentMD5 } : {}) } : {}) },
    exported: { blob: batch.blob, batch, artifacts: reports, ...(run?.catalogDigest !== undefined ? { catalogDigest: run.catalogDigest } : {}) },
  };
}

/** Export: plan, run the export runs (at most max-parallel-runs at once), check the blobs. */
export async function runExport(ctx: OpContext<ExportSettings | TransferOpSettings>): Promise<ExportResult> {
  const start = await planExport(ctx);
  if ('done' in start) return start.done;
  const { plan } = start;
  const jobs = plan.batches.map((b) => exportJob(ctx, plan, b));
  const { outcomes, interrupted } = await ctx.log.group(`Export runs (${jobs.length})`, () => executeRuns(ctx, jobs, plan.hooks));
  const artifacts: ArtifactReport[] = [...plan.before];
  const blobs: BlobReport[] = [];
  const exported: ExportedBlob[] = [];
  for (const [i, o] of outcomes.entries()) {
    const done = await afterExport(ctx, plan, plan.batches[i]!, o, interrupted !== undefined);
    artifacts.push(...done.artifacts);
    if (done.blob) blobs.push(done.blob);
    if (done.exported) exported.push(done.exported);
  }
  return {
    artifacts,
    runs: outcomes.map((o) => o.report),
    blobs,
    failures: continueOnErrors(ctx.settings, 'export') ? [] : failuresOf(artifacts),
    exported,
    ...(plan.container !== undefined ? { container: plan.container } : {}),
    ...(interrupted ? { interrupted } : {}),
  };
}
