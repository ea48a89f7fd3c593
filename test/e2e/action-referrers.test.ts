/**
 * The supply chain travels with the image, through the bundled action: Notation-style signatures, an SPDX SBOM and its
 * signature (OCI 1.1 `subject`), a cosign tag signature, and the signatures of each child of a multi-arch image arrive
 * with the same digests, and the target's referrers API lists each with its artifactType; require-referrers refuses an
 * unsigned image before any pipeline run; referrers: skip carries the image alone.
 */
import { COSIGN_SIMPLESIGNING, NOTATION_SIGNATURE, SPDX_JSON } from '../local-azure/referrers';
import type { SeededImage } from '../local-azure/seed';
import {
  type ActionFixture,
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
import { referrersOf } from './support/local-azure';

jest.setTimeout(600_000);

const node = nodeBinaries().at(-1)!;

let f: ActionFixture;
let signed: SeededImage;
let multi: SeededImage;
let unsigned: SeededImage;
let skipped: SeededImage;

beforeAll(async () => {
  f = await createActionFixture('rf');
  [signed, multi, unsigned, skipped] = (await seed(f, [
    { repo: `act${f.u}/signed`, tag: 'v1', referrers: ['notation', 'signed-sbom', 'cosign'] },
    { repo: `act${f.u}/multi`, tag: 'v1', multiArch: true, referrers: ['notation'], childReferrers: ['notation'] },
    { repo: `act${f.u}/plain`, tag: 'v1' },
    { repo: `act${f.u}/skipped`, tag: 'v1', referrers: ['notation', 'sbom'] },
  ])) as [SeededImage, SeededImage, SeededImage, SeededImage];
  expect(signed.referrers).toHaveLength(4);
  expect(multi.referrers).toHaveLength(3);
});

interface ReferrerOutput {
  artifact: string;
  referrer: string;
  digest: string;
  artifactType: string;
  subject: string;
  result: string;
  targetDigest: string | null;
  reason: string | null;
}

const repoOf = (img: SeededImage): string => img.ref.slice(0, img.ref.lastIndexOf(':'));
const refOf = (img: SeededImage, r: SeededImage['referrers'][number]): string => (r.tag ? `${repoOf(img)}:${r.tag}` : `${repoOf(img)}@${r.digest}`);

it(`require-referrers refuses an unsigned image in one line, with no pipeline or run written (${node.label})`, async () => {
  const started = Date.now();
  const run = await runAction({
    node: node.path,
    inputs: stepInputs(f, 'transfer', { artifacts: `${unsigned.ref}\n${signed.ref}`, 'require-referrers': NOTATION_SIGNATURE }),
  });
  expect(run.exitCode).not.toBe(0);
  expect(run.report?.outcome).toBe('failed');
  expect(run.report?.error).toBe(
    `artifact '${unsigned.ref}' failed: has no referrer of artifactType ${NOTATION_SIGNATURE} in ${f.env.registries.source.loginServer} (require-referrers)`,
  );
  const writes = (await requestsSince(f.env, started, ['/exportPipelines/', '/importPipelines/', '/pipelineRuns/'])).filter((e) => e.method !== 'GET');
  expect(writes).toEqual([]);
  expect(await runsOf(f, 'source')).toEqual([]);
  expect(jsonOutput<{ artifact: string }[]>(run, 'failed-artifacts').map((a) => a.artifact)).toEqual([unsigned.ref]);
  run.cleanup();
});

it(`carries signatures, a signed SBOM, a cosign signature and the signatures of each child, byte for byte (${node.label})`, async () => {
  const run = await runAction({
    node: node.path,
    inputs: stepInputs(f, 'transfer', { artifacts: `${signed.ref}\n${multi.ref}`, 'require-referrers': NOTATION_SIGNATURE }),
  });
  expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
  expect(run.report?.outcome).toBe('succeeded');

  // One export run carries both images, each followed by its referrers (by digest; cosign's by its tag).
  const [exportRun] = (await runsOf(f, 'source')).filter((r) => r.properties.request.artifacts?.includes(signed.ref));
  const carried = exportRun?.properties.request.artifacts ?? [];
  const expected = [signed.ref, ...signed.referrers.map((r) => refOf(signed, r)), multi.ref, ...multi.referrers.map((r) => refOf(multi, r))];
  expect([...carried].sort()).toEqual([...expected].sort());
  expect(carried.indexOf(signed.ref)).toBeLessThan(carried.indexOf(refOf(signed, signed.referrers[0]!)));

  // Every referrer arrived with its digest; those with a subject are listed by the target's referrers API with their type.
  for (const img of [signed, multi]) {
    for (const r of img.referrers) {
      expect({ ref: refOf(img, r), digest: await targetDigest(f, refOf(img, r)) }).toEqual({ ref: refOf(img, r), digest: r.digest });
      if (r.tag) continue;
      const listed = await referrersOf(f.env, 'target', repoOf(img), r.subject);
      expect(listed.map((l) => [l.digest, l.artifactType])).toContainEqual([r.digest, r.artifactType]);
    }
  }
  const typesOf = async (img: SeededImage, subject: string): Promise<string[]> =>
    (await referrersOf(f.env, 'target', repoOf(img), subject)).map((l) => l.artifactType ?? '').sort();
  expect(await typesOf(signed, signed.digest)).toEqual([SPDX_JSON, NOTATION_SIGNATURE].sort());
  for (const c of multi.children) expect(await typesOf(multi, c.digest)).toEqual([NOTATION_SIGNATURE]);

  // The report lists, per artifact, what was carried; the outputs too.
  const out = jsonOutput<ReferrerOutput[]>(run, 'referrers');
  expect(out).toHaveLength(7);
  expect(out.every((r) => r.result === 'verified' && r.targetDigest === r.digest)).toBe(true);
  expect(
    out
      .filter((r) => r.artifact === multi.ref)
      .map((r) => r.subject)
      .sort(),
  ).toEqual([multi.digest, ...multi.children.map((c) => c.digest)].sort());
  expect(out.find((r) => r.referrer.endsWith('.sig'))).toMatchObject({ artifact: signed.ref, artifactType: COSIGN_SIMPLESIGNING, subject: signed.digest });
  expect(jsonOutput<string[]>(run, 'imported-artifacts').sort()).toEqual([`${signed.ref}@${signed.digest}`, `${multi.ref}@${multi.digest}`].sort());
  expect(run.report?.artifacts.find((a) => a.artifact === signed.ref)?.referrers).toHaveLength(4);
  expect(run.summary).toContain(`| ↳ ${NOTATION_SIGNATURE} |`);
  expect(run.summary).toContain('2 artifacts, 7 referrers');
  expectNoSecrets(run, f);
  run.cleanup();
});

it(`referrers: skip carries the image alone (${node.label})`, async () => {
  const run = await runAction({ node: node.path, inputs: stepInputs(f, 'transfer', { artifacts: skipped.ref, referrers: 'skip' }) });
  expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
  const exports = (await runsOf(f, 'source')).filter((r) => r.properties.request.artifacts?.includes(skipped.ref));
  expect(exports.map((r) => r.properties.request.artifacts)).toEqual([[skipped.ref]]);
  expect(await targetDigest(f, skipped.ref)).toBe(skipped.digest);
  expect(await referrersOf(f.env, 'target', repoOf(skipped), skipped.digest)).toEqual([]);
  for (const r of skipped.referrers) expect(await targetDigest(f, refOf(skipped, r))).toBeUndefined();
  expect(jsonOutput<unknown[]>(run, 'referrers')).toEqual([]);
  run.cleanup();
});
