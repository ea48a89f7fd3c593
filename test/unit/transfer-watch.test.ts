import { runBudget } from '../../core/budget';
import { CancelledError } from '../../core/errors';
import type { PipelineRunResource } from '../../core/ports';
import { DEADLINE_HANDOVER_MS } from '../../core/retry';
import { FIRST_LOOK_MS, MAX_TICK_MS, READS_PER_RUN_MINUTE, RunWatcher } from '../../core/transfer/watch';
import { makeWorld, type World } from './fakes/world';

/** Starts runs on the source registry (they end `ms` after they start) and watches them to their end. */
async function watch(w: World, names: readonly string[], ms: number, timeoutMinutes = 60) {
  w.arm.behaviour = () => ({ ms });
  const started = w.clock.now();
  for (const name of names) await w.arm.putRun(w.source, name, { pipelineResourceId: 'p', kind: 'import', blobName: name });
  const before = w.arm.reads.gets + w.arm.reads.pages;
  const watcher = new RunWatcher(w.arm, runBudget({ signal: w.controller.signal, timeoutMinutes, clock: w.clock }), { random: () => 0.5 });
  const seen = new Map<string, number>();
  const ticks: number[] = [];
  const runs = await Promise.all(
    names.map((n) =>
      watcher.wait(w.source, n, (r: PipelineRunResource) => {
        if (!ticks.includes(w.clock.now())) ticks.push(w.clock.now());
        if (r.finishTime !== undefined && !seen.has(n)) seen.set(n, w.clock.now());
      }),
    ),
  );
  const reads = w.arm.reads.gets + w.arm.reads.pages - before;
  const runMinutes = (names.length * ms) / 60_000;
  // How long after its (virtual) end each run was seen to have ended.
  const delays = names.map((n) => seen.get(n)! - (started + ms));
  return { runs, reads, perRunMinute: reads / runMinutes, delays, ticks };
}

describe('watching runs', () => {
  it('five runs in flight: one list page a tick covers them all, far under the read budget, and notices each end within a tick', async () => {
    const w = makeWorld({ timers: true });
    const r = await watch(w, ['r1', 'r2', 'r3', 'r4', 'r5'], 90_000);
    expect(r.runs.every((x) => x?.provisioningState === 'Failed' || x?.provisioningState === 'Succeeded')).toBe(true);
    expect(w.arm.reads.gets).toBe(0);
    expect(r.perRunMinute).toBeLessThanOrEqual(READS_PER_RUN_MINUTE);
    expect(Math.max(...r.delays)).toBeLessThanOrEqual(2_000);
  });

  it('a lone run: a first look after 1 s, then a GET every 5 s (jittered), whatever its length', async () => {
    for (const ms of [10_000, 90_000, 600_000]) {
      const w = makeWorld({ timers: true });
      const r = await watch(w, ['solo'], ms);
      expect(w.arm.reads.pages).toBe(0);
      // The steady pace, and the first look.
      expect(r.reads).toBeLessThanOrEqual(Math.ceil((READS_PER_RUN_MINUTE * ms) / 60_000) + 1);
      expect(r.delays[0]).toBeLessThanOrEqual(5_000);
      const gaps = r.ticks.slice(1).map((t, i) => t - r.ticks[i]!);
      expect(new Set(gaps)).toEqual(new Set([5_000]));
      // The first look comes a second after the run started: a short run ends soon after it.
      expect(r.ticks[0]! - Date.parse('2026-03-01T00:00:00Z')).toBe(FIRST_LOOK_MS);
    }
  });

  it('a long history: the list is read no further than the GETs it replaces, then GETs', async () => {
    const w = makeWorld({ timers: true });
    w.arm.pageSize = 2;
    w.arm.behaviour = () => ({ polls: 1 });
    for (let i = 0; i < 30; i++) await w.arm.putRun(w.source, `old${i}`, { pipelineResourceId: 'p', kind: 'import', blobName: `old${i}` });
    for (let i = 0; i < 30; i++) await w.arm.getRun(w.source, `old${i}`);
    w.arm.reads.gets = 0;
    const r = await watch(w, ['n1', 'n2', 'n3', 'n4'], 60_000);
    // One try of at most three pages (one fewer than the four GETs), then GETs only.
    expect(w.arm.reads.pages).toBe(3);
    expect(r.reads).toBeLessThanOrEqual(4 * r.ticks.length + 3);
    expect(r.perRunMinute).toBeLessThanOrEqual(READS_PER_RUN_MINUTE + 2);
  });

  it('few remaining subscription reads stretch the ticks, up to 30 s', async () => {
    const w = makeWorld({ timers: true });
    w.arm.remainingReads = 10;
    const r = await watch(w, ['slow'], 300_000);
    const gaps = r.ticks.slice(1).map((t, i) => t - r.ticks[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0.9 * MAX_TICK_MS * 0.9);
    expect(r.reads).toBeLessThanOrEqual(13);
  });

  it("waits at least a response's Retry-After before the next look", async () => {
    const w = makeWorld({ timers: true });
    const real = w.arm.getRun.bind(w.arm);
    w.arm.getRun = async (reg, name) => {
      const run = await real(reg, name);
      return run ? { ...run, retryAfterMs: 20_000 } : run;
    };
    const r = await watch(w, ['busy'], 100_000);
    const gaps = r.ticks.slice(1).map((t, i) => t - r.ticks[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20_000);
  });

  it("ends at the run budget's deadline with the time-out, naming the runs", async () => {
    const w = makeWorld({ timers: true });
    await expect(watch(w, ['late1', 'late2'], 3_600_000, 1)).rejects.toEqual(
      new CancelledError("timed out waiting for pipeline runs 'late1', 'late2' on registry 'srcreg'", 'timeout'),
    );
    // At the deadline, and no later than the moment it hands over to a step's own abort (core/retry.ts).
    expect(w.clock.now() - Date.parse('2026-03-01T00:00:00Z')).toBeLessThanOrEqual(60_000 + DEADLINE_HANDOVER_MS);
  });

  it('looks runs up before creating them with one list when it is cheaper than the GETs, else GETs', async () => {
    const w = makeWorld({ timers: true });
    w.arm.behaviour = () => ({ polls: 1 });
    await w.arm.putRun(w.source, 'old', { pipelineResourceId: 'p', kind: 'import', blobName: 'old' });
    const watcher = new RunWatcher(w.arm, runBudget({ signal: w.controller.signal, timeoutMinutes: 60, clock: w.clock }));
    // Five lookups on a registry whose runs fit on one page: one read for all of them.
    const found = await Promise.all(['old', 'a', 'b', 'c', 'd'].map((n) => watcher.find(w.source, n, 5)));
    expect(found.map((r) => r?.name)).toEqual(['old', undefined, undefined, undefined, undefined]);
    expect(w.arm.reads).toEqual({ gets: 0, pages: 1 });
    // A long history (more pages than lookups less one): GETs.
    w.arm.pageSize = 1;
    for (let i = 0; i < 5; i++) await w.arm.putRun(w.target, `t${i}`, { pipelineResourceId: 'p', kind: 'import', blobName: `t${i}` });
    const onTarget = await Promise.all(['t4', 'x'].map((n) => watcher.find(w.target, n, 2)));
    expect(onTarget.map((r) => r?.name)).toEqual(['t4', undefined]);
    expect(w.arm.reads).toEqual({ gets: 2, pages: 2 });
  });
});
