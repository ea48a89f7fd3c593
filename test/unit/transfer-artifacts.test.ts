import { parseArtifact, splitRef } from '../../core/domain/reference';
import { PatternError, repositoryGlob, resolveArtifacts, resolveOnce, tagGlob, tooMany } from '../../core/domain/artifacts';
import { digestOf, FakeRegistry } from './fakes/registry';

const specs = (...texts: string[]) => texts.map((t) => parseArtifact(t)!);

function registry(): FakeRegistry {
  const r = new FakeRegistry('srcreg.azurecr.io');
  for (let i = 0; i < 150; i++) r.push('app', `v${i}`);
  r.push('app', 'latest');
  r.push('app', 'v1.0');
  r.push('app', 'v1.1');
  r.push('app', 'v2.0');
  r.push('team/api', 'latest');
  r.push('team/web', 'latest');
  r.push('team/web', 'v1');
  r.push('team/db', 'v1'); // no latest
  r.push('team/deep/svc', 'latest');
  return r;
}

describe('globs', () => {
  it('matches tags with * and ?, and repositories segment by segment', () => {
    expect(tagGlob('v1.*').test('v1.0')).toBe(true);
    expect(tagGlob('v1.*').test('v10')).toBe(false); // the dot is literal
    expect(tagGlob('v?').test('v7')).toBe(true);
    expect(tagGlob('v?').test('v17')).toBe(false);
    expect(repositoryGlob('team/*').test('team/api')).toBe(true);
    expect(repositoryGlob('team/*').test('team/deep/svc')).toBe(false);
    expect(repositoryGlob('team/**').test('team/deep/svc')).toBe(true);
  });

  it('splits references as the service reads them', () => {
    expect(splitRef('a/b:v1')).toEqual({ repository: 'a/b', reference: 'v1' });
    expect(splitRef(`a@${digestOf('x')}`)).toEqual({ repository: 'a', reference: digestOf('x') });
    expect(splitRef('host:5000/a')).toEqual({ repository: 'host:5000/a', reference: 'latest' });
  });
});

describe('resolveArtifacts', () => {
  it('expands a tag pattern across more than 100 tags, each with its digest', async () => {
    const r = registry();
    const { artifacts, missing } = await resolveArtifacts(specs('app:v*'), r);
    expect(missing).toEqual([]);
    // 150 numbered tags plus v1.0, v1.1, v2.0.
    expect(artifacts).toHaveLength(153);
    expect(artifacts.find((a) => a.ref === 'app:v149')?.sourceDigest).toBe(digestOf('app:v149'));
    expect(artifacts.some((a) => a.ref === 'app:latest')).toBe(false);
  });

  it('expands repository patterns against the catalog, leaving out repositories without the tag', async () => {
    const { artifacts } = await resolveArtifacts(specs('team/*:latest'), registry());
    expect(artifacts.map((a) => a.ref)).toEqual(['team/api:latest', 'team/web:latest']);
  });

  it('reports a missing plain reference as missing, not as an exception', async () => {
    const { artifacts, missing } = await resolveArtifacts(specs('app:v1', 'app:nope', 'ghost:latest'), registry());
    expect(artifacts.map((a) => a.ref)).toEqual(['app:v1']);
    expect(missing.map((m) => m.ref)).toEqual(['app:nope', 'ghost:latest']);
    expect(missing[0]?.reason).toContain('srcreg.azurecr.io');
  });

  it('fails naming a pattern that matches nothing', async () => {
    const p = resolveArtifacts(specs('app:v1', 'app:rc-*', 'nothing/*:latest'), registry());
    await expect(p).rejects.toThrow(PatternError);
    await expect(p).rejects.toThrow(/'app:rc-\*', 'nothing\/\*:latest' match nothing/);
  });

  it('removes duplicates and keeps a digest written separately next to the tag', async () => {
    const r = registry();
    const d = digestOf('app:v1.0');
    const { artifacts } = await resolveArtifacts(specs('app:v1.0', 'app:v1.*', `app@${d}`, 'app:v1.0'), r);
    expect(artifacts.map((a) => a.ref)).toEqual(['app:v1.0', 'app:v1.1', `app@${d}`]);
    expect(artifacts[2]?.sourceDigest).toBe(d);
  });

  it('gives the same order whatever the order of the inputs', async () => {
    const a = await resolveArtifacts(specs('team/web:v1', 'app:v2.0', 'app:latest', 'team/api:latest', 'app:v1.0'), registry());
    const b = await resolveArtifacts(specs('app:v1.0', 'team/api:latest', 'app:latest', 'app:v2.0', 'team/web:v1'), registry());
    expect(a.artifacts.map((x) => x.ref)).toEqual(b.artifacts.map((x) => x.ref));
    expect(a.artifacts.map((x) => x.ref)).toEqual(['app:latest', 'app:v1.0', 'app:v2.0', 'team/api:latest', 'team/web:v1']);
  });

  it('lists the catalog once for several repository patterns', async () => {
    const r = registry();
    await resolveArtifacts(specs('team/*:latest', 'team/*:v1'), r);
    expect(r.calls.listRepositories).toBe(1);
  });

  it('expands a tag pattern from the manifest list, which carries the digests: no lookup per tag', async () => {
    const r = registry();
    const { artifacts } = await resolveArtifacts(specs('app:v*'), r);
    expect(artifacts).toHaveLength(153);
    expect(r.calls).toMatchObject({ listManifests: 1, listTags: 0, manifestDigest: 0 });
  });

  it('falls back to the tags list and one lookup per tag where the manifest list is refused', async () => {
    const r = registry();
    r.listManifests = () => Promise.reject(new Error('HTTP 401 UNAUTHORIZED: metadata_read'));
    const { artifacts } = await resolveArtifacts(specs('app:v1.*'), r);
    expect(artifacts.map((a) => [a.ref, a.sourceDigest])).toEqual([
      ['app:v1.0', digestOf('app:v1.0')],
      ['app:v1.1', digestOf('app:v1.1')],
    ]);
    expect(r.calls).toMatchObject({ listTags: 1, manifestDigest: 2 });
  });

  it('gets pull access to the repositories of plain references up front, each once, and reports progress', async () => {
    const r = registry();
    const seen: [number, number][] = [];
    await resolveArtifacts(specs('app:v1', 'app:v2', 'team/web:v1', 'team/db:v1'), r, { onProgress: (d, t) => seen.push([d, t]) });
    expect(r.prepared.sort()).toEqual(['app', 'team/db', 'team/web']);
    expect(seen.map(([d]) => d)).toEqual([1, 2, 3, 4]);
    expect(seen.every(([, t]) => t === 4)).toBe(true);
  });

  it('resolves the same settings on the same registry once per step', async () => {
    const r = registry();
    const s = specs('app:v1', 'app:v2');
    const [a, b] = [await resolveOnce(s, r), await resolveOnce(s, r)];
    expect(b).toBe(a);
    expect(r.calls.manifestDigest).toBe(2);
    await resolveOnce(specs('app:v1', 'app:v2'), r); // other settings: resolved again
    expect(r.calls.manifestDigest).toBe(4);
  });

  it('names the per-step limit in one line above 10,000 artifacts', () => {
    expect(tooMany(10_000)).toBeUndefined();
    expect(tooMany(10_001)).toBe(
      "Input 'artifacts' resolves to 10001 artifacts; one step moves at most 10000: split them across steps (for example by repository pattern)",
    );
  });
});
