import { abortError, type Clock } from '../../../core/retry';

/** Virtual time: sleep advances the clock at once and yields, so parallel pollers interleave without waiting. */
export class FakeClock implements Clock {
  sleeps = 0;

  constructor(public t = Date.parse('2026-03-01T00:00:00Z')) {}

  now(): number {
    return this.t;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError(signal);
    this.sleeps++;
    this.t += ms;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw abortError(signal);
  }

  iso(): string {
    return new Date(this.t).toISOString();
  }
}
