import { CancelledError } from '../../core/errors';
import { pollUntil, retry } from '../../core/retry';
import { FakeClock } from './fakes/clock';

describe('pollUntil', () => {
  it('looks a last time at the deadline rather than giving up a whole interval early', async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    const poll = pollUntil(
      async () => {
        seen.push(clock.now());
        return { value: clock.now() >= 10_000 };
      },
      { intervalMs: 30_000, maxIntervalMs: 30_000, deadline: 10_000, clock, done: (v) => v, what: 'the run' },
    );
    await expect(poll).resolves.toBe(true);
    expect(seen).toEqual([0, 10_000]);
  });

  it('times out after that last look, and honours Retry-After below the interval cap', async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    const poll = pollUntil(
      async () => {
        seen.push(clock.now());
        return { value: false, retryAfterMs: 4_000 };
      },
      { intervalMs: 1_000, maxIntervalMs: 30_000, deadline: 10_000, clock, done: (v) => v, what: 'the run' },
    );
    await expect(poll).rejects.toEqual(new CancelledError('timed out waiting for the run', 'timeout'));
    expect(seen).toEqual([0, 4_000, 8_000, 10_000]);
  });
});

describe('retry', () => {
  it('stops after the bounded attempts, waiting what the service asked (capped)', async () => {
    const clock = new FakeClock(0);
    const waits: number[] = [];
    let calls = 0;
    const op = retry(
      async () => {
        calls++;
        throw new Error('busy');
      },
      { attempts: 3, minDelayMs: 1_000, maxDelayMs: 5_000, clock, retryable: () => ({ retry: true, afterMs: 9_000 }), onRetry: (_e, _a, d) => waits.push(d) },
    );
    await expect(op).rejects.toThrow('busy');
    expect(calls).toBe(3);
    expect(waits).toEqual([5_000, 5_000]);
  });
});
