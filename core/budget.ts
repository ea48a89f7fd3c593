import { type Clock, realClock } from './retry';

/**
 * The one budget of a run, built once when the step starts and handed to the services and the operation: the host's
 * cancel signal, the clock, and the deadline `timeout-minutes` after the step started. Every retry, poll and request
 * ends by the deadline.
 */
export interface RunBudget {
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Clock time at which the run times out. */
  readonly deadline: number;
}

export function runBudget(o: { readonly signal: AbortSignal; readonly timeoutMinutes: number; readonly clock?: Clock; readonly start?: number }): RunBudget {
  const clock = o.clock ?? realClock;
  return { signal: o.signal, clock, deadline: (o.start ?? clock.now()) + o.timeoutMinutes * 60_000 };
}
