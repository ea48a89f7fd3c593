/**
 * The GitHub side of the core's ports: inputs through core.getInput, logging through core.info/warning/debug and
 * ::group::, masking through core.setSecret, OIDC through core.getIDToken, and the Azure SDK's own log routed to
 * core.debug (visible only in debug runs).
 */
import * as core from '@actions/core';
import { type AzureLogLevel, AzureLogger, setLogLevel } from '@azure/logger';
import * as os from 'node:os';
import { format } from 'node:util';
import { redact } from '../core/errors';
import type { RunBudget } from '../core/budget';
import type { Host } from '../core/host';
import type { Logger } from '../core/ports';
import type { InputReader } from '../core/settings';

/** INPUT_<NAME> with hyphens kept, trimmed; '' (missing) reads as undefined. */
export const githubInputs: InputReader = {
  get: (name) => core.getInput(name) || undefined,
};

/**
 * Masks a secret and, for multi-line values (PEM, JSON), each line too: the runner matches masks within one log
 * line, so a multi-line secret masked only whole would leak line by line.
 */
const masked = new Set<string>();

export function maskSecret(value: string): void {
  const text = value.trim();
  if (!text || masked.has(text)) return;
  masked.add(text);
  core.setSecret(text);
  // An azure/login-style creds JSON: the secret inside it can be printed on its own (e.g. in an SDK error), so mask it alone.
  const creds = jsonObject(text);
  if (creds) {
    for (const [k, v] of Object.entries(creds)) if (typeof v === 'string' && /secret|password|certificate|key/i.test(k)) maskSecret(v);
    return;
  }
  if (/[\r\n]/.test(text)) {
    for (const line of text.split(/\r?\n/).map((l) => l.trim())) if (line.length >= 8 && !line.startsWith('-----')) core.setSecret(line);
  }
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // masked whole; parseSettings reports the bad input
  }
}

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
