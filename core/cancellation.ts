/**
 * Cancellation, the same on both hosts. GitHub's runner sends SIGINT, then SIGTERM 7.5 s later, then kills the
 * process tree; the ADO agent sends SIGINT, SIGTERM, then kills (PROCESS_SIGINT_TIMEOUT); see docs/hosts.md#cancellation.
 * The contract is stricter: stop within 5 s and leave a report. So the first signal aborts the operation, and a hard
 * deadline `graceMs` later (or at a second signal) runs one last callback (render what is known) and exits, whether
 * or not the operation has unwound by then. The run's own deadline (`timeout-minutes`, expireAt) ends it the same way.
 */
import { CancelledError } from './errors';

export const DEFAULT_GRACE_MS = 4000;
/** The last callback's own budget before the process exits regardless. */
const LAST_WORDS_MS = 700;

export interface Cancellation {
  readonly signal: AbortSignal;
  /** The signal that cancelled the run, if any. */
  readonly received: NodeJS.Signals | undefined;
  /** Whether the run's deadline stopped it. */
  readonly expired: boolean;
  /** At clock time `at` (ms since the epoch), aborts with `reason()` and exits `graceMs` later unless the run ended. */
  expireAt(at: number, reason: () => CancelledError): void;
  /** Sets what to do at the deadline (write the report); replaces the previous callback. */
  onDeadline(fn: () => Promise<void>): void;
  /** Removes the handlers and the pending deadline once the run has ended on its own. */
  dispose(): void;
}

export interface CancellationOptions {
  readonly graceMs?: number;
  readonly exit?: (code: number) => void;
  readonly log?: (message: string) => void;
  readonly signals?: readonly NodeJS.Signals[];
}

export function watchSignals(opts: CancellationOptions = {}): Cancellation {
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const signals = opts.signals ?? (['SIGINT', 'SIGTERM'] as const);
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  let expired = false;
  let expiry: NodeJS.Timeout | undefined;
  let lastWords: () => Promise<void> = async () => undefined;
  let timer: NodeJS.Timeout | undefined;
  let finishing = false;

  const deadline = (): void => {
    if (finishing) return;
    finishing = true;
    if (timer) clearTimeout(timer);
    if (expiry) clearTimeout(expiry);
    const hard = setTimeout(() => exit(1), LAST_WORDS_MS);
    void lastWords()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(hard);
        exit(1);
      });
  };

  const onSignal = (sig: NodeJS.Signals): void => {
    if (received) {
      // A second signal (Ctrl-C twice, or the runner's SIGTERM): stop waiting.
      deadline();
      return;
    }
    received = sig;
    if (expiry) clearTimeout(expiry);
    opts.log?.(`Received ${sig}: cancelling; the report of what is done and what is still running follows.`);
    controller.abort(new CancelledError(`cancelled (${sig})`, 'cancelled'));
    timer ??= setTimeout(deadline, graceMs);
  };
  for (const s of signals) process.on(s, onSignal);

  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get expired() {
      return expired;
    },
    expireAt(at, reason) {
      if (expiry) clearTimeout(expiry);
      expiry = setTimeout(
        () => {
          if (received || controller.signal.aborted) return;
          expired = true;
          const why = reason();
          opts.log?.(`${why.message}: stopping; the report of what is done and what is still running follows.`);
          controller.abort(why);
          timer = setTimeout(deadline, graceMs);
        },
        Math.max(0, at - Date.now()),
      );
      // The run's own work keeps the process alive; this timer alone must not.
      expiry.unref();
    },
    onDeadline(fn) {
      lastWords = fn;
    },
    dispose() {
      for (const s of signals) process.off(s, onSignal);
      if (expiry) clearTimeout(expiry);
      if (timer && !finishing) clearTimeout(timer);
    },
  };
}
