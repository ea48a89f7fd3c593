/**
 * ARM of the local Azure over plain REST: every body is checked against the reference swagger (schema.ts), the swagger
 * examples round-trip, each validation rule gives its 400, both LRO styles work with @azure/core-lro, lists page.
 * Knobs and registry settings changed here are global to the running local Azure; each test restores what it changes.
 */
import { createHttpPoller, type LroResponse, type OperationState } from '@azure/core-lro';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type EmulatorConfig, localAzureDir } from '../local-azure/config';
import { directoryBytes } from '../local-azure/emulator/arm/registries';
import { validate } from '../local-azure/emulator/arm/schema';
import { operations } from '../local-azure/emulator/arm/swagger';
import { API, arm, control, credential, type HttpResult, loadEnv } from './support/local-azure';

jest.setTimeout(120_000);

type Json = Record<string, unknown>;
interface ArmErrorBody {
  error: { code: string; message: string; target?: string };
}

const env = loadEnv();
const src = env.registries.source;
const regPath = (name = src.name, rg = env.resourceGroup, sub = env.subscriptionId): string =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerRegistry/registries/${name}`;
const q = `?api-version=${API}`;
const exportContainer = `${env.storage.source.blobEndpoint}${env.storage.source.container}`;
const importContainer = `${env.storage.target.blobEndpoint}${env.storage.target.container}`;
const secret = (name: string): string => `${env.keyVaultUrl.replace(/\/$/, '')}/secrets/${name}`;
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const UAI = `/subscriptions/${env.subscriptionId}/resourceGroups/${env.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/transferid`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Alphanumeric and unique per test run (the local Azure keeps state between runs). */
const uniq = (prefix: string): string => `${prefix}${randomBytes(5).toString('hex')}`;

function expectValid(definition: string, body: unknown): void {
  expect({ definition, errors: validate(definition, body, 'response') }).toEqual({ definition, errors: [] });
}

function expectCorrelation(r: HttpResult): void {
  expect(r.headers.get('x-ms-request-id')).toMatch(UUID);
  expect(r.headers.get('x-ms-correlation-request-id')).toBeTruthy();
}

/** An ARM error: status, code, a body that is a common-types ErrorResponse, correlation headers. */
function expectError(r: HttpResult, status: number, code: string, message?: RegExp | string): ArmErrorBody['error'] {
  expect({ status: r.status, body: r.body }).toMatchObject({ status, body: { error: { code } } });
  expectValid('ErrorResponse', r.body);
  expectCorrelation(r);
  const error = (r.body as ArmErrorBody).error;
  if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}

const exportBody = (target: Json = {}, extra: Json = {}): Json => ({
  identity: { type: 'SystemAssigned' },
  properties: { target: { type: 'AzureStorageBlobContainer', uri: exportContainer, keyVaultUri: secret('exportsas'), ...target } },
  ...extra,
});

const importBody = (source: Json = {}, extra: Json = {}): Json => ({
  identity: { type: 'SystemAssigned' },
  properties: {
    source: { type: 'AzureStorageBlobContainer', uri: importContainer, keyVaultUri: secret('importsas'), ...source },
    trigger: { sourceTrigger: { status: 'Disabled' } },
  },
  ...extra,
});

async function put(collection: string, name: string, body: unknown, query = q, registry = src.name): Promise<HttpResult<Json>> {
  return arm<Json>(env, 'PUT', `${regPath(registry)}/${collection}/${name}${query}`, body);
}

async function createPipeline(kind: 'export' | 'import', body: Json = kind === 'export' ? exportBody() : importBody()): Promise<{ name: string; id: string }> {
  const name = uniq(kind);
  const r = await put(`${kind}Pipelines`, name, body);
  expect(r.status).toBe(200);
  return { name, id: String(r.body['id']) };
}

const exportRun = (pipelineId: string, request: Json = {}, extra: Json = {}): Json => ({
  properties: {
    request: { pipelineResourceId: pipelineId, target: { type: 'AzureStorageBlob', name: 'blob.tar' }, artifacts: ['hello-world:v1'], ...request },
    ...extra,
  },
});

const importRun = (pipelineId: string, request: Json = {}, extra: Json = {}): Json => ({
  properties: { request: { pipelineResourceId: pipelineId, source: { type: 'AzureStorageBlob', name: 'blob.tar' }, ...request }, ...extra },
});

const runProps = (r: HttpResult<Json>): Json => r.body['properties'] as Json;
const TERMINAL = ['Succeeded', 'Failed', 'Canceled'];

async function waitRun(name: string): Promise<Json> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await arm<Json>(env, 'GET', `${regPath()}/pipelineRuns/${name}${q}`);
    expect(r.status).toBe(200);
    expectValid('PipelineRun', r.body);
    if (TERMINAL.includes(String(runProps(r)['provisioningState']))) return r.body;
    if (Date.now() > deadline) throw new Error(`run ${name} did not finish: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function setKnobs(knobs: Json): Promise<void> {
  const r = await control(env, 'PATCH', '/knobs', knobs);
  expect(r.status).toBe(200);
}

async function withKnobs<T>(knobs: Json, fn: () => Promise<T>): Promise<T> {
  const before = (await control<Json>(env, 'GET', '/knobs')).body;
  await setKnobs(knobs);
  try {
    return await fn();
  } finally {
    await setKnobs(Object.fromEntries(Object.keys(knobs).map((k) => [k, before[k]])));
  }
}

async function withRegistry<T>(settings: Json, fn: () => Promise<T>, name = src.name): Promise<T> {
  expect((await control(env, 'PATCH', `/registries/${name}`, settings)).status).toBe(200);
  try {
    return await fn();
  } finally {
    expect((await control(env, 'POST', `/registries/${name}/reset`)).status).toBe(200);
  }
}

describe('authentication', () => {
  const url = `${env.armEndpoint}${regPath()}${q}`;

  it('refuses a request without Authorization with 401 AuthenticationFailed and a WWW-Authenticate challenge', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." } });
    expect(res.headers.get('www-authenticate')).toMatch(
      new RegExp(`^Bearer authorization_uri="${env.authorityHost}/${env.tenantId}", error="invalid_token", error_description="[^"]+"$`),
    );
    expect(res.headers.get('x-ms-correlation-request-id')).toBeTruthy();
  });

  it('refuses a forged token with 401 and the verifier code', async () => {
    const token = (await credential(env).getToken('https://management.azure.com/.default')).token;
    const [h, c] = token.split('.');
    const res = await fetch(url, { headers: { authorization: `Bearer ${h}.${c}.${Buffer.from('forged').toString('base64url')}` } });
    expect(res.status).toBe(401);
    const body = (await res.json()) as ArmErrorBody;
    expect(body.error.code).toBeTruthy();
    expectValid('ErrorResponse', body);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});

describe('registry GET and listUsages', () => {
  it.each(['2019-05-01', '2023-07-01', '2025-04-01', '2025-11-01', '2019-12-01-preview', API, '2026-09-01-preview'])(
    'GET registry with api-version %s',
    async (v) => {
      const r = await arm<Json>(env, 'GET', `${regPath()}?api-version=${v}`);
      expect(r.status).toBe(200);
      expectValid('Registry', r.body);
      expectCorrelation(r);
      expect(r.body).toMatchObject({
        id: src.resourceId,
        name: src.name,
        sku: { name: 'Premium' },
        properties: { loginServer: src.loginServer, policies: { exportPolicy: { status: 'enabled' } } },
      });
    },
  );

  it('refuses an unknown api-version with ARM wording', async () => {
    expectError(
      await arm(env, 'GET', `${regPath()}?api-version=2030-01-01`),
      400,
      'NoRegisteredProviderFound',
      /The supported api-versions are '.*2025-11-01.*'/,
    );
  });

  it('reports the usages with the real bytes of the registry storage', async () => {
    const cfg = JSON.parse(readFileSync(path.join(localAzureDir(), 'emulator.json'), 'utf8')) as EmulatorConfig;
    const r = await arm<{ value: Json[] }>(env, 'GET', `${regPath()}/listUsages?api-version=2023-07-01`);
    expect(r.status).toBe(200);
    expectValid('RegistryUsageListResult', r.body);
    expect(r.body.value.map((u) => u['name'])).toEqual(['Size', 'Webhooks', 'Geo-replications', 'IPRules', 'VNetRules', 'PrivateEndpointConnections']);
    expect(r.body.value[0]).toMatchObject({ limit: 536870912000, unit: 'Bytes', currentValue: await directoryBytes(cfg.registries.source.rootDir) });
  });
});

describe('ARM request errors', () => {
  it('missing api-version → 400 MissingApiVersionParameter', async () => {
    expectError(await arm(env, 'GET', `${regPath()}/exportPipelines`), 400, 'MissingApiVersionParameter', /api-version/);
  });

  it('a stable api-version on a pipeline resource → 400 InvalidResourceType listing the preview versions', async () => {
    expectError(
      await arm(env, 'GET', `${regPath()}/exportPipelines?api-version=2025-11-01`),
      400,
      'InvalidResourceType',
      /'exportPipelines'.*'2025-11-01'.*2025-06-01-preview/,
    );
  });

  it('an unknown preview api-version → 400 NoRegisteredProviderFound', async () => {
    expectError(
      await arm(env, 'GET', `${regPath()}/pipelineRuns?api-version=2024-01-01-preview`),
      400,
      'NoRegisteredProviderFound',
      /registries\/pipelineRuns/,
    );
  });

  it.each(['2019-12-01-preview', '2023-06-01-preview', '2026-01-01-preview', '2026-09-01-preview'])('lists pipelines with api-version %s', async (v) => {
    const r = await arm(env, 'GET', `${regPath()}/importPipelines?api-version=${v}`);
    expect(r.status).toBe(200);
    expectValid('ImportPipelineListResult', r.body);
  });

  it('unknown subscription → 404 SubscriptionNotFound', async () => {
    const sub = '0b1e6b2a-9f3c-4c1e-9a51-000000000000';
    expectError(await arm(env, 'GET', `${regPath(src.name, env.resourceGroup, sub)}${q}`), 404, 'SubscriptionNotFound', sub);
  });

  it('unknown resource group → 404 ResourceGroupNotFound', async () => {
    expectError(
      await arm(env, 'GET', `${regPath(src.name, 'nosuchgroup')}/exportPipelines${q}`),
      404,
      'ResourceGroupNotFound',
      "Resource group 'nosuchgroup' could not be found.",
    );
  });

  it('unknown registry → 404 ResourceNotFound in ARM wording', async () => {
    const msg = `The Resource 'Microsoft.ContainerRegistry/registries/nosuchregistry' under resource group '${env.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`;
    expectError(await arm(env, 'GET', `${regPath('nosuchregistry')}/exportPipelines${q}`), 404, 'ResourceNotFound', msg);
  });

  it.each(['exportPipelines', 'importPipelines', 'pipelineRuns'])('unknown %s item → 404 ResourceNotFound naming it', async (collection) => {
    const msg = `The Resource 'Microsoft.ContainerRegistry/registries/${src.name}/${collection}/nosuchitem' under resource group '${env.resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`;
    expectError(await arm(env, 'GET', `${regPath()}/${collection}/nosuchitem${q}`), 404, 'ResourceNotFound', msg);
  });

  it.each([
    ['exportPipelines', 'exportPipelineName', 'has-hyphen'],
    ['importPipelines', 'importPipelineName', 'abcd'],
    ['pipelineRuns', 'pipelineRunName', 'x'.repeat(51)],
    ['pipelineRuns', 'pipelineRunName', 'under_score'],
  ])('%s name rule: %s %s → 400 naming parameter, value and rule', async (collection, parameterName, value) => {
    const e = expectError(await put(collection, value, {}), 400, 'InvalidResourceName');
    expect(e.message).toContain(parameterName);
    expect(e.message).toContain(`'${value}'`);
    expect(e.message).toContain('5 to 50');
    expect(e.message).toContain('^[a-zA-Z0-9]*$');
  });

  it('an injected ARM fault answers like ARM: ErrorResponse body and the request-id headers', async () => {
    const name = uniq('faultprobe');
    expect((await control(env, 'POST', '/faults', { service: 'arm', method: 'GET', path: `/exportPipelines/${name}$`, kind: '503', count: 1 })).status).toBe(
      200,
    );
    expectError(await arm(env, 'GET', `${regPath()}/exportPipelines/${name}${q}`), 503, 'ServiceUnavailable');
  });

  it('registry name rule → 400 naming registryName', async () => {
    const e = expectError(await arm(env, 'GET', `${regPath('bad-registry')}${q}`), 400, 'InvalidResourceName');
    expect(e.message).toContain('registryName');
  });
});

describe('swagger examples round-trip', () => {
  const examples = new Map(operations().flatMap((op) => Object.entries(op.examples)));
  const example = (name: string): Json => {
    const file = examples.get(name);
    if (!file) throw new Error(`no example ${name}`);
    const ex = JSON.parse(readFileSync(file, 'utf8')) as { parameters: Json };
    return structuredClone(ex.parameters);
  };
  const localize = (side: Json, secretName: string, uri: string): void => {
    side['uri'] = uri;
    side['keyVaultUri'] = secret(secretName);
  };
  let exportId = '';
  let importId = '';

  /** The response echoes every request property (identity type in the service's camelCase). */
  function expectEcho(request: Json, response: Json): void {
    const { identity, ...rest } = request;
    expect(response).toMatchObject(rest);
    if (identity) {
      const want = identity as Json;
      const got = response['identity'] as Json;
      expect(String(got['type']).toLowerCase()).toBe(String(want['type']).toLowerCase());
      expect(Object.keys((got['userAssignedIdentities'] as Json | undefined) ?? {})).toEqual(
        Object.keys((want['userAssignedIdentities'] as Json | undefined) ?? {}),
      );
    }
  }

  it('ExportPipelineCreate', async () => {
    const params = example('ExportPipelineCreate');
    const body = params['exportPipelineCreateParameters'] as Json;
    localize((body['properties'] as Json)['target'] as Json, 'acrexportsas', exportContainer);
    const name = uniq(String(params['exportPipelineName']));
    const r = await put('exportPipelines', name, body);
    expect(r.status).toBe(200);
    expectValid('ExportPipeline', r.body);
    expectEcho(body, r.body);
    expect(r.body).toMatchObject({ name, type: 'Microsoft.ContainerRegistry/registries/exportPipelines', properties: { provisioningState: 'Succeeded' } });
    exportId = String(r.body['id']);
    expect(exportId).toBe(`${src.resourceId}/exportPipelines/${name}`);
  });

  it('ImportPipelineCreate (user-assigned identity)', async () => {
    const params = example('ImportPipelineCreate');
    const body = params['importPipelineCreateParameters'] as Json;
    localize((body['properties'] as Json)['source'] as Json, 'acrimportsas', importContainer);
    // Disabled, so that this pipeline does not pick up other tests' blobs.
    (body['properties'] as Json)['trigger'] = { sourceTrigger: { status: 'Disabled' } };
    const r = await put('importPipelines', uniq(String(params['importPipelineName'])), body);
    expect(r.status).toBe(200);
    expectValid('ImportPipeline', r.body);
    expectEcho(body, r.body);
    importId = String(r.body['id']);
  });

  it('PipelineRunCreate_Export', async () => {
    const body = example('PipelineRunCreate_Export')['pipelineRunCreateParameters'] as Json;
    const request = (body['properties'] as Json)['request'] as Json;
    request['pipelineResourceId'] = exportId;
    // The example's artifacts are not valid references (upper case, 35-digit digest); keep their shapes.
    request['artifacts'] = ['sourcerepository/hello-world', `sourcerepository2@${DIGEST}`];
    const r = await put('pipelineRuns', uniq('run'), body);
    expect(r.status).toBe(200);
    expectValid('PipelineRun', r.body);
    expectEcho(body, r.body);
    expect(runProps(r)).toMatchObject({ provisioningState: 'Creating', response: { status: 'Running', progress: { percentage: '0' } } });
    await waitRun(String(r.body['name']));
  });

  it('PipelineRunCreate_Import', async () => {
    const body = example('PipelineRunCreate_Import')['pipelineRunCreateParameters'] as Json;
    ((body['properties'] as Json)['request'] as Json)['pipelineResourceId'] = importId;
    const r = await put('pipelineRuns', uniq('run'), body);
    expect(r.status).toBe(200);
    expectValid('PipelineRun', r.body);
    expectEcho(body, r.body);
    await waitRun(String(r.body['name']));
  });
});

describe('pipeline responses', () => {
  it('system-assigned identity: camelCase type, a principal id kept across PUTs, the tenant', async () => {
    const name = uniq('export');
    const first = await put('exportPipelines', name, exportBody());
    const second = await put('exportPipelines', name, exportBody({ uri: `${exportContainer}2` }));
    expect(second.status).toBe(200);
    expectValid('ExportPipeline', second.body);
    const id1 = first.body['identity'] as Json;
    expect(id1).toEqual({ type: 'systemAssigned', principalId: expect.stringMatching(UUID), tenantId: env.tenantId });
    expect(second.body['identity']).toEqual(id1);
    expect((runProps(second)['target'] as Json)['uri']).toBe(`${exportContainer}2`);
  });

  it('no identity in the request gets the default system-assigned identity', async () => {
    const r = await put('exportPipelines', uniq('export'), { properties: (exportBody() as { properties: Json }).properties });
    expect(r.status).toBe(200);
    expect((r.body['identity'] as Json)['type']).toBe('systemAssigned');
  });

  it('user-assigned identity: entries get stable principalId and clientId', async () => {
    const body = exportBody({}, { identity: { type: 'UserAssigned', userAssignedIdentities: { [UAI]: {} } } });
    const a = await put('exportPipelines', uniq('export'), body);
    const b = await put('importPipelines', uniq('import'), importBody({}, { identity: body['identity'] }));
    expectValid('ExportPipeline', a.body);
    const entry = ((a.body['identity'] as Json)['userAssignedIdentities'] as Json)[UAI];
    expect(entry).toEqual({ principalId: expect.stringMatching(UUID), clientId: expect.stringMatching(UUID) });
    expect(((b.body['identity'] as Json)['userAssignedIdentities'] as Json)[UAI]).toEqual(entry);
    expect((a.body['identity'] as Json)['type']).toBe('userAssigned');
  });

  it('import: trigger defaults to Enabled, options are omitted when none were sent, storageAccessMode defaults to SasToken', async () => {
    const body = importBody();
    delete (body['properties'] as Json)['trigger'];
    const r = await put('importPipelines', uniq('import'), body);
    expect(r.status).toBe(200);
    expectValid('ImportPipeline', r.body);
    expect(runProps(r)['trigger']).toEqual({ sourceTrigger: { status: 'Enabled' } });
    expect(runProps(r)).not.toHaveProperty('options');
    expect((runProps(r)['source'] as Json)['storageAccessMode']).toBe('SasToken');
    // Turn it off again: an enabled trigger watches the shared target container.
    expect((await put('importPipelines', String(r.body['name']), importBody())).status).toBe(200);
  });

  it('ManagedIdentity mode omits keyVaultUri', async () => {
    const r = await put('exportPipelines', uniq('export'), exportBody({ storageAccessMode: 'ManagedIdentity' }));
    expect(r.status).toBe(200);
    expectValid('ExportPipeline', r.body);
    expect(runProps(r)['target']).toEqual({ type: 'AzureStorageBlobContainer', uri: exportContainer, storageAccessMode: 'ManagedIdentity' });
  });

  it('older api-versions do not show storageAccessMode', async () => {
    const { name } = await createPipeline('export');
    const r = await arm<Json>(env, 'GET', `${regPath()}/exportPipelines/${name}?api-version=2025-05-01-preview`);
    expect(r.status).toBe(200);
    expect(runProps(r)['target']).not.toHaveProperty('storageAccessMode');
  });
});

describe('pipeline validation', () => {
  const cases: Array<[string, () => Promise<HttpResult>, number, string, RegExp]> = [
    [
      'a typo in a member name',
      () => put('exportPipelines', uniq('export'), exportBody({ keyVaultUrl: 'x' })),
      400,
      'InvalidRequestContent',
      /keyVaultUrl.*properties\.target\.keyVaultUrl/,
    ],
    [
      'an unknown option',
      () =>
        put('exportPipelines', uniq('export'), exportBody({}, { properties: { ...(exportBody() as { properties: Json }).properties, options: ['Turbo'] } })),
      400,
      'InvalidPipelineOption',
      /'Turbo'.*OverwriteBlobs, ContinueOnErrors/,
    ],
    [
      'an import option on an export pipeline',
      () =>
        put('exportPipelines', uniq('export'), {
          ...exportBody(),
          properties: { ...(exportBody() as { properties: Json }).properties, options: ['OverwriteTags'] },
        }),
      400,
      'InvalidPipelineOption',
      /'OverwriteTags' does not apply to export/,
    ],
    [
      'an export option on an import pipeline',
      () =>
        put('importPipelines', uniq('import'), {
          ...importBody(),
          properties: { ...(importBody() as { properties: Json }).properties, options: ['OverwriteBlobs'] },
        }),
      400,
      'InvalidPipelineOption',
      /'OverwriteBlobs' does not apply to import/,
    ],
    [
      'SasToken mode (default) without keyVaultUri',
      () => put('exportPipelines', uniq('export'), exportBody({ keyVaultUri: undefined })),
      400,
      'KeyVaultUriRequired',
      /keyVaultUri/,
    ],
    [
      'explicit SasToken mode without keyVaultUri',
      () => put('importPipelines', uniq('import'), importBody({ keyVaultUri: '', storageAccessMode: 'SasToken' })),
      400,
      'KeyVaultUriRequired',
      /properties\.source\.keyVaultUri/,
    ],
    [
      'a keyVaultUri that is not https',
      () => put('exportPipelines', uniq('export'), exportBody({ keyVaultUri: 'http://vault.example/secrets/x' })),
      400,
      'InvalidKeyVaultUri',
      /http:\/\/vault\.example\/secrets\/x/,
    ],
    [
      'a keyVaultUri that is not a secret',
      () => put('exportPipelines', uniq('export'), exportBody({ keyVaultUri: secret('x').replace('/secrets/', '/keys/') })),
      400,
      'InvalidKeyVaultUri',
      /\/keys\/x/,
    ],
    [
      'ManagedIdentity mode with identity None',
      () => put('exportPipelines', uniq('export'), exportBody({ storageAccessMode: 'ManagedIdentity' }, { identity: { type: 'None' } })),
      400,
      'IdentityRequired',
      /ManagedIdentity/,
    ],
    [
      'UserAssigned without identities',
      () => put('exportPipelines', uniq('export'), exportBody({}, { identity: { type: 'UserAssigned' } })),
      400,
      'InvalidIdentity',
      /userAssignedIdentities/,
    ],
    [
      'a storage uri that is not https',
      () => put('exportPipelines', uniq('export'), exportBody({ uri: 'http://127.0.0.1:1/acct/c' })),
      400,
      'InvalidStorageUri',
      /http:\/\/127\.0\.0\.1:1\/acct\/c/,
    ],
    ['no storage uri', () => put('importPipelines', uniq('import'), importBody({ uri: undefined })), 400, 'InvalidStorageUri', /properties\.source\.uri/],
    [
      'an unknown storageAccessMode',
      () => put('exportPipelines', uniq('export'), exportBody({ storageAccessMode: 'Anonymous' })),
      400,
      'InvalidStorageAccessMode',
      /'Anonymous'/,
    ],
    [
      'storageAccessMode before 2025-06-01-preview',
      () => put('exportPipelines', uniq('export'), exportBody({ storageAccessMode: 'SasToken' }), '?api-version=2025-05-01-preview'),
      400,
      'InvalidRequestContent',
      /storageAccessMode/,
    ],
    [
      'an identity type in the response spelling',
      () => put('exportPipelines', uniq('export'), exportBody({}, { identity: { type: 'systemAssigned' } })),
      400,
      'InvalidRequestContent',
      /identity\.type/,
    ],
    ['an empty body', () => arm(env, 'PUT', `${regPath()}/exportPipelines/${uniq('export')}${q}`), 400, 'InvalidRequestContent', /empty/],
  ];

  it.each(cases)('%s', async (_what, call, status, code, message) => {
    expectError(await call(), status, code, message);
  });

  it('InvalidRequestContent names the JSON path of every problem', async () => {
    const r = await put('exportPipelines', uniq('export'), { properties: { target: { uri: 5 }, option: [] } });
    const e = expectError(r, 400, 'InvalidRequestContent');
    const details = (r.body as { error: { details: { target: string }[] } }).error.details.map((d) => d.target);
    expect(details.sort()).toEqual(['properties.option', 'properties.target.uri']);
    expect(details).toContain(e.target);
  });

  it('a Basic registry refuses pipelines, naming the Premium SKU', async () => {
    await withRegistry({ sku: 'Basic' }, async () => {
      const reg = await arm<Json>(env, 'GET', `${regPath()}${q}`);
      expect(reg.body['sku']).toEqual({ name: 'Basic', tier: 'Basic' });
      const usages = await arm<{ value: Json[] }>(env, 'GET', `${regPath()}/listUsages${q}`);
      expect(usages.body.value[0]?.['limit']).toBe(10737418240);
      expectError(await put('importPipelines', uniq('import'), importBody()), 400, 'RegistrySkuNotSupported', /Premium/);
    });
    expect((await arm<Json>(env, 'GET', `${regPath()}${q}`)).body['sku']).toEqual({ name: 'Premium', tier: 'Premium' });
  });

  it('a disabled export policy refuses export pipelines and export runs, not import pipelines', async () => {
    const exp = await createPipeline('export');
    await withRegistry({ exportPolicy: 'disabled' }, async () => {
      const reg = await arm<Json>(env, 'GET', `${regPath()}${q}`);
      expect(reg.body).toMatchObject({ properties: { policies: { exportPolicy: { status: 'disabled' } } } });
      expectError(await put('exportPipelines', uniq('export'), exportBody()), 400, 'ExportPolicyDisabled', /export policy/);
      expectError(await put('pipelineRuns', uniq('run'), exportRun(exp.id)), 400, 'ExportPolicyDisabled');
      expect((await put('importPipelines', uniq('import'), importBody())).status).toBe(200);
    });
  });

  it('the control API refuses an unknown SKU', async () => {
    expect((await control(env, 'PATCH', `/registries/${src.name}`, { sku: 'Gold' })).status).toBe(400);
  });
});

describe('pipeline run validation', () => {
  let exp: { name: string; id: string };
  let imp: { name: string; id: string };
  beforeAll(async () => {
    exp = await createPipeline('export');
    imp = await createPipeline('import');
  });

  const artifacts = (n: number): string[] => Array.from({ length: n }, (_, i) => `repo${i}:v1`);
  type Case = [string, () => Json, number, string, RegExp];
  const cases: Case[] = [
    ['no artifacts', () => exportRun(exp.id, { artifacts: [] }), 400, 'ArtifactsRequired', /artifacts/],
    ['51 artifacts', () => exportRun(exp.id, { artifacts: artifacts(51) }), 400, 'TooManyArtifacts', /at most 50 .* has 51/],
    [
      'an upper-case repository',
      () => exportRun(exp.id, { artifacts: ['Hello-World:v1'] }),
      400,
      'InvalidArtifact',
      /'Hello-World:v1' \(properties\.request\.artifacts\[0\]\)/,
    ],
    ['a short digest', () => exportRun(exp.id, { artifacts: ['ok:v1', 'repo@sha256:abc'] }), 400, 'InvalidArtifact', /artifacts\[1\]/],
    ['tag and digest together', () => exportRun(exp.id, { artifacts: [`repo:v1@${DIGEST}`] }), 400, 'InvalidArtifact', /not both/],
    ['an empty tag', () => exportRun(exp.id, { artifacts: ['repo:'] }), 400, 'InvalidArtifact', /'repo:'/],
    ['an empty path component', () => exportRun(exp.id, { artifacts: ['a//b:v1'] }), 400, 'InvalidArtifact', /'a\/\/b'/],
    [
      'a duplicate (repo means repo:latest)',
      () => exportRun(exp.id, { artifacts: ['hello', 'other:v1', 'hello:latest'] }),
      400,
      'DuplicateArtifact',
      /artifacts\[2\].*artifacts\[0\]/,
    ],
    ['no target name', () => exportRun(exp.id, { target: { type: 'AzureStorageBlob', name: '' } }), 400, 'TargetNameRequired', /target\.name/],
    ['an export run with a source blob', () => exportRun(exp.id, { source: { name: 'x.tar' } }), 400, 'InvalidParameter', /properties\.request\.source/],
    ['no source name', () => importRun(imp.id, { source: { type: 'AzureStorageBlob' } }), 400, 'SourceNameRequired', /source\.name/],
    ['an import run with artifacts', () => importRun(imp.id, { artifacts: ['a:b'] }), 400, 'InvalidParameter', /artifacts/],
    ['a malformed pipelineResourceId', () => exportRun('/subscriptions/x/pipelines/y'), 400, 'InvalidPipelineResourceId', /\/subscriptions\/x\/pipelines\/y/],
    [
      'a pipeline of another registry',
      () => exportRun(exp.id.replace(`/registries/${src.name}/`, `/registries/${env.registries.target.name}/`)),
      400,
      'InvalidPipelineResourceId',
      /another registry/,
    ],
    [
      'a pipeline that does not exist',
      () => exportRun(`${src.resourceId}/exportPipelines/nosuchpipeline`),
      404,
      'ResourceNotFound',
      /exportPipelines\/nosuchpipeline/,
    ],
    [
      'an unknown member',
      () => ({ properties: { request: { pipelineResourceId: exp.id }, forceUpdate: 'x' } }),
      400,
      'InvalidRequestContent',
      /properties\.forceUpdate/,
    ],
  ];

  it.each(cases)('%s', async (_what, body, status, code, message) => {
    expectError(await put('pipelineRuns', uniq('run'), body()), status, code, message);
  });

  it('50 well-formed artifacts of every allowed form are accepted', async () => {
    const list = [...artifacts(47), 'samples/hello-world', `a.b_c__d-e/f@${DIGEST}`, 'x/y/z:V1.0_rc-1'];
    const r = await put('pipelineRuns', uniq('run'), exportRun(exp.id, { artifacts: list }));
    expect(r.status).toBe(200);
    expectValid('PipelineRun', r.body);
    expect((runProps(r)['request'] as Json)['artifacts']).toEqual(list);
    await waitRun(String(r.body['name']));
  });

  it('tolerates the ARM template empty strings and arrays for the unused side, and drops them', async () => {
    const e = await put('pipelineRuns', uniq('run'), exportRun(exp.id, { source: { type: '', name: '' }, catalogDigest: '' }));
    expect(e.status).toBe(200);
    expect(runProps(e)['request']).toEqual({
      pipelineResourceId: exp.id,
      target: { type: 'AzureStorageBlob', name: 'blob.tar' },
      artifacts: ['hello-world:v1'],
    });
    const i = await put('pipelineRuns', uniq('run'), importRun(imp.id, { artifacts: [], target: { type: '', name: '' } }));
    expect(i.status).toBe(200);
    expect(runProps(i)['request']).toEqual({ pipelineResourceId: imp.id, source: { type: 'AzureStorageBlob', name: 'blob.tar' } });
    await Promise.all([waitRun(String(e.body['name'])), waitRun(String(i.body['name']))]);
  });
});

describe('sync LRO style (what the real service does)', () => {
  it('PUT pipeline 200 Succeeded without async headers; DELETE 200 empty, then 204', async () => {
    const name = uniq('export');
    const r = await put('exportPipelines', name, exportBody());
    expect(r.status).toBe(200);
    expect(r.headers.get('azure-asyncoperation')).toBeNull();
    expect(runProps(r)['provisioningState']).toBe('Succeeded');
    const d = await arm(env, 'DELETE', `${regPath()}/exportPipelines/${name}${q}`);
    expect(d.status).toBe(200);
    expect(d.body).toBeUndefined();
    expect((await arm(env, 'DELETE', `${regPath()}/exportPipelines/${name}${q}`)).status).toBe(204);
    expect((await arm(env, 'GET', `${regPath()}/exportPipelines/${name}${q}`)).status).toBe(404);
  });

  it('PUT run answers 200 in progress; GET polls it to a terminal state', async () => {
    const { id } = await createPipeline('import');
    const name = uniq('run');
    const r = await put('pipelineRuns', name, importRun(id));
    expect(r.status).toBe(200);
    expect(r.headers.get('azure-asyncoperation')).toBeNull();
    expect(runProps(r)).toMatchObject({ provisioningState: 'Creating', response: { status: 'Running', startTime: expect.any(String) } });
    const done = await waitRun(name);
    expect(TERMINAL).toContain((done['properties'] as Json)['provisioningState']);
  });
});

describe('runs: forceUpdateTag, conflicts, deletion', () => {
  it('an identical PUT is a no-op; a new forceUpdateTag re-runs; a PUT while running is 409', async () => {
    const { id } = await createPipeline('export');
    const name = uniq('run');
    const body = exportRun(id, {}, { forceUpdateTag: 'one' });
    expect((await put('pipelineRuns', name, body)).status).toBe(200);
    const first = await waitRun(name);
    const again = await put('pipelineRuns', name, body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first);

    await withKnobs({ runBaseMs: 3000 }, async () => {
      const rerun = await put('pipelineRuns', name, exportRun(id, {}, { forceUpdateTag: 'two' }));
      expect(rerun.status).toBe(200);
      expect(runProps(rerun)).toMatchObject({
        provisioningState: 'Updating',
        forceUpdateTag: 'two',
        response: { status: 'Running', progress: { percentage: '0' } },
      });
      const startTime = (runProps(rerun)['response'] as Json)['startTime'];
      expect(startTime).not.toBe(((first['properties'] as Json)['response'] as Json)['startTime']);
      // Still running: another change conflicts, the identical PUT does not.
      expectError(await put('pipelineRuns', name, exportRun(id, {}, { forceUpdateTag: 'three' })), 409, 'Conflict', /in progress/);
      expect((await put('pipelineRuns', name, exportRun(id, {}, { forceUpdateTag: 'two' }))).status).toBe(200);
      // The pipeline cannot go while its run is in progress.
      expectError(await arm(env, 'DELETE', `${id}${q}`), 409, 'Conflict', new RegExp(name));
      // Deleting the run only deletes the record.
      expect((await arm(env, 'DELETE', `${regPath()}/pipelineRuns/${name}${q}`)).status).toBe(200);
      expect((await arm(env, 'GET', `${regPath()}/pipelineRuns/${name}${q}`)).status).toBe(404);
      expect((await arm(env, 'DELETE', `${id}${q}`)).status).toBe(200);
    });
  });

  it('a changed request re-runs without a new forceUpdateTag', async () => {
    const { id } = await createPipeline('export');
    const name = uniq('run');
    await put('pipelineRuns', name, exportRun(id));
    await waitRun(name);
    const r = await put('pipelineRuns', name, exportRun(id, { target: { type: 'AzureStorageBlob', name: 'other.tar' } }));
    expect(runProps(r)['provisioningState']).toBe('Updating');
    await waitRun(name);
  });
});

describe('list paging', () => {
  it('pages at 20 with a $skipToken nextLink, oldest first, every item once', async () => {
    const names: string[] = [];
    for (let i = 0; i < 23; i++) names.push((await createPipeline('import')).name);
    const seen: string[] = [];
    let url: string | undefined = `${regPath()}/importPipelines${q}`;
    let pages = 0;
    while (url) {
      const r: HttpResult<{ value: Json[]; nextLink?: string }> = await arm(env, 'GET', url);
      expect(r.status).toBe(200);
      expectValid('ImportPipelineListResult', r.body);
      expect(r.body.value.length).toBeLessThanOrEqual(20);
      seen.push(...r.body.value.map((v) => String(v['name'])));
      if (r.body.nextLink) expect(r.body.nextLink).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.*\/importPipelines\?api-version=.*&%24skipToken=/);
      url = r.body.nextLink;
      pages++;
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(new Set(seen).size).toBe(seen.length);
    const mine = seen.filter((n) => names.includes(n));
    expect(mine).toEqual(names);
    await Promise.all(names.map((n) => arm(env, 'DELETE', `${regPath()}/importPipelines/${n}${q}`)));
  });

  it('refuses a forged $skipToken', async () => {
    expectError(await arm(env, 'GET', `${regPath()}/importPipelines${q}&$skipToken=garbage`), 400, 'InvalidSkipToken');
  });

  it('lists runs as PipelineRunListResult', async () => {
    const r = await arm(env, 'GET', `${regPath()}/pipelineRuns${q}`);
    expect(r.status).toBe(200);
    expectValid('PipelineRunListResult', r.body);
  });
});

describe('async LRO style', () => {
  const toLro = (r: HttpResult): LroResponse => ({
    flatResponse: r.body,
    rawResponse: { statusCode: r.status, headers: Object.fromEntries(r.headers.entries()), body: r.body },
  });
  const poller = (method: 'PUT' | 'DELETE', pathAndQuery: string, body?: unknown) =>
    createHttpPoller<unknown, OperationState<unknown>>(
      {
        requestPath: `${env.armEndpoint}${pathAndQuery}`,
        requestMethod: method,
        sendInitialRequest: async () => toLro(await arm(env, method, pathAndQuery, body)),
        sendPollRequest: async (p) => toLro(await arm(env, 'GET', p)),
      },
      { resourceLocationConfig: method === 'PUT' ? 'azure-async-operation' : 'location', intervalInMs: 200 },
    );
  const OP_URL = (prefix: string): RegExp =>
    new RegExp(`^https://127\\.0\\.0\\.1:\\d+/subscriptions/.*/operationStatuses/${prefix}-[0-9a-f-]{36}\\?api-version=${API}&t=[^&]+&s=[^&]+$`);

  it('PUT pipeline: 201 Creating + Azure-AsyncOperation + Retry-After; status InProgress then Succeeded; update is 200', async () => {
    await withKnobs({ lroStyle: 'async', asyncRetryAfterSeconds: 1, pipelineProvisioningMs: 1500 }, async () => {
      const name = uniq('export');
      const r = await put('exportPipelines', name, exportBody());
      expect(r.status).toBe(201);
      expect(runProps(r)['provisioningState']).toBe('Creating');
      const opUrl = r.headers.get('azure-asyncoperation') ?? '';
      expect(opUrl).toMatch(OP_URL('exportpipelines'));
      expect(r.headers.get('retry-after')).toBe('1');
      const s1 = await arm<Json>(env, 'GET', opUrl);
      expect(s1.body).toEqual({
        id: expect.stringMatching(/\/exportPipelines\/.*\/operationStatuses\/exportpipelines-/),
        name: expect.stringMatching(/^exportpipelines-/),
        status: 'InProgress',
        startTime: expect.any(String),
      });
      expectError(await arm(env, 'PUT', `${regPath()}/exportPipelines/${name}${q}`, exportBody()), 409, 'Conflict');
      expectError(await arm(env, 'GET', opUrl.replace(/&s=[^&]+/, '')), 400, 'InvalidOperationStatusUrl');
      await new Promise((res) => setTimeout(res, 1600));
      const s2 = await arm<Json>(env, 'GET', opUrl);
      expect(s2.body).toMatchObject({ status: 'Succeeded', endTime: expect.any(String) });
      const got = await arm<Json>(env, 'GET', `${regPath()}/exportPipelines/${name}${q}`);
      expect(runProps(got)['provisioningState']).toBe('Succeeded');
      const upd = await put('exportPipelines', name, exportBody());
      expect(upd.status).toBe(200);
      expect(runProps(upd)['provisioningState']).toBe('Updating');
    });
  });

  it('core-lro drives PUT and DELETE of a pipeline to completion', async () => {
    await withKnobs({ lroStyle: 'async', asyncRetryAfterSeconds: 1, pipelineProvisioningMs: 300 }, async () => {
      const p = `${regPath()}/importPipelines/${uniq('import')}${q}`;
      const created = await (await poller('PUT', p, importBody())).pollUntilDone();
      expectValid('ImportPipeline', created);
      expect(created).toMatchObject({ properties: { provisioningState: 'Succeeded' } });

      const d = await arm(env, 'DELETE', p);
      expect(d.status).toBe(202);
      const location = d.headers.get('location') ?? '';
      expect(location).toMatch(OP_URL('importpipelines'));
      expect(d.headers.get('retry-after')).toBe('1');
      expect((await arm<Json>(env, 'GET', p)).body).toMatchObject({ properties: { provisioningState: 'Deleting' } });
      expect((await arm(env, 'GET', location)).status).toBe(202);
      await new Promise((res) => setTimeout(res, 400));
      expect((await arm(env, 'GET', location)).status).toBe(204);
      expect((await arm(env, 'GET', p)).status).toBe(404);

      const other = `${regPath()}/exportPipelines/${uniq('export')}${q}`;
      await (await poller('PUT', other, exportBody())).pollUntilDone();
      await (await poller('DELETE', other)).pollUntilDone();
      expect((await arm(env, 'GET', other)).status).toBe(404);
    });
  });

  it('PUT run: 201 + Azure-AsyncOperation; the operation ends with the run; a failed run fails it with its message', async () => {
    const { id } = await createPipeline('import');
    await withKnobs({ lroStyle: 'async', asyncRetryAfterSeconds: 1 }, async () => {
      const ok = uniq('run');
      const r = await put('pipelineRuns', ok, importRun(id));
      expect(r.status).toBe(201);
      expect(r.headers.get('azure-asyncoperation')).toMatch(OP_URL('pipelineruns'));

      const failing = uniq('fail');
      const message = `injected failure for ${failing}`;
      expect((await control(env, 'POST', '/run-failures', { match: failing, message, count: 1 })).status).toBe(200);
      const runPath = `${regPath()}/pipelineRuns/${failing}${q}`;
      const lro = await poller('PUT', runPath, importRun(id));
      await expect(lro.pollUntilDone()).rejects.toThrow(message);
      const run = await arm<Json>(env, 'GET', runPath);
      expect(run.body).toMatchObject({ properties: { provisioningState: 'Failed', response: { pipelineRunErrorMessage: expect.stringContaining(message) } } });
      await waitRun(ok);
    });
  });
});

describe('source trigger runs (ArmStore.createTriggeredRun)', () => {
  it('a blob in a watched container starts a run named trigger<16 hex> with the blob and the trigger timestamp', async () => {
    // A container of its own, so that no other test's blobs are picked up; ManagedIdentity mode needs no Key Vault secret.
    const storage = env.storage.target;
    const service = new BlobServiceClient(storage.blobEndpoint.replace(/\/$/, ''), new StorageSharedKeyCredential(storage.account, storage.key));
    const container = service.getContainerClient(uniq('trigger'));
    await container.create();
    const blobName = `${uniq('blob')}.tar`;
    const content = Buffer.from('not a real transfer archive');
    await container.getBlockBlobClient(blobName).uploadData(content, {
      metadata: { category: 'acr-transfer-blob' },
      blobHTTPHeaders: { blobContentMD5: createHash('md5').update(content).digest() },
    });
    const name = uniq('import');
    const body = importBody({ uri: container.url, storageAccessMode: 'ManagedIdentity' });
    (body['properties'] as Json)['trigger'] = { sourceTrigger: { status: 'Enabled' } };
    const created = await put('importPipelines', name, body);
    expect(created.status).toBe(200);
    const pipelineId = String(created.body['id']);
    try {
      const run = await withKnobs({ triggerIntervalMs: 200 }, async () => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const list = await arm<{ value: Json[]; nextLink?: string }>(env, 'GET', `${regPath()}/pipelineRuns${q}`);
          const all = [...list.body.value];
          for (let next = list.body.nextLink; next;) {
            const page: HttpResult<{ value: Json[]; nextLink?: string }> = await arm(env, 'GET', next);
            all.push(...page.body.value);
            next = page.body.nextLink;
          }
          const found = all.find((r) => ((r['properties'] as Json)['request'] as Json)['pipelineResourceId'] === pipelineId);
          if (found) return found;
          if (Date.now() > deadline) throw new Error('no triggered run appeared');
          await new Promise((res) => setTimeout(res, 200));
        }
      });
      expectValid('PipelineRun', run);
      expect(run['name']).toMatch(/^trigger[0-9a-f]{16}$/);
      const p = run['properties'] as Json;
      expect(p['request']).toEqual({ pipelineResourceId: pipelineId, source: { type: 'AzureStorageBlob', name: blobName } });
      expect(((p['response'] as Json)['trigger'] as Json)['sourceTrigger']).toEqual({ timestamp: expect.any(String) });
      await waitRun(String(run['name']));
    } finally {
      (body['properties'] as Json)['trigger'] = { sourceTrigger: { status: 'Disabled' } };
      await put('importPipelines', name, body);
      await container.delete();
    }
  });
});
