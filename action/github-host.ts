/**
 * The GitHub side of the core's ports, loaded once the inputs are good (runner.ts does the rest): logging through
 * core.info/warning/debug and ::group::, OIDC through core.getIDToken, the report through outputs, the job summary and
 * annotations, and the Azure SDK's own log routed to core.debug (visible only in debug runs).
 */
import * as core from '@actions/core';
import { type AzureLogLevel, AzureLogger, setLogLevel } from '@azure/logger';
import * as os from 'node:os';
import { format } from 'node:util';
import { redact } from '../core/errors';
import type { RunBudget } from '../core/budget';
import type { Host } from '../core/host';
import type { Logger } from '../core/ports';
import { type ReportSink, stepFileName } from '../core/publish';
import type { Opened } from '../core/step';
import * as path from 'node:path';
import { maskSecret } from './runner';

const LEVELS: readonly AzureLogLevel[] = ['verbose', 'info', 'warning', 'error'];

/** The Azure SDKs log to stderr by default; on GitHub they go to core.debug instead, at AZURE_LOG_LEVEL or, in debug runs, info. */
export function routeAzureSdkLogs(): void {
  AzureLogger.log = (...args: unknown[]) => core.debug(redact(format(...args)));
  const wanted = process.env['AZURE_LOG_LEVEL']?.toLowerCase();
  const level = LEVELS.find((l) => l === wanted) ?? (core.isDebug() ? 'info' : undefined);
  setLogLevel(level);
}

export function githubLogger(): Logger {
  // GitHub groups do not nest: an inner (or concurrent) group becomes a heading line inside the open one.
  let open = 0;
  return {
    info: (m) => core.info(redact(m)),
    warning: (m) => core.warning(redact(m)),
    debug: (m) => core.debug(redact(m)),
    async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
      if (open > 0) {
        core.info(`— ${redact(name)}`);
        return fn();
      }
      open++;
      try {
        return await core.group(redact(name), fn);
      } finally {
        open--;
      }
    },
    progress: (percent, message) => core.info(`[${Math.max(0, Math.min(100, Math.round(percent)))}%] ${redact(message)}`),
  };
}

export function runnerTempDir(): string {
  return process.env['RUNNER_TEMP'] || os.tmpdir();
}

export function githubHost(budget: RunBudget, logger: Logger = githubLogger()): Host {
  const oidc = !!process.env['ACTIONS_ID_TOKEN_REQUEST_URL'] && !!process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
  return {
    logger,
    budget,
    mask: maskSecret,
    // Offered only when the job has `permissions: id-token: write`, so that auth-type auto does not pick OIDC without it.
    ...(oidc ? { getIdToken: (audience: string) => core.getIDToken(audience) } : {}),
  };
}

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

/** The GitHub side once the inputs are good. */
export function opened(): Opened {
  routeAzureSdkLogs();
  const logger = githubLogger();
  return { logger, sink: githubSink(), host: (budget) => Promise.resolve(githubHost(budget, logger)) };
}
