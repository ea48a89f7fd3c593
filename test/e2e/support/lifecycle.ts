/**
 * The issue-5 scenario, end to end, through one front-end at a time (the bundled action, or the task from the .vsix):
 * setup (SAS tokens, pipelines, grant, wait), a transfer that uses only what setup made, check catching each problem
 * with its fix, cleanup in a dry run and then for real, and no SAS text anywhere a user can see. The local Azure runs
 * with `enforceAccess` on, so a pipeline identity without a working grant fails its runs as in Azure.
 */
import type { TransferReport } from '../../../core/report';
import type { LocalAzureEnv, StorageEnv } from '../../local-azure/config';
import { seedImages, type SeededImage, skopeoDigest } from '../../local-azure/seed';
import { createTransferFixture, registryInputs, servicePrincipalInputs, type TransferFixture } from './action-fixture';
import { API, arm, containerSas, containerUri, control, secretClient } from './local-azure';

/** What one step of a front-end left behind, in front-end-neutral terms. */
export interface Step {
  /** succeeded: the step passed (GitHub exit 0, ADO Succeeded or SucceededWithIssues). */
  readonly ok: boolean;
  readonly report: TransferReport;
  /** Outputs by their kebab-case names. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly summary: string;
  /** Everything a user sees: the log (without masking commands), stderr, error and warning annotations or issues. */
  readonly visible: string;
  /** The step's failure message (GitHub setFailed, ADO task result), if it failed. */
  readonly failure: string;
  /** For a failing test: the log's end. */
  describe(): string;
}

export interface FrontEnd {
  readonly name: string;
  /** Runs one step with kebab-case inputs (the ADO front-end renames them and adds its service connection). */
  step(inputs: Readonly<Record<string, string>>): Promise<Step>;
}

export interface LifecycleFixture extends TransferFixture {
  readonly image: SeededImage;
}

/** Containers and an image of its own; secret names that do not exist yet (setup makes them). */
export async function createLifecycleFixture(tag: string): Promise<LifecycleFixture> {
  const base = await createTransferFixture(tag, 'lc');
  const [image] = await seedImages(base.env.registries.source.backendUrl, [{ repo: `lc${base.u}/app`, tag: 'v1' }]);
  return { ...base, image: image! };
}

/** The inputs every step shares (GitHub names; service-principal sign-in, which the ADO front-end drops). */
export function baseInputs(f: LifecycleFixture, operation: string, extra: Record<string, string> = {}): Record<string, string> {
  const { env } = f;
  return {
    operation,
    ...servicePrincipalInputs(env),
    ...registryInputs(env),
    'export-pipeline': f.exportPipeline,
    'import-pipeline': f.importPipeline,
    'timeout-minutes': '4',
    ...extra,
  };
}

/** What setup needs besides: the containers and the secrets to write. */
export function setupInputs(f: LifecycleFixture, extra: Record<string, string> = {}): Record<string, string> {
  return baseInputs(f, 'setup', {
    'export-storage-uri': containerUri(f.exportStorage),
    'export-sas-secret-uri': f.exportSecretUri,
    'import-storage-uri': containerUri(f.importStorage),
    'import-sas-secret-uri': f.importSecretUri,
    'grant-access': 'true',
    ...extra,
  });
}

export async function knobs(env: LocalAzureEnv, patch: Record<string, unknown>): Promise<void> {
  const r = await control(env, 'PATCH', '/knobs', patch);
  if (r.status !== 200) throw new Error(`PATCH knobs: HTTP ${r.status}`);
}

const secretName = (uri: string): string => new URL(uri).pathname.split('/').filter(Boolean)[1]!;

export async function readSecret(env: LocalAzureEnv, uri: string): Promise<string> {
  return (await secretClient(env).getSecret(secretName(uri))).value ?? '';
}

export async function writeSecret(env: LocalAzureEnv, uri: string, value: string): Promise<void> {
  await secretClient(env).setSecret(secretName(uri), value);
}

/** A SAS for a container signed with the account key, as someone might have stored by hand. */
export function handMadeSas(s: StorageEnv, permissions: string, expiresOn: Date): string {
  return containerSas(s, permissions, { startsOn: new Date(Date.now() - 3 * 3600_000), expiresOn, version: '2025-05-05' });
}

/** Every form in which a SAS could leak: whole, with '?', its signature raw and URL-encoded. */
export function sasForms(sas: string): string[] {
  const bare = sas.replace(/^\?/, '');
  const sig = new URLSearchParams(bare).get('sig') ?? bare;
  return [bare, sig, encodeURIComponent(sig)];
}

export function leaksIn(step: Step, secrets: readonly string[]): string[] {
  const places: Record<string, string> = {
    visible: step.visible,
    outputs: JSON.stringify(step.outputs),
    summary: step.summary,
    report: JSON.stringify(step.report),
  };
  const out: string[] = [];
  for (const s of secrets.filter((x) => x.length >= 6))
    for (const [place, text] of Object.entries(places)) if (text.includes(s)) out.push(`${place} contains '${s.slice(0, 4)}…'`);
  return out;
}

export interface ArmPipeline {
  readonly id: string;
  readonly identity?: { readonly principalId?: string };
  readonly properties: { readonly provisioningState?: string; readonly options?: string[] };
}

export async function getPipeline(f: LifecycleFixture, kind: 'export' | 'import'): Promise<ArmPipeline | undefined> {
  const reg = kind === 'export' ? f.env.registries.source : f.env.registries.target;
  const name = kind === 'export' ? f.exportPipeline : f.importPipeline;
  const r = await arm<ArmPipeline>(f.env, 'GET', `${reg.resourceId}/${kind}Pipelines/${name}?api-version=${API}`);
  return r.status === 200 ? r.body : undefined;
}

export interface ArmRunLite {
  readonly name: string;
  readonly properties: { readonly provisioningState: string; readonly request: { readonly pipelineResourceId?: string } };
}

/** Every run on a registry (all pipelines), by name. */
export async function allRuns(env: LocalAzureEnv, side: 'source' | 'target'): Promise<ArmRunLite[]> {
  const out: ArmRunLite[] = [];
  let next: string | undefined = `${env.registries[side].resourceId}/pipelineRuns?api-version=${API}`;
  while (next) {
    const r: { status: number; body: { value: ArmRunLite[]; nextLink?: string } } = await arm<{ value: ArmRunLite[]; nextLink?: string }>(env, 'GET', next);
    if (r.status !== 200) throw new Error(`listing runs: HTTP ${r.status}`);
    out.push(...r.body.value);
    next = r.body.nextLink;
  }
  return out;
}

interface VaultBody {
  readonly id: string;
  readonly properties: { readonly vaultUri: string; readonly tenantId: string };
}

/** The vault's ARM resource (the one whose vaultUri is the local Key Vault). */
export async function vaultResource(env: LocalAzureEnv): Promise<VaultBody> {
  const r = await arm<{ value: VaultBody[] }>(env, 'GET', `/subscriptions/${env.subscriptionId}/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01`);
  const v = r.body.value.find((x) => x.properties.vaultUri.replace(/\/+$/, '') === env.keyVaultUrl.replace(/\/+$/, ''));
  if (!v) throw new Error('the local vault is not in the ARM list');
  return v;
}

/** Removes and adds back a principal's secret `get` policy: a fresh grant, which takes `grantDelayMs` to work. */
export async function regrant(env: LocalAzureEnv, principalId: string): Promise<void> {
  const v = await vaultResource(env);
  const body = { properties: { accessPolicies: [{ tenantId: v.properties.tenantId, objectId: principalId, permissions: { secrets: ['get'] } }] } };
  for (const kind of ['remove', 'add']) {
    const r = await arm(env, 'PUT', `${v.id}/accessPolicies/${kind}?api-version=2023-07-01`, body);
    if (r.status !== 200 && r.status !== 201) throw new Error(`accessPolicies/${kind}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  }
}

export async function targetDigest(env: LocalAzureEnv, ref: string): Promise<string | undefined> {
  try {
    return await skopeoDigest(`${env.registries.target.backendUrl.replace(/^https?:\/\//, '')}/${ref}`);
  } catch {
    return undefined;
  }
}

export const checkOf = (s: Step, id: string): TransferReport['checks'][number] | undefined => s.report.checks.find((c) => c.id === id);

/** A JSON output as its parsed value. */
export function jsonOf<T>(step: Step, name: string): T {
  const text = step.outputs[name];
  if (text === undefined) throw new Error(`output '${name}' is not set; outputs: ${Object.keys(step.outputs).join(', ')}`);
  return JSON.parse(text) as T;
}

interface ChangeOut {
  kind: string;
  name: string;
  scope: string;
  action: string;
  status: string;
  detail: string | null;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The scenario as jest tests, in order (each builds on the last): `make` gives the front-end once, before the first.
 * Every step is checked for SAS text (and the client secret) in its log, outputs, summary and report.
 */
export function lifecycleScenario(tag: string, make: () => Promise<FrontEnd>): void {
  let fe: FrontEnd;
  let f: LifecycleFixture;
  const secrets: string[] = [];
  const step = async (inputs: Record<string, string>): Promise<Step> => {
    const s = await fe.step(inputs);
    expect(leaksIn(s, secrets)).toEqual([]);
    return s;
  };
  const passed = (s: Step): void => expect({ ok: s.ok, log: s.ok ? '' : s.describe() }).toEqual({ ok: true, log: '' });

  beforeAll(async () => {
    fe = await make();
    f = await createLifecycleFixture(tag);
    secrets.push(f.env.clientSecret);
    // As in Azure: runs fail with Key Vault's refusal until the pipeline identity's grant works, which takes a while.
    await knobs(f.env, { enforceAccess: true, grantDelayMs: 3000 });
  }, 300_000);

  afterAll(async () => {
    await knobs(f.env, { enforceAccess: false, grantDelayMs: 0 });
    await control(f.env, 'PATCH', `/registries/${f.env.registries.target.name}`, { sku: 'Premium' });
  });

  it('setup makes the SAS tokens, the pipelines and the grants, and waits until the grants work', async () => {
    const s = await step(setupInputs(f, { 'export-options': 'OverwriteBlobs', 'import-options': 'OverwriteTags' }));
    passed(s);
    const changes = jsonOf<ChangeOut[]>(s, 'changes');
    const summarize = (kind: string): string[] => changes.filter((c) => c.kind === kind).map((c) => `${c.action} ${c.status}`);
    expect(summarize('secret')).toEqual(['update done', 'update done']);
    expect(summarize('pipeline')).toEqual(['create done', 'create done']);
    expect(summarize('access-policy')).toEqual(['grant done', 'grant done']);
    expect(summarize('probe-run')).toEqual(['create done', 'delete done', 'create done', 'delete done']);
    expect(changes.find((c) => c.kind === 'secret' && c.name.startsWith('lcexport'))?.detail).toMatch(/sp=alrw, spr=https, expires .*user-delegation key/);
    expect(changes.find((c) => c.kind === 'secret' && c.name.startsWith('lcimport'))?.detail).toMatch(/sp=rl, spr=https/);
    for (const id of ['export-access', 'import-access'])
      expect(checkOf(s, id)).toMatchObject({ status: 'pass', detail: expect.stringMatching(/^works: a probe run got past the read/) });
    expect(s.summary).toContain('### Changes');
    expect(s.summary).toContain('### Checks');

    // What Key Vault now holds: https-only tokens with exactly those permissions, for at most 7 days. Never shown.
    for (const [uri, sp] of [
      [f.exportSecretUri, 'racwl'],
      [f.importSecretUri, 'rl'],
    ] as const) {
      const value = await readSecret(f.env, uri);
      const q = new URLSearchParams(value.replace(/^\?/, ''));
      expect(value.startsWith('?')).toBe(true);
      expect({ sp: [...(q.get('sp') ?? '')].sort().join(''), spr: q.get('spr'), skoid: q.has('skoid') }).toEqual({
        sp: [...sp]
          .filter((l) => l !== 'c')
          .sort()
          .join(''),
        spr: 'https',
        skoid: true,
      });
      expect(Date.parse(q.get('se')!) - Date.now()).toBeLessThanOrEqual(7 * DAY_MS);
      secrets.push(...sasForms(value));
    }
    expect(leaksIn(s, secrets)).toEqual([]);
    // The probe runs are gone.
    expect((await allRuns(f.env, 'source')).filter((r) => r.name.startsWith('acrprobe'))).toEqual([]);
  });

  it('a transfer uses only what setup made (no container or secret inputs), with registry usage before and after', async () => {
    const s = await step(baseInputs(f, 'transfer', { artifacts: f.image.ref }));
    passed(s);
    expect(jsonOf<string[]>(s, 'imported-artifacts')).toEqual([`${f.image.ref}@${f.image.digest}`]);
    expect(await targetDigest(f.env, f.image.ref)).toBe(f.image.digest);
    expect(s.report.usage.map((u) => [u.registry, u.before !== undefined, u.after !== undefined])).toEqual([
      [f.env.registries.source.name, true, true],
      [f.env.registries.target.name, true, true],
    ]);
    expect(s.summary).toContain('### Registry usage');
    expect(s.summary).toMatch(new RegExp(`\\| ${f.env.registries.target.name} \\| Size \\| [^|]+ \\| [^|]+ \\|`));
  });

  it('check passes what setup made, probing the grants, and renders every item', async () => {
    const s = await step(baseInputs(f, 'check', { artifacts: f.image.ref }));
    passed(s);
    expect(s.report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(checkOf(s, 'import-access')?.detail).toContain('a probe run got past the read');
    expect(s.summary).toContain('| check | status | detail | fix |');
    expect(jsonOf<unknown[]>(s, 'checks').length).toBe(s.report.checks.length);
  });

  describe('check catches, with the fix in the message', () => {
    const failing = async (inputs: Record<string, string>, id: string): Promise<NonNullable<ReturnType<typeof checkOf>>> => {
      const s = await step(inputs);
      expect(s.ok).toBe(false);
      const item = checkOf(s, id);
      expect(item?.status).toBe('fail');
      expect(item?.fix).toBeTruthy();
      // The step's own failure message names the item and its fix.
      expect(s.failure).toContain(item!.title);
      expect(s.failure).toContain(`fix: ${item!.fix!.slice(0, 40)}`);
      return item!;
    };

    it('an expired SAS', async () => {
      const saved = await readSecret(f.env, f.importSecretUri);
      const expired = handMadeSas(f.importStorage, 'rl', new Date(Date.now() - 3600_000));
      secrets.push(...sasForms(expired));
      await writeSecret(f.env, f.importSecretUri, `?${expired}`);
      try {
        const item = await failing(baseInputs(f, 'check'), 'import-sas');
        expect(item.detail).toMatch(/^the import SAS expired at /);
        expect(item.fix).toContain('run setup');
      } finally {
        await writeSecret(f.env, f.importSecretUri, saved);
      }
    });

    it('a SAS without write for OverwriteBlobs', async () => {
      const saved = await readSecret(f.env, f.exportSecretUri);
      const noWrite = handMadeSas(f.exportStorage, 'alr', new Date(Date.now() + 30 * DAY_MS));
      secrets.push(...sasForms(noWrite));
      await writeSecret(f.env, f.exportSecretUri, `?${noWrite}`);
      try {
        const item = await failing(baseInputs(f, 'check'), 'export-sas');
        expect(item.detail).toContain('lacks write (w): the export writes the blob, and OverwriteBlobs replaces an existing blob with it');
        expect(item.fix).toContain('sp=alrw');
      } finally {
        await writeSecret(f.env, f.exportSecretUri, saved);
      }
    });

    it('a registry that is not Premium', async () => {
      const name = f.env.registries.target.name;
      expect((await control(f.env, 'PATCH', `/registries/${name}`, { sku: 'Basic' })).status).toBe(200);
      try {
        const item = await failing(baseInputs(f, 'check'), 'target-premium');
        expect(item.detail).toContain('SKU Basic');
        expect(item.fix).toBe(`az acr update --name ${name} --sku Premium`);
      } finally {
        await control(f.env, 'PATCH', `/registries/${name}`, { sku: 'Premium' });
      }
    });

    it('a missing blob', async () => {
      const item = await failing(baseInputs(f, 'check', { blobs: `gone${f.u}-1` }), 'blobs');
      expect(item.detail).toContain(`blob 'gone${f.u}-1' is not in the import container`);
      expect(item.fix).toContain("check the names in 'blobs'");
    });

    it('a misspelled artifact', async () => {
      const item = await failing(baseInputs(f, 'check', { artifacts: `lc${f.u}/app:vl` }), 'artifacts-found');
      expect(item.detail).toBe(`not found: lc${f.u}/app:vl (repository 'lc${f.u}/app' has v1)`);
      expect(item.fix).toContain("check the spelling in 'artifacts'");
    });

    it('a grant not yet in effect, which passes once it is', async () => {
      const principal = (await getPipeline(f, 'import'))?.identity?.principalId;
      expect(principal).toBeTruthy();
      await knobs(f.env, { grantDelayMs: 600_000 });
      try {
        await regrant(f.env, principal!);
        const item = await failing(baseInputs(f, 'check'), 'import-access');
        expect(item.detail).toMatch(/^granted \(access policy with secret permissions get\) but not in effect yet: a probe run was refused: .*403/);
        expect(item.fix).toContain('new permissions take minutes');
      } finally {
        await knobs(f.env, { grantDelayMs: 0 });
        await regrant(f.env, principal!);
      }
      passed(await step(baseInputs(f, 'check')));
    });
  });

  it('cleanup lists in a dry run and changes nothing, then deletes exactly the listed runs', async () => {
    // A failed export run to clean up; the transfer's runs succeeded and stay (failed-only).
    await control(f.env, 'POST', '/run-failures', { match: `^${f.exportPipeline}$`, message: 'Simulated failure for the cleanup test.', count: 1 });
    const bad = await step(baseInputs(f, 'export', { artifacts: f.image.ref, 'blob-name': `bad${f.u}` }));
    expect(bad.ok).toBe(false);
    const before = { source: (await allRuns(f.env, 'source')).map((r) => r.name).sort(), target: (await allRuns(f.env, 'target')).map((r) => r.name).sort() };
    const failedRun = jsonOf<{ name: string; status: string }[]>(bad, 'runs').find((r) => r.status === 'failed')!.name;

    const inputs = baseInputs(f, 'cleanup', { 'older-than-days': '0', 'failed-only': 'true' });
    const dry = await step({ ...inputs, 'dry-run': 'true' });
    passed(dry);
    const listed = jsonOf<ChangeOut[]>(dry, 'changes');
    expect(listed.map((c) => [c.kind, c.name, c.status])).toEqual([['run', failedRun, 'planned']]);
    expect(dry.summary).toContain('### Changes (planned: nothing was changed)');
    expect({ source: (await allRuns(f.env, 'source')).map((r) => r.name).sort(), target: (await allRuns(f.env, 'target')).map((r) => r.name).sort() }).toEqual(
      before,
    );

    const real = await step(inputs);
    passed(real);
    expect(jsonOf<ChangeOut[]>(real, 'changes').map((c) => [c.kind, c.name, c.status])).toEqual([['run', failedRun, 'done']]);
    expect({ source: (await allRuns(f.env, 'source')).map((r) => r.name).sort(), target: (await allRuns(f.env, 'target')).map((r) => r.name).sort() }).toEqual({
      source: before.source.filter((n) => n !== failedRun),
      target: before.target,
    });
  });

  it('cleanup deletes the rest: runs, blobs, pipelines and the manifest a moved tag left untagged', async () => {
    // The tag moves in the source; a second transfer (OverwriteTags) leaves the first image untagged in the target.
    const [moved] = await seedImages(f.env.registries.source.backendUrl, [{ repo: `lc${f.u}/app`, tag: 'v1', seed: 'moved' }]);
    passed(await step(baseInputs(f, 'transfer', { artifacts: f.image.ref })));
    expect(await targetDigest(f.env, f.image.ref)).toBe(moved!.digest);
    const ours = async (side: 'source' | 'target'): Promise<string[]> =>
      (await allRuns(f.env, side))
        .filter(
          (r) =>
            /\/(export|import)Pipelines\/lc(exp|imp)/i.test(r.properties.request.pipelineResourceId ?? '') &&
            r.properties.request.pipelineResourceId!.includes(f.u),
        )
        .map((r) => r.name);
    const others = {
      source: (await allRuns(f.env, 'source')).length - (await ours('source')).length,
      target: (await allRuns(f.env, 'target')).length - (await ours('target')).length,
    };

    const s = await step(
      baseInputs(f, 'cleanup', {
        'older-than-days': '0',
        'delete-blobs': 'true',
        'delete-pipelines': 'true',
        'purge-untagged': 'true',
        artifacts: f.image.ref,
      }),
    );
    passed(s);
    const changes = jsonOf<ChangeOut[]>(s, 'changes');
    expect(changes.filter((c) => c.status !== 'done')).toEqual([]);
    expect(changes.filter((c) => c.kind === 'manifest').map((c) => c.name)).toEqual([`lc${f.u}/app@${f.image.digest}`]);
    expect(changes.filter((c) => c.kind === 'pipeline').map((c) => c.name)).toEqual([f.exportPipeline, f.importPipeline]);
    expect(await ours('source')).toEqual([]);
    expect(await ours('target')).toEqual([]);
    // Nothing else: other pipelines' runs are all still there.
    expect((await allRuns(f.env, 'source')).length).toBe(others.source);
    expect((await allRuns(f.env, 'target')).length).toBe(others.target);
    expect(await getPipeline(f, 'export')).toBeUndefined();
    expect(await targetDigest(f.env, `lc${f.u}/app@${f.image.digest}`)).toBeUndefined();
    expect(await targetDigest(f.env, f.image.ref)).toBe(moved!.digest);
  });
}
