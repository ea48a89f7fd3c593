import { ConfigError } from '../../core/errors';
import { ROLES } from '../../core/lifecycle/access';
import { probeRunName } from '../../core/lifecycle/probe';
import type { PipelineResource } from '../../core/ports';
import { renderOutputs, renderSummary } from '../../core/render';
import type { TransferReport } from '../../core/report';
import { runOperation } from '../../core/run';
import { fakeSas } from './fakes/blobs';
import { digestOf } from './fakes/registry';
import { EXPORT_CONTAINER, EXPORT_SECRET, IMPORT_CONTAINER, IMPORT_SECRET, makeWorld, type World } from './fakes/world';

const DAY = 24 * 3600 * 1000;

/** Runs fail with Key Vault's refusal unless the pipeline's identity can read the vault (or, MI mode, the account) now. */
function enforceAccess(w: World): void {
  w.arm.denyRun = (p: PipelineResource) => {
    const principal = p.identity?.principalId ?? Object.values(p.identity?.userAssignedIdentities ?? {})[0]?.principalId ?? '';
    const managed = p.storageAccessMode === 'ManagedIdentity';
    const name = p.kind === 'export' ? (managed ? 'srcacct' : 'srcvault') : managed ? 'dstacct' : 'dstvault';
    const scope = (managed ? w.access.accounts : w.access.vaults).find((r) => r.name === name)!.id;
    if (w.access.canRead(principal, scope)) return undefined;
    return managed
      ? `This request is not authorized to perform this operation using this permission. (403 AuthorizationPermissionMismatch)`
      : `Failed to get secret from Key Vault 'https://${name}.vault.azure.net/': 403 Forbidden (Forbidden): The user, group or application 'oid=${principal}' does not have secrets get permission on key vault '${name}'.`;
  };
}

const leaks = (w: World, report: TransferReport): string[] => {
  const sigs = w.blobs.sasMade.map((s) => new URLSearchParams(s.sas).get('sig')!);
  const text = [JSON.stringify(report), renderSummary(report), JSON.stringify(renderOutputs(report)), ...w.logger.infos, ...w.logger.warnings].join('\n');
  return sigs.filter((s) => text.includes(s));
};

describe('setup', () => {
  it('stores SAS tokens with exactly the permissions the options need, https only, 7 days, user-delegation, as new versions', async () => {
    const w = makeWorld();
    const report = await runOperation(w.settings({ operation: 'setup', 'import-options': 'DeleteSourceBlobOnSuccess' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(w.blobs.sasMade.map((s) => [s.containerUri, s.request.permissions, s.request.accountKey])).toEqual([
      [EXPORT_CONTAINER, 'alrw', undefined],
      [IMPORT_CONTAINER, 'rld', undefined],
    ]);
    for (const s of w.blobs.sasMade) expect(s.request.expiresOn.getTime() - w.clock.now()).toBeLessThanOrEqual(7 * DAY);
    // New versions, with the leading '?' the docs use, expiring with the token.
    expect(w.secrets.versions.map((v) => [v.id.replace(/\/\d+$/, ''), v.value.startsWith('?sv='), v.expiresOn?.getTime()])).toEqual([
      [EXPORT_SECRET, true, w.blobs.sasMade[0]!.request.expiresOn.getTime()],
      [IMPORT_SECRET, true, w.blobs.sasMade[1]!.request.expiresOn.getTime()],
    ]);
    expect(w.arm.pipelinePuts.map((p) => [p.spec.kind, p.spec.keyVaultUri])).toEqual([
      ['export', EXPORT_SECRET],
      ['import', IMPORT_SECRET],
    ]);
    expect(report.changes.map((c) => [c.kind, c.name, c.action, c.status])).toEqual([
      ['secret', 'acrexportsas', 'update', 'done'],
      ['pipeline', 'acrtransferexport', 'create', 'done'],
      ['secret', 'acrimportsas', 'update', 'done'],
      ['pipeline', 'acrtransferimport', 'create', 'done'],
    ]);
    expect(report.changes[0]?.detail).toMatch(/^new version \d+: sp=alrw, spr=https, expires .*, signed with a user-delegation key/);
    // What it made passes the checks (the grant is not asked for, so access only warns).
    expect(report.checks.find((c) => c.id === 'export-sas')?.status).toBe('pass');
    expect(report.checks.find((c) => c.id === 'import-sas')?.status).toBe('pass');
    expect(report.checks.find((c) => c.id === 'export-access')?.status).toBe('warn');
    expect(leaks(w, report)).toEqual([]);
    // Run again: new versions, pipelines unchanged.
    const again = await runOperation(w.settings({ operation: 'setup', 'import-options': 'DeleteSourceBlobOnSuccess' }), w.host, w.services);
    expect(again.changes.filter((c) => c.kind === 'pipeline').map((c) => c.status)).toEqual(['unchanged', 'unchanged']);
    expect(w.secrets.versions).toHaveLength(4);
  });

  it('signs with the account key only when asked, 30 days by default', async () => {
    const w = makeWorld();
    const report = await runOperation(w.settings({ operation: 'setup', 'sas-signing': 'account-key' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(w.access.calls.filter((c) => c.startsWith('storageAccountKey'))).toHaveLength(2);
    expect(w.blobs.sasMade.map((s) => [s.request.accountKey, Math.round((s.request.expiresOn.getTime() - w.clock.now()) / DAY)])).toEqual([
      ['fakeaccountkey==', 30],
      ['fakeaccountkey==', 30],
    ]);
  });

  it('refuses more than 7 days with a user-delegation key, and a secret URI pinned to a version, before any change', async () => {
    const w = makeWorld();
    expect(() => w.settings({ operation: 'setup', 'sas-expiry-days': '30' })).toThrow(
      /^Input 'sas-expiry-days' is '30': a SAS signed with a user-delegation key .* cannot outlive the key, which lives at most 7 days.*'sas-signing' to account-key$/,
    );
    const long = w.settings({ operation: 'setup', 'sas-expiry-days': '90', 'sas-signing': 'account-key' });
    expect(long.operation === 'setup' && long.sasExpiryDays).toBe(90);
    expect(() => w.settings({ operation: 'setup', 'export-sas-secret-uri': `${EXPORT_SECRET}/${'a'.repeat(32)}` })).toThrow(
      /^Input 'export-sas-secret-uri' is '.*': setup stores a new version of the secret, .* give the URI without the version$/,
    );
    expect(w.secrets.versions).toEqual([]);
  });

  it('dry run says what it would do and changes nothing', async () => {
    const w = makeWorld();
    const report = await runOperation(w.settings({ operation: 'setup', 'grant-access': 'true', 'dry-run': 'true' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(report.changes.map((c) => c.status)).toEqual(['planned', 'planned', 'planned', 'planned', 'planned', 'planned']);
    expect(w.blobs.sasMade).toEqual([]);
    expect(w.secrets.versions).toEqual([]);
    expect(w.arm.pipelinePuts).toEqual([]);
    expect(w.access.grants).toEqual([]);
    expect(renderSummary(report)).toContain('### Changes (planned: nothing was changed)');
  });

  it('grants secret get with an access policy, waits until it works, and deletes the probe runs', async () => {
    const w = makeWorld();
    enforceAccess(w);
    w.access.grantDelayMs = 40_000;
    const report = await runOperation(w.settings({ operation: 'setup', 'grant-access': 'true' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(w.access.calls.filter((c) => c.startsWith('addVaultAccessPolicy'))).toEqual([
      expect.stringMatching(/vaults\/srcvault p1 get$/),
      expect.stringMatching(/vaults\/dstvault p1 get$/),
    ]);
    // Probes were refused until the grant worked (backoff 5 s, 10 s, 20 s, …), then deleted.
    const probes = w.arm.runPuts.filter((p) => p.name.startsWith('acrprobe'));
    expect(probes.length).toBeGreaterThan(2);
    expect(w.arm.entry(w.source).runs.size + w.arm.entry(w.target).runs.size).toBe(0);
    expect(report.checks.find((c) => c.id === 'export-access')).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(/^works: a probe run got past the read/),
    });
    expect(report.changes.filter((c) => c.kind === 'probe-run').map((c) => [c.action, c.status])).toEqual([
      ['create', 'done'],
      ['delete', 'done'],
      ['create', 'done'],
      ['delete', 'done'],
    ]);
    // A transfer now works with what setup made.
    w.src.push('app', 'v1');
    const transfer = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v1' }), w.host, w.services);
    expect(transfer.outcome).toBe('succeeded');
    expect(w.arm.pipelinePuts).toHaveLength(2);
  });

  it('grants Key Vault Secrets User on an RBAC vault, and storage roles in managed-identity mode', async () => {
    const w = makeWorld();
    w.access.vaults.forEach((v) => (v.enableRbacAuthorization = true));
    await runOperation(w.settings({ operation: 'setup', 'grant-access': 'true' }), w.host, w.services);
    expect(w.access.assignments.map((a) => [a.scope.split('/').pop(), a.roleDefinitionId.split('/').pop()])).toEqual([
      ['srcvault', ROLES['Key Vault Secrets User']],
      ['dstvault', ROLES['Key Vault Secrets User']],
    ]);
    const m = makeWorld();
    const mi = await runOperation(
      m.settings({
        operation: 'setup',
        'grant-access': 'true',
        'storage-access-mode': 'managed-identity',
        'export-sas-secret-uri': '',
        'import-sas-secret-uri': '',
        'import-options': 'DeleteSourceBlobOnSuccess',
      }),
      m.host,
      m.services,
    );
    expect(mi.outcome).toBe('succeeded');
    expect(m.blobs.sasMade).toEqual([]);
    // An export probe cannot test a storage role: only the import side is probed, and setup says so.
    expect(m.arm.runPuts.filter((p) => p.name.startsWith('acrprobe')).map((p) => p.spec.kind)).toEqual(['import']);
    // The grant ARM shows is not proof that it works: the item warns that it could not tell, instead of passing.
    expect(mi.checks.find((c) => c.id === 'export-access')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('could not tell whether it works'),
    });
    expect(mi.checks.find((c) => c.id === 'import-access')?.status).toBe('pass');
    expect(mi.warnings.some((x) => x.includes("The export pipeline's identity") && x.includes('could not tell'))).toBe(true);
    expect(m.access.assignments.map((a) => [a.scope.split('/').pop(), a.roleDefinitionId.split('/').pop()])).toEqual([
      ['srcacct', ROLES['Storage Blob Data Contributor']],
      ['dstacct', ROLES['Storage Blob Data Contributor']],
    ]);
    const r = makeWorld();
    await runOperation(
      r.settings({
        operation: 'setup',
        'grant-access': 'true',
        'storage-access-mode': 'managed-identity',
        'export-sas-secret-uri': '',
        'import-sas-secret-uri': '',
      }),
      r.host,
      r.services,
    );
    expect(r.access.assignments.map((a) => a.roleDefinitionId.split('/').pop())).toEqual([
      ROLES['Storage Blob Data Contributor'],
      ROLES['Storage Blob Data Reader'],
    ]);
    // Again: nothing new.
    await runOperation(
      r.settings({
        operation: 'setup',
        'grant-access': 'true',
        'storage-access-mode': 'managed-identity',
        'export-sas-secret-uri': '',
        'import-sas-secret-uri': '',
      }),
      r.host,
      r.services,
    );
    expect(r.access.assignments).toHaveLength(2);
  });

  it('fails with the reason when the grant does not work within timeout-minutes', async () => {
    const w = makeWorld();
    enforceAccess(w);
    w.access.grantDelayMs = 3 * 3600 * 1000;
    const report = await runOperation(w.settings({ operation: 'setup', 'grant-access': 'true', 'timeout-minutes': '2' }), w.hostFor(2), w.services);
    expect(report.outcome).toBe('failed');
    expect(report.error).toMatch(/did not take effect within timeout-minutes \(2\).*does not have secrets get permission.*run setup again later/);
    expect(w.arm.entry(w.source).runs.size).toBe(0);
  });
});

/** A world after setup with grant-access: pipelines, SAS secrets and grants in place. */
async function setUp(extra: Record<string, string> = {}): Promise<World> {
  const w = makeWorld();
  enforceAccess(w);
  const r = await runOperation(w.settings({ operation: 'setup', 'grant-access': 'true', ...extra }), w.host, w.services);
  expect(r.outcome).toBe('succeeded');
  return w;
}

const check = (w: World, extra: Record<string, string> = {}): Promise<TransferReport> =>
  runOperation(w.settings({ operation: 'check', ...extra }), w.host, w.services);
const itemOf = (r: TransferReport, id: string) => r.checks.find((c) => c.id === id);

describe('check', () => {
  it('passes what setup made, probing the grants, and renders every item as a table', async () => {
    const w = await setUp();
    const d = w.src.push('app', 'v1');
    const report = await check(w, { artifacts: 'app:v1' });
    expect(report.outcome).toBe('succeeded');
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual([
      'source-premium',
      'source-export-policy',
      'target-premium',
      'export-pipeline',
      'export-identity',
      'export-sas',
      'export-container',
      'export-access',
      'import-pipeline',
      'import-identity',
      'import-sas',
      'import-container',
      'import-access',
      'artifacts-found',
      'artifacts-per-run',
      'layer-size',
      'foreign-layers',
    ]);
    expect(itemOf(report, 'export-access')?.detail).toContain('a probe run got past the read');
    expect(w.arm.entry(w.source).runs.size).toBe(0);
    expect(d).toMatch(/^sha256:/);
    const md = renderSummary(report);
    expect(md).toContain('17 ✅ pass.');
    expect(md).toContain('**Outcome:** ✅ succeeded. 17 checks (17 pass), 4 changes (4 done)');
    expect(md).toContain('| check | status | detail | fix |');
    expect(md).toContain('| At most 50 artifacts per run | pass | 1 artifact in 1 run of at most 50 |  |');
    expect(JSON.parse(renderOutputs(report)['checks']!)).toHaveLength(17);
    expect(report.usage.map((u) => u.registry)).toEqual(['srcreg', 'dstreg']);
  });

  it('fails an expired SAS, and a SAS without write for OverwriteBlobs, each with its fix', async () => {
    const w = await setUp({ 'export-options': 'OverwriteBlobs' });
    w.secrets.secrets.set(IMPORT_SECRET, `?${fakeSas({ sp: 'rl', se: new Date(w.clock.now() - 3600_000) })}`);
    w.secrets.secrets.set(EXPORT_SECRET, `?${fakeSas({ sp: 'acrl', se: new Date(w.clock.now() + 30 * DAY), sig: 'NOTSHOWN' })}`);
    const report = await check(w, { 'export-options': 'OverwriteBlobs' });
    expect(report.outcome).toBe('failed');
    expect(itemOf(report, 'import-sas')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('the import SAS expired at'),
      fix: expect.stringContaining('run setup'),
    });
    expect(itemOf(report, 'export-sas')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('lacks write (w): the export writes the blob, and OverwriteBlobs replaces an existing blob with it'),
    });
    expect(report.error).toMatch(/^2 of 13 checks failed: .*expired.*\(fix: run setup/);
    expect(JSON.stringify(report)).not.toContain('NOTSHOWN');
  });

  it('fails a registry that is not Premium', async () => {
    const w = await setUp();
    w.arm.entry(w.target).info = { ...w.arm.entry(w.target).info, sku: 'Basic' };
    const report = await check(w);
    expect(itemOf(report, 'target-premium')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('SKU Basic'),
      fix: 'az acr update --name dstreg --sku Premium',
    });
  });

  it('fails a missing blob and a misspelled artifact, naming what is there', async () => {
    const w = await setUp();
    w.src.push('app', 'v1.0');
    w.src.push('app', 'v2.0');
    w.blobs.put(IMPORT_CONTAINER, 'there-1', []);
    const report = await check(w, { artifacts: 'app:v1.O', blobs: 'there-1,gone-1' });
    expect(itemOf(report, 'artifacts-found')).toMatchObject({
      status: 'fail',
      detail: "not found: app:v1.O (repository 'app' has v1.0, v2.0)",
      fix: expect.stringContaining("check the spelling in 'artifacts'"),
    });
    expect(itemOf(report, 'blobs')).toMatchObject({ status: 'fail', detail: `blob 'gone-1' is not in the import container ${IMPORT_CONTAINER}` });
    // The preflight of a transfer only warns: the export reports the artifact itself.
    const pre = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v1.O', 'dry-run': 'true' }), w.host, w.services);
    expect(pre.checks.find((c) => c.id === 'artifacts-found')?.status).toBe('warn');
    expect(pre.error).toContain("artifact 'app:v1.O'");
  });

  it('fails a grant that is not in effect yet, saying so, and passes once it is', async () => {
    const w = makeWorld();
    enforceAccess(w);
    await runOperation(w.settings({ operation: 'setup' }), w.host, w.services);
    w.access.grantDelayMs = 10 * 60_000;
    await w.services.access.addVaultAccessPolicy(w.access.vaults[0]!.id, { tenantId: 't', objectId: 'p1', secrets: ['get'] });
    const report = await check(w, { 'target-registry': '' });
    expect(itemOf(report, 'export-access')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(
        /^granted \(access policy with secret permissions get\) but not in effect yet: a probe run was refused: .*does not have secrets get permission/,
      ),
      fix: expect.stringContaining('new permissions take minutes'),
    });
    expect(report.changes.map((c) => [c.kind, c.name, c.action])).toEqual([
      ['probe-run', probeRunName(`${w.source.resourceId}/exportPipelines/acrtransferexport`), 'create'],
      ['probe-run', probeRunName(`${w.source.resourceId}/exportPipelines/acrtransferexport`), 'delete'],
    ]);
    w.clock.t += 10 * 60_000;
    expect(itemOf(await check(w, { 'target-registry': '' }), 'export-access')?.status).toBe('pass');
    // No grant at all: the fix names setup and the az command.
    const n = makeWorld();
    enforceAccess(n);
    await runOperation(n.settings({ operation: 'setup' }), n.host, n.services);
    expect(itemOf(await check(n), 'import-access')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('az keyvault set-policy --name dstvault --object-id p1 --secret-permissions get'),
    });
  });

  it('fails layers over 8 GB and warns about foreign layers', async () => {
    const w = await setUp();
    const big = w.src.push('big', 'v1');
    w.src.bodies.set(big, { layers: [{ digest: digestOf('huge'), size: 9 * 1024 ** 3 }], manifests: [] });
    const win = w.src.push('win', 'ltsc');
    w.src.bodies.set(win, {
      layers: [
        {
          digest: digestOf('base'),
          size: 100,
          mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
          urls: ['https://mcr.microsoft.com/v2/x'],
        },
      ],
      manifests: [],
    });
    const report = await check(w, { artifacts: 'big:v1,win:ltsc' });
    expect(itemOf(report, 'layer-size')).toMatchObject({ status: 'fail', detail: expect.stringContaining('big:v1 (layer sha256:') });
    expect(itemOf(report, 'foreign-layers')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('win:ltsc (from https://mcr.microsoft.com/v2/x)'),
    });
  });

  it('warns, not fails, when it cannot read the secret itself', async () => {
    const w = await setUp();
    w.secrets.denied.add(EXPORT_SECRET);
    expect(itemOf(await check(w), 'export-sas')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('not checked: this identity cannot read secret'),
    });
  });

  it('fails a missing container, and a pipeline that does not exist', async () => {
    const w = await setUp();
    w.blobs.missingContainers.add(IMPORT_CONTAINER);
    const report = await check(w, { 'export-pipeline': 'otherexport', 'export-storage-uri': '', 'export-sas-secret-uri': '' });
    expect(itemOf(report, 'import-container')).toMatchObject({ status: 'fail', fix: expect.stringContaining('az storage container create --name transfer') });
    expect(itemOf(report, 'export-pipeline')).toMatchObject({ status: 'fail', detail: "export pipeline 'otherexport' does not exist on registry 'srcreg'" });
  });
});

describe('cleanup', () => {
  async function withRuns(): Promise<World> {
    const w = await setUp();
    w.src.push('app', 'v1');
    w.src.push('app', 'v2');
    await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v1', 'blob-name': 'old' }), w.host, w.services);
    w.arm.behaviour = () => ({ fail: 'Simulated failure' });
    await runOperation(w.settings({ operation: 'export', artifacts: 'app:v2', 'blob-name': 'bad' }), w.host, w.services);
    w.arm.behaviour = () => ({ polls: 2 });
    w.clock.t += 40 * DAY;
    // The tokens expired meanwhile: rotate them.
    expect((await runOperation(w.settings({ operation: 'setup' }), w.host, w.services)).outcome).toBe('succeeded');
    await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v2', 'blob-name': 'new', 'skip-existing': 'false' }), w.host, w.services);
    return w;
  }
  const names = (w: World, reg: 'source' | 'target'): string[] => [...w.arm.entry(reg === 'source' ? w.source : w.target).runs.keys()].sort();

  it('lists in a dry run and changes nothing, then deletes exactly the listed runs', async () => {
    const w = await withRuns();
    const before = { src: names(w, 'source'), dst: names(w, 'target') };
    expect(before.src).toHaveLength(3);
    const dry = await runOperation(w.settings({ operation: 'cleanup', 'dry-run': 'true' }), w.host, w.services);
    expect(dry.outcome).toBe('succeeded');
    expect({ src: names(w, 'source'), dst: names(w, 'target') }).toEqual(before);
    const listed = dry.changes.filter((c) => c.kind === 'run').map((c) => c.name);
    expect([...listed].sort()).toEqual([...before.src.filter((n) => !n.includes('new')), ...before.dst.filter((n) => !n.includes('new'))].sort());
    expect(dry.changes.every((c) => c.status === 'planned')).toBe(true);
    const real = await runOperation(w.settings({ operation: 'cleanup' }), w.host, w.services);
    expect(real.outcome).toBe('succeeded');
    expect(real.changes.filter((c) => c.kind === 'run').map((c) => [c.name, c.status])).toEqual(listed.map((n) => [n, 'done']));
    expect([...names(w, 'source'), ...names(w, 'target')].sort()).toEqual([...before.src, ...before.dst].filter((n) => !listed.includes(n)).sort());
    expect(JSON.parse(renderOutputs(real)['changes']!)).toHaveLength(listed.length);
  });

  it('failed-only takes failed runs; older-than-days 0 takes any age', async () => {
    const w = await withRuns();
    const failed = await runOperation(
      w.settings({ operation: 'cleanup', 'failed-only': 'true', 'older-than-days': '0', 'dry-run': 'true' }),
      w.host,
      w.services,
    );
    expect(failed.changes.map((c) => c.detail)).toEqual([expect.stringMatching(/^Failed, finished .*, blob bad-1/)]);
    const young = await runOperation(w.settings({ operation: 'cleanup', 'older-than-days': '100', 'dry-run': 'true' }), w.host, w.services);
    expect(young.changes).toEqual([]);
  });

  it('deletes the runs’ blobs except those a kept run uses, and the pipelines', async () => {
    const w = await withRuns();
    w.blobs.put(EXPORT_CONTAINER, 'old-1', []);
    const report = await runOperation(w.settings({ operation: 'cleanup', 'delete-blobs': 'true', 'delete-pipelines': 'true' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(report.changes.filter((c) => c.kind === 'blob').map((c) => [c.name, c.scope.split(' ')[0], c.status])).toEqual([
      ['old-1', 'export', 'done'],
      ['old-1', 'import', 'done'],
    ]);
    expect(w.blobs.get(EXPORT_CONTAINER, 'new-1')).toBeDefined();
    expect(report.changes.filter((c) => c.kind === 'pipeline').map((c) => [c.name, c.status])).toEqual([
      ['acrtransferexport', 'done'],
      ['acrtransferimport', 'done'],
    ]);
  });

  it('deletes a pipeline only after every listed run is gone', async () => {
    const w = await withRuns();
    const order: string[] = [];
    const deleteRun = w.arm.deleteRun.bind(w.arm);
    const deletePipeline = w.arm.deletePipeline.bind(w.arm);
    // Slow run deletes: with the pipelines deleted alongside them, a pipeline would go while it still had runs.
    w.arm.deleteRun = async (reg, name) => {
      for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
      order.push(`run ${name}`);
      return deleteRun(reg, name);
    };
    w.arm.deletePipeline = async (reg, kind, name) => {
      order.push(`pipeline ${name}`);
      return deletePipeline(reg, kind, name);
    };
    const report = await runOperation(w.settings({ operation: 'cleanup', 'delete-pipelines': 'true' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    const firstPipeline = order.findIndex((o) => o.startsWith('pipeline'));
    expect(firstPipeline).toBeGreaterThan(0);
    expect(order.slice(firstPipeline).every((o) => o.startsWith('pipeline'))).toBe(true);
  });

  it('purges untagged manifests of the named repositories, keeping index children and referrers', async () => {
    const w = makeWorld();
    const child = digestOf('child');
    const index = w.dst.push('app', 'multi');
    w.dst.bodies.set(index, { layers: [], manifests: [{ digest: child }] });
    w.dst.pushManifest('app', child);
    const signature = digestOf('sig');
    w.dst.pushManifest('app', signature);
    w.dst.bodies.set(signature, { layers: [], manifests: [], subject: index });
    const orphan = digestOf('orphan');
    w.dst.pushManifest('app', orphan);
    w.dst.pushManifest('other', digestOf('untouched'));
    const dry = await runOperation(
      w.settings({ operation: 'cleanup', 'purge-untagged': 'true', artifacts: 'app:multi', 'dry-run': 'true' }),
      w.host,
      w.services,
    );
    expect(dry.changes.map((c) => [c.kind, c.name, c.status])).toEqual([['manifest', `app@${orphan}`, 'planned']]);
    expect(w.dst.deleted).toEqual([]);
    await runOperation(w.settings({ operation: 'cleanup', 'purge-untagged': 'true', artifacts: 'app:multi' }), w.host, w.services);
    expect(w.dst.deleted).toEqual([`app@${orphan}`]);
    expect(() => w.settings({ operation: 'cleanup', 'purge-untagged': 'true' })).toThrow(
      new ConfigError("Input 'artifacts' is required with 'purge-untagged': the repositories it names are the only ones purged"),
    );
  });
});
