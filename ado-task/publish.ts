/**
 * Renders a TransferReport on Azure DevOps: output variables (isOutput=true), the JSON report file (reportPath), the
 * summary (task.uploadsummary, the same Markdown as GitHub's job summary), issues for failed runs and artifacts, and the
 * task result: SucceededWithIssues when ContinueOnErrors left failures.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { redact } from '../core/errors';
import { camelCase, OUTPUTS } from '../core/inputs';
import { renderOutputs, renderSummary } from '../core/render';
import type { TransferReport } from '../core/report';
import type { ArtifactSpec, TransferSettings } from '../core/settings';
import { adoLine } from './ado-host';

/** Issues beyond this many go to the summary and the report only: a long list of issues buries the one that matters. */
export const MAX_ISSUES = 20;

/** Unique per step in the job, so two steps of this task do not overwrite each other's files. */
export function fileStem(): string {
  const step = (tl.getVariable('System.TaskInstanceId') || `pid${process.pid}`).replace(/[^A-Za-z0-9._-]/g, '_');
  return `acr-transfer-${step}`;
}

/** Publishes one report, once: the cancellation deadline and the normal path may both ask; the first wins. */
export class Publisher {
  private done: Promise<void> | undefined;

  constructor(private readonly tempDir: string) {}

  publish(report: TransferReport): Promise<void> {
    this.done ??= this.write(report);
    return this.done;
  }

  private write(report: TransferReport): Promise<void> {
    const outputs = renderOutputs(report);
    for (const o of OUTPUTS) {
      const value = outputs[o.name];
      if (value !== undefined && o.name !== 'report-path') tl.setVariable(camelCase(o.name), value, false, true);
    }
    const stem = path.join(this.tempDir, fileStem());
    try {
      mkdirSync(this.tempDir, { recursive: true });
      writeFileSync(`${stem}-report.json`, `${redact(JSON.stringify(report, null, 2))}\n`);
      tl.setVariable(camelCase('report-path'), `${stem}-report.json`, false, true);
    } catch (e) {
      tl.logIssue(tl.IssueType.Warning, `Could not write the report to ${stem}-report.json: ${redact((e as Error).message)}`);
    }
    try {
      writeFileSync(`${stem}-summary.md`, redact(renderSummary(report)));
      tl.uploadSummary(`${stem}-summary.md`);
    } catch (e) {
      tl.logIssue(tl.IssueType.Warning, `Could not write the summary: ${redact((e as Error).message)}`);
    }
    logIssues(report);
    conclude(report);
    return Promise.resolve();
  }
}

/** Failed runs and artifacts as issues: errors, or warnings when ContinueOnErrors let the task succeed. */
export function logIssues(report: TransferReport): void {
  const type = report.outcome === 'partial' ? tl.IssueType.Warning : tl.IssueType.Error;
  const notes: string[] = [];
  for (const r of report.runs) {
    if (r.status === 'failed' || (r.status === 'timed-out' && report.outcome !== 'partial')) {
      const what = r.status === 'failed' ? `failed${r.error ? `: ${r.error}` : ''}` : 'did not finish in time';
      notes.push(`${r.kind} pipeline run '${r.name}' (pipeline '${r.pipeline}', blob '${r.blob}') ${what}`);
    }
  }
  for (const a of report.artifacts) if (a.result === 'failed') notes.push(`${a.artifact}: ${a.reason ?? 'failed'}`);
  for (const n of notes.slice(0, MAX_ISSUES)) tl.logIssue(type, adoLine(n));
  if (notes.length > MAX_ISSUES) tl.logIssue(type, `…and ${notes.length - MAX_ISSUES} more: see the summary and the report (reportPath).`);
}

/** The task result. Failed, cancelled and timed-out fail the task (task-lib's Cancelled is not a result the agent parses). */
export function conclude(report: TransferReport): void {
  const failed = report.artifacts.filter((a) => a.result === 'failed').length;
  const op = `acr-transfer ${report.operation}${report.dryRun ? ' (dry run)' : ''}`;
  switch (report.outcome) {
    case 'succeeded':
      tl.setResult(tl.TaskResult.Succeeded, `${op}: succeeded.`);
      return;
    case 'partial':
      tl.setResult(tl.TaskResult.SucceededWithIssues, `${op} finished with ${failed} failed artifact(s), allowed by ContinueOnErrors: see failedArtifacts.`);
      return;
    case 'cancelled':
      tl.setResult(tl.TaskResult.Failed, adoLine(report.error ?? `${op} was cancelled; a re-run with the same inputs resumes.`));
      return;
    case 'timed-out':
      tl.setResult(tl.TaskResult.Failed, adoLine(report.error ?? `${op} ran out of time (timeout-minutes); see the report for what is still running.`));
      return;
    case 'failed':
      tl.setResult(tl.TaskResult.Failed, adoLine(report.error ?? `${op} failed${failed ? `: ${failed} artifact(s) failed` : ''}.`));
  }
}

/** A report for when the operation could not return its own: an early error, or the cancellation deadline. */
export function stoppedReport(settings: TransferSettings, startTime: Date, outcome: 'failed' | 'cancelled', error: string): TransferReport {
  return {
    operation: settings.operation,
    dryRun: settings.dryRun,
    outcome,
    startTime: startTime.toISOString(),
    finishTime: new Date().toISOString(),
    artifacts: settings.artifacts.map((a) => ({ artifact: artifactText(a), result: 'pending' as const, reason: 'not reported: the operation stopped early' })),
    runs: [],
    blobs: [],
    checks: [],
    usage: [],
    warnings: [],
    error: redact(error),
  };
}

function artifactText(a: ArtifactSpec): string {
  return a.kind === 'digest' ? `${a.repository}@${a.digest}` : a.kind === 'pattern' ? a.text : `${a.repository}:${a.tag}`;
}
