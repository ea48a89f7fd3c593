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
import { conclude, problems } from '../core/outcome';
import { renderOutputs, renderSummary } from '../core/render';
import type { TransferReport } from '../core/report';
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
    concludeTask(report);
    return Promise.resolve();
  }
}

/** Failed runs, blobs and artifacts as issues: errors, or warnings when ContinueOnErrors let the task succeed. */
export function logIssues(report: TransferReport): void {
  const { level, items } = problems(report);
  const type = level === 'warning' ? tl.IssueType.Warning : tl.IssueType.Error;
  for (const n of items.slice(0, MAX_ISSUES)) tl.logIssue(type, adoLine(n.text));
  if (items.length > MAX_ISSUES) tl.logIssue(type, `…and ${items.length - MAX_ISSUES} more: see the summary and the report (reportPath).`);
}

/** The task result. Failed, cancelled and timed-out fail the task (task-lib's Cancelled is not a result the agent parses). */
export function concludeTask(report: TransferReport): void {
  const c = conclude(report, 'failedArtifacts');
  const result = c.result === 'success' ? tl.TaskResult.Succeeded : c.result === 'warning' ? tl.TaskResult.SucceededWithIssues : tl.TaskResult.Failed;
  tl.setResult(result, adoLine(c.message));
}
