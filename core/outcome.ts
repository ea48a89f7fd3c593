/**
 * What both front-ends say about a finished report: the problems worth an annotation (GitHub) or an issue (ADO),
 * and the step's result. They differ only in how they say it.
 */
import { CancelledError, redact } from './errors';
import type { TransferReport } from './report';
import { printArtifact } from './domain/reference';
import type { TransferSettings } from './settings';

export interface Problem {
  readonly title: string;
  readonly text: string;
}

/** Failed runs, blobs, artifacts, checks and changes, redacted; warnings (not errors) when ContinueOnErrors let the step succeed. */
export function problems(report: TransferReport): { readonly level: 'error' | 'warning'; readonly items: readonly Problem[] } {
  const partial = report.outcome === 'partial';
  const items: Problem[] = [];
  for (const r of report.runs) {
    if (r.status === 'failed' || (r.status === 'timed-out' && !partial)) {
      const what = r.status === 'failed' ? `failed${r.error ? `: ${r.error}` : ''}` : 'did not finish in time';
      items.push({ title: `Pipeline run ${r.name}`, text: `${r.kind} pipeline run '${r.name}' (pipeline '${r.pipeline}', blob '${r.blob}') ${what}` });
    }
  }
  for (const b of report.blobs) if (b.error !== undefined) items.push({ title: `Blob ${b.name}`, text: `blob '${b.name}': ${b.error}` });
  for (const a of report.artifacts) {
    if (a.result === 'failed') items.push({ title: `Artifact ${a.artifact}`, text: `${a.artifact}: ${a.reason ?? 'failed'}` });
    for (const r of a.referrers ?? [])
      if (r.result === 'failed')
        items.push({ title: `Referrer ${r.artifact}`, text: `${r.artifact} (${r.artifactType ?? 'referrer'} of ${a.artifact}): ${r.reason ?? 'failed'}` });
  }
  for (const c of report.checks)
    if (c.status === 'fail') items.push({ title: `Check ${c.id}`, text: `${c.title}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}` });
  for (const c of report.changes)
    if (c.status === 'failed')
      items.push({ title: `${c.kind} ${c.name}`, text: `${c.action} ${c.kind} '${c.name}' (${c.scope}) failed: ${c.error ?? 'unknown error'}` });
  return { level: partial ? 'warning' : 'error', items: items.map((p) => ({ title: p.title, text: redact(p.text) })) };
}

export interface Conclusion {
  /** success: the step succeeds; warning: it succeeds with issues (ContinueOnErrors); failure: it fails. */
  readonly result: 'success' | 'warning' | 'failure';
  readonly message: string;
}

/** The step's result: failed, cancelled and timed-out fail it; partial (ContinueOnErrors) passes with warnings. */
export function conclude(report: TransferReport, failedArtifactsOutput: string): Conclusion {
  const failed = report.artifacts.flatMap((a) => [a, ...(a.referrers ?? [])]).filter((a) => a.result === 'failed').length;
  const op = `acr-transfer ${report.operation}${report.dryRun ? ' (dry run)' : ''}`;
  switch (report.outcome) {
    case 'succeeded':
      return { result: 'success', message: `${op}: succeeded.` };
    case 'partial': {
      // A failed import run whose blob's artifacts are unknown fails no named artifact: count the run then.
      const runs = report.runs.filter((r) => r.status === 'failed').length;
      const what = failed > 0 || runs === 0 ? `${failed} failed artifact(s)` : `${runs} failed run(s)`;
      return { result: 'warning', message: `${op} finished with ${what}, allowed by ContinueOnErrors: see ${failedArtifactsOutput} and the report.` };
    }
    case 'cancelled':
      return { result: 'failure', message: redact(report.error ?? `${op} was cancelled; a re-run with the same inputs resumes.`) };
    case 'timed-out':
      return { result: 'failure', message: redact(report.error ?? `${op} ran out of time (timeout-minutes); see the report for what is still running.`) };
    case 'failed':
      return { result: 'failure', message: redact(report.error ?? `${op} failed${failed ? `: ${failed} artifact(s) failed` : ''}.`) };
  }
}

/** The error of a run stopped by a signal before the operation could say more. */
export function cancelledMessage(sig: NodeJS.Signals | undefined): string {
  return `Cancelled (${sig ?? 'signal'}) before the operation finished; a re-run with the same inputs resumes.`;
}

/** The error of a run its deadline stopped before the operation could say more: what was in flight then. */
export function expiredMessage(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  const inFlight = r instanceof CancelledError ? r.inFlight : [];
  const head = r instanceof CancelledError ? r.message : 'the operation timed out';
  return `${head}${inFlight.length > 0 ? `; in flight: ${inFlight.slice(0, 5).join(', ')}` : ''}; a re-run with the same inputs resumes`;
}

/** A report for when the operation could not return its own: an early error, or the cancellation or time-out deadline. */
export function stoppedReport(
  settings: TransferSettings,
  startTime: Date,
  outcome: 'failed' | 'cancelled' | 'timed-out',
  error: string,
  partial?: Partial<Pick<TransferReport, 'artifacts' | 'runs' | 'blobs'>>,
): TransferReport {
  return {
    operation: settings.operation,
    dryRun: settings.dryRun,
    outcome,
    startTime: startTime.toISOString(),
    finishTime: new Date().toISOString(),
    artifacts:
      partial?.artifacts ??
      settings.artifacts.map((a) => ({ artifact: printArtifact(a), result: 'pending' as const, reason: 'not reported: the operation stopped early' })),
    runs: partial?.runs ?? [],
    blobs: partial?.blobs ?? [],
    checks: [],
    changes: [],
    usage: [],
    warnings: [],
    error: redact(error),
  };
}
