/**
 * core/azure against the running local Azure, no mocks at the HTTP boundary: createServices with the service
 * principal from env.json and `resource-manager-endpoint` (so the cloud comes from metadata/endpoints), then ARM
 * (registry, pipelines, runs, both LRO styles, injected faults), the ACR data plane, blobs and Key Vault.
 * Knobs and faults are global to the running local Azure: each test restores what it changes, and faults match
 * only this file's resource names.
 */
import { runBudget } from '../../core/budget';
import { BlockBlobClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import { AcrDataPlaneFactory } from '../../core/azure/acr';
import { AzureBlobStore } from '../../core/azure/blobs';
import { createServices, type CreatedServices } from '../../core/azure/services';
import { AzureRequestError } from '../../core/errors';
import type { Host } from '../../core/host';
import type { PipelineRunResource, PipelineSpec, Services } from '../../core/ports';
import { parseSettings, type RegistryRef, type TransferSettings } from '../../core/settings';
import { seedImages } from '../local-azure/seed';
import { registryInputs, servicePrincipalInputs } from './support/action-fixture';
import { containerSas, containerUri, control, digestOf, loadEnv, OCI_MANIFEST, secretUri } from './support/local-azure';

jest.setTimeout(120_000);

const env = loadEnv();
const uniq = (prefix: string): string => `${prefix}${randomBytes(4).toString('hex')}`;

interface RecordingHost extends Host {
  readonly masked: string[];
  readonly logs: string[];
}

function makeHost(): RecordingHost {
  const masked: string[] = [];
  const logs: string[] = [];
  return {
    masked,
    logs,
    logger: {
      info: (m) => logs.push(m),
      warning: (m) => logs.push(`warning: ${m}`),
      debug: (m) => logs.push(`debug: ${m}`),
      group: (_n, fn) => fn(),
      progress: () => undefined,
    },
    budget: runBudget({ signal: new AbortController().signal, timeoutMinutes: 60 }),
    mask: (s) => masked.push(s),
  };
}

function ref(r: { name: string; resourceId: string }): RegistryRef {
  return { subscriptionId: env.subscriptionId, resourceGroup: env.resourceGroup, name: r.name, resourceId: r.resourceId };
}

const exportSecretName = uniq('coreexp');
const exportSecretUri = secretUri(env, exportSecretName);
const importSecretName = uniq('coreimp');
const importSecretUri = secretUri(env, importSecretName);

/** An export pipeline on the shared source container, with this file's export SAS secret. */
const exportSpec = (options: string[]): PipelineSpec => ({
  kind: 'export',
  storageUri: containerUri(env.storage.source),
  keyVaultUri: exportSecretUri,
  storageAccessMode: 'SasToken',
  options,
  identity: { type: 'SystemAssigned' },
});

/** An import pipeline on the shared target container (OverwriteTags, no source trigger), with this file's import SAS secret. */
const importSpec = (): PipelineSpec => ({
  kind: 'import',
  storageUri: containerUri(env.storage.target),
  keyVaultUri: importSecretUri,
  storageAccessMode: 'SasToken',
  options: ['OverwriteTags'],
  sourceTriggerEnabled: false,
  identity: { type: 'SystemAssigned' },
});

function settingsFor(extra: Record<string, string> = {}): TransferSettings {
  const inputs: Record<string, string> = {
    operation: 'check',
    ...servicePrincipalInputs(env),
    ...registryInputs(env),
    'export-storage-uri': containerUri(env.storage.source),
    'export-sas-secret-uri': exportSecretUri,
    'import-storage-uri': containerUri(env.storage.target),
    'import-sas-secret-uri': importSecretUri,
    'timeout-minutes': '5',
    ...extra,
  };
  return parseSettings({ get: (n) => inputs[n] });
}

async function waitForRun(services: Services, reg: RegistryRef, name: string): Promise<PipelineRunResource> {
  const end = Date.now() + 60_000;
  for (;;) {
    const run = await services.arm.getRun(reg, name);
    if (run && ['Succeeded', 'Failed', 'Canceled'].includes(run.provisioningState ?? '')) return run;
    if (Date.now() > end) throw new Error(`run ${name} still ${run?.provisioningState ?? 'missing'}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

interface LogEntry {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly fault?: string;
}

/** The emulator's request log; its file is appended asynchronously, so wait (briefly) until `ready` holds. */
async function requestLog(ready: (log: LogEntry[]) => boolean = () => true): Promise<LogEntry[]> {
  for (let i = 0; ; i++) {
    const r = await fetch(`${env.controlUrl}/requests`);
    const log = (await r.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogEntry);
    if (ready(log) || i >= 40) return log;
    await new Promise((res) => setTimeout(res, 50));
  }
}

let host: RecordingHost;
let created: CreatedServices;
let services: Services;
const src = ref(env.registries.source);
const dst = ref(env.registries.target);

beforeAll(async () => {
  host = makeHost();
  created = await createServices(settingsFor(), host);
  services = created.services;
  await services.secrets.setSecret(env.keyVaultUrl, exportSecretName, `?${containerSas(env.storage.source, 'alrw')}`);
  await services.secrets.setSecret(env.keyVaultUrl, importSecretName, `?${containerSas(env.storage.target, 'dlr')}`);
});

describe('cloud and sign-in', () => {
  test('the cloud is discovered from metadata/endpoints of the custom ARM endpoint', () => {
    expect(created.cloud).toMatchObject({
      name: 'custom',
      armEndpoint: env.armEndpoint,
      armScope: 'https://management.local-azure.test/.default',
      authorityHost: env.authorityHost,
      disableInstanceDiscovery: true,
    });
    expect(created.auth.kind).toBe('service-principal');
    expect(host.logs.some((l) => l.includes('from metadata/endpoints'))).toBe(true);
  });

  test('OIDC (auto): the GitHub-style ID token is exchanged for ARM and data-plane tokens', async () => {
    const oidc = (await control<{ requestUrl: string; requestToken: string }>(env, 'GET', '/oidc')).body;
    const audiences: string[] = [];
    const h: RecordingHost = {
      ...makeHost(),
      getIdToken: async (audience) => {
        audiences.push(audience);
        const r = await fetch(`${oidc.requestUrl}&audience=${encodeURIComponent(audience)}`, { headers: { authorization: `Bearer ${oidc.requestToken}` } });
        return ((await r.json()) as { value: string }).value;
      },
    };
    const settings = settingsFor({ 'auth-type': 'auto', 'client-secret': '' });
    const s = await createServices(settings, h, { authEnvironment: { env: { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.requestUrl }, onPath: () => false } });
    expect(s.auth.kind).toBe('oidc');
    expect((await s.services.arm.getRegistry(src)).sku).toBe('Premium');
    expect(await s.services.registries.forLoginServer(env.registries.source.loginServer).listTags(uniq('core/none'))).toEqual([]);
    expect(new Set(audiences)).toEqual(new Set(['api://AzureADTokenExchange']));
    expect(h.masked.length).toBeGreaterThanOrEqual(3);
  });

  test('every access token the credential hands out is masked', async () => {
    const info = await services.arm.getRegistry(src);
    expect(info.name).toBe(src.name);
    expect(host.masked.filter((s) => s.split('.').length === 3).length).toBeGreaterThan(0);
  });
});

describe('ARM', () => {
  test('registry GET: Premium, lower-case login server, export policy', async () => {
    const info = await services.arm.getRegistry(src);
    expect(info).toEqual({
      id: src.resourceId,
      name: src.name,
      sku: 'Premium',
      loginServer: env.registries.source.loginServer.toLowerCase(),
      exportPolicyEnabled: true,
    });
  });

  test('listUsages reports Size in bytes', async () => {
    const usages = await services.arm.listUsages(src);
    expect(usages.find((u) => u.name === 'Size')).toMatchObject({ unit: 'Bytes' });
  });

  test('a missing registry is an AzureRequestError naming it, with the fix', async () => {
    const missing = ref({ name: 'nosuchregistry1', resourceId: src.resourceId.replace(/[^/]+$/, 'nosuchregistry1') });
    const e = (await services.arm.getRegistry(missing).catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toBeInstanceOf(AzureRequestError);
    expect(e).toMatchObject({ status: 404, code: 'ResourceNotFound', operation: "GET registry 'nosuchregistry1'" });
    expect(e.correlationId).toBeTruthy();
    expect(e.fix).toMatch(/registry name 'nosuchregistry1'/);
  });

  test.each(['sync', 'async'] as const)('pipelines: put, get, update, delete (%s LRO style)', async (style) => {
    await control(env, 'PATCH', '/knobs', { lroStyle: style });
    try {
      const name = uniq('coreexp');
      expect(await services.arm.getPipeline(src, 'export', name)).toBeUndefined();
      const put = await services.arm.putPipeline(src, name, exportSpec(['OverwriteBlobs']));
      expect(put).toMatchObject({
        name,
        kind: 'export',
        provisioningState: 'Succeeded',
        storageUri: containerUri(env.storage.source),
        keyVaultUri: exportSecretUri,
        options: ['OverwriteBlobs'],
      });
      // The service answers identity types in camelCase; we report them canonically.
      expect(put.identity?.type).toBe('SystemAssigned');
      expect(put.identity?.principalId).toBeTruthy();
      const updated = await services.arm.putPipeline(src, name, exportSpec(['OverwriteBlobs', 'ContinueOnErrors']));
      expect(updated.options).toEqual(['OverwriteBlobs', 'ContinueOnErrors']);
      expect((await services.arm.getPipeline(src, 'export', name))?.options).toEqual(['OverwriteBlobs', 'ContinueOnErrors']);
      await services.arm.deletePipeline(src, 'export', name);
      expect(await services.arm.getPipeline(src, 'export', name)).toBeUndefined();
      const log = (await requestLog((all) => all.some((l) => l.method === 'DELETE' && l.path.includes(`/exportPipelines/${name}`)))).filter((l) =>
        l.path.includes(`/exportPipelines/${name}`),
      );
      if (style === 'async') {
        expect(log.some((l) => l.path.includes('/operationStatuses/'))).toBe(true);
        expect(log.some((l) => l.method === 'PUT' && l.status === 201)).toBe(true);
        expect(log.some((l) => l.method === 'DELETE' && l.status === 202)).toBe(true);
      } else {
        expect(log.some((l) => l.path.includes('/operationStatuses/'))).toBe(false);
      }
    } finally {
      await control(env, 'PATCH', '/knobs', { lroStyle: 'sync' });
    }
  });

  test('an import pipeline reports its source trigger', async () => {
    const name = uniq('coreimp');
    const p = await services.arm.putPipeline(dst, name, importSpec());
    expect(p).toMatchObject({ kind: 'import', sourceTriggerEnabled: false, options: ['OverwriteTags'] });
    await services.arm.deletePipeline(dst, 'import', name);
  });

  test('a run of a missing pipeline fails with the service message and a named resource', async () => {
    const run = uniq('corerun');
    const e = (await services.arm
      .putRun(src, run, { kind: 'export', pipelineResourceId: `${src.resourceId}/exportPipelines/nosuchpipeline`, blobName: 'x', artifacts: ['a:b'] })
      .catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toBeInstanceOf(AzureRequestError);
    expect(e.status).toBe(404);
    expect(e.operation).toBe(`PUT export pipeline run '${run}' on registry '${src.name}'`);
    expect(e.serviceMessage).toMatch(/nosuchpipeline/);
  });
});

describe('export and import runs observed to completion', () => {
  test('export → copy → import, then verify digests through the data plane', async () => {
    const repo = uniq('core/hello');
    const [image] = await seedImages(env.registries.source.backendUrl, [{ repo, tag: 'v1' }]);
    const exportName = uniq('coreexp');
    const importName = uniq('coreimp');
    const exp = await services.arm.putPipeline(src, exportName, exportSpec(['OverwriteBlobs']));
    const imp = await services.arm.putPipeline(dst, importName, importSpec());
    const blob = uniq('coreblob');
    const exportRun = uniq('coreexprun');
    const accepted = await services.arm.putRun(src, exportRun, { kind: 'export', pipelineResourceId: exp.id, blobName: blob, artifacts: [`${repo}:v1`] });
    expect(accepted).toMatchObject({ name: exportRun, blobName: blob, artifacts: [`${repo}:v1`], pipelineResourceId: exp.id });
    const exported = await waitForRun(services, src, exportRun);
    expect(exported).toMatchObject({ provisioningState: 'Succeeded', blobName: blob });
    expect(exported.catalogDigest).toMatch(/^sha256:/);
    expect((await services.arm.listRuns(src)).some((r) => r.name === exportRun)).toBe(true);

    const written = await services.blobs.getBlob(containerUri(env.storage.source), blob);
    expect(written?.metadata['category']).toBe('acr-transfer-blob');
    expect(written?.contentMD5).toBeTruthy();

    // The copy's source SAS comes from Key Vault (the export pipeline's secret), masked without its '?'.
    const copied = await services.blobs.copyBlob(
      { containerUri: containerUri(env.storage.source), blob },
      { containerUri: containerUri(env.storage.target), blob },
    );
    const exportSas = (await services.secrets.getSecret(exportSecretUri)).value;
    expect(host.masked).toContain(exportSas.replace(/^\?/, ''));
    expect(copied).toMatchObject({ blob, size: written?.size, contentMD5: written?.contentMD5, mode: 'sync' });

    const importRun = uniq('coreimprun');
    await services.arm.putRun(dst, importRun, { kind: 'import', pipelineResourceId: imp.id, blobName: blob });
    const imported = await waitForRun(services, dst, importRun);
    expect(imported.provisioningState).toBe('Succeeded');
    expect(imported.importedArtifacts).toEqual(expect.arrayContaining([expect.stringContaining(`${repo}:v1`)]));

    const target = services.registries.forLoginServer(env.registries.target.loginServer.toUpperCase());
    expect(target.loginServer).toBe(env.registries.target.loginServer.toLowerCase());
    expect(await target.manifestDigest(repo, 'v1')).toBe(image?.digest);
    expect(await target.manifestDigest(repo, image!.digest)).toBe(image?.digest);
    expect(await target.manifestDigest(repo, 'nosuchtag')).toBeUndefined();

    await services.arm.deleteRun(src, exportRun);
    await services.arm.deleteRun(dst, importRun);
    expect(await services.arm.getRun(src, exportRun)).toBeUndefined();
    await services.arm.deletePipeline(src, 'export', exportName);
    await services.arm.deletePipeline(dst, 'import', importName);
  });

  test('a failed run reports pipelineRunErrorMessage word for word', async () => {
    const exportName = uniq('corefail');
    const exp = await services.arm.putPipeline(src, exportName, exportSpec([]));
    const run = uniq('corefailrun');
    await control(env, 'POST', '/run-failures', { match: run, message: 'Injected: the artifact could not be read.', count: 1 });
    const [image] = await seedImages(env.registries.source.backendUrl, [{ repo: uniq('core/fail'), tag: 'v1' }]);
    await services.arm.putRun(src, run, { kind: 'export', pipelineResourceId: exp.id, blobName: uniq('failblob'), artifacts: [image!.ref] });
    const done = await waitForRun(services, src, run);
    expect(done.provisioningState).toBe('Failed');
    expect(done.errorMessage).toBe('Injected: the artifact could not be read.');
    await services.arm.deleteRun(src, run);
    await services.arm.deletePipeline(src, 'export', exportName);
  });
});

describe('retries of injected faults', () => {
  test.each([
    ['503', { kind: '503', count: 2 }],
    ['429 with Retry-After', { kind: '429', count: 2, retryAfterSeconds: 1 }],
    ['connection reset', { kind: 'reset', count: 1 }],
  ])('ARM %s on pipelineRuns is retried', async (_name, fault) => {
    const run = uniq('corefault');
    await control(env, 'POST', '/faults', { service: 'arm', path: `pipelineRuns/${run}`, ...fault });
    expect(await services.arm.getRun(src, run)).toBeUndefined();
    const mine = (l: LogEntry): boolean => l.path.includes(`/pipelineRuns/${run}`);
    const log = (await requestLog((all) => all.some((l) => mine(l) && l.status === 404))).filter(mine);
    expect(log.filter((l) => l.fault === fault.kind)).toHaveLength(fault.count);
    expect(log.filter((l) => l.status === 404)).toHaveLength(1);
  });

  test('ARM faults beyond the attempts surface as AzureRequestError with the status', async () => {
    const run = uniq('corefault');
    // Retry-After: 0 keeps the test fast; the 6 attempts are the bound.
    await control(env, 'POST', '/faults', { service: 'arm', path: `pipelineRuns/${run}`, kind: '503', count: 6, retryAfterSeconds: 0 });
    const e = (await services.arm.getRun(src, run).catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toBeInstanceOf(AzureRequestError);
    expect(e).toMatchObject({ status: 503, code: 'ServiceUnavailable' });
    const mine = (l: LogEntry): boolean => l.path.includes(`/pipelineRuns/${run}`);
    expect((await requestLog((all) => all.filter(mine).length >= 6)).filter(mine)).toHaveLength(6);
  });

  test('ACR data plane 429 is retried', async () => {
    const repo = uniq('core/throttled');
    await seedImages(env.registries.source.backendUrl, [{ repo, tag: 'v1' }]);
    await control(env, 'POST', '/faults', { service: 'acr', path: `${repo}/tags/list`, kind: '429', count: 1, retryAfterSeconds: 1 });
    expect(await services.registries.forLoginServer(env.registries.source.loginServer).listTags(repo)).toEqual(['v1']);
  });
});

describe('ACR data plane', () => {
  const backend = env.registries.source.backendUrl;

  async function tagMany(repo: string, count: number): Promise<string[]> {
    const [image] = await seedImages(backend, [{ repo, tag: 't000' }]);
    const manifest = Buffer.from(await (await fetch(`${backend}/v2/${repo}/manifests/t000`, { headers: { accept: OCI_MANIFEST } })).arrayBuffer());
    expect(digestOf(manifest)).toBe(image?.digest);
    const tags = Array.from({ length: count }, (_x, i) => `t${String(i).padStart(3, '0')}`);
    for (const tag of tags.slice(1)) {
      const r = await fetch(`${backend}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
      expect(r.status).toBe(201);
    }
    return tags;
  }

  test('tags are listed across pages (more than 100) and repositories through the catalog', async () => {
    const repo = uniq('core/many');
    const tags = await tagMany(repo, 130);
    const plane = services.registries.forLoginServer(env.registries.source.loginServer);
    expect((await plane.listTags(repo)).sort()).toEqual(tags);
    expect(await plane.listRepositories()).toContain(repo);
    expect(await plane.listTags(uniq('core/none'))).toEqual([]);
    const isPage = (l: LogEntry): boolean => l.service === 'acr' && l.path.startsWith(`/v2/${repo}/tags/list`) && l.status === 200;
    const pages = (await requestLog((all) => all.filter(isPage).length >= 2)).filter(isPage);
    expect(pages.length).toBeGreaterThanOrEqual(2);
  });

  test('an ACR-audience token works as well (registries that refuse ARM tokens)', async () => {
    const factory = new AcrDataPlaneFactory({
      credential: (await import('./support/local-azure')).credential(env),
      scopes: ['https://containerregistry.azure.net/.default'],
      mask: () => undefined,
    });
    const repo = uniq('core/acraud');
    await seedImages(backend, [{ repo, tag: 'v1' }]);
    expect(await factory.forLoginServer(env.registries.source.loginServer).listTags(repo)).toEqual(['v1']);
  });
});

describe('blobs', () => {
  const source = containerUri(env.storage.source);
  const target = containerUri(env.storage.target);

  async function upload(name: string, bytes: Buffer): Promise<string> {
    const md5 = createHash('md5').update(bytes).digest();
    const client = new BlockBlobClient(`${source}/${name}`, new StorageSharedKeyCredential(env.storage.source.account, env.storage.source.key), {
      retryOptions: { maxTries: 1 },
    });
    await client.upload(bytes, bytes.length, {
      blobHTTPHeaders: { blobContentMD5: md5, blobContentType: 'application/x-tar' },
      metadata: { category: 'acr-transfer-blob' },
    });
    return md5.toString('base64');
  }

  test('copy between accounts with a user-delegation SAS keeps Content-MD5 and metadata', async () => {
    const name = uniq('ud-');
    const md5 = await upload(name, randomBytes(300_000));
    // Not the export container of these settings: no Key Vault SAS, so a user-delegation SAS is made.
    const other = await createServices(
      settingsFor({ 'export-storage-uri': '', 'export-sas-secret-uri': '', 'import-storage-uri': '', 'import-sas-secret-uri': '' }),
      makeHost(),
    );
    const r = await other.services.blobs.copyBlob({ containerUri: source, blob: name }, { containerUri: target, blob: name });
    expect(r).toEqual({ blob: name, size: 300_000, contentMD5: md5, mode: 'sync' });
    const copied = await other.services.blobs.getBlob(target, name);
    expect(copied).toMatchObject({ size: 300_000, contentMD5: md5, metadata: { category: 'acr-transfer-blob' } });
    expect((await other.services.blobs.listBlobs(target, name)).map((b) => b.name)).toEqual([name]);
    await other.services.blobs.deleteBlob(target, name);
    expect(await other.services.blobs.getBlob(target, name)).toBeUndefined();
    await other.services.blobs.deleteBlob(target, name); // idempotent
  });

  test('the asynchronous copy path (above the sync limit) ends with the same checks', async () => {
    const name = uniq('async-');
    const md5 = await upload(name, randomBytes(64 * 1024));
    const h = makeHost();
    const store = new AzureBlobStore({
      credential: (await import('./support/local-azure')).credential(env),
      scope: 'https://storage.azure.com/.default',
      mask: (s) => h.mask(s),
      syncCopyLimitBytes: 0,
    });
    const r = await store.copyBlob({ containerUri: source, blob: name }, { containerUri: target, blob: name });
    expect(r).toEqual({ blob: name, size: 64 * 1024, contentMD5: md5, mode: 'async' });
    expect(h.masked.some((s) => s.includes('sig='))).toBe(true);
  });

  test('a missing source blob and a missing container are typed errors without a signature in them', async () => {
    const e = (await services.blobs
      .copyBlob({ containerUri: source, blob: 'nosuchblob' }, { containerUri: target, blob: 'x' })
      .catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toMatchObject({ status: 404, code: 'BlobNotFound' });
    const missing = `${env.storage.source.blobEndpoint}nosuchcontainer`;
    const e2 = (await services.blobs.listBlobs(missing).catch((x: unknown) => x)) as AzureRequestError;
    expect(e2).toBeInstanceOf(AzureRequestError);
    expect(e2.status).toBe(404);
    expect(e2.message).not.toMatch(/sig=/);
  });
});

describe('Key Vault', () => {
  test('set, then get by URI (versioned and not); values are masked', async () => {
    const name = uniq('coresecret');
    const value = `?sv=2026&sig=${randomBytes(8).toString('hex')}`;
    const { id } = await services.secrets.setSecret(env.keyVaultUrl, name, value, new Date(Date.now() + 86_400_000));
    expect(id).toMatch(new RegExp(`/secrets/${name}/[0-9a-f]{32}$`));
    const got = await services.secrets.getSecret(secretUri(env, name));
    expect(got.value).toBe(value);
    expect(got.expiresOn).toBeInstanceOf(Date);
    expect((await services.secrets.getSecret(id)).value).toBe(value);
    expect(host.masked).toContain(value);
  });

  test('a missing secret is a 404 AzureRequestError with the fix', async () => {
    const e = (await services.secrets.getSecret(secretUri(env, 'nosuchsecret')).catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toBeInstanceOf(AzureRequestError);
    expect(e).toMatchObject({ status: 404, code: 'SecretNotFound' });
    expect(e.fix).toMatch(/secret URI/);
  });
});
