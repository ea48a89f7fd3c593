/**
 * The Azure DevOps side of the core's ports: inputs through tl.getInput (camelCase names), logging through stdout,
 * ##[group], task.logissue and task.setprogress, masking through task.setsecret, and the Azure SDK's own log routed to
 * task.debug (shown when System.Debug is true).
 */
import { type AzureLogLevel, AzureLogger, setLogLevel } from '@azure/logger';
import * as tl from 'azure-pipelines-task-lib/task';
import * as os from 'node:os';
import { format } from 'node:util';
import { redact } from '../core/errors';
import type { RunBudget } from '../core/budget';
import type { Host } from '../core/host';
import { camelCase } from '../core/inputs';
import type { Logger } from '../core/ports';
import type { InputReader } from '../core/settings';
import { ADO_INPUTS, adoText } from './names';

const ADO_NAMES = new Set(ADO_INPUTS.map((i) => i.name));

/**
 * Inputs by their kebab-case name, read as `camelCase(name)`; the GitHub-only auth inputs read as missing. An empty
 * `subscription-id` falls back to the service connection's subscription.
 */
export function adoInputs(connectionSubscription?: string): InputReader {
  return {
    get(name) {
      if (!ADO_NAMES.has(name)) return undefined;
      const v = tl.getInput(camelCase(name), false)?.trim();
      if (!v && name === 'subscription-id') return connectionSubscription;
      return v || undefined;
    },
  };
}

/** task.setsecret refuses multi-line values; mask such a value line by line (the agent matches masks within a line anyway). */
export function maskSecret(value: string): void {
  const text = value.trim();
  if (!text) return;
  if (!/[\r\n]/.test(text)) {
    tl.setSecret(text);
    return;
  }
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) if (line.length >= 8 && !line.startsWith('-----')) tl.setSecret(line);
}

const LEVELS: readonly AzureLogLevel[] = ['verbose', 'info', 'warning', 'error'];

/** The Azure SDKs log to stderr by default; here they go to task.debug, at AZURE_LOG_LEVEL or, with System.Debug, info. */
export function routeAzureSdkLogs(): void {
  AzureLogger.log = (...args: unknown[]) => tl.debug(redact(format(...args)));
  const wanted = process.env['AZURE_LOG_LEVEL']?.toLowerCase();
  const debug = (tl.getVariable('System.Debug') ?? '').toLowerCase() === 'true';
  setLogLevel(LEVELS.find((l) => l === wanted) ?? (debug ? 'info' : undefined));
}

/** What reaches the log: secrets redacted, and input names as ADO users write them. */
export const adoLine = (text: string): string => adoText(redact(text));

export function adoLogger(write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  // ADO log groups do not nest: an inner (or concurrent) group becomes a plain heading inside the open one.
  let open = 0;
  return {
    info: (m) => write(adoLine(m)),
    warning: (m) => tl.logIssue(tl.IssueType.Warning, adoLine(m)),
    debug: (m) => tl.debug(adoLine(m)),
    async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
      if (open > 0) {
        write(`##[section]${adoLine(name)}`);
        return fn();
      }
      open++;
      write(`##[group]${adoLine(name)}`);
      try {
        return await fn();
      } finally {
        write('##[endgroup]');
        open--;
      }
    },
    progress: (percent, message) => tl.setProgress(Math.max(0, Math.min(100, Math.round(percent))), adoLine(message)),
  };
}

/** Agent.TempDirectory is cleaned after every job; the report and summary files live there. */
export function agentTempDir(): string {
  return tl.getVariable('Agent.TempDirectory') || os.tmpdir();
}

export function adoHost(budget: RunBudget, credential: NonNullable<Host['credential']>, logger: Logger = adoLogger()): Host {
  return { logger, budget, mask: maskSecret, credential };
}
