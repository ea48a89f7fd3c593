/**
 * What the action does before anything heavy loads: read its inputs, register masks and fail a bad input, by the
 * runner's documented protocol (https://docs.github.com/actions/reference/workflow-commands-for-github-actions and
 * https://docs.github.com/actions/sharing-automations/creating-actions/metadata-syntax-for-github-actions#inputs).
 * The rest of the GitHub side (github-host.ts, over @actions/core) loads only once the inputs are good: @actions/core
 * brings an HTTP client with it, and a step that fails on its inputs should not pay for it (docs/hosts.md#bundling).
 */
import type { InputReader } from '../core/settings';

/** `INPUT_<NAME>`: the name upper-cased, spaces as underscores, hyphens kept; trimmed; empty reads as missing. */
export const runnerInputs: InputReader = {
  get: (name) => process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`]?.trim() || undefined,
};

/** A workflow command's message: %, CR and LF are escaped so the command stays on one line. */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function command(name: string, message: string): void {
  process.stdout.write(`::${name}::${escapeData(message)}\n`);
}

/**
 * Masks a secret and, for multi-line values (PEM, JSON), each line too: the runner matches masks within one log
 * line, so a multi-line secret masked only whole would leak line by line (docs/hosts.md#secret-masking).
 */
const masked = new Set<string>();

export function maskSecret(value: string): void {
  const text = value.trim();
  if (!text || masked.has(text)) return;
  masked.add(text);
  command('add-mask', text);
  // An azure/login-style creds JSON: the secret inside it can be printed on its own (e.g. in an SDK error), so mask it alone.
  const creds = jsonObject(text);
  if (creds) {
    for (const [k, v] of Object.entries(creds)) if (typeof v === 'string' && /secret|password|certificate|key/i.test(k)) maskSecret(v);
    return;
  }
  if (/[\r\n]/.test(text)) {
    for (const line of text.split(/\r?\n/).map((l) => l.trim())) if (line.length >= 8 && !line.startsWith('-----')) command('add-mask', line);
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

/** Fails the step: an error annotation and a failing exit code. */
export function failStep(message: string): void {
  process.exitCode = 1;
  command('error', message);
}

/** A plain log line. */
export function say(message: string): void {
  process.stdout.write(`${message}\n`);
}
