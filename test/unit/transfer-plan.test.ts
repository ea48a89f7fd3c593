import type { ResolvedArtifact } from '../../core/domain/artifacts';
import { derivedBlobBase, exportRunName, importRunName, planBatches } from '../../core/transfer/plan';
import { digestOf } from './fakes/registry';

const artifacts = (n: number, salt = ''): ResolvedArtifact[] =>
  Array.from({ length: n }, (_, i) => `v${String(i).padStart(3, '0')}`).map((tag) => ({
    repository: 'app',
    tag,
    ref: `app:${tag}`,
    sourceDigest: digestOf(`${tag}${salt}`),
  }));

const RUN_NAME = /^[A-Za-z0-9]{5,50}$/;

describe('planBatches', () => {
  it('splits 120 artifacts into batches of 50, 50 and 20 with -1, -2, -3 blobs', () => {
    const plan = planBatches(artifacts(120), { maxArtifactsPerRun: 50 });
    expect(plan.batches.map((b) => b.artifacts.length)).toEqual([50, 50, 20]);
    expect(plan.batches.map((b) => b.blob)).toEqual([`${plan.base}-1`, `${plan.base}-2`, `${plan.base}-3`]);
    expect(plan.batches[2]?.artifacts[0]?.ref).toBe('app:v100');
  });

  it('derives the same names from the same artifact set, and other names when a digest moves', () => {
    const a = planBatches(artifacts(120), { maxArtifactsPerRun: 50 });
    const b = planBatches(artifacts(120), { maxArtifactsPerRun: 50 });
    expect(b).toEqual(a);
    expect(a.base).toMatch(/^acrtransfer-[0-9a-f]{16}$/);
    expect(derivedBlobBase(artifacts(120, 'moved'), 50)).not.toBe(a.base);
    expect(derivedBlobBase(artifacts(120), 40)).not.toBe(a.base);
  });

  it('uses blob-name as the base when given', () => {
    const plan = planBatches(artifacts(3), { blobName: 'release.2026-03', maxArtifactsPerRun: 2 });
    expect(plan.batches.map((b) => b.blob)).toEqual(['release.2026-03-1', 'release.2026-03-2']);
  });

  it('makes run names of 5-50 letters or digits, distinct per blob and kind', () => {
    const long = 'a'.repeat(200);
    const names = [exportRunName('x'), importRunName('x'), exportRunName(`${long}-1`), exportRunName(`${long}-2`), exportRunName('a-1'), exportRunName('a1')];
    for (const n of names) expect(n).toMatch(RUN_NAME);
    expect(new Set(names).size).toBe(names.length);
    expect(exportRunName('b-1')).toBe(exportRunName('b-1'));
  });
});
