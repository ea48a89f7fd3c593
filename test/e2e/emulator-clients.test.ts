/**
 * What real clients on the transfer path read from the local Azure besides the transfer resources, over plain REST:
 * ARM's tenants, subscriptions and generic resource list with `$filter`; `//metadata/endpoints`; request-tracking
 * headers on unknown paths; the api-versions the service advertises and its `api-supported-versions`; ACR's
 * `/acr/v1` metadata API and registry-shaped errors; faults on storage in storage's own shape; certificate sign-in and
 * the managed identity endpoint refusing what Entra and App Service refuse. (The az CLI and the bundle drive the same
 * through azure-cli.test.ts and action-auth.test.ts.)
 */
import { ClientCertificateCredential } from '@azure/identity';
import { randomBytes } from 'node:crypto';
import { seedImages } from '../local-azure/seed';
import { withTestCertificate } from './support/certificate';
import { API, arm, containerClient, containerSas, control, credential, loadEnv } from './support/local-azure';

jest.setTimeout(60_000);

const env = loadEnv();
const src = env.registries.source;
const sub = `/subscriptions/${env.subscriptionId}`;
const regPath = `${sub}/resourceGroups/${env.resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${src.name}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
type Json = Record<string, unknown>;
interface ErrorBody {
  error: { code: string; message: string };
}

describe('ARM reads of sign-in and lookup by name', () => {
  it('lists the tenant and the subscription, and reads the subscription', async () => {
    const tenants = await arm<{ value: Json[] }>(env, 'GET', '/tenants?api-version=2022-12-01');
    expect(tenants.status).toBe(200);
    expect(tenants.body.value).toEqual([expect.objectContaining({ id: `/tenants/${env.tenantId}`, tenantId: env.tenantId, tenantCategory: 'Home' })]);
    const subs = await arm<{ value: Json[] }>(env, 'GET', '/subscriptions?api-version=2019-11-01');
    expect(subs.body.value).toEqual([expect.objectContaining({ id: sub, subscriptionId: env.subscriptionId, tenantId: env.tenantId, state: 'Enabled' })]);
    expect(subs.headers.get('x-ms-request-id')).toMatch(UUID);
    expect((await arm<Json>(env, 'GET', `${sub}?api-version=2022-12-01`)).body).toMatchObject({ subscriptionId: env.subscriptionId });
    const other = await arm<ErrorBody>(env, 'GET', '/subscriptions/0b1e6b2a-9f3c-4c1e-9a51-000000000000?api-version=2022-12-01');
    expect({ status: other.status, code: other.body.error.code }).toEqual({ status: 404, code: 'SubscriptionNotFound' });
  });

  it('lists resources by $filter, at the subscription and the resource group', async () => {
    const list = async (scope: string, filter: string): Promise<Json[]> => {
      const r = await arm<{ value: Json[] }>(env, 'GET', `${scope}/resources?$filter=${encodeURIComponent(filter)}&api-version=2021-04-01`);
      expect(r.status).toBe(200);
      return r.body.value;
    };
    expect((await list(sub, "resourceType eq 'Microsoft.ContainerRegistry/registries'")).map((r) => r['id'])).toEqual([
      env.registries.source.resourceId,
      env.registries.target.resourceId,
    ]);
    expect(await list(sub, `resourceType eq 'Microsoft.ContainerRegistry/registries' and name eq '${src.name.toUpperCase()}'`)).toEqual([
      expect.objectContaining({ id: src.resourceId, name: src.name, sku: { name: 'Premium', tier: 'Premium' } }),
    ]);
    const accounts = await list(`${sub}/resourceGroups/${env.resourceGroup}`, "resourceType eq 'Microsoft.Storage/storageAccounts'");
    expect(accounts.map((r) => r['name'])).toEqual([env.storage.source.account, env.storage.target.account]);
    expect(await list(sub, "name eq 'nosuchresource'")).toEqual([]);
  });

  it('refuses a $filter it cannot apply, as ARM does, instead of answering with more than was asked', async () => {
    const filter = "substringof('source', name)";
    const r = await arm<ErrorBody>(env, 'GET', `${sub}/resources?$filter=${encodeURIComponent(filter)}&api-version=2021-04-01`);
    expect({ status: r.status, body: r.body }).toEqual({
      status: 400,
      body: { error: { code: 'InvalidFilterInQueryString', message: `Invalid $filter '${filter}' specified in the query string.` } },
    });
  });

  it('serves metadata/endpoints at //metadata/endpoints too (an ARM endpoint registered with a trailing slash)', async () => {
    const r = await fetch(`${env.armEndpoint}//metadata/endpoints?api-version=2015-01-01`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { authentication: { loginEndpoint: string } }).authentication.loginEndpoint).toBe(`${env.armEndpoint}/`);
  });

  it('answers a path it does not serve with ARM request ids, the caller correlation id echoed', async () => {
    const token = await credential(env).getToken('https://management.azure.com/.default');
    const r = await fetch(`${env.armEndpoint}/providers/Microsoft.Nothing/things?api-version=2022-01-01`, {
      headers: { authorization: `Bearer ${token.token}`, 'x-ms-correlation-request-id': 'c0ffee00-0000-4000-8000-000000000001' },
    });
    expect(r.status).toBe(404);
    expect(r.headers.get('x-ms-request-id')).toMatch(UUID);
    expect(r.headers.get('x-ms-correlation-request-id')).toBe('c0ffee00-0000-4000-8000-000000000001');
    expect(((await r.json()) as ErrorBody).error.code).toBe('NotFound');
  });
});

describe('api-versions of the transfer resources', () => {
  it.each(['2022-12-01-preview', '2024-01-01-preview', '2025-09-01-preview'])(
    '%s, which Azure does not list for them, is refused as ARM refuses it',
    async (v) => {
      const r = await arm<ErrorBody>(env, 'GET', `${regPath}/exportPipelines?api-version=${v}`);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('NoRegisteredProviderFound');
      expect(r.body.error.message).toMatch(/The supported api-versions are '2019-12-01-preview, .*2026-03-01-preview, 2026-09-01-preview'/);
      expect(r.headers.get('api-supported-versions')).toBeNull();
    },
  );

  it.each(['2026-03-01-preview', '2026-09-01-preview', API])('%s is served, and the answer names the supported versions', async (v) => {
    const r = await arm(env, 'GET', `${regPath}/importPipelines?api-version=${v}`);
    expect(r.status).toBe(200);
    const supported = (r.headers.get('api-supported-versions') ?? '').split(', ');
    expect(supported).toEqual(expect.arrayContaining(['2019-12-01-preview', API, '2026-03-01-preview', '2026-09-01-preview']));
    expect(supported).not.toContain('2022-12-01-preview');
    expect(supported).not.toContain('2025-11-01');
  });

  it("names them on the provider's errors too, and the registry's own versions on a registry", async () => {
    const missing = await arm(env, 'GET', `${regPath}/pipelineRuns/nosuchrun0?api-version=${API}`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('api-supported-versions')).toContain(API);
    const reg = await arm(env, 'GET', `${regPath}?api-version=2025-11-01`);
    expect(reg.headers.get('api-supported-versions')?.split(', ')).toEqual(expect.arrayContaining(['2019-05-01', '2025-11-01', API]));
  });
});

describe("ACR's metadata API and the registry's errors", () => {
  const repo = `meta${randomBytes(3).toString('hex')}/app`;
  const front = `https://${src.loginServer}`;
  let token = '';

  beforeAll(async () => {
    await seedImages(src.backendUrl, [
      { repo, tag: 'a' },
      { repo, tag: 'b' },
      { repo, tag: 'c' },
    ]);
    const aad = await credential(env).getToken('https://management.azure.com/.default');
    const post = (p: string, fields: Record<string, string>): Promise<Response> => fetch(`${front}${p}`, { method: 'POST', body: new URLSearchParams(fields) });
    const ex = await post('/oauth2/exchange', { grant_type: 'access_token', service: src.loginServer, tenant: env.tenantId, access_token: aad.token });
    const { refresh_token } = (await ex.json()) as { refresh_token: string };
    const at = await post('/oauth2/token', {
      grant_type: 'refresh_token',
      service: src.loginServer,
      scope: `repository:${repo}:metadata_read registry:catalog:*`,
      refresh_token,
    });
    token = ((await at.json()) as { access_token: string }).access_token;
  });

  const get = (p: string, auth = true): Promise<Response> => fetch(`${front}${p}`, { headers: auth ? { authorization: `Bearer ${token}` } : {} });

  it('pages tags by name with a Link to the next page', async () => {
    const first = await get(`/acr/v1/${encodeURIComponent(repo)}/_tags?n=2`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ms-correlation-request-id')).toMatch(UUID);
    const body = (await first.json()) as { registry: string; imageName: string; tags: { name: string; digest: string; signed: boolean }[] };
    expect({ registry: body.registry, imageName: body.imageName, names: body.tags.map((t) => t.name) }).toEqual({
      registry: src.loginServer,
      imageName: repo,
      names: ['a', 'b'],
    });
    const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
    expect(next).toBe(`/acr/v1/${repo}/_tags?last=b&n=2&orderby=`);
    expect(((await (await get(next!)).json()) as { tags: { name: string }[] }).tags.map((t) => t.name)).toEqual(['c']);
  });

  it('reads the catalog behind registry:catalog:*, and challenges without a token', async () => {
    const anon = await get('/acr/v1/_catalog', false);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toContain('scope="registry:catalog:*"');
    expect(((await (await get('/acr/v1/_catalog?n=1000')).json()) as { repositories: string[] }).repositories).toContain(repo);
  });

  it("answers unknown tags, repositories and paths in the registry's error shape", async () => {
    const errorOf = async (r: Response): Promise<{ status: number; code: string | undefined; corr: boolean }> => ({
      status: r.status,
      code: ((await r.json()) as { errors: { code: string }[] }).errors[0]?.code,
      corr: UUID.test(r.headers.get('x-ms-correlation-request-id') ?? ''),
    });
    expect(await errorOf(await get(`/acr/v1/${repo}/_tags/nosuchtag`))).toEqual({ status: 404, code: 'TAG_UNKNOWN', corr: true });
    expect(await errorOf(await get(`/acr/v1/${repo}/_manifests/sha256:${'0'.repeat(64)}`))).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN', corr: true });
    expect(await errorOf(await get(`/acr/v1/${repo}/_tags?orderby=sideways`))).toEqual({ status: 400, code: 'UNSUPPORTED', corr: true });
    expect(await errorOf(await get('/nothing/here'))).toEqual({ status: 404, code: 'UNSUPPORTED', corr: true });
  });
});

describe('faults on storage', () => {
  it("an injected storage fault answers in storage's XML shape, then the next request passes", async () => {
    const s = env.storage.source;
    const container = `fault${randomBytes(4).toString('hex')}`;
    await containerClient(s, container).createIfNotExists();
    const url = `${s.blobEndpoint}${container}?restype=container&comp=list&${containerSas(s, 'rl', { container })}`;
    expect(
      (await control(env, 'POST', '/faults', { service: 'storage', method: 'GET', path: `^/${container}$`, kind: '503', count: 1, retryAfterSeconds: 2 }))
        .status,
    ).toBe(200);
    const faulted = await fetch(url);
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('x-ms-error-code')).toBe('ServerBusy');
    expect(faulted.headers.get('x-ms-request-id')).toMatch(UUID);
    expect(faulted.headers.get('retry-after')).toBe('2');
    expect(await faulted.text()).toMatch(/^<\?xml version="1\.0" encoding="utf-8"\?><Error><Code>ServerBusy<\/Code><Message>/);
    const next = await fetch(url);
    expect(next.status).toBe(200);
    expect(await next.text()).toContain('<EnumerationResults');
  });
});

describe('certificate sign-in and the managed identity endpoint refuse what the real ones refuse', () => {
  it('a certificate not registered on the app is AADSTS700027; registering a private key is refused', () =>
    withTestCertificate('unregistered', async ({ key, cert }) => {
      const c = new ClientCertificateCredential(
        env.tenantId,
        env.clientId,
        { certificate: key + cert },
        { authorityHost: env.authorityHost, disableInstanceDiscovery: true },
      );
      await expect(c.getToken('https://management.azure.com/.default')).rejects.toThrow(
        /AADSTS700027: The certificate with identifier used to sign the client assertion is not registered/,
      );
      expect((await control(env, 'POST', '/app-certificates', { certificate: key + cert })).status).toBe(400);
    }));

  it('the identity endpoint wants its header, its api-version and an identity assigned to the machine', async () => {
    const mi = (await control<{ identityEndpoint: string; identityHeader: string; userAssigned: { clientId: string } }>(env, 'GET', '/managed-identity')).body;
    const ask = async (query: string, header?: string): Promise<{ status: number; body: Json }> => {
      const r = await fetch(`${mi.identityEndpoint}?${query}`, { headers: header ? { 'x-identity-header': header } : {} });
      return { status: r.status, body: (await r.json()) as Json };
    };
    const resource = 'resource=https%3A%2F%2Fmanagement.azure.com%2F';
    expect((await ask(`api-version=2019-08-01&${resource}`)).status).toBe(401);
    expect((await ask(`api-version=2019-08-01&${resource}`, 'wrong')).status).toBe(401);
    expect((await ask(`api-version=2017-09-01&${resource}`, mi.identityHeader)).status).toBe(400);
    expect((await ask(`api-version=2019-08-01&${resource}&client_id=${randomBytes(4).toString('hex')}`, mi.identityHeader)).body['message']).toMatch(
      /Unable to load the proper Managed Identity/,
    );
    const ok = await ask(`api-version=2019-08-01&${resource}&client_id=${mi.userAssigned.clientId}`, mi.identityHeader);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', resource: 'https://management.azure.com/', client_id: mi.userAssigned.clientId });
    expect(Number(ok.body['expires_on'])).toBeGreaterThan(Date.now() / 1000);
    // The token works at ARM, as the identity's own principal.
    const r = await fetch(`${env.armEndpoint}/subscriptions?api-version=2022-12-01`, {
      headers: { authorization: `Bearer ${String(ok.body['access_token'])}` },
    });
    expect(r.status).toBe(200);
  });
});
