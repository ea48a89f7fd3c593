import { CancelledError, errorMessage } from './errors';

/** Time, injectable so that tests run without waiting. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with CancelledError when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export function abortError(signal: AbortSignal): CancelledError {
  const r: unknown = signal.reason;
  return r instanceof CancelledError ? r : new CancelledError('cancelled', 'cancelled');
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Decides whether an error is worth another try, and how long the service asked us to wait (Retry-After). */
  readonly retryable: (e: unknown) => { retry: boolean; afterMs?: number };
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  /** Absolute clock time (the run's deadline): no wait goes past it and no attempt starts after it. */
  readonly deadline?: number;
  readonly onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
}

/** The time-out of a retry or poll that reached the run's deadline. */
function pastDeadline(what: string): CancelledError {
  return new CancelledError(`timed out ${what}`, 'timeout');
}

/**
 * Sleeps `ms`, but not past `deadline`: when the wait would reach it, waits until then and throws the time-out (the
 * step aborts its signal at the deadline too; this keeps the rule where no step does, e.g. with a fake clock).
 */
async function sleepWithin(clock: Clock, ms: number, deadline: number | undefined, signal: AbortSignal | undefined, what: string): Promise<void> {
  const left = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - clock.now();
  if (left <= 0) throw pastDeadline(what);
  await clock.sleep(Math.min(ms, left), signal);
  if (ms < left) return;
  // At the deadline a step aborts the signal with what was in flight: let that richer reason win the race, briefly.
  if (signal) await clock.sleep(DEADLINE_HANDOVER_MS, signal);
  throw pastDeadline(what);
}

/** How long a wait that reached the deadline gives the step's own abort (the same instant, on another timer). */
export const DEADLINE_HANDOVER_MS = 250;

/** Bounded retry with exponential backoff; a Retry-After from the service wins, capped at maxDelayMs; never past the deadline. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const clock = o.clock ?? realClock;
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw abortError(o.signal);
    if (o.deadline !== undefined && clock.now() >= o.deadline) throw pastDeadline('before the next attempt');
    try {
      return await fn(attempt);
    } catch (e) {
      const verdict = o.retryable(e);
      if (!verdict.retry || attempt >= o.attempts || (o.signal?.aborted ?? false)) throw e;
      const backoff = Math.min(o.maxDelayMs, o.minDelayMs * 2 ** (attempt - 1));
      const delay = Math.min(o.maxDelayMs, verdict.afterMs ?? backoff);
      o.onRetry?.(e, attempt, delay);
      await sleepWithin(clock, delay, o.deadline, o.signal, `retrying after: ${errorMessage(e)}`);
    }
  }
}

export interface PollOptions<T> {
  /** First interval; grows by `factor` up to `maxIntervalMs`. A Retry-After returned by `fn` wins. */
  readonly intervalMs: number;
  readonly maxIntervalMs: number;
  readonly factor?: number;
  /** Absolute deadline (clock time); past it, CancelledError('timeout'). */
  readonly deadline?: number;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  readonly done: (value: T) => boolean;
  readonly onPoll?: (value: T) => void;
  /** Text for the time-out error. */
  readonly what: string;
  /** Wait one interval before the first call (the caller has just seen the state, e.g. in a PUT's answer). */
  readonly waitFirst?: boolean;
  /** The next interval from the last value, instead of backing off by `factor` (still capped, and a Retry-After wins). */
  readonly intervalFor?: (value: T | undefined) => number;
  /** Spreads each wait over ±jitter of itself (0.2: 80–120 %), so that pollers started together do not ask together. */
  readonly jitter?: number;
  /** Injectable for tests; default Math.random. */
  readonly random?: () => number;
}

/** How long before the deadline a poll looks for the last time. */
export const LAST_LOOK_MS = 5_000;

/** Calls `fn` until `done` says so, backing off between calls, bounded by the deadline and the signal. */
export async function pollUntil<T>(fn: () => Promise<{ value: T; retryAfterMs?: number }>, o: PollOptions<T>): Promise<T> {
  const clock = o.clock ?? realClock;
  let interval = o.intervalMs;
  const spread = (ms: number): number => (o.jitter ? ms * (1 - o.jitter + 2 * o.jitter * (o.random ?? Math.random)()) : ms);
  const pause = async (wait: number): Promise<void> => {
    // The last look comes shortly before the deadline, not a whole interval early, and not at it: there the step's
    // signal stops every request.
    const latest = o.deadline === undefined ? wait : o.deadline - LAST_LOOK_MS - clock.now();
    await sleepWithin(clock, latest > 0 ? Math.min(wait, latest) : Number.POSITIVE_INFINITY, o.deadline, o.signal, `waiting for ${o.what}`);
  };
  if (o.waitFirst) await pause(spread(Math.min(o.maxIntervalMs, o.intervalFor?.(undefined) ?? interval)));
  for (;;) {
    if (o.signal?.aborted) throw abortError(o.signal);
    if (o.deadline !== undefined && clock.now() >= o.deadline) throw pastDeadline(`waiting for ${o.what}`);
    const { value, retryAfterMs } = await fn();
    o.onPoll?.(value);
    if (o.done(value)) return value;
    const next = o.intervalFor?.(value) ?? interval;
    await pause(Math.min(o.maxIntervalMs, retryAfterMs ?? spread(next)));
    interval = Math.min(o.maxIntervalMs, interval * (o.factor ?? 1.5));
  }
}
