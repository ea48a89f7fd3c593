/**
 * The connected case at scale, through the bundled action on the runtime action.yml declares (Node 24 when
 * test/node24.sh installed it): 120 artifacts from 3 repositories, given as tag patterns, in one `transfer` step.
 * 120 at 50 per run is 3 batches, so 3 export runs in flight at once; every digest must arrive unchanged (skopeo).
 */
import type { SeededImage } from '../local-azure/seed';
import {
  type ActionFixture,
  blobsIn,
  createActionFixture,
  expectNoSecrets,
  inBatches,
  jsonOutput,
  requestsSince,
  runsOf,
  seed,
  stepInputs,
  targetDigest,
} from './support/action-fixture';
import { describeRun, nodeBinaries, runAction } from './support/action-runner';

jest.setTimeout(600_000);

const REPOS = ['alpha', 'beta', 'gamma'];
const TAGS = Array.from({ length: 40 }, (_, i) => `v${String(i + 1).padStart(3, '0')}`);
const node = nodeBinaries().at(-1)!;

let f: ActionFixture;
let images: SeededImage[];

beforeAll(async () => {
  f = await createActionFixture('tr');
  images = await seed(
    f,
    REPOS.flatMap((r) => TAGS.map((tag) => ({ repo: `act${f.u}/${r}`, tag }))),
  );
  expect(images).toHaveLength(120);
});

interface RunOutput {
  name: string;
  kind: 'export' | 'import';
  status: string;
  blob: string;
  artifacts: string[];
  startTime: string | null;
  finishTime: string | null;
}

it(`transfers 120 artifacts from 3 repositories in 3 parallel batches with identical digests (${node.label})`, async () => {
  const started = Date.now();
  const run = await runAction({
    node: node.path,
    inputs: stepInputs(f, 'transfer', { artifacts: REPOS.map((r) => `act${f.u}/${r}:*`).join('\n'), 'max-parallel-runs': '3' }),
  });
  expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
  expect(run.report?.outcome).toBe('succeeded');

  // Outputs: 120 pinned references, 3 blobs, 3 export and 3 import runs, nothing failed.
  const imported = jsonOutput<string[]>(run, 'imported-artifacts');
  expect(imported.sort()).toEqual(images.map((i) => `${i.ref}@${i.digest}`).sort());
  expect(jsonOutput<unknown[]>(run, 'failed-artifacts')).toEqual([]);
  const blobs = jsonOutput<string[]>(run, 'blobs');
  expect(blobs).toHaveLength(3);
  const runs = jsonOutput<RunOutput[]>(run, 'runs');
  const exports = runs.filter((r) => r.kind === 'export');
  expect(exports.map((r) => r.artifacts.length).sort((a, b) => a - b)).toEqual([20, 50, 50]);
  expect(runs.filter((r) => r.kind === 'import')).toHaveLength(3);
  expect(runs.every((r) => r.status === 'succeeded')).toBe(true);

  // The three export runs were in flight together: each started before any of them finished.
  const lastStart = Math.max(...exports.map((r) => Date.parse(r.startTime!)));
  const firstFinish = Math.min(...exports.map((r) => Date.parse(r.finishTime!)));
  expect(lastStart).toBeLessThan(firstFinish);
  const puts = await requestsSince(
    f.env,
    started,
    exports.map((r) => `/pipelineRuns/${r.name}`),
  );
  expect(puts.filter((e) => e.method === 'PUT')).toHaveLength(3);

  // The service's side agrees: one run per batch and pipeline, one blob per batch in each container.
  expect((await runsOf(f, 'source')).map((r) => r.name).sort()).toEqual(exports.map((r) => r.name).sort());
  expect(await runsOf(f, 'target')).toHaveLength(3);
  expect(await blobsIn(f.exportStorage)).toEqual([...blobs].sort());
  expect(await blobsIn(f.importStorage)).toEqual([...blobs].sort());

  // Every digest in the target registry, read by skopeo, is the source's.
  const digests = await inBatches(images, 8, async (i) => [i.ref, await targetDigest(f, i.ref)] as const);
  expect(Object.fromEntries(digests)).toEqual(Object.fromEntries(images.map((i) => [i.ref, i.digest])));

  // The job summary has a row per artifact and per run.
  for (const i of images.slice(0, 5)) expect(run.summary).toContain(`| ${i.ref} |`);
  expect(run.summary.match(/\| verified \|/g)).toHaveLength(120);
  expect(run.groups).toEqual(expect.arrayContaining(['Transfer 3 batches: export, copy, import, verify, each as soon as it can']));
  expectNoSecrets(run, f);
  run.cleanup();
});
