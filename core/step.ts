/**
 * One step, the same on both hosts: watch for cancel → mask what the host knows is secret → parse the inputs →
 * sign in (the host's own credential, or one built from the inputs) → run the operation → publish the report, once.
 * action/main.ts and ado-task/main.ts only describe their host (a Frontend).
 */
import type { RunBudget } from './budget';
import { type CancellationOptions, watchSignals } from './cancellation';
import { ConfigError, errorMessage, redact } from './errors';
import type { Host } from './host';
import type { Logger } from './ports';
import type { ReportSink } from './publish';
import { type InputReader, parseSettings, secretValues, type TransferSettings } from './settings';

/** What the host supplies before the inputs are parsed. */
export interface Prepared {
  readonly inputs: InputReader;
  /** Masked before anything else is printed (e.g. the service connection's key). */
  readonly secrets: readonly string[];
}

/** The host once the inputs are good: its logs, where the report goes, and the Host of the run. */
export interface Opened {
  readonly logger: Logger;
  readonly sink: ReportSink;
  /** May sign in with the host's own credential and throw ConfigError (e.g. a service connection that cannot work). */
  host(budget: RunBudget): Promise<Host>;
}

/**
 * A host, in two parts: what a step needs before its inputs are known good (cheap: reading, masking, failing), and
 * the rest, opened after, so that a step failing on its inputs loads nothing heavy (docs/hosts.md#bundling).
 */
export interface Frontend {
  /** A plain log line, usable before the host is opened. */
  say(message: string): void;
  /** Registers a secret with the host's log masking before it can be printed. */
  mask(secret: string): void;
  /** Fails the step with one line, before any report exists (a bad input). */
  fail(message: string): void;
  /** Reads what the host supplies (inputs, a service connection); a ConfigError fails the step in one line. */
  prepare(): Prepared | Promise<Prepared>;
  open(): Promise<Opened>;
}

export async function runStep(frontend: Frontend, opts: CancellationOptions = {}): Promise<void> {
  const start = new Date();
  let logger: Logger | undefined;
  const cancel = watchSignals({ log: (m) => (logger ? logger.info(m) : frontend.say(m)), ...opts });
  try {
    let settings: TransferSettings;
    try {
      const prepared = await frontend.prepare();
      // Masks go out before any other line, so no later log line (ours or an SDK's) can show a secret.
      [...prepared.secrets, ...secretValues(prepared.inputs)].forEach((s) => frontend.mask(s));
      settings = parseSettings(prepared.inputs);
      [settings.auth.clientSecret, settings.auth.clientCertificate].forEach((s) => s && !s.startsWith('@file:') && frontend.mask(s));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      frontend.fail(redact(e.message)); // one line naming the input, the value and what is allowed; no stack
      return;
    }
    // The rest loads only now: a step that fails on its inputs pays for nothing more (docs/hosts.md#bundling).
    const { runParsed } = await import('./step-run');
    await runParsed(frontend, settings, cancel, start, (l) => (logger = l));
  } catch (e) {
    logger?.debug(redact((e as Error).stack ?? String(e)));
    frontend.fail(redact(errorMessage(e)));
  } finally {
    cancel.dispose();
  }
}
