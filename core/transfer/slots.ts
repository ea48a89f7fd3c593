/**
 * Run slots, counted per registry: at most `limit` pipeline runs in flight on one registry at once. A transfer's export
 * runs live on the source registry and its import runs on the target, so each side has its own `max-parallel-runs`
 * (docs/interface.md#how-a-transfer-flows); a transfer within one registry shares them. A freed slot goes to the
 * waiting stage of the lowest batch first, so that batches finish in order and early ones are done soonest.
 */
import { abortError } from '../retry';

interface Waiter {
  readonly priority: number;
  readonly seq: number;
  readonly grant: () => void;
}

interface Registry {
  busy: number;
  readonly queue: Waiter[];
}

export class Slots {
  private readonly registries = new Map<string, Registry>();
  private seq = 0;

  constructor(readonly limit: number) {}

  /** Runs in flight on a registry now (for tests and logs). */
  busy(registry: string): number {
    return this.registries.get(registry.toLowerCase())?.busy ?? 0;
  }

  /**
   * Holds one of `registry`'s slots while `fn` runs. Waiters with a lower `priority` (the batch number) go first, equal
   * ones in arrival order. An abort of `signal` while waiting rejects with the step's CancelledError.
   */
  async use<T>(registry: string, priority: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const key = registry.toLowerCase();
    let r = this.registries.get(key);
    if (!r) this.registries.set(key, (r = { busy: 0, queue: [] }));
    await this.acquire(r, priority, signal);
    try {
      return await fn();
    } finally {
      r.busy--;
      this.next(r);
    }
  }

  private acquire(r: Registry, priority: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (r.busy < this.limit && r.queue.length === 0) {
      r.busy++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = r.queue.indexOf(waiter);
        if (i >= 0) r.queue.splice(i, 1);
        reject(abortError(signal!));
      };
      const waiter: Waiter = {
        priority,
        seq: this.seq++,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      r.queue.push(waiter);
      r.queue.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private next(r: Registry): void {
    while (r.busy < this.limit && r.queue.length > 0) {
      r.busy++;
      r.queue.shift()!.grant();
    }
  }
}
