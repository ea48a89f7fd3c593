/**
 * Cancellation on Azure DevOps: on cancel or job time-out the agent sends SIGINT, then SIGTERM, then kills the process
 * (PROCESS_SIGINT_TIMEOUT / PROCESS_SIGTERM_TIMEOUT, ecosystem.md §3.9). The contract is to stop within 5 s and leave a
 * report: the first signal aborts the operation; `graceMs` later (or at a second signal) one last callback publishes what
 * is known and the process exits, whether or not the operation has unwound by then.
 */
import { CancelledError } from '../core/errors';

export const GRACE_MS = 4000;
/** Budget of the last callback before the process exits regardless. */
const LAST_CALLBACK_MS = 700;

export interface SignalWatch {
  readonly signal: AbortSignal;
  /** The signal that cancelled the run, if one came. */
  readonly received: NodeJS.Signals | undefined;
  /** What to do at the deadline (publish the report); the latest call wins. */
  atDeadline(fn: () => Promise<void>): void;
  /** The run ended on its own: remove the handlers and any pending deadline. */
  dispose(): void;
}

export interface SignalWatchOptions {
  readonly graceMs?: number;
  readonly exit?: (code: number) => void;
  readonly log?: (message: string) => void;
}

export function watchSignals(opts: SignalWatchOptions = {}): SignalWatch {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const controller = new AbortController();
  const signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  let received: NodeJS.Signals | undefined;
  let last: () => Promise<void> = () => Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let ending = false;

  const finish = (): void => {
    if (ending) return;
    ending = true;
    if (timer) clearTimeout(timer);
    const hard = setTimeout(() => exit(1), LAST_CALLBACK_MS);
    last()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(hard);
        exit(1);
      });
  };

  const onSignal = (sig: NodeJS.Signals): void => {
    if (received !== undefined) return finish(); // the agent's SIGTERM after SIGINT: stop waiting
    received = sig;
    opts.log?.(`Received ${sig}: cancelling; the report of what is done and what is still running follows.`);
    controller.abort(new CancelledError(`cancelled (${sig})`, 'cancelled'));
    timer = setTimeout(finish, opts.graceMs ?? GRACE_MS);
  };
  signals.forEach((s) => process.on(s, onSignal));

  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    atDeadline(fn) {
      last = fn;
    },
    dispose() {
      signals.forEach((s) => process.off(s, onSignal));
      if (timer && !ending) clearTimeout(timer);
    },
  };
}
