import { CancelledError, errorMessage } from './errors';
import type { Host } from './host';
import { usesInput } from './inputs';
import type { PipelineKind, Services } from './ports';
import { runChecks } from './lifecycle/checks';
import { runCleanup } from './lifecycle/cleanup';
import { runSetup } from './lifecycle/setup';
import { type ChangeItem, type CheckItem, nestReferrers, type RunReport, type TransferReport, type UsageReport } from './report';
import { registriesOf, type TransferSettings } from './settings';
import { interruption, oneLine, type OpContext, type OperationResult, timedOutMessage, warn } from './operation';
import { runCopy } from './transfer/copy';
import { runExport } from './transfer/export';
import { runImport } from './transfer/import';
import { defaultPreflight, type Preflight } from './lifecycle/preflight';
import { runTransfer } from './transfer/transfer';

export interface RunDeps {
  /** The checks run first unless `preflight: false`; failing items stop the operation before any change. */
  readonly preflight?: Preflight;
}

/** The operation the settings are for, with its own settings type. */
function dispatch(ctx: OpContext): Promise<OperationResult> {
  const { settings } = ctx;
  switch (settings.operation) {
    case 'export':
      return runExport({ ...ctx, settings });
    case 'import':
      return runImport({ ...ctx, settings });
    case 'copy':
      return runCopy({ ...ctx, settings }, { blobs: settings.blobs });
    case 'transfer':
      return runTransfer({ ...ctx, settings });
    case 'setup':
      return runSetup({ ...ctx, settings });
    case 'check':
      return runCheck(ctx);
    case 'cleanup':
      return runCleanup({ ...ctx, settings });
  }
}

/** One line naming every failed item with its fix. */
function failedChecks(prefix: string, checks: readonly CheckItem[]): string | undefined {
  const failed = checks.filter((c) => c.status === 'fail');
  if (failed.length === 0) return undefined;
  return `${prefix}: ${failed.map((c) => `${c.title}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`).join('; ')}`;
}

/** check: every item that applies, probes included; failing items fail the operation. */
async function runCheck(ctx: OpContext): Promise<OperationResult> {
  const { items, changes } = await ctx.log.group('Check', () => runChecks(ctx, 'check'));
  for (const c of items) ctx.log.info(`${c.status}: ${c.title} (${c.detail})${c.fix && c.status !== 'pass' ? ` fix: ${c.fix}` : ''}`);
  for (const c of items.filter((x) => x.status === 'warn')) warn(ctx, `${c.title}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`);
  const failed = failedChecks(`${items.filter((c) => c.status === 'fail').length} of ${items.length} checks failed`, items);
  return { artifacts: [], runs: [], blobs: [], failures: failed ? [failed] : [], checks: items, changes };
}

/** Registry usage (storage, counts), best effort: usage lags and may be unreadable with data-plane-only roles. */
async function readUsage(ctx: OpContext, when: 'before' | 'after', into: UsageReport[]): Promise<void> {
  for (const { reg } of registriesOf(ctx.settings)) {
    try {
      const values = await ctx.services.arm.listUsages(reg);
      const i = into.findIndex((u) => u.registry === reg.name);
      const known = into[i] ?? { registry: reg.name };
      const next: UsageReport = when === 'before' ? { ...known, before: values } : { ...known, after: values };
      if (i < 0) into.push(next);
      else into[i] = next;
    } catch (e) {
      ctx.log.debug(`usage of registry '${reg.name}' not read: ${errorMessage(e)}`);
    }
  }
}

/** What was in flight when the run stopped: the deadline's snapshot, carried by the signal's reason. */
function inFlightAt(signal: AbortSignal, e?: unknown): readonly string[] {
  const r: unknown = signal.reason;
  if (r instanceof CancelledError && r.inFlight.length > 0) return r.inFlight;
  return e instanceof CancelledError ? e.inFlight : [];
}

/**
 * The one line of a cancel or time-out: what was in flight, what is still running on the service and what did not
 * start, by batch (an export batch whose import never started is named too: in a transfer its import is the part still
 * to do), and that a re-run resumes.
 */
function interruptedError(settings: TransferSettings, result: OperationResult, reason: 'cancelled' | 'timeout', inFlight: readonly string[]): string {
  const batchOf = new Map(result.artifacts.filter((a) => a.blob !== undefined && a.batch !== undefined).map((a) => [a.blob!, a.batch!]));
  const order = (blob: string): number => batchOf.get(blob) ?? Number.MAX_SAFE_INTEGER;
  const label = (blob: string): string => (batchOf.has(blob) ? `batch ${batchOf.get(blob)}` : `blob ${blob}`);
  const stoppedRun = (r: RunReport): boolean => r.status === 'timed-out' || r.status === 'cancelled';
  const notStartedRun = (r: RunReport): boolean => stoppedRun(r) && (r.error?.startsWith('not started') ?? false);
  const running = result.runs.filter((r) => r.status === 'running').map((r) => `${r.kind} run ${r.name} (${label(r.blob)})`);
  const notStarted = (kind: PipelineKind, blobs: readonly string[]): string[] =>
    blobs.length === 0
      ? []
      : [
          `${kind} of ${[...new Set(blobs)]
            .sort((a, b) => order(a) - order(b))
            .map(label)
            .join(', ')}`,
        ];
  const exportBlobs = result.runs.filter((r) => r.kind === 'export').map((r) => r.blob);
  const imported = new Set(result.runs.filter((r) => r.kind === 'import' && !notStartedRun(r)).map((r) => r.blob));
  const pending = [
    ...notStarted(
      'export',
      result.runs.filter((r) => r.kind === 'export' && notStartedRun(r)).map((r) => r.blob),
    ),
    ...notStarted('import', [
      ...result.runs.filter((r) => r.kind === 'import' && notStartedRun(r)).map((r) => r.blob),
      // transfer: an exported batch (or one whose export did not start) has its import still to do.
      ...(settings.operation === 'transfer' ? exportBlobs.filter((b) => !imported.has(b)) : []),
    ]),
  ];
  const unexplained = result.runs.find((r) => stoppedRun(r) && r.error !== undefined && !notStartedRun(r));
  const head = reason === 'timeout' ? timedOutMessage(settings.timeoutMinutes) : 'the operation was cancelled';
  return [
    head,
    ...(inFlight.length > 0 ? [`in flight: ${inFlight.slice(0, 5).join(', ')}${inFlight.length > 5 ? ` and ${inFlight.length - 5} more` : ''}`] : []),
    ...(running.length > 0 ? [`still running on the service: ${running.join(', ')}`] : []),
    ...(pending.length > 0 ? [`not started: ${pending.join(' and ')}`] : []),
    // A run stopped before it was seen says why; unless that is the time-out or cancel this line begins with.
    ...(unexplained && unexplained.error !== head ? [unexplained.error!] : []),
    'a re-run with the same inputs resumes',
  ].join('; ');
}

/**
 * Runs one operation and returns its report. Never throws for service or input errors: they end in a report
 * with outcome 'failed' and a one-line `error` (secrets redacted).
 */
export async function runOperation(settings: TransferSettings, host: Host, services: Services, deps: RunDeps = {}): Promise<TransferReport> {
  const { clock, signal, deadline, inFlight } = host.budget;
  const start = clock.now();
  const ctx: OpContext = { settings, services, log: host.logger, clock, signal, deadline, inFlight, warnings: [], changes: [] };
  let checks: readonly CheckItem[] = [];
  let changes: readonly ChangeItem[] = [];
  const usage: UsageReport[] = [];
  let result: OperationResult = { artifacts: [], runs: [], blobs: [], failures: [] };
  const report = (outcome: TransferReport['outcome'], error?: string): TransferReport => {
    if (error !== undefined) host.logger.info(`${settings.operation} ${outcome}: ${oneLine(error)}`);
    return {
      operation: settings.operation,
      dryRun: settings.dryRun,
      outcome,
      startTime: new Date(start).toISOString(),
      finishTime: new Date(clock.now()).toISOString(),
      artifacts: nestReferrers(result.artifacts),
      runs: result.runs,
      blobs: result.blobs,
      checks,
      // The stages' pipeline changes first: they happen before setup's, check's or cleanup's own.
      changes: [...ctx.changes, ...changes],
      usage,
      ...(result.timeline !== undefined && result.timeline.length > 0 ? { timeline: result.timeline } : {}),
      warnings: ctx.warnings,
      ...(error !== undefined ? { error: oneLine(error) } : {}),
    };
  };

  try {
    // The operations that move images run the check items first (those that read the preflight input).
    if (settings.preflight && usesInput(settings.operation, 'preflight')) {
      checks = await host.logger.group('Preflight', async () => {
        const items = await (deps.preflight ?? defaultPreflight)(settings, services, ctx);
        for (const c of items) host.logger.info(`${c.status}: ${c.title} (${c.detail})`);
        return items;
      });
      for (const c of checks.filter((c) => c.status === 'warn')) warn(ctx, `${c.title}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`);
      const failed = failedChecks('preflight failed', checks);
      if (failed !== undefined) return report('failed', failed);
    }
    await readUsage(ctx, 'before', usage);
    result = await dispatch(ctx);
    if (result.checks) checks = result.checks;
    if (result.changes) changes = result.changes;
    if (!settings.dryRun && settings.operation !== 'check') await readUsage(ctx, 'after', usage);
  } catch (e) {
    const why = interruption(e, signal);
    if (why) return report(why.reason === 'timeout' ? 'timed-out' : 'cancelled', interruptedError(settings, result, why.reason, inFlightAt(signal, e)));
    return report('failed', errorMessage(e));
  }

  if (result.interrupted)
    return report(
      result.interrupted.reason === 'timeout' ? 'timed-out' : 'cancelled',
      interruptedError(settings, result, result.interrupted.reason, inFlightAt(signal)),
    );
  const [first, ...more] = result.failures;
  if (first !== undefined) return report('failed', `${first}${more.length > 0 ? ` (and ${more.length} more)` : ''}`);
  const anyFailed =
    result.artifacts.some((a) => a.result === 'failed') || result.runs.some((r) => r.status === 'failed') || result.blobs.some((b) => b.error !== undefined);
  return report(anyFailed ? 'partial' : 'succeeded');
}
