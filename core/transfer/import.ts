import { triggerProblem } from '../domain/blob-rules';
import { splitRef } from '../domain/reference';
import type { ImportSettings, TransferOpSettings } from '../settings';
import type { PipelineRunResource, RegistryDataPlane } from '../ports';
import type { ArtifactReport, RunReport } from '../report';
import { continueOnErrors, failuresOf, mapLimit, type OpContext, type OperationResult, warn } from '../operation';
import { listProgress } from '../progress';
import { ensurePipeline } from './pipelines';
import { importRunName } from './plan';
import { checkListed } from './referrers';
import { executeRuns, type RunHooks, type RunJob, type RunOutcome, triggeredFor } from './runs';

/** A blob to import, with what the export put in it when known (transfer). */
export interface ImportBlob {
  readonly blob: string;
  /** The export's reports of the artifacts in the blob; without them, the run's importedArtifacts are verified. */
  readonly artifacts?: readonly ArtifactReport[];
  readonly catalogDigest?: string;
}

/** Shown as the run name until the run the source trigger starts is found. */
export const TRIGGER_RUN = '(source trigger)';

async function verifyOne(target: RegistryDataPlane, a: ArtifactReport): Promise<ArtifactReport> {
  const { repository, reference } = splitRef(a.artifact);
  const d = await target.manifestDigest(repository, reference);
  if (d === undefined) return { ...a, result: 'failed', reason: `not found in ${target.loginServer} after the import` };
  if (a.sourceDigest !== undefined && d !== a.sourceDigest)
    return { ...a, result: 'failed', targetDigest: d, reason: `${target.loginServer} has ${d}, the source had ${a.sourceDigest}` };
  return { ...a, result: 'verified', targetDigest: d };
}

/** One HEAD per artifact in the target, pull tokens fetched a few to a request first, progress every 10 %. */
async function verifyAll(ctx: OpContext, target: RegistryDataPlane, list: readonly ArtifactReport[]): Promise<ArtifactReport[]> {
  if (list.length === 0) return [];
  await target.prepare([...new Set(list.map((a) => splitRef(a.artifact).repository))]);
  const progress = listProgress(ctx.log, `verified in ${target.loginServer}`);
  let done = 0;
  return mapLimit(list, 8, async (a) => {
    const r = await verifyOne(target, a);
    progress(++done, list.length);
    return r;
  });
}

/** Evidence that a blob's artifacts are all in the target with their source digests; undefined if any is not (or none is known). */
async function inTarget(target: RegistryDataPlane, known: readonly ArtifactReport[]): Promise<string | undefined> {
  if (known.length === 0 || known.some((a) => a.sourceDigest === undefined)) return undefined;
  // One look first: on a first attempt the artifacts are not there, and that costs one request per batch.
  if ((await verifyOne(target, known[0]!)).result !== 'verified') return undefined;
  const checked = await mapLimit(known.slice(1), 8, (a) => verifyOne(target, a));
  return checked.every((a) => a.result === 'verified')
    ? `all ${known.length} of its artifacts are in ${target.loginServer} with their source digests`
    : undefined;
}

/** What the import runs need: the target's data plane and the pipeline. */
export interface ImportPlan {
  readonly registry: RegistryDataPlane;
  readonly pipelineId: string;
  readonly pipelineName: string;
  readonly container?: string;
  readonly trigger: boolean;
  /** The runs listed once, for blobs the trigger will not pick up (were they imported already?). */
  listed?: Promise<PipelineRunResource[]>;
}

export async function planImport(ctx: OpContext<ImportSettings | TransferOpSettings>): Promise<ImportPlan> {
  const { settings, services } = ctx;
  const info = await services.arm.getRegistry(settings.target);
  const pipeline = await ensurePipeline(ctx, settings.target, 'import', { write: !settings.dryRun });
  return {
    registry: services.registries.forLoginServer(info.loginServer),
    pipelineId: pipeline.id,
    pipelineName: pipeline.name,
    ...(pipeline.storageUri !== undefined ? { container: pipeline.storageUri } : {}),
    trigger: settings.sourceTrigger,
  };
}

/** The run that imports a blob; with the source trigger, the one to wait for, or why the trigger will not start one. */
export async function importJob(ctx: OpContext<ImportSettings | TransferOpSettings>, plan: ImportPlan, b: ImportBlob): Promise<RunJob | RunReport> {
  const j: RunJob = {
    name: plan.trigger ? TRIGGER_RUN : importRunName(b.blob),
    kind: 'import',
    registry: ctx.settings.target,
    pipelineId: plan.pipelineId,
    pipelineName: plan.pipelineName,
    blob: b.blob,
    artifacts: (b.artifacts ?? []).map((a) => a.artifact),
    ...(b.catalogDigest !== undefined ? { catalogDigest: b.catalogDigest } : {}),
  };
  if (!plan.trigger) return j;
  const { container } = plan;
  const props = container === undefined ? undefined : await ctx.services.blobs.getBlob(container, b.blob);
  const problem = props ? triggerProblem(props, ctx.clock.now()) : container !== undefined ? `is not in the import container ${container}` : undefined;
  const after = props?.lastModified ?? new Date(0).toISOString();
  if (problem !== undefined) {
    // It may have been imported already: a re-run after DeleteSourceBlobOnSuccess removed it, or an old blob.
    plan.listed ??= ctx.services.arm.listRuns(ctx.settings.target);
    if (!(await plan.listed).some((r) => triggeredFor(r, plan.pipelineId, b.blob, after))) {
      const error = `blob '${b.blob}' ${problem}: the source trigger will not import it`;
      return { name: j.name, pipeline: j.pipelineName, kind: 'import', status: 'failed', blob: b.blob, artifacts: j.artifacts, error };
    }
  }
  return { ...j, triggeredAfter: after };
}

/** The artifacts a blob holds as far as the caller knows, as rows of this blob and run. */
const expected = (b: ImportBlob | undefined, run: string): ArtifactReport[] => (b?.artifacts ?? []).map((a) => ({ ...a, blob: b!.blob, importRun: run }));

export function importHooks(ctx: OpContext, plan: ImportPlan, byBlob: ReadonlyMap<string, ImportBlob>): RunHooks {
  const { container, registry } = plan;
  return {
    // A run record deleted after the import (cleanup, a restarted service): the target's digests are the evidence.
    alreadyDone: async (j, existing) => (existing === undefined ? inTarget(registry, expected(byBlob.get(j.blob), j.name)) : undefined),
    ...(container === undefined
      ? {}
      : {
          beforeCreate: async (j) =>
            (await ctx.services.blobs.getBlob(container, j.blob))
              ? undefined
              : `blob '${j.blob}' is not in the import container ${container}: copy it there first, or check 'blobs'`,
          // A blob replaced after the run started holds something the run did not import; a blob that is gone was taken by DeleteSourceBlobOnSuccess.
          reusable: async (j, run) => {
            const blob = await ctx.services.blobs.getBlob(container, j.blob);
            return !blob?.lastModified || run.startTime === undefined || Date.parse(blob.lastModified) <= Date.parse(run.startTime);
          },
        }),
  };
}

/** One import outcome: the rows that are final now, and those still to verify by digest. */
export function afterImport(ctx: OpContext, b: ImportBlob | undefined, o: RunOutcome): { done: ArtifactReport[]; toVerify: ArtifactReport[] } {
  const { job: j, report, run } = o;
  const known = expected(b, report.name);
  if (report.status === 'failed')
    return { done: known.map((a): ArtifactReport => ({ ...a, result: 'failed', reason: report.error ?? 'the run failed' })), toVerify: [] };
  if (report.status !== 'succeeded' && report.status !== 'reused')
    return { done: known.map((a): ArtifactReport => ({ ...a, result: 'pending' })), toVerify: [] };
  const imported = run?.importedArtifacts ?? [];
  const list = known.length > 0 ? known : imported.map((artifact): ArtifactReport => ({ artifact, blob: j.blob, importRun: report.name, result: 'imported' }));
  if (list.length === 0) warn(ctx, `import run '${report.name}' reported no imported artifacts for blob '${j.blob}': nothing to verify`);
  if (ctx.settings.verify) return { done: [], toVerify: list };
  // Without the digest check, the run's own list is the evidence.
  return {
    done: list.map((a): ArtifactReport =>
      imported.length > 0 && !imported.includes(a.artifact)
        ? { ...a, result: 'failed', reason: `not in the importedArtifacts of run '${report.name}'` }
        : { ...a, result: 'imported' },
    ),
    toVerify: [],
  };
}

/** Verifies by digest, and referrers in the referrers API too. */
export async function verifyImported(ctx: OpContext, plan: ImportPlan, list: readonly ArtifactReport[]): Promise<ArtifactReport[]> {
  return checkListed(plan.registry, await verifyAll(ctx, plan.registry, list));
}

/** A failed run whose artifacts are unknown has no artifact to carry the failure: its own line. */
export function unnamedFailures(runs: readonly RunReport[], byBlob: ReadonlyMap<string, ImportBlob>): string[] {
  return runs
    .filter((r) => r.status === 'failed' && expected(byBlob.get(r.blob), r.name).length === 0)
    .map((r) => `import of blob '${r.blob}' failed: ${r.error ?? 'unknown reason'}`);
}

/** Import: ensure the pipeline, run (or wait for the source trigger's runs), then verify every artifact by digest. */
export async function runImport(ctx: OpContext<ImportSettings | TransferOpSettings>, given?: readonly ImportBlob[]): Promise<OperationResult> {
  const { settings, services } = ctx;
  const plan = await planImport(ctx);
  const { container, trigger } = plan;

  let blobs: readonly ImportBlob[] = given ?? settings.blobs.map((blob) => ({ blob }));
  if (given === undefined && blobs.length === 0 && trigger && container !== undefined) {
    // No names given: wait for the runs of every blob in the container the trigger would pick up.
    const now = ctx.clock.now();
    blobs = (await services.blobs.listBlobs(container)).filter((b) => triggerProblem(b, now) === undefined).map((b) => ({ blob: b.name }));
    ctx.log.info(`${blobs.length} blobs in ${container} are eligible for the source trigger: ${blobs.map((b) => b.blob).join(', ')}`);
  }
  if (blobs.length === 0) {
    if (given === undefined) warn(ctx, 'nothing to import: no blobs given and none eligible for the source trigger');
    return { artifacts: [], runs: [], blobs: [], failures: [] };
  }
  const byBlob = new Map(blobs.map((b) => [b.blob, b]));

  if (settings.dryRun) {
    const name = (b: ImportBlob): string => (trigger ? TRIGGER_RUN : importRunName(b.blob));
    return {
      artifacts: blobs.flatMap((b) => expected(b, name(b)).map((a): ArtifactReport => ({ ...a, result: 'planned' }))),
      runs: blobs.map((b) => ({
        name: name(b),
        pipeline: plan.pipelineName,
        kind: 'import',
        status: 'planned',
        blob: b.blob,
        artifacts: (b.artifacts ?? []).map((a) => a.artifact),
      })),
      blobs: blobs.map((b) => ({ name: b.blob })),
      failures: [],
    };
  }

  const jobs: RunJob[] = [];
  const refused: RunReport[] = [];
  for (const b of blobs) {
    const j = await importJob(ctx, plan, b);
    if ('status' in j) refused.push(j);
    else jobs.push(j);
  }
  const { outcomes, interrupted } = await ctx.log.group(`Import runs (${jobs.length})`, () => executeRuns(ctx, jobs, importHooks(ctx, plan, byBlob)));

  const artifacts: ArtifactReport[] = refused.flatMap((r) =>
    expected(byBlob.get(r.blob), r.name).map((a): ArtifactReport => ({ ...a, result: 'failed', reason: r.error! })),
  );
  await ctx.log.group('Verify', async () => {
    const toVerify: ArtifactReport[] = [];
    for (const o of outcomes) {
      const r = afterImport(ctx, byBlob.get(o.job.blob), o);
      artifacts.push(...r.done);
      toVerify.push(...r.toVerify);
    }
    artifacts.push(...(await verifyImported(ctx, plan, toVerify)));
    const verified = artifacts.filter((a) => a.result === 'verified').length;
    if (settings.verify) ctx.log.info(`${verified} of ${artifacts.length} artifacts verified by digest in ${plan.registry.loginServer}`);
  });

  const runReports = [...refused, ...outcomes.map((o) => o.report)];
  return {
    artifacts,
    runs: runReports,
    blobs: blobs.map((b) => ({ name: b.blob })),
    failures: continueOnErrors(settings, 'import') ? [] : [...failuresOf(artifacts), ...unnamedFailures(runReports, byBlob)],
    ...(interrupted ? { interrupted } : {}),
  };
}
