import { CancelledError } from './errors';

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
  readonly onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
}

/** Bounded retry with exponential backoff; a Retry-After from the service wins, capped at maxDelayMs. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const clock = o.clock ?? realClock;
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw abortError(o.signal);
    try {
      return await fn(attempt);
    } catch (e) {
      const verdict = o.retryable(e);
      if (!verdict.retry || attempt >= o.attempts || (o.signal?.aborted ?? false)) throw e;
      const backoff = Math.min(o.maxDelayMs, o.minDelayMs * 2 ** (attempt - 1));
      const delay = Math.min(o.maxDelayMs, verdict.afterMs ?? backoff);
      o.onRetry?.(e, attempt, delay);
      await clock.sleep(delay, o.signal);
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
}

/** Calls `fn` until `done` says so, backing off between calls, bounded by the deadline and the signal. */
export async function pollUntil<T>(fn: () => Promise<{ value: T; retryAfterMs?: number }>, o: PollOptions<T>): Promise<T> {
  const clock = o.clock ?? realClock;
  let interval = o.intervalMs;
  for (;;) {
    if (o.signal?.aborted) throw abortError(o.signal);
    const { value, retryAfterMs } = await fn();
    o.onPoll?.(value);
    if (o.done(value)) return value;
    const wait = Math.min(o.maxIntervalMs, retryAfterMs ?? interval);
    // Up to the deadline, not short of it: the last look comes at the deadline itself.
    const left = o.deadline === undefined ? wait : o.deadline - clock.now();
    if (left <= 0) throw new CancelledError(`timed out waiting for ${o.what}`, 'timeout');
    await clock.sleep(Math.min(wait, left), o.signal);
    interval = Math.min(o.maxIntervalMs, interval * (o.factor ?? 1.5));
  }
}
