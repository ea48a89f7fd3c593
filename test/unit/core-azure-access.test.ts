/**
 * The adapters behind setup, check and cleanup, with a fake HttpClient: ARM lists of vaults, storage accounts and role
 * assignments (paging, shapes), access-policy and role-assignment writes (409 RoleAssignmentExists), listKeys masked;
 * the ACR data plane's manifests (GET, _manifests paging, DELETE).
 */
import { AcrDataPlaneFactory } from '../../core/azure/acr';
import { ArmAccessClient, derivedGuid } from '../../core/azure/arm/access';
import { ArmTransport } from '../../core/azure/arm/transport';
import { AzureRequestError } from '../../core/errors';
import { FakeClock, FakeCredential, FakeHttp, jwt } from './core-azure-fakes';

const ARM = 'https://arm.test';
const SUB = '00000000-0000-0000-0000-000000000001';
const VAULT_ID = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1`;
const ACCOUNT_ID = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct`;

function arm(): { http: FakeHttp; client: ArmAccessClient; masked: string[] } {
  const http = new FakeHttp();
  const masked: string[] = [];
  const transport = new ArmTransport({
    endpoint: ARM,
    credential: new FakeCredential(),
    scope: 'https://management.azure.com/.default',
    httpClient: http,
    clock: new FakeClock(),
    retry: { attempts: 2, minDelayMs: 10, maxDelayMs: 10 },
  });
  const client = new ArmAccessClient(transport, { mask: (s) => masked.push(s) });
  return { http, client, masked };
}

describe('ARM access', () => {
  it('lists vaults across pages with their vaultUri, tenant, RBAC flag and access policies', async () => {
    const { http, client } = arm();
    http.on('GET', `/subscriptions/${SUB}/providers/Microsoft.KeyVault/vaults`, (r) =>
      r.url.includes('page2')
        ? {
            status: 200,
            body: { value: [{ id: `${VAULT_ID}2`, name: 'kv12', properties: { vaultUri: 'https://kv12.vault.azure.net/', enableRbacAuthorization: true } }] },
          }
        : {
            status: 200,
            body: {
              value: [
                {
                  id: VAULT_ID,
                  name: 'kv1',
                  properties: {
                    vaultUri: 'https://kv1.vault.azure.net/',
                    tenantId: 't1',
                    accessPolicies: [{ tenantId: 't1', objectId: 'o1', permissions: { secrets: ['Get', 'List'] } }],
                  },
                },
              ],
              nextLink: `${ARM}/subscriptions/${SUB}/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01&page2=1`,
            },
          },
    );
    const vaults = await client.listVaults(SUB);
    expect(vaults).toEqual([
      {
        id: VAULT_ID,
        name: 'kv1',
        vaultUri: 'https://kv1.vault.azure.net/',
        tenantId: 't1',
        enableRbacAuthorization: false,
        accessPolicies: [{ tenantId: 't1', objectId: 'o1', secrets: ['get', 'list'] }],
      },
      { id: `${VAULT_ID}2`, name: 'kv12', vaultUri: 'https://kv12.vault.azure.net/', tenantId: '', enableRbacAuthorization: true, accessPolicies: [] },
    ]);
    expect(http.calls[0]!.url).toContain('api-version=2023-07-01');
  });

  it('adds an access policy with secrets get', async () => {
    const { http, client } = arm();
    http.on('PUT', `${VAULT_ID}/accessPolicies/add`, { status: 200, body: {} });
    await client.addVaultAccessPolicy(VAULT_ID, { tenantId: 't1', objectId: 'o1', secrets: ['get'] });
    expect(JSON.parse(http.calls[0]!.body!)).toEqual({
      properties: { accessPolicies: [{ tenantId: 't1', objectId: 'o1', permissions: { secrets: ['get'] } }] },
    });
  });

  it('creates a role assignment under a name derived from scope, role and principal; 409 RoleAssignmentExists is fine', async () => {
    const { http, client } = arm();
    const role = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`;
    http.on(
      'PUT',
      (u) => u.pathname.startsWith(`${VAULT_ID}/providers/Microsoft.Authorization/roleAssignments/`),
      { status: 201, body: {} },
      { status: 409, body: { error: { code: 'RoleAssignmentExists', message: 'The role assignment already exists.' } } },
      { status: 403, body: { error: { code: 'AuthorizationFailed', message: 'no' } } },
    );
    expect(await client.createRoleAssignment(VAULT_ID, role, 'p1')).toBe('created');
    expect(await client.createRoleAssignment(VAULT_ID, role, 'p1')).toBe('exists');
    const name = derivedGuid(`${VAULT_ID.toLowerCase()}|${role.toLowerCase()}|p1`);
    expect(name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(http.calls[0]!.url).toContain(`/roleAssignments/${name}?api-version=2022-04-01`);
    expect(JSON.parse(http.calls[0]!.body!)).toEqual({ properties: { roleDefinitionId: role, principalId: 'p1', principalType: 'ServicePrincipal' } });
    const denied = await client.createRoleAssignment(VAULT_ID, role, 'p1').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AzureRequestError);
    expect((denied as AzureRequestError).fix).toContain('Owner or User Access Administrator');
  });

  it('lists role assignments filtered by principal, storage accounts, and a masked key', async () => {
    const { http, client, masked } = arm();
    http.on('GET', (u) => u.pathname === `${ACCOUNT_ID}/providers/Microsoft.Authorization/roleAssignments`, {
      status: 200,
      body: { value: [{ id: 'ra1', properties: { scope: ACCOUNT_ID, roleDefinitionId: '/x/roleDefinitions/r1', principalId: 'p1' } }] },
    });
    http.on('GET', `/subscriptions/${SUB}/providers/Microsoft.Storage/storageAccounts`, {
      status: 200,
      body: { value: [{ id: ACCOUNT_ID, name: 'acct', properties: { primaryEndpoints: { blob: 'https://acct.blob.core.windows.net/' } } }] },
    });
    http.on('POST', `${ACCOUNT_ID}/listKeys`, { status: 200, body: { keys: [{ keyName: 'key1', value: 'SECRETKEY==' }] } });
    expect(await client.listRoleAssignments(ACCOUNT_ID, 'p1')).toEqual([
      { id: 'ra1', scope: ACCOUNT_ID, roleDefinitionId: '/x/roleDefinitions/r1', principalId: 'p1' },
    ]);
    expect(decodeURIComponent(http.calls[0]!.url)).toContain("$filter=principalId eq 'p1'");
    expect(await client.listStorageAccounts(SUB)).toEqual([{ id: ACCOUNT_ID, name: 'acct', blobEndpoint: 'https://acct.blob.core.windows.net/' }]);
    expect(await client.storageAccountKey(ACCOUNT_ID)).toBe('SECRETKEY==');
    expect(masked).toEqual(['SECRETKEY==']);
  });
});

describe('ACR manifests', () => {
  const LS = 'myreg.azurecr.io';
  function acr(): { http: FakeHttp; plane: ReturnType<AcrDataPlaneFactory['forLoginServer']> } {
    const http = new FakeHttp();
    const clock = new FakeClock();
    http.on('POST', `https://${LS}/oauth2/exchange`, { status: 200, body: { refresh_token: jwt({ exp: Math.floor(clock.now() / 1000) + 3600 }) } });
    http.on('POST', `https://${LS}/oauth2/token`, (r) => ({
      status: 200,
      body: { access_token: jwt({ scope: new URLSearchParams(r.body ?? '').get('scope'), exp: Math.floor(clock.now() / 1000) + 3600 }) },
    }));
    const factory = new AcrDataPlaneFactory({ credential: new FakeCredential(clock), scopes: ['s/.default'], httpClient: http, clock, mask: () => undefined });
    return { http, plane: factory.forLoginServer(LS) };
  }

  it('reads an image manifest (layers, foreign URLs) and an index (children with platforms, subject)', async () => {
    const { http, plane } = acr();
    http.on('GET', `https://${LS}/v2/app/manifests/v1`, {
      status: 200,
      headers: { 'docker-content-digest': 'sha256:aaa' },
      body: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        layers: [{ digest: 'sha256:l1', size: 10, mediaType: 'm', urls: ['https://mcr/x'] }],
        subject: { digest: 'sha256:s' },
      },
    });
    http.on('GET', `https://${LS}/v2/app/manifests/v2`, {
      status: 200,
      headers: { 'docker-content-digest': 'sha256:bbb' },
      body: {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ digest: 'sha256:c1', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }],
      },
    });
    http.on('GET', `https://${LS}/v2/app/manifests/v3`, { status: 404, body: { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'no' }] } });
    expect(await plane.getManifest('app', 'v1')).toEqual({
      digest: 'sha256:aaa',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      layers: [{ digest: 'sha256:l1', size: 10, mediaType: 'm', urls: ['https://mcr/x'] }],
      manifests: [],
      subject: 'sha256:s',
    });
    expect((await plane.getManifest('app', 'v2'))?.manifests).toEqual([{ digest: 'sha256:c1', platform: 'linux/arm64/v8' }]);
    expect(await plane.getManifest('app', 'v3')).toBeUndefined();
  });

  it('lists manifests with their tags across pages with metadata_read, and deletes with the delete scope', async () => {
    const { http, plane } = acr();
    http.on(
      'GET',
      (u) => u.pathname === '/acr/v1/team/app/_manifests',
      {
        status: 200,
        body: { manifests: [{ digest: 'sha256:1', tags: ['v1'] }] },
        headers: { link: '</acr/v1/team/app/_manifests?last=sha256:1&n=100>; rel="next"' },
      },
      { status: 200, body: { manifests: [{ digest: 'sha256:2', tags: null, changeableAttributes: { deleteEnabled: false } }] } },
    );
    http.on('DELETE', (u) => decodeURIComponent(u.pathname) === '/v2/team/app/manifests/sha256:2', { status: 202 });
    expect(await plane.listManifests('team/app')).toEqual([
      { digest: 'sha256:1', tags: ['v1'] },
      { digest: 'sha256:2', tags: [], deleteEnabled: false },
    ]);
    await plane.deleteManifest('team/app', 'sha256:2');
    const scopes = http.to('/oauth2/token').map((c) => new URLSearchParams(c.body ?? '').get('scope'));
    expect(scopes).toEqual(['repository:team/app:metadata_read', 'repository:team/app:delete']);
  });
});
