import type { RunBudget } from './budget';
import { AzureRequestError, CancelledError, redact } from './errors';
import type { Logger, Services } from './ports';
import type { ArtifactReport, BlobReport, ChangeItem, CheckItem, RunReport, StageTiming } from './report';
import type { TransferSettings } from './settings';

/** What every stage of an operation shares: settings, ports, and the run's budget (signal, clock, deadline). */
export interface OpContext<S extends TransferSettings = TransferSettings> extends RunBudget {
  readonly settings: S;
  readonly services: Services;
  readonly log: Logger;
  /** Collected for the report; also logged. */
  readonly warnings: string[];
  /** What the stages changed (a pipeline created or updated), collected for the report's changes. */
  readonly changes: ChangeItem[];
}

/** The state found in Azure stops the operation (a pipeline missing or failed, nothing to import…): one line with the fix. */
export class TransferError extends Error {
  override readonly name = 'TransferError';
}

export function warn(ctx: OpContext, message: string): void {
  const text = redact(message);
  if (!ctx.warnings.includes(text)) ctx.warnings.push(text);
  ctx.log.warning(text);
}

/** Set when the operation stopped before the end: time-out or cancel. */
export interface Interruption {
  readonly reason: 'cancelled' | 'timeout';
  readonly message: string;
}

/** What an operation hands back to runOperation, which turns it into the report's outcome. */
export interface OperationResult {
  readonly artifacts: readonly ArtifactReport[];
  readonly runs: readonly RunReport[];
  readonly blobs: readonly BlobReport[];
  readonly interrupted?: Interruption;
  /** Failures ContinueOnErrors does not cover, one line each; any of them fails the operation. */
  readonly failures: readonly string[];
  /** check, and setup's checks of what it made. */
  readonly checks?: readonly CheckItem[];
  /** What setup, check and cleanup changed (or would change); the stages' pipeline changes come through OpContext.changes. */
  readonly changes?: readonly ChangeItem[];
  /** transfer: when each batch's stages ran. */
  readonly timeline?: readonly StageTiming[];
}

/** One line per failed artifact, naming it. */
export function failuresOf(artifacts: readonly ArtifactReport[]): string[] {
  return artifacts.filter((a) => a.result === 'failed').map((a) => `artifact '${a.artifact}' failed: ${a.reason ?? 'unknown reason'}`);
}

/** Whether the pipeline on that side carries ContinueOnErrors, which turns failures into 'partial'. */
export function continueOnErrors(settings: TransferSettings, side: 'export' | 'import'): boolean {
  return side === 'export' ? settings.exportPipeline.options.includes('ContinueOnErrors') : settings.importPipeline.options.includes('ContinueOnErrors');
}

export function oneLine(text: string): string {
  return redact(text)
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .trim();
}

/** A CancelledError, or an abort of the host signal, as an Interruption; anything else undefined. */
export function interruption(e: unknown, signal: AbortSignal): Interruption | undefined {
  if (e instanceof CancelledError) return { reason: e.reason, message: e.message };
  const r: unknown = signal.reason;
  if (signal.aborted) return r instanceof CancelledError ? { reason: r.reason, message: r.message } : { reason: 'cancelled', message: 'cancelled' };
  return undefined;
}

/** The time-out's first words, the same in the report and at the step's hard deadline. */
export function timedOutMessage(timeoutMinutes: number): string {
  return `the operation timed out after ${timeoutMinutes} minutes ('timeout-minutes')`;
}

/** Why nothing new should start: the host cancelled, or the deadline passed (the step aborts the signal with the reason). */
export function stopped(ctx: OpContext): Interruption | undefined {
  const r: unknown = ctx.signal.reason;
  if (ctx.signal.aborted) return r instanceof CancelledError ? { reason: r.reason, message: r.message } : { reason: 'cancelled', message: 'cancelled' };
  if (ctx.clock.now() >= ctx.deadline) return { reason: 'timeout', message: timedOutMessage(ctx.settings.timeoutMinutes) };
  return undefined;
}

/** Throttling and server errors are worth another try; the ports' SDK pipelines already retry, this covers long polls. */
export function transient(e: unknown): { retry: boolean } {
  return { retry: e instanceof AzureRequestError && (e.status === 429 || e.status >= 500) };
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight, keeping the order of `items` in the result.
 * After the first error no new item starts; the error is rethrown once the started ones have settled.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.error;
  return results;
}
