import type { CheckItem } from '../../core/report';
import { renderOutputs } from '../../core/render';
import { runOperation } from '../../core/run';
import { EXPORT_CONTAINER, IMPORT_CONTAINER, makeWorld, type World } from './fakes/world';

function seed(w: World, tags: string[], repo = 'app'): Record<string, string> {
  return Object.fromEntries(tags.map((t) => [`${repo}:${t}`, w.src.push(repo, t)]));
}

const nothingChanged = (w: World): void => {
  expect(w.arm.pipelinePuts).toEqual([]);
  expect(w.arm.runPuts).toEqual([]);
  expect(w.blobs.copies).toEqual([]);
  expect(w.blobs.container(EXPORT_CONTAINER).size).toBe(0);
  expect(w.blobs.container(IMPORT_CONTAINER).size).toBe(0);
};

describe('export', () => {
  it('creates the export pipeline to match the settings once, then leaves it alone', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    const settings = w.settings({ operation: 'export', artifacts: 'app:v1', 'export-options': 'OverwriteBlobs' });
    await runOperation(settings, w.host, w.services);
    expect(w.arm.pipelinePuts).toHaveLength(1);
    expect(w.arm.pipelinePuts[0]?.spec).toMatchObject({
      kind: 'export',
      storageUri: EXPORT_CONTAINER,
      storageAccessMode: 'SasToken',
      options: ['OverwriteBlobs'],
      identity: { type: 'SystemAssigned' },
    });
    await runOperation(settings, w.host, w.services);
    expect(w.arm.pipelinePuts).toHaveLength(1);
    await runOperation(w.settings({ operation: 'export', artifacts: 'app:v1' }), w.host, w.services);
    // Options changed: updated.
    expect(w.arm.pipelinePuts).toHaveLength(2);
  });

  it('fails naming the pipeline when it does not exist and no storage URI is given', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    const report = await runOperation(
      w.settings({ operation: 'export', artifacts: 'app:v1', 'export-storage-uri': '', 'export-sas-secret-uri': '' }),
      w.host,
      w.services,
    );
    expect(report.outcome).toBe('failed');
    expect(report.error).toMatch(/export pipeline 'acrtransferexport' does not exist on registry 'srcreg'.*export-storage-uri/);
    expect(w.arm.runPuts).toEqual([]);
  });

  it('without ContinueOnErrors a missing artifact fails the operation, naming it, before any ARM write', async () => {
    const w = makeWorld();
    seed(w, ['v1', 'v2']);
    const report = await runOperation(w.settings({ operation: 'export', artifacts: 'app:v1,app:nope,app:v2' }), w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(report.error).toContain("artifact 'app:nope'");
    nothingChanged(w);
    expect(JSON.parse(renderOutputs(report)['failed-artifacts']!)).toEqual([
      { artifact: 'app:nope', reason: 'not found in the source registry srcreg.azurecr.io' },
    ]);
  });

  it('with ContinueOnErrors a missing artifact becomes a failed artifact and the outcome partial', async () => {
    const w = makeWorld();
    seed(w, ['v1', 'v2']);
    const report = await runOperation(
      w.settings({ operation: 'export', artifacts: 'app:v1,app:nope,app:v2', 'export-options': 'ContinueOnErrors' }),
      w.host,
      w.services,
    );
    expect(report.outcome).toBe('partial');
    expect(report.error).toBeUndefined();
    expect(report.artifacts.map((a) => [a.artifact, a.result])).toEqual([
      ['app:nope', 'failed'],
      ['app:v1', 'exported'],
      ['app:v2', 'exported'],
    ]);
    expect(w.arm.runPuts[0]?.spec.artifacts).toEqual(['app:v1', 'app:v2']);
  });

  it('with ContinueOnErrors a failed run makes the outcome partial and the other batches still finish', async () => {
    const w = makeWorld();
    seed(w, ['a', 'b', 'c']);
    w.arm.behaviour = ({ spec }) => (spec.artifacts?.includes('app:b') ? { fail: 'Layer larger than 8 GB' } : {});
    const report = await runOperation(
      w.settings({ operation: 'export', artifacts: 'app:*', 'max-artifacts-per-run': '1', 'export-options': 'ContinueOnErrors' }),
      w.host,
      w.services,
    );
    expect(report.outcome).toBe('partial');
    expect(report.artifacts.map((a) => a.result)).toEqual(['exported', 'failed', 'exported']);
    expect(report.artifacts[1]?.reason).toBe('Layer larger than 8 GB');
  });

  it('fails naming a pattern that matches nothing', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    const report = await runOperation(w.settings({ operation: 'export', artifacts: 'app:v1,app:rc*' }), w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(report.error).toContain("'app:rc*' matches nothing");
    nothingChanged(w);
  });

  it('skip-existing leaves out what the target already has under that tag', async () => {
    const w = makeWorld();
    const d = seed(w, ['v1', 'v2', 'v3']);
    w.dst.push('app', 'v1', d['app:v1']);
    w.dst.push('app', 'v2', 'sha256:' + 'f'.repeat(64)); // same tag, other image: still exported
    const report = await runOperation(w.settings({ operation: 'export', artifacts: 'app:*', 'skip-existing': 'true' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(report.artifacts.find((a) => a.artifact === 'app:v1')).toMatchObject({ result: 'skipped', targetDigest: d['app:v1'] });
    expect(w.arm.runPuts[0]?.spec.artifacts).toEqual(['app:v2', 'app:v3']);
  });

  it('reads registry usage before and after', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    const entry = w.arm.entry(w.source);
    w.arm.behaviour = () => {
      entry.usages = [{ name: 'Size', limit: 100, currentValue: 42, unit: 'Bytes' }];
      return {};
    };
    const report = await runOperation(w.settings({ operation: 'export', artifacts: 'app:v1' }), w.host, w.services);
    expect(report.usage).toEqual([
      { registry: 'srcreg', before: [expect.objectContaining({ currentValue: 1024 })], after: [expect.objectContaining({ currentValue: 42 })] },
    ]);
  });
});

describe('preflight and unimplemented operations', () => {
  it('stops before any change when a registry is not Premium', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    w.arm.entry(w.source).info = { ...w.arm.entry(w.source).info, sku: 'Standard' };
    const report = await runOperation(w.settings({ operation: 'export', artifacts: 'app:v1' }), w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(report.error).toContain("The source registry 'srcreg' is Premium");
    expect(report.checks.find((c) => c.id === 'source-premium')?.status).toBe('fail');
    nothingChanged(w);
  });

  it('calls an injected preflight, and skips it with preflight: false', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    const failing: CheckItem = { id: 'kv', title: 'Key Vault secret readable', status: 'fail', detail: '403', fix: 'grant get' };
    const calls: string[] = [];
    const preflight = (s: { operation: string }) => {
      calls.push(s.operation);
      return Promise.resolve([failing]);
    };
    const stopped = await runOperation(w.settings({ operation: 'export', artifacts: 'app:v1' }), w.host, w.services, { preflight });
    expect(stopped.error).toBe('preflight failed: Key Vault secret readable: 403 (fix: grant get)');
    const ran = await runOperation(w.settings({ operation: 'export', artifacts: 'app:v1', preflight: 'false' }), w.host, w.services, { preflight });
    expect(ran.outcome).toBe('succeeded');
    expect(calls).toEqual(['export']);
  });

  it('runs no preflight before setup, check and cleanup', async () => {
    const w = makeWorld();
    const calls: string[] = [];
    const preflight = (s: { operation: string }) => {
      calls.push(s.operation);
      return Promise.resolve([]);
    };
    for (const op of ['setup', 'check', 'cleanup']) await runOperation(w.settings({ operation: op, 'dry-run': 'true' }), w.host, w.services, { preflight });
    expect(calls).toEqual([]);
  });
});

describe('transfer', () => {
  it('exports, copies, imports and verifies every artifact by digest', async () => {
    const w = makeWorld();
    const d = seed(w, ['v1', 'v2', 'v3']);
    const report = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:*', 'max-artifacts-per-run': '2' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(report.runs.map((r) => [r.kind, r.status])).toEqual([
      ['export', 'succeeded'],
      ['export', 'succeeded'],
      ['import', 'succeeded'],
      ['import', 'succeeded'],
    ]);
    expect(report.artifacts.map((a) => [a.artifact, a.result, a.batch])).toEqual([
      ['app:v1', 'verified', 1],
      ['app:v2', 'verified', 1],
      ['app:v3', 'verified', 2],
    ]);
    for (const a of report.artifacts) expect(a.targetDigest).toBe(d[a.artifact]);
    expect(report.artifacts[0]?.importRun).toMatch(/^imp/);
    expect(report.blobs.map((b) => b.copied)).toEqual([true, true]);
    expect(await w.dst.manifestDigest('app', 'v3')).toBe(d['app:v3']);
    // The export's catalogDigest went to the import run.
    expect(w.arm.runPuts.filter((p) => p.spec.kind === 'import').every((p) => p.spec.catalogDigest?.startsWith('sha256:'))).toBe(true);
    expect(JSON.parse(renderOutputs(report)['imported-artifacts']!)).toEqual(['app:v1', 'app:v2', 'app:v3'].map((a) => `${a}@${d[a]}`));
  });

  it('resumes: a second transfer creates no runs, copies no blobs, and still verifies', async () => {
    const w = makeWorld();
    seed(w, ['v1', 'v2']);
    const settings = w.settings({ operation: 'transfer', artifacts: 'app:*' });
    await runOperation(settings, w.host, w.services);
    const puts = w.arm.runPuts.length;
    const copies = w.blobs.copies.length;
    const again = await runOperation(settings, w.host, w.services);
    expect(again.outcome).toBe('succeeded');
    expect(w.arm.runPuts).toHaveLength(puts);
    expect(w.blobs.copies).toHaveLength(copies);
    expect(again.runs.map((r) => r.status)).toEqual(['reused', 'reused']);
    expect(again.artifacts.map((a) => a.result)).toEqual(['verified', 'verified']);
  });

  it('dry-run returns the plan with blob and run names and changes nothing', async () => {
    const w = makeWorld();
    seed(w, ['v1', 'v2', 'v3']);
    const report = await runOperation(
      w.settings({ operation: 'transfer', artifacts: 'app:*', 'max-artifacts-per-run': '2', 'dry-run': 'true' }),
      w.host,
      w.services,
    );
    expect(report).toMatchObject({ outcome: 'succeeded', dryRun: true });
    nothingChanged(w);
    expect(report.runs.map((r) => [r.kind, r.status])).toEqual([
      ['export', 'planned'],
      ['export', 'planned'],
      ['import', 'planned'],
      ['import', 'planned'],
    ]);
    expect(report.artifacts.every((a) => a.result === 'planned' && a.exportRun && a.importRun && a.blob)).toBe(true);
    expect(report.blobs).toHaveLength(2);
    expect(report.warnings.some((m) => m.includes('would create export pipeline'))).toBe(true);
    // The plan names are the ones the real run uses.
    const real = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:*', 'max-artifacts-per-run': '2' }), w.host, w.services);
    expect(real.runs.map((r) => r.name)).toEqual(report.runs.map((r) => r.name));
  });

  it('fails the blob whose copy lost the metadata the source trigger needs', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    w.blobs.stripMetadataOnCopy = true;
    const report = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v1' }), w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(report.blobs[0]?.error).toContain('lost the metadata category=acr-transfer-blob');
    expect(report.artifacts[0]).toMatchObject({ result: 'failed' });
    expect(w.arm.runPuts.filter((p) => p.spec.kind === 'import')).toEqual([]);
  });

  it('with the source trigger waits for the run the service starts instead of creating one', async () => {
    const w = makeWorld();
    seed(w, ['v1', 'v2']);
    w.arm.trigger.delayScans = 3;
    const report = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:*', 'source-trigger': 'enabled' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(w.arm.pipelinePuts.find((p) => p.spec.kind === 'import')?.spec.sourceTriggerEnabled).toBe(true);
    expect(report.runs.find((r) => r.kind === 'import')).toMatchObject({ name: 'trig1', status: 'succeeded' });
    expect(w.arm.runPuts.filter((p) => p.spec.kind === 'import' && p.name.startsWith('imp'))).toEqual([]);
    expect(report.artifacts.map((a) => a.result)).toEqual(['verified', 'verified']);
  });

  it('times out with a clear message when the source trigger never starts a run', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    w.arm.trigger.enabled = false;
    const report = await runOperation(
      w.settings({ operation: 'transfer', artifacts: 'app:v1', 'source-trigger': 'enabled', 'timeout-minutes': '20' }),
      w.hostFor(20),
      w.services,
    );
    expect(report.outcome).toBe('timed-out');
    expect(report.runs.find((r) => r.kind === 'import')).toMatchObject({ name: '(source trigger)', status: 'timed-out' });
    expect(report.error).toContain('source trigger');
    expect(report.error).toContain('60 days');
    expect(report.artifacts[0]?.result).toBe('pending');
  });

  it('with import ContinueOnErrors reports a tag the target holds with another digest as failed by digest', async () => {
    const w = makeWorld();
    const d = seed(w, ['v1', 'v2']);
    const other = 'sha256:' + 'e'.repeat(64);
    w.dst.push('app', 'v2', other);
    const report = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:*', 'import-options': 'ContinueOnErrors' }), w.host, w.services);
    expect(report.outcome).toBe('partial');
    expect(report.artifacts.find((a) => a.artifact === 'app:v1')?.result).toBe('verified');
    expect(report.artifacts.find((a) => a.artifact === 'app:v2')).toMatchObject({
      result: 'failed',
      targetDigest: other,
      reason: `dstreg.azurecr.io has ${other}, the source had ${d['app:v2']}`,
    });
  });
});

describe('import', () => {
  it('imports named blobs with manual runs and verifies what the runs imported', async () => {
    const w = makeWorld();
    w.blobs.put(IMPORT_CONTAINER, 'b-1', [{ ref: 'app:v1', digest: 'sha256:' + '1'.repeat(64) }]);
    const report = await runOperation(w.settings({ operation: 'import', blobs: 'b-1' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(report.artifacts).toEqual([
      expect.objectContaining({ artifact: 'app:v1', blob: 'b-1', result: 'verified', targetDigest: 'sha256:' + '1'.repeat(64) }),
    ]);
    expect(w.arm.runPuts.map((p) => p.spec.blobName)).toEqual(['b-1']);
  });

  it('fails a blob that is not in the import container without creating a run', async () => {
    const w = makeWorld();
    const report = await runOperation(w.settings({ operation: 'import', blobs: 'missing-1' }), w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(report.error).toContain("blob 'missing-1' is not in the import container");
    expect(w.arm.runPuts).toEqual([]);
  });
});

describe('copy', () => {
  it('copies blobs keeping Content-MD5 and metadata, and skips them the second time', async () => {
    const w = makeWorld();
    const b1 = w.blobs.put(EXPORT_CONTAINER, 'b-1', [{ ref: 'app:v1', digest: 'sha256:' + '1'.repeat(64) }]);
    w.blobs.put(EXPORT_CONTAINER, 'b-2', []);
    const settings = w.settings({ operation: 'copy', blobs: 'b-1,b-2' });
    const first = await runOperation(settings, w.host, w.services);
    expect(first.outcome).toBe('succeeded');
    expect(first.blobs.map((b) => [b.name, b.copied])).toEqual([
      ['b-1', true],
      ['b-2', true],
    ]);
    expect(w.blobs.get(IMPORT_CONTAINER, 'b-1')).toMatchObject({ contentMD5: b1.contentMD5, metadata: { category: 'acr-transfer-blob' } });
    const second = await runOperation(settings, w.host, w.services);
    expect(second.blobs.map((b) => b.copied)).toEqual([false, false]);
    expect(w.blobs.copies).toEqual(['b-1', 'b-2']);
  });

  it('fails naming a blob that is not in the export container', async () => {
    const w = makeWorld();
    const report = await runOperation(w.settings({ operation: 'copy', blobs: 'nope-1' }), w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(report.error).toBe(`blob 'nope-1': not in the export container ${EXPORT_CONTAINER}`);
  });
});

describe('resuming without run records', () => {
  const deleteAllRuns = async (w: World): Promise<void> => {
    for (const reg of [w.source, w.target]) for (const r of await w.arm.listRuns(reg)) await w.arm.deleteRun(reg, r.name);
  };

  it('stamps each export blob with its batch; a re-run whose runs were deleted reuses the stamped blobs and the imported artifacts', async () => {
    const w = makeWorld();
    const d = seed(w, ['v1', 'v2', 'v3']);
    const settings = w.settings({ operation: 'transfer', artifacts: 'app:*', 'max-artifacts-per-run': '2' });
    expect((await runOperation(settings, w.host, w.services)).outcome).toBe('succeeded');
    const stamps = [...w.blobs.container(EXPORT_CONTAINER).values()].map((b) => b.metadata);
    expect(stamps).toEqual([
      { category: 'acr-transfer-blob', acrtransfer_set: expect.stringMatching(/^[0-9a-f]{32}$/) },
      { category: 'acr-transfer-blob', acrtransfer_set: expect.stringMatching(/^[0-9a-f]{32}$/) },
    ]);
    expect(stamps[0]?.['acrtransfer_set']).not.toBe(stamps[1]?.['acrtransfer_set']);

    await deleteAllRuns(w);
    const puts = w.arm.runPuts.length;
    const again = await runOperation(settings, w.host, w.services);
    expect(again.outcome).toBe('succeeded');
    expect(w.arm.runPuts.length).toBe(puts); // no export run and no import run created
    expect(again.runs.map((r) => [r.kind, r.status])).toEqual([
      ['export', 'reused'],
      ['export', 'reused'],
      ['import', 'reused'],
      ['import', 'reused'],
    ]);
    expect(again.artifacts.map((a) => [a.artifact, a.result, a.targetDigest])).toEqual(['app:v1', 'app:v2', 'app:v3'].map((a) => [a, 'verified', d[a]]));
    expect(w.logger.infos.some((l) => /export run 'exp\w+' has no record, but blob '.+-1' in .+ carries this batch's acrtransfer_set=/.test(l))).toBe(true);
  });

  it('runs the import again when the target lacks the artifacts, reusing the stamped export blob', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    const settings = w.settings({ operation: 'transfer', artifacts: 'app:v1' });
    await runOperation(settings, w.host, w.services);
    await deleteAllRuns(w);
    await w.dst.deleteManifest('app', (await w.dst.manifestDigest('app', 'v1'))!);
    const again = await runOperation(settings, w.host, w.services);
    expect(again.outcome).toBe('succeeded');
    expect(again.runs.map((r) => [r.kind, r.status])).toEqual([
      ['export', 'reused'],
      ['import', 'succeeded'],
    ]);
  });

  it('a blob of that name this tool did not write fails its batch in one line naming the blob, the container and the fix', async () => {
    const w = makeWorld();
    seed(w, ['v1']);
    const settings = w.settings({ operation: 'export', artifacts: 'app:v1', 'blob-name': 'nightly' });
    w.blobs.put(EXPORT_CONTAINER, 'nightly-1', [{ ref: 'other:v9', digest: 'sha256:00' }]);
    const report = await runOperation(settings, w.host, w.services);
    expect(report.outcome).toBe('failed');
    expect(w.arm.runPuts).toEqual([]);
    expect(report.error).toBe(
      `artifact 'app:v1' failed: blob 'nightly-1' already exists in ${EXPORT_CONTAINER} and is not this batch's (no acrtransfer_set metadata): ` +
        "the export run would fail because the export pipeline lacks OverwriteBlobs; add OverwriteBlobs to 'export-options', choose another 'blob-name', or delete the blob",
    );
    // A blob stamped for another batch is foreign too.
    w.blobs.put(EXPORT_CONTAINER, 'nightly-1', [], { metadata: { category: 'acr-transfer-blob', acrtransfer_set: 'feed' } });
    expect((await runOperation(settings, w.host, w.services)).error).toContain("is not this batch's (acrtransfer_set=feed)");
    // With OverwriteBlobs the run goes ahead and replaces it.
    const over = await runOperation(
      w.settings({ operation: 'export', artifacts: 'app:v1', 'blob-name': 'nightly', 'export-options': 'OverwriteBlobs' }),
      w.host,
      w.services,
    );
    expect(over.outcome).toBe('succeeded');
    expect(w.arm.runPuts).toHaveLength(1);
    expect(w.blobs.get(EXPORT_CONTAINER, 'nightly-1')?.payload.map((p) => p.ref)).toEqual(['app:v1']);
  });
});
