/**
 * The ARM pipelines client and its transport with a fake HttpClient and clock: retries (statuses, Retry-After forms, connection resets, bounds), the
 * three LRO styles, deadlines and cancellation, error mapping with fix hints, paging, and the request bodies.
 */
import { normalizeIdentityType } from '../../core/azure/arm/mapping';
import { ArmPipelinesClient } from '../../core/azure/arm/pipelines';
import { ArmTransport } from '../../core/azure/arm/transport';
import { AzureRequestError, CancelledError } from '../../core/errors';
import type { PipelineSpec } from '../../core/ports';
import type { RegistryRef } from '../../core/settings';
import { FakeClock, FakeCredential, FakeHttp, type Reply } from './core-azure-fakes';

const ARM = 'https://arm.test';
const API = '2025-06-01-preview';
const reg: RegistryRef = {
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  resourceGroup: 'rg',
  name: 'srcreg',
  resourceId: '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/srcreg',
};
const base = `${ARM}${reg.resourceId}`;
const exportSpec: PipelineSpec = {
  kind: 'export',
  storageUri: 'https://acct.blob.core.windows.net/transfer',
  keyVaultUri: 'https://kv.vault.azure.net/secrets/exportsas',
  storageAccessMode: 'SasToken',
  options: ['OverwriteBlobs'],
  identity: { type: 'SystemAssigned' },
};

function pipelineBody(state: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `${reg.resourceId}/exportPipelines/exp1`,
    name: 'exp1',
    identity: { type: 'systemAssigned', principalId: 'p1', tenantId: 't1' },
    properties: {
      target: { type: 'AzureStorageBlobContainer', uri: exportSpec.storageUri, keyVaultUri: exportSpec.keyVaultUri, storageAccessMode: 'SasToken' },
      options: ['OverwriteBlobs'],
      provisioningState: state,
    },
    ...extra,
  };
}

function runBody(state: string, response: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `${reg.resourceId}/pipelineRuns/run1`,
    name: 'run1',
    properties: {
      provisioningState: state,
      request: { pipelineResourceId: `${reg.resourceId}/exportPipelines/exp1`, target: { type: 'AzureStorageBlob', name: 'blob1' }, artifacts: ['a:1'] },
      response: { status: 'Running', progress: { percentage: '20' }, ...response },
    },
  };
}

function setup(opts: { deadline?: number; signal?: AbortSignal; apiVersion?: string } = {}): {
  http: FakeHttp;
  clock: FakeClock;
  client: ArmPipelinesClient;
  cred: FakeCredential;
} {
  const http = new FakeHttp();
  const clock = new FakeClock();
  const cred = new FakeCredential();
  const transport = new ArmTransport({
    endpoint: ARM,
    credential: cred,
    scope: 'https://management.azure.com/.default',
    httpClient: http,
    clock,
    retry: { attempts: 4, minDelayMs: 1000, maxDelayMs: 30_000 },
    poll: { intervalMs: 500, maxIntervalMs: 4000 },
    ...(opts.deadline !== undefined ? { deadline: clock.time + opts.deadline } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const client = new ArmPipelinesClient(transport, { apiVersion: opts.apiVersion ?? API });
  return { http, clock, client, cred };
}

const ok = (body: unknown, headers: Record<string, string> = {}): Reply => ({ status: 200, body, headers });
const armError = (status: number, code: string, message: string, headers: Record<string, string> = {}): Reply => ({
  status,
  body: { error: { code, message } },
  headers: { 'x-ms-correlation-request-id': 'corr-1', ...headers },
});

describe('retries', () => {
  test('503, 500 and 408 are retried with exponential backoff, then the answer is used', async () => {
    const { http, clock, client } = setup();
    http.on(
      'GET',
      `${base}/pipelineRuns/run1`,
      armError(503, 'ServiceUnavailable', 'busy'),
      armError(500, 'InternalServerError', 'oops'),
      armError(408, 'Timeout', 'slow'),
      ok(runBody('Succeeded')),
    );
    const run = await client.getRun(reg, 'run1');
    expect(run?.provisioningState).toBe('Succeeded');
    expect(http.calls).toHaveLength(4);
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
  });

  test.each([
    ['Retry-After seconds', { 'retry-after': '7' }, 7000],
    ['retry-after-ms', { 'retry-after-ms': '1500' }, 1500],
    ['x-ms-retry-after-ms', { 'x-ms-retry-after-ms': '250' }, 250],
    ['Retry-After HTTP date', { 'retry-after': new Date(Date.UTC(2026, 0, 1) + 12_000).toUTCString() }, 12_000],
  ])('429 waits as the service asks (%s)', async (_n, headers, wait) => {
    const { http, clock, client } = setup();
    http.on('GET', `${base}/pipelineRuns/run1`, armError(429, 'TooManyRequests', 'slow down', headers), ok(runBody('Succeeded')));
    await client.getRun(reg, 'run1');
    expect(clock.sleeps).toEqual([wait]);
  });

  test('429 without Retry-After is still retried (backoff), unlike the SDK default', async () => {
    const { http, clock, client } = setup();
    http.on('GET', `${base}/pipelineRuns/run1`, armError(429, 'TooManyRequests', 'slow down'), ok(runBody('Succeeded')));
    await client.getRun(reg, 'run1');
    expect(clock.sleeps).toEqual([1000]);
  });

  test('a Retry-After longer than the maximum delay is capped', async () => {
    const { http, clock, client } = setup();
    http.on('GET', `${base}/pipelineRuns/run1`, armError(429, 'TooManyRequests', 'slow down', { 'retry-after': '3600' }), ok(runBody('Succeeded')));
    await client.getRun(reg, 'run1');
    expect(clock.sleeps).toEqual([30_000]);
  });

  test.each(['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED'])('connection error %s is retried', async (code) => {
    const { http, clock, client } = setup();
    http.on('GET', `${base}/pipelineRuns/run1`, { error: code }, ok(runBody('Succeeded')));
    expect((await client.getRun(reg, 'run1'))?.name).toBe('run1');
    expect(clock.sleeps).toEqual([1000]);
  });

  test('attempts are bounded; the last answer becomes an AzureRequestError with status, code, message and correlation id', async () => {
    const { http, client } = setup();
    http.on('GET', `${base}/pipelineRuns/run1`, armError(503, 'ServiceUnavailable', 'still busy'));
    const e = (await client.getRun(reg, 'run1').catch((x: unknown) => x)) as AzureRequestError;
    expect(http.calls).toHaveLength(4);
    expect(e).toBeInstanceOf(AzureRequestError);
    expect(e).toMatchObject({
      status: 503,
      code: 'ServiceUnavailable',
      serviceMessage: 'still busy',
      correlationId: 'corr-1',
      operation: "GET pipeline run 'run1' on registry 'srcreg'",
    });
  });

  test('persistent connection errors end as AzureRequestError with the error code', async () => {
    const { http, client } = setup();
    http.on('GET', `${base}/pipelineRuns/run1`, { error: 'ECONNRESET' });
    const e = (await client.getRun(reg, 'run1').catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toMatchObject({ status: 0, code: 'ECONNRESET' });
    expect(http.calls).toHaveLength(4);
  });

  test.each([400, 409, 501])('%i is not retried', async (status) => {
    const { http, clock, client } = setup();
    http.on('PUT', `${base}/pipelineRuns/run1`, armError(status, 'Nope', 'no'));
    await expect(client.putRun(reg, 'run1', { kind: 'import', pipelineResourceId: 'x', blobName: 'b' })).rejects.toBeInstanceOf(AzureRequestError);
    expect(http.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  test('the SDK pipeline adds no retries of its own: every 503 reaches our retry layer (and its clock)', async () => {
    const { http, clock, client } = setup();
    http.on('GET', `${base}/pipelineRuns/run1`, armError(503, 'ServiceUnavailable', 'busy', { 'retry-after': '1' }), ok(runBody('Succeeded')));
    await client.getRun(reg, 'run1');
    expect(http.calls).toHaveLength(2);
    expect(clock.sleeps).toEqual([1000]);
  });

  test('requests carry the bearer token for the ARM scope and the api-version', async () => {
    const { http, client, cred } = setup();
    http.on('GET', `${base}/pipelineRuns/run1`, ok(runBody('Succeeded')));
    await client.getRun(reg, 'run1');
    expect(cred.scopes[0]).toBe('https://management.azure.com/.default');
    expect(http.calls[0]?.headers['authorization']).toMatch(/^Bearer ey/);
    expect(new URL(http.calls[0]!.url).searchParams.get('api-version')).toBe(API);
  });
});

describe('long-running operations', () => {
  test('PUT 200 with a terminal state: done after one call', async () => {
    const { http, client } = setup();
    http.on('PUT', `${base}/exportPipelines/exp1`, ok(pipelineBody('Succeeded')));
    const p = await client.putPipeline(reg, 'exp1', exportSpec);
    expect(p).toMatchObject({ name: 'exp1', kind: 'export', provisioningState: 'Succeeded', storageUri: exportSpec.storageUri, options: ['OverwriteBlobs'] });
    expect(http.calls).toHaveLength(1);
  });

  test('PUT 200 non-terminal without headers: the resource is polled by GET until terminal', async () => {
    const { http, clock, client } = setup();
    http.on('PUT', `${base}/exportPipelines/exp1`, ok(pipelineBody('Creating')));
    http.on('GET', `${base}/exportPipelines/exp1`, ok(pipelineBody('Creating')), ok(pipelineBody('Updating')), ok(pipelineBody('Succeeded')));
    const p = await client.putPipeline(reg, 'exp1', exportSpec);
    expect(p.provisioningState).toBe('Succeeded');
    expect(http.to('/exportPipelines/exp1', 'GET')).toHaveLength(3);
    expect(clock.sleeps).toEqual([500, 750]);
  });

  test('PUT 201 + Azure-AsyncOperation: the opaque monitor URL is polled (honouring Retry-After), then the resource is read', async () => {
    const { http, clock, client } = setup();
    const monitor = `${base}/exportPipelines/exp1/operationStatuses/exportpipelines-1?api-version=${API}&t=638&c=MIIB&s=abc%2Fdef&h=xyz`;
    http.on('PUT', `${base}/exportPipelines/exp1`, {
      status: 201,
      body: pipelineBody('Creating'),
      headers: { 'azure-asyncoperation': monitor, 'retry-after': '2' },
    });
    http.on(
      'GET',
      `${base}/exportPipelines/exp1/operationStatuses/exportpipelines-1`,
      ok({ status: 'InProgress' }, { 'retry-after': '3' }),
      ok({ status: 'Succeeded' }),
    );
    http.on('GET', `${base}/exportPipelines/exp1`, ok(pipelineBody('Succeeded')));
    const p = await client.putPipeline(reg, 'exp1', exportSpec);
    expect(p.provisioningState).toBe('Succeeded');
    const polls = http.to('/operationStatuses/');
    expect(polls).toHaveLength(2);
    expect(polls[0]?.url).toBe(monitor);
    expect(clock.sleeps).toEqual([2000, 3000]);
  });

  test('a failed async operation is an AzureRequestError with the operation’s code and message', async () => {
    const { http, client } = setup();
    const monitor = `${base}/exportPipelines/exp1/operationStatuses/op1?api-version=${API}`;
    http.on('PUT', `${base}/exportPipelines/exp1`, { status: 201, body: pipelineBody('Creating'), headers: { 'azure-asyncoperation': monitor } });
    http.on(
      'GET',
      `${base}/exportPipelines/exp1/operationStatuses/op1`,
      ok({ status: 'Failed', error: { code: 'KeyVaultAccessDenied', message: 'the identity cannot read the secret' } }),
    );
    const e = (await client.putPipeline(reg, 'exp1', exportSpec).catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toMatchObject({
      code: 'KeyVaultAccessDenied',
      serviceMessage: 'the identity cannot read the secret',
      operation: "PUT export pipeline 'exp1' on registry 'srcreg'",
    });
  });

  test('a pipeline that ends Failed is an error, not a result', async () => {
    const { http, client } = setup();
    http.on('PUT', `${base}/exportPipelines/exp1`, ok(pipelineBody('Failed')));
    await expect(client.putPipeline(reg, 'exp1', exportSpec)).rejects.toMatchObject({ code: 'ProvisioningFailed' });
  });

  test('DELETE 202 + Location: polled until it stops answering 202', async () => {
    const { http, clock, client } = setup();
    const location = `${base}/exportPipelines/exp1/operationStatuses/op2?api-version=${API}&t=1&s=2`;
    http.on('DELETE', `${base}/exportPipelines/exp1`, { status: 202, headers: { location, 'retry-after': '1' } });
    http.on('GET', `${base}/exportPipelines/exp1/operationStatuses/op2`, { status: 202, headers: { location, 'retry-after': '1' } }, { status: 204 });
    await client.deletePipeline(reg, 'export', 'exp1');
    expect(http.to('/operationStatuses/op2')).toHaveLength(2);
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  test.each([200, 204])('DELETE %i is done at once', async (status) => {
    const { http, client } = setup();
    http.on('DELETE', `${base}/pipelineRuns/run1`, { status });
    await client.deleteRun(reg, 'run1');
    expect(http.calls).toHaveLength(1);
  });

  test('polling stops at the deadline with CancelledError(timeout)', async () => {
    const { http, client } = setup({ deadline: 3000 });
    http.on('PUT', `${base}/exportPipelines/exp1`, ok(pipelineBody('Creating')));
    http.on('GET', `${base}/exportPipelines/exp1`, ok(pipelineBody('Creating')));
    const e = (await client.putPipeline(reg, 'exp1', exportSpec).catch((x: unknown) => x)) as CancelledError;
    expect(e).toBeInstanceOf(CancelledError);
    expect(e.reason).toBe('timeout');
  });

  test('an aborted signal stops polling with CancelledError(cancelled)', async () => {
    const ac = new AbortController();
    const { http, client } = setup({ signal: ac.signal });
    http.on('PUT', `${base}/exportPipelines/exp1`, ok(pipelineBody('Creating')));
    http.on('GET', `${base}/exportPipelines/exp1`, () => {
      ac.abort();
      return ok(pipelineBody('Creating'));
    });
    const e = (await client.putPipeline(reg, 'exp1', exportSpec).catch((x: unknown) => x)) as CancelledError;
    expect(e).toBeInstanceOf(CancelledError);
    expect(e.reason).toBe('cancelled');
  });

  test('a monitor URL on another host is refused (it would receive the ARM token)', async () => {
    const { http, client } = setup();
    http.on('PUT', `${base}/exportPipelines/exp1`, {
      status: 201,
      body: pipelineBody('Creating'),
      headers: { 'azure-asyncoperation': 'https://evil.test/op' },
    });
    await expect(client.putPipeline(reg, 'exp1', exportSpec)).rejects.toMatchObject({ code: 'UnexpectedHost' });
    expect(http.calls.some((c) => c.url.startsWith('https://evil.test'))).toBe(false);
  });
});

describe('pipeline runs', () => {
  test('putRun sends the export request and returns the accepted run without waiting, with its Retry-After', async () => {
    const { http, client } = setup();
    http.on('PUT', `${base}/pipelineRuns/run1`, {
      status: 201,
      body: runBody('Creating'),
      headers: { 'azure-asyncoperation': `${base}/pipelineRuns/run1/operationStatuses/x`, 'retry-after': '10' },
    });
    const run = await client.putRun(reg, 'run1', {
      kind: 'export',
      pipelineResourceId: `${reg.resourceId}/exportPipelines/exp1`,
      blobName: 'blob1',
      artifacts: ['a:1'],
      forceUpdateTag: 'f1',
    });
    expect(http.calls).toHaveLength(1);
    expect(JSON.parse(http.calls[0]!.body!)).toEqual({
      properties: {
        request: { pipelineResourceId: `${reg.resourceId}/exportPipelines/exp1`, target: { type: 'AzureStorageBlob', name: 'blob1' }, artifacts: ['a:1'] },
        forceUpdateTag: 'f1',
      },
    });
    expect(run).toMatchObject({ name: 'run1', provisioningState: 'Creating', blobName: 'blob1', percentage: 20, status: 'Running', retryAfterMs: 10_000 });
  });

  test('an import run names its source blob and carries the catalog digest', async () => {
    const { http, client } = setup();
    http.on(
      'PUT',
      `${base}/pipelineRuns/run2`,
      ok({
        name: 'run2',
        properties: { provisioningState: 'Creating', request: { pipelineResourceId: 'imp', source: { type: 'AzureStorageBlob', name: 'b2' } } },
      }),
    );
    const run = await client.putRun(reg, 'run2', { kind: 'import', pipelineResourceId: 'imp', blobName: 'b2', catalogDigest: 'sha256:ab' });
    expect(JSON.parse(http.calls[0]!.body!)).toEqual({
      properties: { request: { pipelineResourceId: 'imp', source: { type: 'AzureStorageBlob', name: 'b2' }, catalogDigest: 'sha256:ab' } },
    });
    expect(run.blobName).toBe('b2');
  });

  test('getRun maps the response: error message word for word, trigger time, imported artifacts', async () => {
    const { http, client } = setup();
    http.on(
      'GET',
      `${base}/pipelineRuns/run1`,
      ok(
        runBody('Failed', {
          pipelineRunErrorMessage: 'Blob "x" was not found. Check the SAS.',
          finishTime: '2026-01-01T00:01:00Z',
          importedArtifacts: ['a:1'],
          trigger: { sourceTrigger: { timestamp: 't' } },
        }),
      ),
    );
    expect(await client.getRun(reg, 'run1')).toMatchObject({
      provisioningState: 'Failed',
      errorMessage: 'Blob "x" was not found. Check the SAS.',
      importedArtifacts: ['a:1'],
      triggeredAt: 't',
    });
  });

  test('getRun: 404 of the run is undefined, a missing parent is an error', async () => {
    const { http, client } = setup();
    http.on('GET', `${base}/pipelineRuns/gone1`, armError(404, 'ResourceNotFound', 'not found'));
    http.on('GET', `${base}/pipelineRuns/gone2`, armError(404, 'ParentResourceNotFound', "registry 'srcreg' not found"));
    expect(await client.getRun(reg, 'gone1')).toBeUndefined();
    await expect(client.getRun(reg, 'gone2')).rejects.toMatchObject({
      status: 404,
      code: 'ParentResourceNotFound',
      fix: expect.stringMatching(/registry name 'srcreg'/),
    });
  });

  test('listRuns follows nextLink across pages', async () => {
    const { http, client } = setup();
    const next = `${base}/pipelineRuns?api-version=${API}&$skipToken=abc`;
    http.on('GET', (u) => u.pathname.endsWith('/pipelineRuns') && u.searchParams.get('$skipToken') === 'abc', ok({ value: [{ name: 'r3', properties: {} }] }));
    http.on(
      'GET',
      (u) => u.pathname.endsWith('/pipelineRuns'),
      ok({
        value: [
          { name: 'r1', properties: {} },
          { name: 'r2', properties: {} },
        ],
        nextLink: next,
      }),
    );
    expect((await client.listRuns(reg)).map((r) => r.name)).toEqual(['r1', 'r2', 'r3']);
  });
});

describe('mapping and errors', () => {
  test('registry: lower-case login server, SKU, export policy, stable api-version', async () => {
    const { http, client } = setup();
    http.on(
      'GET',
      base,
      ok({
        id: reg.resourceId,
        name: 'srcreg',
        sku: { name: 'Premium' },
        properties: { loginServer: 'SrcReg.AzureCR.io', policies: { exportPolicy: { status: 'disabled' } } },
      }),
    );
    expect(await client.getRegistry(reg)).toEqual({
      id: reg.resourceId,
      name: 'srcreg',
      sku: 'Premium',
      loginServer: 'srcreg.azurecr.io',
      exportPolicyEnabled: false,
    });
    expect(new URL(http.calls[0]!.url).searchParams.get('api-version')).toBe('2023-07-01');
  });

  test('listUsages', async () => {
    const { http, client } = setup();
    http.on('GET', `${base}/listUsages`, ok({ value: [{ name: 'Size', limit: 536870912000, currentValue: 12, unit: 'Bytes' }] }));
    expect(await client.listUsages(reg)).toEqual([{ name: 'Size', limit: 536870912000, currentValue: 12, unit: 'Bytes' }]);
  });

  test.each([
    [403, 'AuthorizationFailed', 'The client does not have authorization', /Container Registry Transfer Pipeline Contributor/],
    [401, 'InvalidAuthenticationToken', 'expired', /Container Registry Transfer Pipeline Contributor/],
    [400, 'RegistrySkuNotSupported', 'Transfer pipelines require the Premium SKU', /--sku Premium/],
    [400, 'ExportPolicyDisabled', 'export policy is disabled', /exportPolicy.status=enabled/],
    [400, 'NoRegisteredProviderFound', 'No registered resource provider found for api version', /api-version/],
    [409, 'Conflict', 'runs in progress', /in progress/],
  ])('HTTP %i %s gets a fix hint', async (status, code, message, fix) => {
    const { http, client } = setup();
    http.on('PUT', `${base}/exportPipelines/exp1`, armError(status, code, message));
    const e = (await client.putPipeline(reg, 'exp1', exportSpec).catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toMatchObject({ status, code, serviceMessage: message, correlationId: 'corr-1' });
    expect(e.fix).toMatch(fix);
    expect(e.message).toContain("PUT export pipeline 'exp1' on registry 'srcreg' failed: HTTP");
  });

  test('a sign-in failure is an AzureRequestError naming the sign-in, not retried, with the fix', async () => {
    const http = new FakeHttp();
    const failing = {
      getToken: async (): Promise<never> => {
        throw Object.assign(new Error('AADSTS7000215: Invalid client secret provided.'), { name: 'AuthenticationError' });
      },
    };
    const transport = new ArmTransport({ endpoint: ARM, credential: failing, scope: 's/.default', httpClient: http, clock: new FakeClock() });
    const client = new ArmPipelinesClient(transport, { apiVersion: API });
    const e = (await client.getRegistry(reg).catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toMatchObject({ status: 401, code: 'AuthenticationError', operation: "GET registry 'srcreg': sign-in" });
    expect(e.serviceMessage).toMatch(/AADSTS7000215/);
    expect(e.fix).toMatch(/client-id/);
    expect(http.calls).toHaveLength(0);
  });

  test('a 404 of the registry names it with the fix', async () => {
    const { http, client } = setup();
    http.on(
      'GET',
      base,
      armError(404, 'ResourceNotFound', "The Resource 'Microsoft.ContainerRegistry/registries/srcreg' under resource group 'rg' was not found."),
    );
    await expect(client.getRegistry(reg)).rejects.toMatchObject({
      operation: "GET registry 'srcreg'",
      fix: expect.stringMatching(/az acr show -n srcreg -g rg/),
    });
  });

  test('pipeline PUT body: identity, target, options; storageAccessMode only where the api-version has it', async () => {
    const { http, client } = setup();
    http.on('PUT', `${base}/exportPipelines/exp1`, ok(pipelineBody('Succeeded')));
    await client.putPipeline(reg, 'exp1', {
      ...exportSpec,
      identity: { type: 'UserAssigned', resourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u' },
    });
    expect(JSON.parse(http.calls[0]!.body!)).toEqual({
      identity: {
        type: 'UserAssigned',
        userAssignedIdentities: { '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u': {} },
      },
      properties: {
        target: { type: 'AzureStorageBlobContainer', uri: exportSpec.storageUri, keyVaultUri: exportSpec.keyVaultUri, storageAccessMode: 'SasToken' },
        options: ['OverwriteBlobs'],
      },
    });
    const old = setup({ apiVersion: '2019-12-01-preview' });
    old.http.on('PUT', `${base}/exportPipelines/exp1`, ok(pipelineBody('Succeeded')));
    await old.client.putPipeline(reg, 'exp1', exportSpec);
    expect(JSON.parse(old.http.calls[0]!.body!).properties.target).not.toHaveProperty('storageAccessMode');
  });

  test('import pipeline: trigger status and options', async () => {
    const { http, client } = setup();
    http.on(
      'PUT',
      `${base}/importPipelines/imp1`,
      ok({ name: 'imp1', properties: { source: { uri: 'u' }, trigger: { sourceTrigger: { status: 'Enabled' } }, provisioningState: 'Succeeded' } }),
    );
    const p = await client.putPipeline(reg, 'imp1', { ...exportSpec, kind: 'import', options: ['OverwriteTags'], sourceTriggerEnabled: true });
    expect(JSON.parse(http.calls[0]!.body!).properties.trigger).toEqual({ sourceTrigger: { status: 'Enabled' } });
    expect(p).toMatchObject({ kind: 'import', sourceTriggerEnabled: true, storageUri: 'u', options: [] });
  });

  test('identity types are compared case-insensitively (the service answers camelCase)', async () => {
    expect(normalizeIdentityType('systemAssigned')).toBe('SystemAssigned');
    expect(normalizeIdentityType('userAssigned')).toBe('UserAssigned');
    expect(normalizeIdentityType('systemAssigned,userAssigned')).toBe('SystemAssigned, UserAssigned');
    expect(normalizeIdentityType(undefined)).toBe('None');
    const { http, client } = setup();
    http.on('GET', `${base}/exportPipelines/exp1`, ok(pipelineBody('Succeeded')));
    expect((await client.getPipeline(reg, 'export', 'exp1'))?.identity).toEqual({ type: 'SystemAssigned', principalId: 'p1' });
  });
});
