/**
 * Watching pipeline runs until they end, per registry, at a steady pace (docs/azure-service.md#watching-runs): one loop
 * per registry looks at every run in flight there each tick (the first FIRST_LOOK_MS after it had none), with the cheaper of one GET per run or one list of the
 * registry's runs read only as far as the pages that hold them; the tick keeps each run's share of reads at
 * ≤ READS_PER_RUN_MINUTE, never comes sooner than MIN_TICK_MS, and spreads by ±JITTER. A Retry-After, or few remaining
 * subscription reads, stretch the next tick; the run budget's deadline and signal end the loop as they end pollUntil.
 */
import type { ArmApi, PipelineRunResource, ProvisioningState } from '../ports';
import type { RegistryRef } from '../settings';
import type { RunBudget } from '../budget';
import { CancelledError } from '../errors';
import { pollUntil, retry } from '../retry';
import { transient } from '../operation';

const TERMINAL: readonly ProvisioningState[] = ['Succeeded', 'Failed', 'Canceled'];

/** provisioningState decides completion, not response.status: the service shows Succeeded/Running together (docs/azure-service.md#run-completion). */
export const isTerminal = (state: ProvisioningState | undefined): boolean => state !== undefined && TERMINAL.includes(state);

/** Each run in flight costs at most this many polling reads a minute: a look every 5 s in GET mode. */
export const READS_PER_RUN_MINUTE = 12;
/** The first look once a registry has a run in flight again: short runs (and runs failing at once) end soon after. */
export const FIRST_LOOK_MS = 1_000;
/** The shortest tick, when one list page covers many runs. */
export const MIN_TICK_MS = 2_000;
/** The longest tick: when reads are scarce, or the service asks for it. */
export const MAX_TICK_MS = 30_000;
export const JITTER = 0.2;
/** Below this many remaining subscription reads (of a 250-token bucket) the ticks stretch, down to MAX_TICK_MS at 0. */
export const LOW_READS = 100;

const GET_RETRY = { attempts: 4, minDelayMs: 2_000, maxDelayMs: 30_000 };

interface Waiter {
  readonly resolve: (run: PipelineRunResource | undefined) => void;
  readonly reject: (e: unknown) => void;
  readonly onPoll: (run: PipelineRunResource) => void;
}

interface Loop {
  readonly reg: RegistryRef;
  readonly waiting: Map<string, Waiter[]>;
  running: boolean;
  /** Pages the list needed last time to show every run in flight; Infinity once it needed more than GETs would cost. */
  listPages?: number;
  lastTick: { reads: number; retryAfterMs?: number; remainingReads?: number };
}

export interface WatchOptions {
  /** For tests: the jitter's random source. */
  readonly random?: () => number;
}

export class RunWatcher {
  private readonly loops = new Map<string, Loop>();
  /** Reads made while watching, by registry name (the logs and tests read them). */
  readonly reads = new Map<string, number>();

  constructor(
    private readonly arm: ArmApi,
    private readonly budget: RunBudget,
    private readonly o: WatchOptions = {},
  ) {}

  private readonly snapshots = new Map<string, Promise<ReadonlyMap<string, PipelineRunResource> | undefined>>();

  /**
   * The run by that name, if any, before it is created: from one list of the registry's runs, read once and only when
   * it takes fewer pages than the `lookups` GETs it replaces (docs/azure-service.md#watching-runs); else one GET.
   */
  async find(reg: RegistryRef, name: string, lookups: number): Promise<PipelineRunResource | undefined> {
    const key = reg.resourceId.toLowerCase();
    let snapshot = this.snapshots.get(key);
    if (!snapshot && lookups >= 2) this.snapshots.set(key, (snapshot = this.listUpTo(reg, lookups - 1)));
    const runs = await snapshot;
    if (runs) return runs.get(name);
    this.reads.set(reg.name, (this.reads.get(reg.name) ?? 0) + 1);
    return retry(() => this.arm.getRun(reg, name), this.retryOptions());
  }

  /** Every run of the registry, or undefined when that takes more than `cap` pages (or the list fails). */
  private async listUpTo(reg: RegistryRef, cap: number): Promise<ReadonlyMap<string, PipelineRunResource> | undefined> {
    const runs = new Map<string, PipelineRunResource>();
    let next: string | undefined;
    try {
      for (let pages = 0; pages < cap; pages++) {
        this.reads.set(reg.name, (this.reads.get(reg.name) ?? 0) + 1);
        const page = await retry(() => this.arm.listRunsPage(reg, next), this.retryOptions());
        for (const r of page.runs) runs.set(r.name, r);
        next = page.next;
        if (next === undefined) return runs;
      }
    } catch {
      return undefined;
    }
    return undefined;
  }

  private retryOptions(): Parameters<typeof retry>[1] {
    return { ...GET_RETRY, retryable: transient, clock: this.budget.clock, signal: this.budget.signal, deadline: this.budget.deadline };
  }

  /** Resolves with the run once it is terminal (undefined if it disappeared); rejects at the deadline or on cancel. */
  wait(reg: RegistryRef, name: string, onPoll: (run: PipelineRunResource) => void): Promise<PipelineRunResource | undefined> {
    const key = reg.resourceId.toLowerCase();
    let loop = this.loops.get(key);
    if (!loop) this.loops.set(key, (loop = { reg, waiting: new Map(), running: false, lastTick: { reads: 0 } }));
    const l = loop;
    return new Promise((resolve, reject) => {
      l.waiting.set(name, [...(l.waiting.get(name) ?? []), { resolve, reject, onPoll }]);
      if (!l.running) this.start(l);
    });
  }

  private start(l: Loop): void {
    l.running = true;
    const what = (): string => `pipeline runs ${[...l.waiting.keys()].map((n) => `'${n}'`).join(', ')} on registry '${l.reg.name}'`;
    pollUntil(
      async () => {
        await this.tick(l);
        // A Retry-After is a floor of the next tick (interval), never a reason to look sooner.
        return { value: l.waiting.size === 0 };
      },
      {
        intervalMs: MIN_TICK_MS,
        maxIntervalMs: MAX_TICK_MS,
        intervalFor: (empty) => (empty === undefined ? FIRST_LOOK_MS : this.interval(l)),
        jitter: JITTER,
        waitFirst: true,
        ...(this.o.random ? { random: this.o.random } : {}),
        deadline: this.budget.deadline,
        clock: this.budget.clock,
        signal: this.budget.signal,
        done: (empty) => empty,
        what: what(),
      },
    ).then(
      () => {
        l.running = false;
        // A run added after the last tick ended the loop: watch it with a new one.
        if (l.waiting.size > 0) this.start(l);
      },
      (e: unknown) => {
        l.running = false;
        // The time-out names the runs it stopped waiting for, those that joined the loop after it started too.
        const err = e instanceof CancelledError && e.reason === 'timeout' ? new CancelledError(`timed out waiting for ${what()}`, 'timeout', e.inFlight) : e;
        const all = [...l.waiting.values()].flat();
        l.waiting.clear();
        for (const w of all) w.reject(err);
      },
    );
  }

  /** The next tick: the runs' share of reads, stretched by a low remaining-reads budget; a Retry-After is a floor. */
  private interval(l: Loop): number {
    const runs = Math.max(1, l.waiting.size);
    const { reads, remainingReads, retryAfterMs } = l.lastTick;
    let ms = Math.max(MIN_TICK_MS, (60_000 * Math.max(1, reads)) / (READS_PER_RUN_MINUTE * runs));
    if (remainingReads !== undefined && remainingReads < LOW_READS) ms = Math.max(ms, MAX_TICK_MS * (1 - remainingReads / LOW_READS));
    return Math.min(MAX_TICK_MS, Math.max(ms, retryAfterMs ?? 0));
  }

  private async tick(l: Loop): Promise<void> {
    l.lastTick = { reads: 0 };
    const wanted = new Set(l.waiting.keys());
    if (wanted.size >= 2 && (l.listPages ?? 0) < wanted.size) await this.listTick(l, wanted);
    // What the list did not show (or a lone run): one GET each.
    await Promise.all([...wanted].map((name) => this.getTick(l, name)));
  }

  /** Reads pages until every wanted run was seen, at most one page fewer than the GETs it replaces. */
  private async listTick(l: Loop, wanted: Set<string>): Promise<void> {
    const cap = wanted.size - 1;
    let next: string | undefined;
    let pages = 0;
    try {
      do {
        const page = await this.read(l, () => this.arm.listRunsPage(l.reg, next));
        pages++;
        this.note(l, page);
        for (const run of page.runs) {
          if (!wanted.has(run.name)) continue;
          wanted.delete(run.name);
          this.seen(l, run.name, run);
        }
        next = page.next;
      } while (wanted.size > 0 && next !== undefined && pages < cap);
    } catch {
      // A list this identity may not read, or one that fails: GETs from now on.
      l.listPages = Number.POSITIVE_INFINITY;
      return;
    }
    l.listPages = wanted.size === 0 || next === undefined ? pages : Number.POSITIVE_INFINITY;
  }

  private async getTick(l: Loop, name: string): Promise<void> {
    try {
      const run = await this.read(l, () => this.arm.getRun(l.reg, name));
      if (run) this.note(l, run);
      this.seen(l, name, run);
    } catch (e) {
      const waiters = l.waiting.get(name) ?? [];
      l.waiting.delete(name);
      for (const w of waiters) w.reject(e);
    }
  }

  private read<T>(l: Loop, fn: () => Promise<T>): Promise<T> {
    l.lastTick.reads++;
    this.reads.set(l.reg.name, (this.reads.get(l.reg.name) ?? 0) + 1);
    return retry(fn, this.retryOptions());
  }

  private note(l: Loop, r: { readonly retryAfterMs?: number; readonly remainingReads?: number }): void {
    const t = l.lastTick;
    if (r.retryAfterMs !== undefined) t.retryAfterMs = Math.max(t.retryAfterMs ?? 0, r.retryAfterMs);
    if (r.remainingReads !== undefined) t.remainingReads = Math.min(t.remainingReads ?? Number.POSITIVE_INFINITY, r.remainingReads);
  }

  private seen(l: Loop, name: string, run: PipelineRunResource | undefined): void {
    const waiters = l.waiting.get(name) ?? [];
    if (run) for (const w of waiters) w.onPoll(run);
    if (run !== undefined && !isTerminal(run.provisioningState)) return;
    l.waiting.delete(name);
    for (const w of waiters) w.resolve(run);
  }
}
