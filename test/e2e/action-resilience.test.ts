/**
 * Resilience through the bundled action: a transfer whose run records were deleted (cleanup, a restarted service)
 * resumes from the blobs this tool stamped; a foreign blob under the deterministic name fails its batch in one line
 * with the fix; and the emulator restarted mid-transfer (as a service restart) loses nothing: its ARM and Key Vault
 * state is on disk, runs in progress carry on, and every artifact ends verified (docs/interface.md#resuming-without-run-records,
 * docs/local-azure.md#state-on-disk).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { SeededImage } from '../local-azure/seed';
import {
  type ActionFixture,
  containerUri,
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
import { API, arm, containerClient } from './support/local-azure';

jest.setTimeout(300_000);

const node = nodeBinaries().at(-1)!;
const CLI = path.join(__dirname, '..', 'local-azure', 'cli.ts');
let f: ActionFixture;

beforeAll(async () => {
  f = await createActionFixture('rs');
});

afterAll(async () => {
  await control(f.env, 'POST', '/reset');
});

/** Inputs of a transfer of `images` in batches of 2, with pipelines of its own (so that run counts are per scenario). */
function transferOf(base: string, images: readonly SeededImage[], extra: Record<string, string> = {}): Record<string, string> {
  return stepInputs(f, 'transfer', {
    artifacts: images.map((i) => i.ref).join('\n'),
    'blob-name': base,
    'max-artifacts-per-run': '2',
    'max-parallel-runs': '2',
    'export-pipeline': `exp${base}`,
    'import-pipeline': `imp${base}`,
    ...extra,
  });
}

const scenario = (base: string): ActionFixture => ({ ...f, exportPipeline: `exp${base}`, importPipeline: `imp${base}` });

async function allVerified(images: readonly SeededImage[]): Promise<void> {
  for (const i of images) expect([i.ref, await targetDigest(f, i.ref)]).toEqual([i.ref, i.digest]);
}

it(`resumes a transfer whose run records were deleted: no new run, every artifact verified (${node.label})`, async () => {
  const base = `rr${f.u}`;
  const images = await seed(
    f,
    [1, 2, 3, 4, 5].map((n) => ({ repo: `res${f.u}/app`, tag: `v${n}` })),
  );
  const inputs = transferOf(base, images);
  const first = await runAction({ node: node.path, inputs });
  expect({ exit: first.exitCode, log: first.exitCode === 0 ? '' : describeRun(first) }).toEqual({ exit: 0, log: '' });

  // Each export blob now carries its batch's stamp, beside the service's own category.
  for await (const b of containerClient(f.exportStorage).listBlobsFlat({ includeMetadata: true, prefix: base }))
    expect(b.metadata).toEqual({ category: 'acr-transfer-blob', acrtransfer_set: expect.stringMatching(/^[0-9a-f]{32}$/) });

  // Cleanup as `cleanup` does it: ARM DELETE of every run, on both registries.
  const g = scenario(base);
  for (const side of ['source', 'target'] as const) {
    const runs = await runsOf(g, side);
    expect(runs).toHaveLength(3);
    for (const r of runs)
      expect((await arm(f.env, 'DELETE', `${f.env.registries[side].resourceId}/pipelineRuns/${r.name}?api-version=${API}`)).status).toBe(200);
    expect(await runsOf(g, side)).toEqual([]);
  }

  const started = Date.now();
  const again = await runAction({ node: node.path, inputs });
  expect({ exit: again.exitCode, log: again.exitCode === 0 ? '' : describeRun(again) }).toEqual({ exit: 0, log: '' });
  expect(again.report?.outcome).toBe('succeeded');
  expect((await requestsSince(f.env, started, ['/pipelineRuns/'])).filter((e) => e.method === 'PUT')).toEqual([]);
  expect(jsonOutput<{ kind: string; status: string }[]>(again, 'runs').map((r) => `${r.kind} ${r.status}`)).toEqual([
    ...Array<string>(3).fill('export reused'),
    ...Array<string>(3).fill('import reused'),
  ]);
  expect(jsonOutput<string[]>(again, 'imported-artifacts').sort()).toEqual(images.map((i) => `${i.ref}@${i.digest}`).sort());
  expect(again.log).toMatch(/export run 'exp\w+' has no record, but blob '[\w-]+-1' in \S+ carries this batch's acrtransfer_set=[0-9a-f]{32}: reusing that/);
  expectNoSecrets(again, f);
  [first, again].forEach((r) => r.cleanup());
});

it(`fails a batch whose blob name holds a blob this tool did not write, in one line naming it and the fix (${node.label})`, async () => {
  const base = `rf${f.u}`;
  const images = await seed(f, [{ repo: `res${f.u}/foreign`, tag: 'v1' }]);
  await containerClient(f.exportStorage)
    .getBlockBlobClient(`${base}-1`)
    .upload('not an export', 13, { metadata: { category: 'acr-transfer-blob' } });
  const started = Date.now();
  const run = await runAction({ node: node.path, inputs: transferOf(base, images) });
  expect(run.exitCode).toBe(1);
  expect(run.errors.at(-1)?.message).toBe(
    `artifact '${images[0]!.ref}' failed: blob '${base}-1' already exists in ${containerUri(f.exportStorage)} and is not this batch's (no acrtransfer_set metadata): ` +
      "the export run would fail because the export pipeline lacks OverwriteBlobs; add OverwriteBlobs to 'export-options', choose another 'blob-name', or delete the blob",
  );
  expect((await requestsSince(f.env, started, ['/pipelineRuns/'])).filter((e) => e.method === 'PUT')).toEqual([]);
  run.cleanup();
});

it(`a restart of the emulator mid-transfer loses nothing: every artifact ends verified (${node.label})`, async () => {
  const base = `rx${f.u}`;
  const images = await seed(
    f,
    [1, 2, 3, 4, 5, 6].map((n) => ({ repo: `res${f.u}/restart`, tag: `v${n}` })),
  );
  // Runs that take a while, so that the restart lands while the first export runs are in progress on the service.
  expect((await control(f.env, 'PATCH', '/knobs', { runBaseMs: 4000 })).status).toBe(200);
  let restart: Promise<{ stdout: string }> | undefined;
  let restartBegan = 0;
  let restartEnded = 0;
  const run = await runAction({
    node: node.path,
    inputs: transferOf(base, images),
    onLine: (line) => {
      if (restart !== undefined || !/export run 'exp\w+' \(blob [\w-]+-1\): \w+, Running/.test(line)) return;
      restartBegan = Date.now();
      restart = promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, 'restart-emulator'], { env: process.env, timeout: 60_000 }).finally(
        () => (restartEnded = Date.now()),
      );
    },
  });
  expect(restart).toBeDefined();
  expect((await restart!).stdout).toMatch(/emulator restarted in/);
  expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
  // The first export run was in progress on the service across the restart, and finished after it.
  const first = jsonOutput<{ blob: string; kind: string; startTime: string; finishTime: string }[]>(run, 'runs').find(
    (r) => r.kind === 'export' && r.blob === `${base}-1`,
  )!;
  expect(Date.parse(first.startTime)).toBeLessThan(restartBegan);
  expect(Date.parse(first.finishTime)).toBeGreaterThan(restartEnded);
  // Every artifact accounted for: verified, none failed, none lost.
  const report = run.report!;
  expect(report.outcome).toBe('succeeded');
  expect(report.artifacts.map((a) => `${a.artifact} ${a.result}`).sort()).toEqual(images.map((i) => `${i.ref} verified`).sort());
  await allVerified(images);
  // The service kept every run: one export and one import run per batch, all Succeeded, none created twice.
  const g = scenario(base);
  for (const side of ['source', 'target'] as const)
    expect((await runsOf(g, side)).map((r) => r.properties.provisioningState)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
  // The knob set before the restart is still in force after it.
  expect((await control<{ runBaseMs: number }>(f.env, 'GET', '/knobs')).body.runBaseMs).toBe(4000);
  expectNoSecrets(run, f);
  run.cleanup();
});
