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
import { executeRuns, type RunJob, triggeredFor } from './runs';

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

/** Import: ensure the pipeline, run (or wait for the source trigger's runs), then verify every artifact by digest. */
export async function runImport(ctx: OpContext<ImportSettings | TransferOpSettings>, given?: readonly ImportBlob[]): Promise<OperationResult> {
  const { settings, services } = ctx;
  const { target } = settings;
  const info = await services.arm.getRegistry(target);
  const registry = services.registries.forLoginServer(info.loginServer);
  const pipeline = await ensurePipeline(ctx, target, 'import', { write: !settings.dryRun });
  const container = pipeline.storageUri;
  const trigger = settings.sourceTrigger;

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
  const job = (b: ImportBlob): RunJob => ({
    name: trigger ? TRIGGER_RUN : importRunName(b.blob),
    kind: 'import',
    registry: target,
    pipelineId: pipeline.id,
    pipelineName: pipeline.name,
    blob: b.blob,
    artifacts: (b.artifacts ?? []).map((a) => a.artifact),
    ...(b.catalogDigest !== undefined ? { catalogDigest: b.catalogDigest } : {}),
  });
  const expected = (blob: string, run: string): ArtifactReport[] => (byBlob.get(blob)?.artifacts ?? []).map((a) => ({ ...a, blob, importRun: run }));

  if (settings.dryRun) {
    const jobs = blobs.map(job);
    return {
      artifacts: jobs.flatMap((j) => expected(j.blob, j.name).map((a): ArtifactReport => ({ ...a, result: 'planned' }))),
      runs: jobs.map((j) => ({ name: j.name, pipeline: j.pipelineName, kind: 'import', status: 'planned', blob: j.blob, artifacts: j.artifacts })),
      blobs: blobs.map((b) => ({ name: b.blob })),
      failures: [],
    };
  }

  const jobs: RunJob[] = [];
  const refused: RunReport[] = [];
  let runs: Promise<PipelineRunResource[]> | undefined;
  for (const b of blobs) {
    const j = job(b);
    if (!trigger) {
      jobs.push(j);
      continue;
    }
    const props = container === undefined ? undefined : await services.blobs.getBlob(container, b.blob);
    const problem = props ? triggerProblem(props, ctx.clock.now()) : container !== undefined ? `is not in the import container ${container}` : undefined;
    const after = props?.lastModified ?? new Date(0).toISOString();
    if (problem !== undefined) {
      // It may have been imported already: a re-run after DeleteSourceBlobOnSuccess removed it, or an old blob.
      runs ??= services.arm.listRuns(target);
      const earlier = (await runs).some((r) => triggeredFor(r, pipeline.id, b.blob, after));
      if (!earlier) {
        refused.push({
          name: j.name,
          pipeline: j.pipelineName,
          kind: 'import',
          status: 'failed',
          blob: b.blob,
          artifacts: j.artifacts,
          error: `blob '${b.blob}' ${problem}: the source trigger will not import it`,
        });
        continue;
      }
    }
    jobs.push({ ...j, triggeredAfter: after });
  }

  const { outcomes, interrupted } = await ctx.log.group(`Import runs (${jobs.length})`, () =>
    executeRuns(ctx, jobs, {
      // A run record deleted after the import (cleanup, a restarted service): the target's digests are the evidence.
      alreadyDone: async (j, existing) => (existing === undefined ? inTarget(registry, expected(j.blob, j.name)) : undefined),
      ...(container === undefined
        ? {}
        : {
            beforeCreate: async (j) =>
              (await services.blobs.getBlob(container, j.blob))
                ? undefined
                : `blob '${j.blob}' is not in the import container ${container}: copy it there first, or check 'blobs'`,
            // A blob replaced after the run started holds something the run did not import; a blob that is gone was taken by DeleteSourceBlobOnSuccess.
            reusable: async (j, run) => {
              const blob = await services.blobs.getBlob(container, j.blob);
              return !blob?.lastModified || run.startTime === undefined || Date.parse(blob.lastModified) <= Date.parse(run.startTime);
            },
          }),
    }),
  );

  const artifacts: ArtifactReport[] = refused.flatMap((r) =>
    expected(r.blob, r.name).map((a): ArtifactReport => ({ ...a, result: 'failed', reason: r.error! })),
  );
  await ctx.log.group('Verify', async () => {
    const toVerify: ArtifactReport[] = [];
    for (const { job: j, report, run } of outcomes) {
      const known = expected(j.blob, report.name);
      if (report.status === 'failed')
        artifacts.push(...known.map((a): ArtifactReport => ({ ...a, result: 'failed', reason: report.error ?? 'the run failed' })));
      if (report.status !== 'succeeded' && report.status !== 'reused') {
        if (report.status !== 'failed') artifacts.push(...known.map((a): ArtifactReport => ({ ...a, result: 'pending' })));
        continue;
      }
      const imported = run?.importedArtifacts ?? [];
      const list =
        known.length > 0 ? known : imported.map((artifact): ArtifactReport => ({ artifact, blob: j.blob, importRun: report.name, result: 'imported' }));
      if (list.length === 0) warn(ctx, `import run '${report.name}' reported no imported artifacts for blob '${j.blob}': nothing to verify`);
      if (settings.verify) toVerify.push(...list);
      else {
        // Without the digest check, the run's own list is the evidence.
        artifacts.push(
          ...list.map((a): ArtifactReport =>
            imported.length > 0 && !imported.includes(a.artifact)
              ? { ...a, result: 'failed', reason: `not in the importedArtifacts of run '${report.name}'` }
              : { ...a, result: 'imported' },
          ),
        );
      }
    }
    artifacts.push(...(await checkListed(registry, await verifyAll(ctx, registry, toVerify))));
    const verified = artifacts.filter((a) => a.result === 'verified').length;
    if (settings.verify) ctx.log.info(`${verified} of ${artifacts.length} artifacts verified by digest in ${registry.loginServer}`);
  });

  const runReports = [...refused, ...outcomes.map((o) => o.report)];
  const tolerate = continueOnErrors(settings, 'import');
  // A failed run whose artifacts are unknown has no artifact to carry the failure: name the run.
  const unnamed = runReports
    .filter((r) => r.status === 'failed' && expected(r.blob, r.name).length === 0)
    .map((r) => `import of blob '${r.blob}' failed: ${r.error ?? 'unknown reason'}`);
  return {
    artifacts,
    runs: runReports,
    blobs: blobs.map((b) => ({ name: b.blob })),
    failures: tolerate ? [] : [...failuresOf(artifacts), ...unnamed],
    ...(interrupted ? { interrupted } : {}),
  };
}
