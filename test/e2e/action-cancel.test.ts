/**
 * Cancellation as the runner does it (SIGINT; SIGTERM 7.5 s later; SIGKILL at 10 s), mid-transfer. The step must
 * stop within 5 s with a report, and a re-run with the same inputs must resume: every artifact imported exactly once,
 * one blob and one run per batch, no run created twice. Two moments: while the import runs are running on the
 * service (the action is polling), and while their PUTs are in flight (held by a `delay` fault).
 */
import type { SeededImage } from '../local-azure/seed';
import {
  type ActionFixture,
  blobsIn,
  control,
  createActionFixture,
  expectNoSecrets,
  jsonOutput,
  requestsSince,
  runsOf,
  seed,
  stepInputs,
  targetDigest,
} from './support/action-fixture';
import { describeRun, nodeBinaries, runAction } from './support/action-runner';

jest.setTimeout(300_000);

const node = nodeBinaries().at(-1)!;
let f: ActionFixture;

beforeAll(async () => {
  f = await createActionFixture('cx');
});

interface Scenario {
  /** Blob base name, also in the run names (exp<base>…, imp<base>…). */
  readonly base: string;
  readonly images: readonly SeededImage[];
  /** Set up before the first attempt. */
  readonly before?: () => Promise<void>;
  readonly interrupt: { whenLine: RegExp; thenWaitMs?: number };
  /** Between the attempts. */
  readonly pauseMs?: number;
}

/** Runs the interrupted attempt and the re-run; checks both and the service's state. Returns the first attempt's report. */
async function cancelAndResume(sc: Scenario): Promise<void> {
  const { base, images } = sc;
  const inputs = stepInputs(f, 'transfer', {
    artifacts: images.map((i) => i.ref).join('\n'),
    'blob-name': base,
    'max-artifacts-per-run': '3',
    'max-parallel-runs': '2',
    // Each scenario has its own pipelines, so the service-side counts below are per scenario.
    'export-pipeline': `exp${base}`,
    'import-pipeline': `imp${base}`,
  });
  const g: ActionFixture = { ...f, exportPipeline: `exp${base}`, importPipeline: `imp${base}` };
  await sc.before?.();
  const started = Date.now();
  const first = await runAction({ node: node.path, inputs, interrupt: sc.interrupt });
  expect({ signals: first.signalsSent.map((s) => s.signal), log: first.exitCode === 1 ? '' : describeRun(first) }).toEqual({ signals: ['SIGINT'], log: '' });
  expect(first.exitAfterSignalMs).toBeLessThan(5000);
  expect(first.report?.outcome).toBe('cancelled');
  expect(first.errors.at(-1)?.message).toMatch(/cancel/i);
  expect(first.summary).toContain('cancelled');
  expect(first.outputs['report-path']).toBeDefined();
  // The report says which import runs did not finish.
  expect(first.report?.runs.filter((r) => r.kind === 'import').map((r) => r.status)).toEqual([
    expect.stringMatching(/^(cancelled|running)$/),
    expect.stringMatching(/^(cancelled|running)$/),
  ]);
  expectNoSecrets(first, f);

  if (sc.pauseMs) await new Promise((r) => setTimeout(r, sc.pauseMs));
  const second = await runAction({ node: node.path, inputs });
  expect({ exit: second.exitCode, log: second.exitCode === 0 ? '' : describeRun(second) }).toEqual({ exit: 0, log: '' });
  expect(second.report?.outcome).toBe('succeeded');
  expect(jsonOutput<string[]>(second, 'imported-artifacts').sort()).toEqual(images.map((i) => `${i.ref}@${i.digest}`).sort());
  // The export runs of the first attempt were reused, not repeated.
  expect(
    jsonOutput<{ kind: string; status: string }[]>(second, 'runs')
      .filter((r) => r.kind === 'export')
      .map((r) => r.status),
  ).toEqual(['reused', 'reused']);
  expectNoSecrets(second, f);

  // The service's side: one export and one import run per batch, one blob per batch in each container.
  const exportRuns = await runsOf(g, 'source');
  const importRuns = await runsOf(g, 'target');
  expect(exportRuns).toHaveLength(2);
  expect(importRuns).toHaveLength(2);
  const blobs = await Promise.all([blobsIn(f.exportStorage), blobsIn(f.importStorage)]);
  for (const names of blobs) expect(names.filter((n) => n.startsWith(`${base}-`))).toEqual([`${base}-1`, `${base}-2`]);

  // Every artifact imported exactly once; each run created by exactly one PUT the service handled (no forceUpdateTag re-run).
  const imported = importRuns.flatMap((r) => r.properties.response?.importedArtifacts ?? []);
  expect([...imported].sort()).toEqual(images.map((i) => i.ref).sort());
  expect(importRuns.every((r) => r.properties.provisioningState === 'Succeeded')).toBe(true);
  const puts = (await requestsSince(f.env, started, [`/pipelineRuns/exp${base}`, `/pipelineRuns/imp${base}`])).filter(
    (e) => e.method === 'PUT' && e.status !== 0,
  );
  const perRun = new Map<string, number>();
  for (const p of puts) {
    const name = p.path.split('?')[0]!.split('/').pop()!;
    perRun.set(name, (perRun.get(name) ?? 0) + 1);
  }
  expect(Object.fromEntries(perRun)).toEqual(Object.fromEntries([...exportRuns, ...importRuns].map((r) => [r.name, 1])));
  for (const i of images) expect(await targetDigest(f, i.ref)).toBe(i.digest);
  first.cleanup();
  second.cleanup();
}

it(`SIGINT while the import runs are running on the service (${node.label})`, async () => {
  const base = `run${f.u}`;
  const images = await seed(
    f,
    ['a', 'b', 'c', 'd', 'e', 'f'].map((t) => ({ repo: `act${f.u}/running`, tag: t })),
  );
  // The first progress line of an import run comes right after its PUT: the run exists, the action is polling it.
  await cancelAndResume({ base, images, interrupt: { whenLine: /^import run '[^']+' \(blob [^)]+\): (Creating|Running)/ } });
});

it(`SIGINT while the import runs' PUTs are in flight (${node.label})`, async () => {
  const base = `put${f.u}`;
  const images = await seed(
    f,
    ['a', 'b', 'c', 'd', 'e', 'f'].map((t) => ({ repo: `act${f.u}/inflight`, tag: t })),
  );
  await cancelAndResume({
    base,
    images,
    // Both import runs' PUTs are held 3 s before ARM handles them; the signal comes 1 s into that.
    before: async () => {
      const fault = { service: 'arm', method: 'PUT', path: `/pipelineRuns/imp${base}`, kind: 'delay', delayMs: 3000, count: 2 };
      expect((await control(f.env, 'POST', '/faults', fault)).status).toBe(200);
    },
    interrupt: { whenLine: /^batch \d+ \(.*\): import starts/, thenWaitMs: 1000 },
    // Let the held PUTs reach ARM before the re-run.
    pauseMs: 4000,
  });
});
