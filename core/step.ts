/**
 * One step, the same on both hosts: watch for cancel → mask what the host knows is secret → parse the inputs →
 * sign in (the host's own credential, or one built from the inputs) → run the operation → publish the report, once.
 * action/main.ts and ado-task/main.ts only describe their host (a Frontend).
 */
import { runBudget, type RunBudget } from './budget';
import { type CancellationOptions, watchSignals } from './cancellation';
import { CancelledError, ConfigError, errorMessage, redact } from './errors';
import type { Host } from './host';
import { cancelledMessage, expiredMessage, stoppedReport } from './outcome';
import { timedOutMessage } from './operation';
import type { Logger } from './ports';
import { publishReport, type ReportSink } from './publish';
import type { TransferReport } from './report';
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
  let opened: Opened | undefined;
  const cancel = watchSignals({ log: (m) => (opened ? opened.logger.info(m) : frontend.say(m)), ...opts });
  let published: Promise<void> | undefined;
  try {
    let settings: TransferSettings;
    let host: Host;
    let sink: ReportSink;
    try {
      const prepared = await frontend.prepare();
      // Masks go out before any other line, so no later log line (ours or an SDK's) can show a secret.
      [...prepared.secrets, ...secretValues(prepared.inputs)].forEach((s) => frontend.mask(s));
      settings = parseSettings(prepared.inputs);
      [settings.auth.clientSecret, settings.auth.clientCertificate].forEach((s) => s && !s.startsWith('@file:') && frontend.mask(s));
      opened = await frontend.open();
      sink = opened.sink;
      const budget = runBudget({ signal: cancel.signal, timeoutMinutes: settings.timeoutMinutes, start: start.getTime() });
      const timeoutMinutes = settings.timeoutMinutes;
      // At the deadline every request, retry and poll stops (their signal aborts), and the step ends within graceMs.
      cancel.expireAt(budget.deadline, () => new CancelledError(timedOutMessage(timeoutMinutes), 'timeout', budget.inFlight.list()));
      host = await opened.host(budget);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      frontend.fail(redact(e.message)); // one line naming the input, the value and what is allowed; no stack
      return;
    }
    // The deadline path and the normal path may both publish: the first one wins.
    const publish = (report: TransferReport): Promise<void> => (published ??= publishReport(report, sink));
    const { logger } = host;
    // The hard stop's report, when the operation has not unwound in time to write its own.
    const stoppedNow = (): TransferReport =>
      cancel.expired
        ? stoppedReport(settings, start, 'timed-out', expiredMessage(cancel.signal))
        : stoppedReport(settings, start, 'cancelled', cancelledMessage(cancel.received));
    cancel.onDeadline(() => publish(stoppedNow()));
    try {
      // Loaded only now: a step that fails on its inputs never pays for the Azure SDKs (docs/hosts.md#bundling).
      const [{ createServices }, { runOperation }] = await Promise.all([import('./azure/services'), import('./run')]);
      const { services } = await createServices(settings, host);
      await publish(await runOperation(settings, host, services));
    } catch (e) {
      logger.debug(redact((e as Error).stack ?? String(e)));
      // A host that cannot be used as the inputs name it (e.g. a secret URI outside the cloud): one line, like any bad input.
      if (e instanceof ConfigError && !cancel.signal.aborted) {
        frontend.fail(redact(e.message));
        return;
      }
      await publish(cancel.received || cancel.expired ? stoppedNow() : stoppedReport(settings, start, 'failed', errorMessage(e)));
    }
  } catch (e) {
    opened?.logger.debug(redact((e as Error).stack ?? String(e)));
    frontend.fail(redact(errorMessage(e)));
  } finally {
    cancel.dispose();
  }
}
