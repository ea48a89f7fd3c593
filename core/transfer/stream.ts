/**
 * The streaming transfer (docs/interface.md#how-a-transfer-flows): each batch is a small pipeline — export run, its blob
 * checked, copy (when the containers differ), import run, verify — and each stage starts as soon as the batch's previous
 * stage ended and a slot is free: export runs hold slots of the source registry, import runs of the target (slots.ts),
 * copies a slot of their own. Without ContinueOnErrors on the side where a failure happened, no new stage starts after
 * it; stages in flight end and are reported. A cancel or time-out stops every stage where it is.
 */
import { sameUri } from '../domain/urls';
import { errorMessage } from '../errors';
import { continueOnErrors, failuresOf, type Interruption, interruption, oneLine, type OpContext, stopped } from '../operation';
import type { ArtifactReport, BlobReport, RunReport, Stage, StageTiming } from '../report';
import type { TransferOpSettings } from '../settings';
import { copyBlob } from './copy';
import { afterExport, type ExportPlan, exportJob } from './export';
import { afterImport, type ImportBlob, importHooks, importJob, type ImportPlan, TRIGGER_RUN, unnamedFailures, verifyImported } from './import';
import { type Batch, importRunName } from './plan';
import { runRunner } from './runs';
import { Slots } from './slots';

/** Where one batch got to. */
export interface BatchState {
  readonly batch: Batch;
  /** Its artifacts' reports as of its last stage. */
  artifacts: readonly ArtifactReport[];
  exportRun?: RunReport;
  importRun?: RunReport;
  /** The export blob's report, with the copy's over it. */
  blob?: BlobReport;
  /** Failures ContinueOnErrors does not cover, by stage. */
  readonly failures: { export: string[]; copy: string[]; import: string[] };
}

export interface StreamResult {
  readonly states: readonly BatchState[];
  readonly timeline: readonly StageTiming[];
  readonly interrupted?: Interruption;
}

export interface StreamPlan {
  readonly exports: ExportPlan;
  readonly imports: ImportPlan;
  readonly from: string;
  readonly to: string;
}

const rowsOf = (b: Batch, result: ArtifactReport['result'], reason?: string): ArtifactReport[] =>
  b.artifacts.map((a) => ({
    artifact: a.ref,
    sourceDigest: a.sourceDigest,
    ...(a.referrer !== undefined ? { referrer: a.referrer } : {}),
    batch: b.index,
    exportRun: b.exportRun,
    blob: b.blob,
    result,
    ...(reason !== undefined ? { reason } : {}),
  }));

/** Runs every batch's stages, each as soon as it can start. Never throws for a batch: each ends in its state. */
export async function streamBatches(ctx: OpContext<TransferOpSettings>, plan: StreamPlan): Promise<StreamResult> {
  const { settings } = ctx;
  const { exports, imports, from, to } = plan;
  const tolerate = { export: continueOnErrors(settings, 'export'), import: continueOnErrors(settings, 'import') };
  const n = exports.batches.length;
  const perRegistry = new Map<string, number>();
  for (const reg of [settings.source, settings.target]) perRegistry.set(reg.resourceId.toLowerCase(), (perRegistry.get(reg.resourceId.toLowerCase()) ?? 0) + n);
  const runner = runRunner(ctx, 2 * n, perRegistry);
  const slots = new Slots(settings.maxParallelRuns);
  const byBlob = new Map<string, ImportBlob>();
  const hooks = importHooks(ctx, imports, byBlob);
  const timeline: StageTiming[] = [];
  let halted: string | undefined;
  let copyStop: Interruption | undefined;

  const iso = (t: number): string => new Date(t).toISOString();
  const stage = async <T>(b: Batch, name: Stage, fn: () => Promise<T>): Promise<T> => {
    const start = ctx.clock.now();
    ctx.log.info(`batch ${b.index} (${b.blob}): ${name} starts`);
    try {
      return await fn();
    } finally {
      timeline.push({ batch: b.index, stage: name, startTime: iso(start), finishTime: iso(ctx.clock.now()) });
    }
  };
  /** A new stage may start: nothing failed without ContinueOnErrors, and nothing stopped the operation. */
  const open = (): boolean => halted === undefined && runner.interrupted() === undefined && copyStop === undefined && stopped(ctx) === undefined;
  const fail = (st: BatchState, side: keyof BatchState['failures'], lines: readonly string[]): void => {
    if (lines.length === 0) return;
    st.failures[side].push(...lines);
    if (halted !== undefined) return;
    halted = `batch ${st.batch.index} failed`;
    ctx.log.info(`${halted} (${lines[0]}): no new stage starts; the stages in flight finish`);
  };

  /**
   * Holds one of `registry`'s slots for `fn`. An error no stage turned into a report stops new stages before the slot is
   * free again (guarded() below reports it).
   */
  const held = <T>(registry: string, b: Batch, fn: () => Promise<T>): Promise<T> =>
    slots.use(registry, b.index, async () => {
      try {
        return await fn();
      } catch (e) {
        const why = interruption(e, ctx.signal);
        if (why) copyStop ??= why;
        else halted ??= `batch ${b.index} failed`;
        throw e;
      }
    });

  const flow = async (st: BatchState): Promise<void> => {
    const b = st.batch;
    // After a cancel or time-out the runner reports the export as not started; after a failure it is left out. The
    // outcome is judged before the slot is given up, so that no stage starts on it after a failure.
    const done = await held(settings.source.resourceId, b, async () => {
      if (halted !== undefined) return undefined;
      const job = exportJob(ctx, exports, b);
      // Stopped: the runner reports it not started, and it has no place in the timeline.
      const ex = open() ? await stage(b, 'export', () => runner.run(job, exports.hooks)) : await runner.run(job, exports.hooks);
      st.exportRun = ex.report;
      const after = await afterExport(ctx, exports, b, ex, runner.interrupted() !== undefined);
      st.artifacts = after.artifacts;
      if (after.blob) st.blob = after.blob;
      if (!tolerate.export) fail(st, 'export', failuresOf(after.artifacts));
      return after;
    });
    if (!done) {
      st.artifacts = rowsOf(b, 'pending', `not started: ${halted ?? 'the operation stopped first'}`);
      return;
    }
    const exported = done.exported;
    /** A batch exported whose import a cancel or time-out kept from starting: its import run, reported not started. */
    const stoppedBefore = (): void => {
      const why = runner.interrupted() ?? copyStop ?? stopped(ctx);
      if (!why || st.importRun) return;
      st.importRun = {
        name: imports.trigger ? TRIGGER_RUN : importRunName(b.blob),
        pipeline: imports.pipelineName,
        kind: 'import',
        status: why.reason === 'timeout' ? 'timed-out' : 'cancelled',
        blob: b.blob,
        artifacts: b.artifacts.map((a) => a.ref),
        error: 'not started: the operation stopped first',
      };
    };
    if (!exported) return;
    if (!open()) return stoppedBefore();

    if (sameUri(from, to)) st.blob = { ...st.blob, name: b.blob, copied: false };
    else {
      const copied = await held('copy', b, async () => {
        if (!open()) return undefined;
        const copy = await stage(b, 'copy', () => copyBlob(ctx, from, to, b.blob));
        st.blob = { ...st.blob, ...copy.report };
        if (copy.report.error === undefined) return true;
        copyStop ??= copy.interrupted;
        st.artifacts = exported.artifacts.map((a): ArtifactReport =>
          copy.interrupted ? { ...a, result: 'pending' } : { ...a, result: 'failed', reason: `copy of blob '${b.blob}' failed: ${copy.report.error}` },
        );
        if (!tolerate.import && !copy.interrupted) fail(st, 'copy', failuresOf(st.artifacts));
        return false;
      });
      if (copied === undefined) return stoppedBefore();
      if (!copied) return;
    }

    const ib: ImportBlob = {
      blob: b.blob,
      artifacts: exported.artifacts,
      ...(exported.catalogDigest !== undefined ? { catalogDigest: exported.catalogDigest } : {}),
    };
    byBlob.set(b.blob, ib);
    const im = await held(settings.target.resourceId, b, async () => {
      if (!open()) return undefined;
      const job = await importJob(ctx, imports, ib);
      if ('status' in job) {
        st.importRun = job;
        st.artifacts = exported.artifacts.map((a): ArtifactReport => ({ ...a, importRun: job.name, result: 'failed', reason: job.error! }));
        if (!tolerate.import) fail(st, 'import', failuresOf(st.artifacts));
        return undefined;
      }
      const outcome = await stage(b, 'import', () => runner.run(job, hooks));
      st.importRun = outcome.report;
      const r = afterImport(ctx, ib, outcome);
      if (!tolerate.import) fail(st, 'import', [...failuresOf(r.done), ...unnamedFailures([outcome.report], byBlob)]);
      return { outcome, r };
    });
    if (!im) return stoppedBefore();
    const { r } = im;
    // After a cancel or time-out nothing more is asked of the registry: a run that succeeded stays unverified.
    const checked =
      r.toVerify.length === 0
        ? []
        : runner.interrupted() !== undefined
          ? r.toVerify.map((a): ArtifactReport => ({ ...a, result: 'imported' }))
          : await stage(b, 'verify', () => verifyImported(ctx, imports, r.toVerify));
    st.artifacts = [...r.done, ...checked];
    if (!tolerate.import) fail(st, 'import', failuresOf(checked));
  };
  const states: BatchState[] = exports.batches.map((batch) => ({
    batch,
    artifacts: rowsOf(batch, 'pending'),
    failures: { export: [], copy: [], import: [] },
  }));
  /** An error no stage turned into a report (a blob or registry call that failed) ends its batch, not the others. */
  const guarded = async (st: BatchState): Promise<void> => {
    try {
      await flow(st);
    } catch (e) {
      const why = interruption(e, ctx.signal);
      if (why) {
        copyStop ??= why;
        return;
      }
      const reason = oneLine(errorMessage(e));
      st.artifacts = st.artifacts.map((a): ArtifactReport => (a.result === 'failed' ? a : { ...a, result: 'failed', reason }));
      const line = `batch ${st.batch.index} (blob '${st.batch.blob}') failed: ${reason}`;
      st.failures.import.push(line);
      ctx.log.info(`${line}: no new stage starts; the stages in flight finish`);
    }
  };
  await ctx.log.group(`Transfer ${states.length} batch${states.length === 1 ? '' : 'es'}: export, copy, import, verify, each as soon as it can`, () =>
    Promise.all(states.map(guarded)),
  );
  const interrupted = runner.interrupted() ?? copyStop;
  return { states, timeline, ...(interrupted ? { interrupted } : {}) };
}
