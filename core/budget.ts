import { type Clock, realClock } from './retry';

/**
 * The one budget of a run, built once when the step starts and handed to the services and the operation: the host's
 * cancel signal (which the step also aborts at the deadline), the clock, the deadline `timeout-minutes` after the step
 * started, and what is in flight. Every retry, poll and request ends by the deadline.
 */
export interface RunBudget {
  /** Aborts on cancel and, in a step, at the deadline; its reason is a CancelledError. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Clock time at which the run times out. */
  readonly deadline: number;
  /** The requests in flight, so that a time-out can say what it interrupted. */
  readonly inFlight: InFlight;
}

export function runBudget(o: { readonly signal: AbortSignal; readonly timeoutMinutes: number; readonly clock?: Clock; readonly start?: number }): RunBudget {
  const clock = o.clock ?? realClock;
  return { signal: o.signal, clock, deadline: (o.start ?? clock.now()) + o.timeoutMinutes * 60_000, inFlight: new InFlight() };
}

/** One logical request (its retries included) while it is outstanding. */
export interface InFlightEntry {
  /** Adds what happened so far (e.g. "retrying after HTTP 500"). */
  note(text: string): void;
  done(): void;
}

/** The requests outstanding now, by what they do ("GET pipeline run 'x' on registry 'y'"). */
export class InFlight {
  private readonly items = new Map<number, string>();
  private next = 0;

  start(what: string): InFlightEntry {
    const id = this.next++;
    this.items.set(id, what);
    return {
      note: (text) => {
        if (this.items.has(id)) this.items.set(id, `${what} (${text})`);
      },
      done: () => void this.items.delete(id),
    };
  }

  /** Each outstanding request once, oldest first. */
  list(): string[] {
    return [...new Set(this.items.values())];
  }
}
