import { createHttpHeaders } from '@azure/core-rest-pipeline';
import { retrySdkCall } from '../../core/azure/http-retry';
import { CancelledError } from '../../core/errors';
import { LAST_LOOK_MS, pollUntil, retry } from '../../core/retry';
import { FakeClock } from './fakes/clock';

describe('pollUntil', () => {
  it('looks a last time shortly before the deadline rather than giving up a whole interval early, or at the deadline', async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    const poll = pollUntil(
      async () => {
        seen.push(clock.now());
        return { value: clock.now() >= 5_000 };
      },
      { intervalMs: 30_000, maxIntervalMs: 30_000, deadline: 10_000, clock, done: (v) => v, what: 'the run' },
    );
    await expect(poll).resolves.toBe(true);
    expect(seen).toEqual([0, 10_000 - LAST_LOOK_MS]);
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
    // Retry-After 4 s, then the last look 5 s before the deadline; then it waits out the deadline and gives up.
    expect(seen).toEqual([0, 4_000, 5_000]);
    expect(clock.now()).toBe(10_000);
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

describe('retrySdkCall (storage, Key Vault)', () => {
  /** What an Azure SDK throws for an HTTP error: a RestError carrying the response and its headers. */
  const restError = (statusCode: number, headers: Record<string, string>): Error =>
    Object.assign(new Error(`HTTP ${statusCode}`), { statusCode, response: { headers: createHttpHeaders(headers) } });

  it("waits the service's Retry-After (seconds or retry-after-ms) instead of the backoff, capped", async () => {
    for (const [headers, waited] of [
      [{ 'retry-after': '6' }, 6_000],
      [{ 'retry-after-ms': '2500' }, 2_500],
      [{}, 1_000],
      [{ 'retry-after': '600' }, 60_000],
    ] as const) {
      const clock = new FakeClock(0);
      const at: number[] = [];
      const result = await retrySdkCall(
        'read secret',
        async () => {
          at.push(clock.now());
          if (at.length === 1) throw restError(503, headers);
          return 'ok';
        },
        { clock },
        { timeoutMs: 60_000 },
      );
      expect(result).toBe('ok');
      expect(at).toEqual([0, waited]);
    }
  });

  it('does not retry a 403, whatever it says', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const call = retrySdkCall(
      'read secret',
      () => {
        calls++;
        return Promise.reject(restError(403, { 'retry-after': '1' }));
      },
      { clock },
      { timeoutMs: 60_000 },
    );
    await expect(call).rejects.toThrow('HTTP 403');
    expect(calls).toBe(1);
  });
});

describe('retry within the run deadline', () => {
  it('never waits past the deadline: when the next try would come after it, it waits until the deadline and times out', async () => {
    const clock = new FakeClock(0);
    const tries: number[] = [];
    const op = retry(
      async () => {
        tries.push(clock.now());
        throw new Error('HTTP 500');
      },
      { attempts: 10, minDelayMs: 30_000, maxDelayMs: 30_000, clock, deadline: 45_000, retryable: () => ({ retry: true }) },
    );
    await expect(op).rejects.toMatchObject({ name: 'CancelledError', reason: 'timeout', message: 'timed out retrying after: HTTP 500' });
    expect(tries).toEqual([0, 30_000]);
    expect(clock.now()).toBe(45_000);
  });

  it('starts no attempt at or after the deadline', async () => {
    const clock = new FakeClock(50_000);
    let calls = 0;
    const op = retry(
      async () => {
        calls++;
        return 'x';
      },
      { attempts: 3, minDelayMs: 1, maxDelayMs: 1, clock, deadline: 50_000, retryable: () => ({ retry: true }) },
    );
    await expect(op).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(0);
  });
});
