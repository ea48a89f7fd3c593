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

/**
 * Virtual time with timers: sleeps that overlap also overlap in time (two pollers sleeping 5 s each take 5 s, not 10).
 * When every task is waiting, time jumps to the earliest timer. For the streaming tests, where wall time is the point.
 */
export class TimerClock extends FakeClock {
  private readonly timers: { at: number; seq: number; wake: () => void }[] = [];
  private seq = 0;
  private pumping = false;

  override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortError(signal);
    this.sleeps++;
    await new Promise<void>((resolve, reject) => {
      const timer = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.pump();
    });
  }

  /** Once nothing else runs (a few turns of the event loop), wakes the earliest sleeper at its time. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const idle = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    };
    void idle().then(() => {
      this.pumping = false;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) return;
      this.t = Math.max(this.t, next.at);
      next.wake();
      if (this.timers.length > 0) this.pump();
    });
  }
}
