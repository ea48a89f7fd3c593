/**
 * Runs pipeline runs, at most `max-parallel-runs` at once on each registry (slots.ts), each one idempotent: a run that already
 * succeeded with the same request is reused, one in progress is waited for, and only a failed or different
 * one is re-run (PUT with a new forceUpdateTag: a PUT with identical properties does nothing otherwise,
 * https://learn.microsoft.com/azure/container-registry/container-registry-transfer-troubleshooting).
 */
import { errorMessage, redact } from '../errors';
import type { PipelineKind, PipelineRunResource, PipelineRunSpec } from '../ports';
import type { RunReport, RunStatus } from '../report';
import { pollUntil, retry } from '../retry';
import type { RegistryRef } from '../settings';
import { type Interruption, interruption, oneLine, type OpContext, stopped, transient } from '../operation';
import { sameUri } from '../domain/urls';
import { Slots } from './slots';
import { isTerminal, RunWatcher } from './watch';

export interface RunJob {
  /** The deterministic run name; for a run the source trigger starts, the name is the service's and found by blob. */
  readonly name: string;
  readonly kind: PipelineKind;
  /** The registry the run lives on: source for export, target for import. */
  readonly registry: RegistryRef;
  readonly pipelineId: string;
  readonly pipelineName: string;
  readonly blob: string;
  /** Export: the request's artifacts. Import: the artifacts expected in the blob, when known. */
  readonly artifacts: readonly string[];
  readonly catalogDigest?: string;
  /** Wait for the run the import pipeline's source trigger starts for `blob` at or after this time, instead of creating one. */
  readonly triggeredAfter?: string;
}

export interface RunHooks {
  /** Whether a Succeeded run with the same request still counts (e.g. its blob is still there); default yes. */
  reusable?(job: RunJob, run: PipelineRunResource): Promise<boolean>;
  /**
   * Checked before a run is created (none exists, or the one there cannot be reused): evidence that its work is already
   * done, e.g. its blob carries this batch's stamp after the run records were deleted. Then no run is created and
   * the run reports 'reused'.
   */
  alreadyDone?(job: RunJob, existing: PipelineRunResource | undefined): Promise<string | undefined>;
  /** Checked before a run is created; a reason fails the run without creating it. */
  beforeCreate?(job: RunJob): Promise<string | undefined>;
}

export interface RunOutcome {
  readonly job: RunJob;
  readonly report: RunReport;
  /** The last state seen. */
  readonly run?: PipelineRunResource;
}

export interface RunsResult {
  readonly outcomes: readonly RunOutcome[];
  readonly interrupted?: Interruption;
}

export { isTerminal };

// The source trigger starts a run "within 15 minutes" of a blob's arrival.
const TRIGGER_POLL = { intervalMs: 15_000, maxIntervalMs: 60_000 };
const GET_RETRY = { attempts: 4, minDelayMs: 2_000, maxDelayMs: 30_000 };

export const TRIGGER_HINT =
  'the service starts one within 15 minutes of a blob landing in the import container, but only if the blob was modified in the last 60 days, ' +
  'has a Content-MD5 and the metadata category=acr-transfer-blob, the SAS allows List, and the source trigger is enabled';

/** A run the source trigger started for `blob` on that pipeline at or after `after` (the blob's Last-Modified). */
export function triggeredFor(run: PipelineRunResource, pipelineId: string, blob: string, after: string): boolean {
  return (
    sameUri(run.pipelineResourceId, pipelineId) && run.blobName === blob && run.triggeredAt !== undefined && Date.parse(run.triggeredAt) >= Date.parse(after)
  );
}

function sameRequest(job: RunJob, run: PipelineRunResource): boolean {
  if (!sameUri(run.pipelineResourceId, job.pipelineId) || run.blobName !== job.blob) return false;
  if (job.kind === 'import') return true;
  const a = [...(run.artifacts ?? [])].sort();
  const b = [...job.artifacts].sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function report(job: RunJob, status: RunStatus, run?: PipelineRunResource, error?: string): RunReport {
  const artifacts = job.kind === 'import' && job.artifacts.length === 0 ? (run?.importedArtifacts ?? []) : job.artifacts;
  return {
    name: run?.name ?? job.name,
    pipeline: job.pipelineName,
    kind: job.kind,
    status,
    blob: job.blob,
    artifacts,
    ...(run?.startTime !== undefined ? { startTime: run.startTime } : {}),
    ...(run?.finishTime !== undefined ? { finishTime: run.finishTime } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

/** Runs one job at a time to its end, idempotently; a transfer's stages share one, with one watcher. */
export interface RunRunner {
  /** Never throws: the run ends in its report (after a cancel or time-out, 'running', or not started). */
  run(job: RunJob, hooks?: RunHooks): Promise<RunOutcome>;
  /** Set once a cancel or time-out stopped a run. */
  interrupted(): Interruption | undefined;
}

/**
 * A runner for `total` runs (the progress counts them), waiting with `watcher`; `perRegistry` counts the runs it will
 * look up on each registry (by resource id), so that one list can stand for those GETs.
 */
export function runRunner(
  ctx: OpContext,
  total: number,
  perRegistry: ReadonlyMap<string, number> = new Map(),
  watcher = new RunWatcher(ctx.services.arm, ctx),
): RunRunner {
  const { arm } = ctx.services;
  const percent = new Map<RunJob, number>();
  const seen = new Map<RunJob, PipelineRunResource>();
  const lastLine = new Map<RunJob, string>();
  let stop: Interruption | undefined;

  const tick = (job: RunJob, run: PipelineRunResource | undefined): void => {
    if (!run) return;
    seen.set(job, run);
    const done = isTerminal(run.provisioningState);
    percent.set(job, done ? 100 : Math.max(0, Math.min(99, run.percentage ?? 0)));
    const line = `${job.kind} run '${run.name}' (blob ${job.blob}): ${run.provisioningState ?? 'unknown'}${run.status ? `, ${run.status}` : ''}${run.percentage !== undefined ? ` ${run.percentage}%` : ''}`;
    if (lastLine.get(job) === line) return;
    lastLine.set(job, line);
    ctx.log.info(line);
    const overall = [...percent.values()].reduce((s, p) => s + p, 0) / Math.max(total, percent.size);
    const finished = [...percent.values()].filter((p) => p === 100).length;
    ctx.log.progress(Math.round(overall), `${finished} of ${Math.max(total, percent.size)} runs finished`);
  };

  const wait = (job: RunJob, name: string): Promise<PipelineRunResource | undefined> => watcher.wait(job.registry, name, (r) => tick(job, r));

  const ensure = async (job: RunJob, hooks: RunHooks): Promise<RunOutcome> => {
    const existing = await watcher.find(job.registry, job.name, perRegistry.get(job.registry.resourceId.toLowerCase()) ?? 1);
    let forceUpdateTag: string | undefined;
    if (existing) {
      tick(job, existing);
      const same = sameRequest(job, existing);
      if (same && existing.provisioningState === 'Succeeded' && ((await hooks.reusable?.(job, existing)) ?? true)) {
        ctx.log.info(`${job.kind} run '${job.name}' already succeeded for blob ${job.blob}: reusing it`);
        return { job, report: report(job, 'reused', existing), run: existing };
      }
      if (same && !isTerminal(existing.provisioningState)) {
        ctx.log.info(`${job.kind} run '${job.name}' is already in progress: waiting for it`);
        return finished(job, await wait(job, job.name));
      }
      forceUpdateTag = newTag(ctx.clock.now(), existing.forceUpdateTag);
    }
    const done = await hooks.alreadyDone?.(job, existing);
    if (done !== undefined) {
      ctx.log.info(
        `${job.kind} run '${job.name}' ${existing ? `exists (${existing.provisioningState ?? 'unknown'})` : 'has no record'}, but ${done}: reusing that`,
      );
      return { job, report: report(job, 'reused') };
    }
    if (existing) {
      const same = sameRequest(job, existing);
      ctx.log.info(
        `${job.kind} run '${job.name}' exists (${existing.provisioningState ?? 'unknown'}${same ? '' : ', other request'}): running it again with forceUpdateTag ${forceUpdateTag}`,
      );
    }
    const refusal = await hooks.beforeCreate?.(job);
    if (refusal !== undefined) return { job, report: report(job, 'failed', undefined, refusal) };
    const spec: PipelineRunSpec = {
      pipelineResourceId: job.pipelineId,
      kind: job.kind,
      blobName: job.blob,
      ...(job.kind === 'export' ? { artifacts: job.artifacts } : {}),
      ...(job.catalogDigest !== undefined ? { catalogDigest: job.catalogDigest } : {}),
      ...(forceUpdateTag !== undefined ? { forceUpdateTag } : {}),
    };
    tick(job, await arm.putRun(job.registry, job.name, spec));
    return finished(job, await wait(job, job.name));
  };

  const triggered = async (job: RunJob): Promise<RunOutcome> => {
    const mine = (r: PipelineRunResource): boolean => triggeredFor(r, job.pipelineId, job.blob, job.triggeredAfter!);
    const run = await pollUntil(
      async () => ({
        value: (await retry(() => arm.listRuns(job.registry), { ...GET_RETRY, retryable: transient, clock: ctx.clock, signal: ctx.signal }))
          .filter(mine)
          .sort(latestFirst)[0],
      }),
      {
        ...TRIGGER_POLL,
        deadline: ctx.deadline,
        clock: ctx.clock,
        signal: ctx.signal,
        done: (r) => r !== undefined,
        what: `an import run started by the source trigger for blob '${job.blob}' (${TRIGGER_HINT})`,
      },
    );
    tick(job, run);
    if (isTerminal(run!.provisioningState)) return finished(job, run);
    ctx.log.info(`the source trigger started import run '${run!.name}' for blob ${job.blob}: waiting for it`);
    return finished(job, await wait(job, run!.name));
  };

  const run = async (job: RunJob, hooks: RunHooks = {}): Promise<RunOutcome> => {
    stop ??= stopped(ctx);
    if (stop) return { job, report: report(job, stop.reason === 'timeout' ? 'timed-out' : 'cancelled', undefined, 'not started: the operation stopped first') };
    try {
      return await (job.triggeredAfter !== undefined ? triggered(job) : ensure(job, hooks));
    } catch (e) {
      const why = interruption(e, ctx.signal);
      if (!why) return { job, report: report(job, 'failed', seen.get(job), oneLine(errorMessage(e))) };
      stop ??= why;
      const last = seen.get(job);
      // A run the service was still working on keeps running there; one never found (trigger) did not start.
      if (last) return { job, report: report(job, 'running', last), run: last };
      return { job, report: report(job, why.reason === 'timeout' ? 'timed-out' : 'cancelled', undefined, oneLine(why.message)) };
    }
  };
  return { run, interrupted: () => stop };
}

/**
 * Executes the jobs, at most settings.maxParallelRuns in flight on each registry, lower indexes first. Never throws:
 * each run ends in its report.
 */
export async function executeRuns(ctx: OpContext, jobs: readonly RunJob[], hooks: RunHooks = {}): Promise<RunsResult> {
  const perRegistry = new Map<string, number>();
  for (const j of jobs) perRegistry.set(j.registry.resourceId.toLowerCase(), (perRegistry.get(j.registry.resourceId.toLowerCase()) ?? 0) + 1);
  const runner = runRunner(ctx, jobs.length, perRegistry);
  const slots = new Slots(ctx.settings.maxParallelRuns);
  const outcomes = await Promise.all(jobs.map((job, i) => slots.use(job.registry.resourceId, i, () => runner.run(job, hooks))));
  const stop = runner.interrupted();
  return { outcomes, ...(stop ? { interrupted: stop } : {}) };
}

function finished(job: RunJob, run: PipelineRunResource | undefined): RunOutcome {
  if (!run) return { job, report: report(job, 'failed', undefined, `run '${job.name}' disappeared while it was being watched`) };
  if (run.provisioningState === 'Succeeded') return { job, report: report(job, 'succeeded', run), run };
  const error =
    run.errorMessage !== undefined && run.errorMessage !== ''
      ? redact(run.errorMessage)
      : `the run ended with provisioningState ${run.provisioningState ?? 'unknown'} and no pipelineRunErrorMessage`;
  return { job, report: report(job, 'failed', run, error), run };
}

/** ARM's docs use the current time as forceUpdateTag; it only has to differ from the last one. */
function newTag(now: number, previous: string | undefined): string {
  const tag = new Date(now).toISOString();
  return tag === previous ? `${tag}-1` : tag;
}

function latestFirst(a: PipelineRunResource, b: PipelineRunResource): number {
  return Date.parse(b.triggeredAt ?? '') - Date.parse(a.triggeredAt ?? '');
}
