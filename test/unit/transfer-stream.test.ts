import { runOperation } from '../../core/run';
import type { TransferReport } from '../../core/report';
import { Slots } from '../../core/transfer/slots';
import { makeWorld, type World } from './fakes/world';

const RUN_MS = 30_000;

/** Eight batches of one artifact each, 30 s runs on virtual time. */
function world(): World {
  const w = makeWorld({ timers: true });
  for (let i = 1; i <= 8; i++) w.src.push('app', `v${i}`);
  return w;
}

const transfer = (w: World, extra: Record<string, string> = {}) =>
  w.settings({ operation: 'transfer', artifacts: 'app:*', 'max-artifacts-per-run': '1', 'max-parallel-runs': '4', 'blob-name': 'st', ...extra });

/** When each batch's stage started and ended, in ms from the report's start. */
function stages(r: TransferReport): Map<string, { start: number; end: number }> {
  const t0 = Date.parse(r.startTime);
  return new Map((r.timeline ?? []).map((s) => [`${s.stage}${s.batch}`, { start: Date.parse(s.startTime) - t0, end: Date.parse(s.finishTime) - t0 }]));
}

/** The most runs in flight at once on each registry, from the fake's starts and the ends it showed. */
function peaks(w: World): Record<string, number> {
  const now = new Map<string, number>();
  const peak: Record<string, number> = {};
  for (const e of [...w.arm.events].sort((a, b) => a.at - b.at || (a.what === 'end' ? -1 : 1))) {
    const n = (now.get(e.registry) ?? 0) + (e.what === 'start' ? 1 : -1);
    now.set(e.registry, n);
    peak[e.registry] = Math.max(peak[e.registry] ?? 0, n);
  }
  return peak;
}

describe('streaming transfer (virtual time)', () => {
  it("starts a batch's import as soon as its export ended, while later batches still export", async () => {
    const w = world();
    w.arm.behaviour = () => ({ ms: RUN_MS });
    const report = await runOperation(transfer(w), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(report.artifacts.filter((a) => a.result === 'verified')).toHaveLength(8);
    const s = stages(report);
    // Batch 1's import starts before batch 5's export (the second wave) ends, and before batch 3's export ends plus a run.
    expect(s.get('import1')!.start).toBeLessThan(s.get('export5')!.end);
    expect(s.get('import1')!.start).toBeLessThan(s.get('export3')!.end + RUN_MS);
    for (let b = 1; b <= 8; b++) {
      const order = ['export', 'copy', 'import', 'verify'].map((st) => s.get(`${st}${b}`)!);
      order.slice(1).forEach((next, i) => expect(next.start).toBeGreaterThanOrEqual(order[i]!.end));
    }
    // Two waves of exports, the last imports after them: close to (2 + 1) × 30 s, far from the staged 4 × 30 s.
    const wall = Date.parse(report.finishTime) - Date.parse(report.startTime);
    expect(wall).toBeGreaterThanOrEqual(3 * RUN_MS);
    expect(wall).toBeLessThan(3 * RUN_MS + 20_000);
  });

  it('never has more than max-parallel-runs in flight on a registry, and the source and target count apart', async () => {
    const w = world();
    w.arm.behaviour = () => ({ ms: RUN_MS });
    await runOperation(transfer(w, { 'max-parallel-runs': '3' }), w.host, w.services);
    expect(peaks(w)).toEqual({ srcreg: 3, dstreg: 3 });
    // Exports and imports overlapped: both registries busy at once.
    expect(w.arm.maxInFlight).toBeGreaterThan(3);
  });

  it('gives a freed slot to the lowest batch waiting, then in arrival order', async () => {
    const slots = new Slots(1);
    const order: string[] = [];
    let release!: () => void;
    const first = slots.use('reg', 5, () => new Promise<void>((r) => (release = r)));
    const waiting = [
      slots.use('REG', 3, async () => void order.push('b3')),
      slots.use('reg', 1, async () => void order.push('b1 first')),
      slots.use('reg', 1, async () => void order.push('b1 second')),
      slots.use('other', 9, async () => void order.push('other registry')),
    ];
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['other registry']);
    expect(slots.busy('reg')).toBe(1);
    release();
    await Promise.all([first, ...waiting]);
    expect(order).toEqual(['other registry', 'b1 first', 'b1 second', 'b3']);
    expect(slots.busy('reg')).toBe(0);
  });

  it('with ContinueOnErrors a failed batch stalls no other: the rest go through at full speed', async () => {
    const w = world();
    w.arm.behaviour = ({ spec }) =>
      spec.kind === 'export' && spec.blobName === 'st-2' ? { ms: 5_000, fail: 'Artifact app:v2 was not found' } : { ms: RUN_MS };
    const report = await runOperation(transfer(w, { 'export-options': 'ContinueOnErrors' }), w.host, w.services);
    expect(report.outcome).toBe('partial');
    expect(report.artifacts.filter((a) => a.result === 'failed').map((a) => a.artifact)).toEqual(['app:v2']);
    expect(report.artifacts.filter((a) => a.result === 'verified')).toHaveLength(7);
    // Batch 2's slot went to batch 5 at once: the second wave of exports did not wait for the first to end.
    const s = stages(report);
    expect(s.get('export5')!.start).toBeLessThan(s.get('export1')!.end);
    expect(s.has('import2')).toBe(false);
  });

  it('without ContinueOnErrors no new stage starts after a failure; the stages in flight finish and are reported', async () => {
    const w = world();
    w.arm.behaviour = ({ spec }) =>
      spec.kind === 'export' && spec.blobName === 'st-2' ? { ms: 5_000, fail: 'Artifact app:v2 was not found' } : { ms: RUN_MS };
    const report = await runOperation(transfer(w), w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(report.error).toContain("artifact 'app:v2' failed: Artifact app:v2 was not found");
    // Batches 1, 3 and 4 were exporting: they end exported; nothing started after batch 2 failed.
    const failedAt = w.arm.events.find((e) => e.name.includes('st2') && e.what === 'end')!.at;
    expect(w.arm.events.filter((e) => e.what === 'start' && e.at > failedAt)).toEqual([]);
    expect(report.runs.map((r) => [r.blob, r.kind, r.status])).toEqual([
      ['st-1', 'export', 'succeeded'],
      ['st-2', 'export', 'failed'],
      ['st-3', 'export', 'succeeded'],
      ['st-4', 'export', 'succeeded'],
    ]);
    const result = (v: string): string | undefined => report.artifacts.find((a) => a.artifact === `app:${v}`)?.result;
    expect(['v1', 'v3', 'v4'].map(result)).toEqual(['exported', 'exported', 'exported']);
    expect(['v5', 'v6', 'v7', 'v8'].map(result)).toEqual(['pending', 'pending', 'pending', 'pending']);
    expect(w.arm.runPuts.filter((p) => p.spec.kind === 'import')).toEqual([]);
  });

  it('a re-run after the failure resumes: the exported batches are reused, the rest stream through', async () => {
    const w = world();
    let failing = true;
    w.arm.behaviour = ({ spec }) => (failing && spec.blobName === 'st-2' ? { ms: 5_000, fail: 'transient' } : { ms: RUN_MS });
    await runOperation(transfer(w), w.host, w.services);
    failing = false;
    const puts = w.arm.runPuts.length;
    const again = await runOperation(transfer(w), w.host, w.services);
    expect(again.outcome).toBe('succeeded');
    expect(again.runs.filter((r) => r.kind === 'export' && r.status === 'reused').map((r) => r.blob)).toEqual(['st-1', 'st-3', 'st-4']);
    // Batch 2 again, batches 5–8, and eight imports.
    expect(w.arm.runPuts.length - puts).toBe(1 + 4 + 8);
  });

  it('an error outside the runs (a blob store failing) fails its batch in one line, and the report still has every batch', async () => {
    const w = world();
    w.arm.behaviour = () => ({ ms: RUN_MS });
    const real = w.blobs.setBlobMetadata.bind(w.blobs);
    w.blobs.setBlobMetadata = (container, blob, metadata) =>
      blob === 'st-3' ? Promise.reject(new Error('storage said 500 InternalError')) : real(container, blob, metadata);
    const report = await runOperation(transfer(w, { 'export-options': 'ContinueOnErrors', 'import-options': 'ContinueOnErrors' }), w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(report.error).toBe("batch 3 (blob 'st-3') failed: storage said 500 InternalError");
    expect(report.artifacts.find((a) => a.artifact === 'app:v3')).toMatchObject({ result: 'failed', reason: 'storage said 500 InternalError' });
    // The batches in flight ended exported and reported; nothing new started after the error.
    expect(report.artifacts.filter((a) => a.result === 'exported').map((a) => a.artifact)).toEqual(['app:v1', 'app:v2', 'app:v4']);
    expect(report.artifacts.filter((a) => a.result === 'pending')).toHaveLength(4);
    expect(report.runs.filter((r) => r.kind === 'export')).toHaveLength(4);
  });
});
