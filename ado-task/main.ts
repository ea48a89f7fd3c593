/**
 * The Azure DevOps task: describes the agent to the core's step skeleton (core/step.ts) — inputs through tl.getInput,
 * the credential from the AzureRM service connection, logs, masks, and the report as output variables, the summary,
 * issues and the task result (SucceededWithIssues when ContinueOnErrors left failures).
 */
import { createDefaultHttpClient } from '@azure/core-rest-pipeline';
import * as tl from 'azure-pipelines-task-lib/task';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CancellationOptions } from '../core/cancellation';
import { ConfigError } from '../core/errors';
import { camelCase } from '../core/inputs';
import { type ReportSink, stepFileName } from '../core/publish';
import { type Frontend, runStep } from '../core/step';
import { adoHost, adoInputs, adoLine, adoLogger, agentTempDir, maskSecret, routeAzureSdkLogs } from './ado-host';
import { hostCredential } from './credential';
import { SERVICE_CONNECTION_INPUT } from './names';
import { readServiceConnection, type ServiceConnection } from './service-connection';

/** Issues beyond this many go to the summary and the report only: a long list of issues buries the one that matters. */
export const MAX_ISSUES = 20;

export function adoSink(): ReportSink {
  // Unique per step in the job, so two steps of this task do not overwrite each other's files.
  const file = (kind: 'report' | 'summary'): string => path.join(agentTempDir(), stepFileName(kind, tl.getVariable('System.TaskInstanceId')));
  return {
    setOutput: (name, value) => tl.setVariable(camelCase(name), value, false, true),
    outputName: camelCase,
    reportFile: file('report'),
    writeSummary(markdown) {
      writeFileSync(file('summary'), markdown);
      tl.uploadSummary(file('summary'));
      return Promise.resolve();
    },
    maxProblems: MAX_ISSUES,
    problem: (level, p) => tl.logIssue(level === 'warning' ? tl.IssueType.Warning : tl.IssueType.Error, adoLine(p.text)),
    warning: (m) => tl.logIssue(tl.IssueType.Warning, adoLine(m)),
    // Failed, cancelled and timed-out fail the task (task-lib's Cancelled is not a result the agent parses).
    conclude: (c) =>
      tl.setResult(
        c.result === 'success' ? tl.TaskResult.Succeeded : c.result === 'warning' ? tl.TaskResult.SucceededWithIssues : tl.TaskResult.Failed,
        adoLine(c.message),
      ),
  };
}

export function adoFrontend(): Frontend {
  const logger = adoLogger();
  let connection: ServiceConnection | undefined;
  return {
    say: (m) => logger.info(m),
    mask: maskSecret,
    fail: (message) => tl.setResult(tl.TaskResult.Failed, adoLine(message)),
    prepare() {
      const id = tl.getInput(SERVICE_CONNECTION_INPUT, false)?.trim();
      if (!id) throw new ConfigError(`Input '${SERVICE_CONNECTION_INPUT}' is required: the Azure Resource Manager service connection to use`);
      connection = readServiceConnection(id);
      return {
        inputs: adoInputs(connection.subscriptionId),
        secrets: [connection.servicePrincipalKey, connection.certificate, connection.systemAccessToken].filter((s): s is string => !!s),
      };
    },
    open() {
      routeAzureSdkLogs();
      const conn = connection!; // prepare() ran first: runStep opens only after the inputs parsed
      return Promise.resolve({
        logger,
        sink: adoSink(),
        async host(budget) {
          const built = await hostCredential(conn, { httpClient: createDefaultHttpClient(), signal: budget.signal, log: (m) => logger.info(m) });
          logger.info(`Authenticating with service connection '${conn.id}': ${built.description}`);
          return adoHost(budget, built.hostCredential, logger);
        },
      });
    },
  };
}

export function run(opts: CancellationOptions = {}): Promise<void> {
  return runStep(adoFrontend(), opts);
}
