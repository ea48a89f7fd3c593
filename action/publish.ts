/**
 * Renders a TransferReport on GitHub: step outputs, the JSON report file (report-path), the job summary,
 * annotations, and the step's result. The core decides nothing here; it only returns the report.
 */
import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { redact } from '../core/errors';
import { OUTPUTS } from '../core/inputs';
import { renderOutputs, renderSummary } from '../core/render';
import type { TransferReport } from '../core/report';
import type { ArtifactSpec, TransferSettings } from '../core/settings';

/** GitHub shows at most 10 error and 10 warning annotations per step; the rest are in the summary and the report. */
export const MAX_ANNOTATIONS = 10;

export function reportFileName(env: NodeJS.ProcessEnv = process.env): string {
  // GITHUB_ACTION is the step's id, unique in the job; two steps of this action must not overwrite each other's report.
  const step = (env['GITHUB_ACTION'] || `pid${process.pid}`).replace(/[^A-Za-z0-9._-]/g, '_');
  return `acr-transfer-report-${step}.json`;
}

/** Publishes one report, once: the deadline path and the normal path may both ask, the first one wins. */
export class Publisher {
  private done: Promise<void> | undefined;

  constructor(private readonly tempDir: string) {}

  publish(report: TransferReport): Promise<void> {
    this.done ??= this.write(report);
    return this.done;
  }

  private async write(report: TransferReport): Promise<void> {
    const outputs = renderOutputs(report);
    for (const o of OUTPUTS) {
      const value = outputs[o.name];
      if (value !== undefined && o.name !== 'report-path') core.setOutput(o.name, value);
    }
    const file = path.join(this.tempDir, reportFileName());
    try {
      mkdirSync(this.tempDir, { recursive: true });
      writeFileSync(file, `${redact(JSON.stringify(report, null, 2))}\n`);
      core.setOutput('report-path', file);
    } catch (e) {
      core.warning(`Could not write the report to ${file}: ${redact((e as Error).message)}`);
    }
    annotate(report);
    if (process.env['GITHUB_STEP_SUMMARY']) {
      try {
        await core.summary.addRaw(redact(renderSummary(report)), true).write();
      } catch (e) {
        core.warning(`Could not write the job summary: ${redact((e as Error).message)}`);
      }
    } else core.debug('GITHUB_STEP_SUMMARY is not set: no job summary');
    conclude(report);
  }
}

/** Failed artifacts and runs as annotations: errors, or warnings when ContinueOnErrors let the step succeed. */
export function annotate(report: TransferReport): void {
  const partial = report.outcome === 'partial';
  const say = partial ? core.warning : core.error;
  const notes: { title: string; text: string }[] = [];
  for (const r of report.runs) {
    if (r.status === 'failed' || (r.status === 'timed-out' && !partial)) {
      const what = r.status === 'failed' ? `failed${r.error ? `: ${r.error}` : ''}` : 'did not finish in time';
      notes.push({ title: `Pipeline run ${r.name}`, text: `${r.kind} pipeline run '${r.name}' (pipeline '${r.pipeline}', blob '${r.blob}') ${what}` });
    }
  }
  for (const b of report.blobs) {
    if (b.error !== undefined) notes.push({ title: `Blob ${b.name}`, text: `blob '${b.name}': ${b.error}` });
  }
  for (const a of report.artifacts) {
    if (a.result === 'failed') notes.push({ title: `Artifact ${a.artifact}`, text: `${a.artifact}: ${a.reason ?? 'failed'}` });
  }
  for (const n of notes.slice(0, MAX_ANNOTATIONS)) say(redact(n.text), { title: n.title });
  if (notes.length > MAX_ANNOTATIONS)
    say(`…and ${notes.length - MAX_ANNOTATIONS} more failures: see the job summary and the report.`, { title: 'acr-transfer' });
}

/** The step's result: failed, cancelled and timed-out fail it; partial (ContinueOnErrors) passes with warnings. */
export function conclude(report: TransferReport): void {
  const failed = report.artifacts.filter((a) => a.result === 'failed').length;
  switch (report.outcome) {
    case 'succeeded':
      core.info(`acr-transfer ${report.operation}${report.dryRun ? ' (dry run)' : ''}: succeeded.`);
      return;
    case 'partial':
      core.warning(`acr-transfer ${report.operation} finished with ${failed} failed artifact(s), allowed by ContinueOnErrors: see failed-artifacts.`, {
        title: 'acr-transfer: partial success',
      });
      return;
    case 'cancelled':
      core.setFailed(redact(report.error ?? `acr-transfer ${report.operation} was cancelled; a re-run with the same inputs resumes.`));
      return;
    case 'timed-out':
      core.setFailed(redact(report.error ?? `acr-transfer ${report.operation} ran out of time (timeout-minutes); see the report for what is still running.`));
      return;
    case 'failed':
      core.setFailed(redact(report.error ?? `acr-transfer ${report.operation} failed${failed ? `: ${failed} artifact(s) failed` : ''}.`));
  }
}

/** A report for when the operation could not return its own: an early error, or the cancellation deadline. */
export function fallbackReport(
  settings: TransferSettings,
  startTime: Date,
  outcome: 'failed' | 'cancelled',
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
      settings.artifacts.map((a) => ({ artifact: artifactText(a), result: 'pending' as const, reason: 'not reported: the operation stopped early' })),
    runs: partial?.runs ?? [],
    blobs: partial?.blobs ?? [],
    checks: [],
    usage: [],
    warnings: [],
    error: redact(error),
  };
}

function artifactText(a: ArtifactSpec): string {
  return a.kind === 'digest' ? `${a.repository}@${a.digest}` : a.kind === 'pattern' ? a.text : `${a.repository}:${a.tag}`;
}
