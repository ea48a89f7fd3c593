/**
 * Publishing a TransferReport, the same on both hosts: step outputs, the JSON report file, the summary, the problems
 * (GitHub annotations, ADO issues) and the step's result. A host only says how each of those is written (ReportSink).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { redact } from './errors';
import { OUTPUTS } from './outputs';
import { type Conclusion, conclude, type Problem, problems } from './outcome';
import { renderOutputs, renderSummary } from './render';
import type { TransferReport } from './report';

export interface ReportSink {
  /** Sets a step output (GitHub) or output variable (ADO); `name` is the kebab-case output name. */
  setOutput(name: string, value: string): void;
  /** How the host spells an output name to its users (failed-artifacts, failedArtifacts). */
  outputName(name: string): string;
  /** Where the JSON report goes: a file unique to this step in the host's temp folder. */
  readonly reportFile: string;
  /** Adds the Markdown summary to the run's page (GitHub job summary, ADO uploadsummary). */
  writeSummary(markdown: string): Promise<void>;
  /** At most this many problems are shown one by one; the rest are counted in one line. */
  readonly maxProblems: number;
  problem(level: 'error' | 'warning', problem: Problem): void;
  /** A warning about publishing itself (a file that could not be written). */
  warning(message: string): void;
  /** Ends the step: success, success with issues, or failure, with the message. */
  conclude(conclusion: Conclusion): void;
}

export async function publishReport(report: TransferReport, sink: ReportSink): Promise<void> {
  const outputs = renderOutputs(report);
  for (const o of OUTPUTS) {
    const value = outputs[o.name];
    if (value !== undefined && o.name !== 'report-path') sink.setOutput(o.name, value);
  }
  try {
    mkdirSync(path.dirname(sink.reportFile), { recursive: true });
    writeFileSync(sink.reportFile, `${redact(JSON.stringify(report, null, 2))}\n`);
    sink.setOutput('report-path', sink.reportFile);
  } catch (e) {
    sink.warning(`Could not write the report to ${sink.reportFile}: ${redact((e as Error).message)}`);
  }
  const { level, items } = problems(report);
  for (const p of items.slice(0, sink.maxProblems)) sink.problem(level, p);
  if (items.length > sink.maxProblems)
    sink.problem(level, { title: 'acr-transfer', text: `…and ${items.length - sink.maxProblems} more failures: see the summary and the report.` });
  try {
    await sink.writeSummary(redact(renderSummary(report)));
  } catch (e) {
    sink.warning(`Could not write the summary: ${redact((e as Error).message)}`);
  }
  sink.conclude(conclude(report, sink.outputName('failed-artifacts')));
}

/** A file name unique to the step within its job, from the host's step id (GITHUB_ACTION, System.TaskInstanceId). */
export function stepFileName(kind: 'report' | 'summary', stepId: string | undefined): string {
  const step = (stepId || `pid${process.pid}`).replace(/[^A-Za-z0-9._-]/g, '_');
  return `acr-transfer-${kind}-${step}.${kind === 'report' ? 'json' : 'md'}`;
}
