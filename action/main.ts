/**
 * The GitHub Action: describes the runner to the core's step skeleton (core/step.ts) — inputs through core.getInput,
 * logs, masks, OIDC, and the report as outputs, the job summary, annotations and the step's result.
 */
import * as core from '@actions/core';
import * as path from 'node:path';
import type { CancellationOptions } from '../core/cancellation';
import { type ReportSink, stepFileName } from '../core/publish';
import { type Frontend, runStep } from '../core/step';
import { githubHost, githubInputs, githubLogger, maskSecret, routeAzureSdkLogs, runnerTempDir } from './github-host';

/** GitHub shows at most 10 error and 10 warning annotations per step; the rest are in the summary and the report. */
export const MAX_ANNOTATIONS = 10;

export function githubSink(): ReportSink {
  return {
    setOutput: (name, value) => core.setOutput(name, value),
    outputName: (name) => name,
    // GITHUB_ACTION is the step's id, unique in the job: two steps of this action must not overwrite each other's report.
    reportFile: path.join(runnerTempDir(), stepFileName('report', process.env['GITHUB_ACTION'])),
    async writeSummary(markdown) {
      if (!process.env['GITHUB_STEP_SUMMARY']) return core.debug('GITHUB_STEP_SUMMARY is not set: no job summary');
      await core.summary.addRaw(markdown, true).write();
    },
    maxProblems: MAX_ANNOTATIONS,
    problem: (level, p) => (level === 'warning' ? core.warning : core.error)(p.text, { title: p.title }),
    warning: (m) => core.warning(m),
    conclude(c) {
      if (c.result === 'success') core.info(c.message);
      else if (c.result === 'warning') core.warning(c.message, { title: 'acr-transfer: partial success' });
      else core.setFailed(c.message);
    },
  };
}

export function githubFrontend(): Frontend {
  return {
    logger: githubLogger(),
    mask: maskSecret,
    routeSdkLogs: routeAzureSdkLogs,
    prepare: () => ({ inputs: githubInputs, secrets: [], host: (budget, logger) => Promise.resolve(githubHost(budget, logger)) }),
    fail: (message) => core.setFailed(message),
    sink: githubSink(),
  };
}

export function run(opts: CancellationOptions = {}): Promise<void> {
  return runStep(githubFrontend(), opts);
}
