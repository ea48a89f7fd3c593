import type { ResolvedArtifact } from '../../core/domain/artifacts';
import { discoverReferrers, MAX_REFERRERS_PER_ARTIFACT, missingTypes, ReferrerLimitError, withReferrers } from '../../core/domain/referrers';
import { renderOutputs, renderSummary } from '../../core/render';
import { runOperation } from '../../core/run';
import { planBatches } from '../../core/transfer/plan';
import { digestOf, FakeRegistry } from './fakes/registry';
import { makeWorld } from './fakes/world';

const NOTATION = 'application/vnd.cncf.notary.signature';
const SPDX = 'application/spdx+json';
const SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

const root = (r: FakeRegistry, repo: string, tag: string): ResolvedArtifact => {
  const d = r.tags.get(repo)?.get(tag) ?? r.push(repo, tag);
  return { repository: repo, tag, ref: `${repo}:${tag}`, sourceDigest: d };
};

describe('discoverReferrers', () => {
  it('finds signatures and SBOMs through the referrers API, recursively, parents first', async () => {
    const r = new FakeRegistry('src.azurecr.io');
    const app = root(r, 'app', 'v1');
    const sig = r.attach('app', app.sourceDigest, NOTATION);
    const sbom = r.attach('app', app.sourceDigest, SPDX);
    const sbomSig = r.attach('app', sbom, NOTATION, 'of the sbom');
    const found = await discoverReferrers(r, app);
    // Each subject's referrers in a stable order: by artifactType, then digest.
    expect(found.map((f) => [f.ref, f.referrer?.subject, f.referrer?.artifactType, f.referrer?.via])).toEqual([
      [`app@${sbom}`, app.sourceDigest, SPDX, 'api'],
      [`app@${sig}`, app.sourceDigest, NOTATION, 'api'],
      [`app@${sbomSig}`, sbom, NOTATION, 'api'],
    ]);
    expect(found.every((f) => f.referrer?.of === 'app:v1' && f.digest === f.sourceDigest)).toBe(true);
  });

  it('looks at each child of an index too', async () => {
    const r = new FakeRegistry('src.azurecr.io');
    const [amd, arm] = [digestOf('amd64'), digestOf('arm64')];
    const index = r.push('multi', 'v1');
    r.pushManifest('multi', amd);
    r.pushManifest('multi', arm);
    r.bodies.set(index, { layers: [], manifests: [{ digest: amd }, { digest: arm }] });
    const sigs = [r.attach('multi', amd, NOTATION), r.attach('multi', arm, NOTATION), r.attach('multi', index, NOTATION)];
    const found = await discoverReferrers(r, { repository: 'multi', tag: 'v1', ref: 'multi:v1', sourceDigest: index });
    expect(found.map((f) => f.sourceDigest).sort()).toEqual([...sigs].sort());
    expect(found.find((f) => f.sourceDigest === sigs[0])?.referrer?.subject).toBe(amd);
  });

  it("follows cosign's tag scheme: sha256-<hex>.sig, .att and .sbom travel by tag, typed by their payload", async () => {
    const r = new FakeRegistry('src.azurecr.io');
    const app = root(r, 'app', 'v1');
    const hex = app.sourceDigest.slice('sha256:'.length);
    const sig = r.push('app', `sha256-${hex}.sig`);
    r.bodies.set(sig, { layers: [{ digest: digestOf('payload'), size: 1, mediaType: SIMPLESIGNING }], manifests: [] });
    r.push('app', `sha256-${hex}.nope`);
    const found = await discoverReferrers(r, app);
    expect(found.map((f) => [f.ref, f.tag, f.sourceDigest, f.referrer?.artifactType, f.referrer?.via])).toEqual([
      [`app:sha256-${hex}.sig`, `sha256-${hex}.sig`, sig, SIMPLESIGNING, 'tag'],
    ]);
    // The tags are listed once per repository, however many subjects are looked at.
    expect(r.calls.listTags).toBe(1);
  });

  it('is cycle-safe: a digest already seen is not expanded again', async () => {
    const r = new FakeRegistry('src.azurecr.io');
    const app = root(r, 'app', 'v1');
    const sig = r.attach('app', app.sourceDigest, NOTATION);
    // A (hostile) registry whose referrers API lists the subject as a referrer of its own signature.
    const list = r.listReferrers.bind(r);
    r.listReferrers = async (repo, digest) =>
      digest === sig ? [{ digest: app.sourceDigest, artifactType: NOTATION }, ...(await list(repo, digest))] : list(repo, digest);
    expect((await discoverReferrers(r, app)).map((f) => f.sourceDigest)).toEqual([sig]);
  });

  it('is bounded: more referrers than an artifact may carry fail in one line naming it', async () => {
    const r = new FakeRegistry('src.azurecr.io');
    const app = root(r, 'app', 'v1');
    for (let i = 0; i <= MAX_REFERRERS_PER_ARTIFACT; i++) r.attach('app', app.sourceDigest, NOTATION, String(i));
    await expect(discoverReferrers(r, app)).rejects.toThrow(ReferrerLimitError);
    await expect(discoverReferrers(r, app)).rejects.toThrow(/^artifact 'app:v1' has more than 500 referrers/);
  });
});

describe('referrers in the plan', () => {
  it('missingTypes counts only referrers of the artifact itself', async () => {
    const r = new FakeRegistry('src.azurecr.io');
    const app = root(r, 'app', 'v1');
    const sbom = r.attach('app', app.sourceDigest, SPDX);
    r.attach('app', sbom, NOTATION);
    const found = await discoverReferrers(r, app);
    expect(missingTypes(app, found, [SPDX, NOTATION])).toEqual([NOTATION]);
  });

  it('keeps each artifact with its referrers in one batch where they fit, and never exceeds the batch size', () => {
    const art = (name: string, referrers: number): ResolvedArtifact[] => {
      const a: ResolvedArtifact = { repository: 'app', tag: name, ref: `app:${name}`, sourceDigest: digestOf(name) };
      const rs = Array.from({ length: referrers }, (_, i): ResolvedArtifact => {
        const d = digestOf(`${name} ${i}`);
        return { repository: 'app', digest: d, ref: `app@${d}`, sourceDigest: d, referrer: { of: a.ref, subject: a.sourceDigest, via: 'api' } };
      });
      return [a, ...rs];
    };
    const list = [...art('a', 2), ...art('b', 2), ...art('c', 1), ...art('d', 9)];
    const plan = planBatches(list, { maxArtifactsPerRun: 5 });
    const shape = plan.batches.map((b) => b.artifacts.map((x) => x.referrer?.of ?? x.ref));
    // a (3) fits; b (3) does not fit beside it: next batch; c (2) fits beside b; d (10) is split, filling batches.
    expect(shape).toEqual([
      ['app:a', 'app:a', 'app:a'],
      ['app:b', 'app:b', 'app:b', 'app:c', 'app:c'],
      ['app:d', 'app:d', 'app:d', 'app:d', 'app:d'],
      ['app:d', 'app:d', 'app:d', 'app:d', 'app:d'],
    ]);
    expect(plan.batches.flatMap((b) => b.artifacts)).toEqual(list);
  });

  it('withReferrers keeps a referrer shared by two artifacts once, and an artifact given in artifacts as its own', () => {
    const a: ResolvedArtifact = { repository: 'app', tag: 'a', ref: 'app:a', sourceDigest: digestOf('x') };
    const b: ResolvedArtifact = { repository: 'app', tag: 'b', ref: 'app:b', sourceDigest: digestOf('x') };
    const d = digestOf('sig');
    const sig = (of: string): ResolvedArtifact => ({
      repository: 'app',
      digest: d,
      ref: `app@${d}`,
      sourceDigest: d,
      referrer: { of, subject: digestOf('x'), via: 'api' },
    });
    const given: ResolvedArtifact = { repository: 'app', digest: d, ref: `app@${d}`, sourceDigest: d };
    expect(withReferrers([a, b], [[sig('app:a')], [sig('app:b')]]).map((x) => [x.ref, x.referrer?.of])).toEqual([
      ['app:a', undefined],
      [`app@${d}`, 'app:a'],
      ['app:b', undefined],
    ]);
    expect(withReferrers([a, given], [[sig('app:a')], []]).map((x) => [x.ref, x.referrer?.of])).toEqual([
      ['app:a', undefined],
      [`app@${d}`, undefined],
    ]);
  });
});

describe('operations with referrers', () => {
  const signed = (w: ReturnType<typeof makeWorld>): { app: string; sig: string; sbom: string } => {
    const app = w.src.push('app', 'v1');
    return { app, sig: w.src.attach('app', app, NOTATION), sbom: w.src.attach('app', app, SPDX) };
  };

  it('transfer carries each referrer by digest after its subject, verifies it in the target and its referrers API, and reports it under the artifact', async () => {
    const w = makeWorld();
    const { app, sig, sbom } = signed(w);
    const report = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v1' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(w.arm.runPuts.find((p) => p.spec.kind === 'export')?.spec.artifacts).toEqual(['app:v1', `app@${sbom}`, `app@${sig}`]);
    expect(report.artifacts).toHaveLength(1);
    expect(report.artifacts[0]).toMatchObject({ artifact: 'app:v1', result: 'verified', targetDigest: app });
    expect(report.artifacts[0]?.referrers).toEqual([
      { artifact: `app@${sbom}`, digest: sbom, artifactType: SPDX, subject: app, batch: 1, result: 'verified', targetDigest: sbom },
      { artifact: `app@${sig}`, digest: sig, artifactType: NOTATION, subject: app, batch: 1, result: 'verified', targetDigest: sig },
    ]);
    expect(await w.dst.listReferrers('app', app)).toHaveLength(2);
    const outputs = renderOutputs(report);
    expect(JSON.parse(outputs['imported-artifacts']!)).toEqual([`app:v1@${app}`]);
    expect(JSON.parse(outputs['referrers']!)).toEqual([
      { artifact: 'app:v1', referrer: `app@${sbom}`, digest: sbom, artifactType: SPDX, subject: app, result: 'verified', targetDigest: sbom, reason: null },
      { artifact: 'app:v1', referrer: `app@${sig}`, digest: sig, artifactType: NOTATION, subject: app, result: 'verified', targetDigest: sig, reason: null },
    ]);
    const summary = renderSummary(report);
    expect(summary).toContain('1 artifacts, 2 referrers');
    expect(summary).toContain(`| ↳ ${NOTATION} | ${sig.slice(0, 19)} | 1 |  |  | verified | ${sig.slice(0, 19)} |`);
  });

  it('fails a referrer the target does not list under its subject with the same artifactType', async () => {
    const w = makeWorld();
    const { app, sig } = signed(w);
    // A target whose referrers API loses the type of what was imported.
    const list = w.dst.listReferrers.bind(w.dst);
    w.dst.listReferrers = async (repo, digest) => (await list(repo, digest)).map((d) => (d.digest === sig ? { digest: d.digest } : d));
    const report = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v1' }), w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(report.error).toBe(
      `artifact 'app@${sig}' failed: the referrers API of dstreg.azurecr.io lists it with artifactType (none), the source had ${NOTATION}`,
    );
    expect(JSON.parse(renderOutputs(report)['failed-artifacts']!)).toEqual([
      { artifact: `app@${sig}`, reason: expect.stringMatching(new RegExp(`^referrer \\(${NOTATION.replace(/\./g, '\\.')}\\) of 'app:v1': the referrers API`)) },
    ]);
    expect(report.artifacts[0]).toMatchObject({ artifact: 'app:v1', result: 'verified', targetDigest: app });
  });

  it('require-referrers refuses an unsigned artifact before any ARM write, in one line naming it and the type', async () => {
    const w = makeWorld();
    signed(w);
    w.src.push('app', 'unsigned');
    const report = await runOperation(
      w.settings({ operation: 'transfer', artifacts: 'app:v1,app:unsigned', 'require-referrers': NOTATION }),
      w.host,
      w.services,
    );
    expect(report.outcome).toBe('failed');
    expect(report.error).toBe(`artifact 'app:unsigned' failed: has no referrer of artifactType ${NOTATION} in srcreg.azurecr.io (require-referrers)`);
    expect(w.arm.pipelinePuts).toEqual([]);
    expect(w.arm.runPuts).toEqual([]);
  });

  it('require-referrers with ContinueOnErrors leaves the artifact out, reports it, and carries the rest', async () => {
    const w = makeWorld();
    const { sig, sbom } = signed(w);
    w.src.push('app', 'unsigned');
    const report = await runOperation(
      w.settings({ operation: 'export', artifacts: 'app:v1,app:unsigned', 'require-referrers': `${NOTATION}\n${SPDX}`, 'export-options': 'ContinueOnErrors' }),
      w.host,
      w.services,
    );
    expect(report.outcome).toBe('partial');
    expect(report.artifacts.map((a) => [a.artifact, a.result, a.reason])).toEqual([
      ['app:unsigned', 'failed', `has no referrer of artifactType ${NOTATION}, ${SPDX} in srcreg.azurecr.io (require-referrers)`],
      ['app:v1', 'exported', undefined],
    ]);
    expect(w.arm.runPuts[0]?.spec.artifacts).toEqual(['app:v1', `app@${sbom}`, `app@${sig}`]);
  });

  it('referrers: skip carries the artifact alone and asks the registry nothing about referrers', async () => {
    const w = makeWorld();
    signed(w);
    const report = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v1', referrers: 'skip' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(w.arm.runPuts.find((p) => p.spec.kind === 'export')?.spec.artifacts).toEqual(['app:v1']);
    expect(report.artifacts[0]?.referrers).toBeUndefined();
    expect(w.src.calls.listReferrers).toBe(0);
  });

  it('with skip-existing, a signature added after the image was promoted travels alone', async () => {
    const w = makeWorld();
    const { app, sig, sbom } = signed(w);
    w.dst.push('app', 'v1', app);
    w.dst.attach('app', app, SPDX);
    const report = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v1', 'skip-existing': 'true' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(w.dst.manifests.get('app')?.has(sbom)).toBe(true);
    expect(w.arm.runPuts.find((p) => p.spec.kind === 'export')?.spec.artifacts).toEqual([`app@${sig}`]);
    expect(report.artifacts[0]).toMatchObject({ artifact: 'app:v1', result: 'skipped' });
    expect(report.artifacts[0]?.referrers?.map((r) => [r.artifact, r.result])).toEqual([
      [`app@${sbom}`, 'skipped'],
      [`app@${sig}`, 'verified'],
    ]);
  });

  it('dry run shows the referrers planned in the batch of their artifact', async () => {
    const w = makeWorld();
    const { sig } = signed(w);
    const report = await runOperation(w.settings({ operation: 'export', artifacts: 'app:v1', 'dry-run': 'true' }), w.host, w.services);
    expect(report.runs[0]?.artifacts).toHaveLength(3);
    expect(report.artifacts[0]?.referrers?.map((r) => [r.artifact, r.result, r.batch])).toEqual(expect.arrayContaining([[`app@${sig}`, 'planned', 1]]));
    expect(w.arm.runPuts).toEqual([]);
  });
});
