/**
 * Renders a TransferReport on GitHub: step outputs, the JSON report file (report-path), the job summary,
 * annotations, and the step's result. The core decides nothing here; it only returns the report.
 */
import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { redact } from '../core/errors';
import { OUTPUTS } from '../core/inputs';
import { conclude, problems } from '../core/outcome';
import { renderOutputs, renderSummary } from '../core/render';
import type { TransferReport } from '../core/report';

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
    concludeStep(report);
  }
}

/** Failed artifacts, blobs and runs as annotations: errors, or warnings when ContinueOnErrors let the step succeed. */
export function annotate(report: TransferReport): void {
  const { level, items } = problems(report);
  const say = level === 'warning' ? core.warning : core.error;
  for (const n of items.slice(0, MAX_ANNOTATIONS)) say(n.text, { title: n.title });
  if (items.length > MAX_ANNOTATIONS)
    say(`…and ${items.length - MAX_ANNOTATIONS} more failures: see the job summary and the report.`, { title: 'acr-transfer' });
}

/** The step's result: failed, cancelled and timed-out fail it; partial (ContinueOnErrors) passes with warnings. */
export function concludeStep(report: TransferReport): void {
  const c = conclude(report, 'failed-artifacts');
  if (c.result === 'success') core.info(c.message);
  else if (c.result === 'warning') core.warning(c.message, { title: 'acr-transfer: partial success' });
  else core.setFailed(c.message);
}
