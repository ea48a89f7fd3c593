/**
 * The local Azure's resources for the lifecycle operations (setup, check, cleanup), over plain REST and the SDKs only: the Key Vault
 * and storage accounts as ARM resources, role assignments, access enforcement for pipeline runs (access policies,
 * RBAC vaults, grant propagation delay, storage roles in ManagedIdentity mode), and ACR's manifest list.
 * Knobs and the vault's permission model are global to the running local Azure: every test puts back what it changes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { seedImages } from '../local-azure/seed';
import {
  arm,
  containerSas,
  containerUri,
  control,
  credential,
  type HttpResult,
  loadEnv,
  OCI_MANIFEST,
  pushManifest,
  secretClient,
  secretUri,
} from './support/local-azure';

jest.setTimeout(90_000);

type Json = Record<string, unknown>;
interface ArmError {
  error: { code: string; message: string };
}
interface Policy {
  tenantId: string;
  objectId: string;
  permissions: { secrets?: string[] };
}
interface Vault {
  id: string;
  name: string;
  type: string;
  location: string;
  properties: { tenantId: string; vaultUri: string; enableRbacAuthorization: boolean; accessPolicies: Policy[]; sku: Json };
}
interface Assignment {
  id: string;
  name: string;
  properties: { roleDefinitionId: string; principalId: string; principalType: string; scope: string };
}
interface RunResponse {
  status?: string;
  pipelineRunErrorMessage?: string;
}
interface Run {
  properties: { provisioningState: string; response?: RunResponse };
}
interface ManifestList {
  registry: string;
  imageName: string;
  manifests: { digest: string; imageSize: number; createdTime: string; lastUpdateTime: string; mediaType: string; tags?: string[] }[];
}

const env = loadEnv();
const u = randomBytes(3).toString('hex');
const src = env.registries.source;
const dst = env.registries.target;
const sub = `/subscriptions/${env.subscriptionId}`;
const rg = `${sub}/resourceGroups/${env.resourceGroup}`;
const KV_API = 'api-version=2023-07-01';
const ST_API = 'api-version=2023-05-01';
const RA_API = 'api-version=2022-04-01';
const PIPELINE_API = 'api-version=2025-06-01-preview';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ROLE = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
};
const roleDefinitionId = (guid: string): string => `${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

function expectCorrelation(r: HttpResult): void {
  expect(r.headers.get('x-ms-request-id')).toMatch(UUID);
  expect(r.headers.get('x-ms-correlation-request-id')).toBeTruthy();
}

function expectArmError(r: HttpResult, status: number, code: string, message?: RegExp): void {
  expect({ status: r.status, code: (r.body as ArmError).error?.code }).toEqual({ status, code });
  expectCorrelation(r);
  if (message) expect((r.body as ArmError).error.message).toMatch(message);
}

// ---------- resources found the way setup finds them: through ARM lists, not env.json ----------

async function findVault(): Promise<Vault> {
  const r = await arm<{ value: Vault[] }>(env, 'GET', `${sub}/providers/Microsoft.KeyVault/vaults?${KV_API}`);
  expect(r.status).toBe(200);
  const vault = r.body.value.find((v) => v.properties.vaultUri === env.keyVaultUrl);
  if (!vault) throw new Error(`no vault with vaultUri ${env.keyVaultUrl} in ${JSON.stringify(r.body)}`);
  return vault;
}

async function storageAccountId(blobEndpoint: string): Promise<string> {
  const r = await arm<{ value: { id: string; properties: { primaryEndpoints: { blob: string } } }[] }>(
    env,
    'GET',
    `${sub}/providers/Microsoft.Storage/storageAccounts?${ST_API}`,
  );
  expect(r.status).toBe(200);
  const account = r.body.value.find((a) => a.properties.primaryEndpoints.blob === blobEndpoint);
  if (!account) throw new Error(`no storage account with blob endpoint ${blobEndpoint}`);
  return account.id;
}

async function addPolicy(vaultId: string, objectId: string, secrets: string[], kind: 'add' | 'replace' | 'remove' = 'add'): Promise<HttpResult<Json>> {
  return arm<Json>(env, 'PUT', `${vaultId}/accessPolicies/${kind}?${KV_API}`, {
    properties: { accessPolicies: [{ tenantId: env.tenantId, objectId, permissions: { secrets } }] },
  });
}

async function assignRole(scope: string, role: string, principalId: string, name: string = randomUUID()): Promise<HttpResult<Assignment>> {
  return arm<Assignment>(env, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?${RA_API}`, {
    properties: { roleDefinitionId: roleDefinitionId(role), principalId, principalType: 'ServicePrincipal' },
  });
}

// ---------- pipelines and runs ----------

const secrets = secretClient(env);

const exportContainer = containerUri(env.storage.source);

/** An export pipeline (system-assigned identity); returns its identity's principalId. */
async function putExportPipeline(name: string, target: Json): Promise<string> {
  const r = await arm<{ identity: { principalId: string } }>(env, 'PUT', `${src.resourceId}/exportPipelines/${name}?${PIPELINE_API}`, {
    identity: { type: 'SystemAssigned' },
    properties: { target: { type: 'AzureStorageBlobContainer', uri: exportContainer, ...target }, options: ['OverwriteBlobs'] },
  });
  expect(r.status).toBe(200);
  expect(r.body.identity.principalId).toMatch(UUID);
  return r.body.identity.principalId;
}

async function waitForRun(registryId: string, name: string): Promise<Run> {
  const end = Date.now() + 60_000;
  for (;;) {
    const r = await arm<Run>(env, 'GET', `${registryId}/pipelineRuns/${name}?${PIPELINE_API}`);
    expect(r.status).toBe(200);
    if (['Succeeded', 'Failed', 'Canceled'].includes(r.body.properties.provisioningState)) return r.body;
    if (Date.now() > end) throw new Error(`run ${name} did not finish`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

let runCount = 0;
async function exportRun(pipeline: string, artifact: string): Promise<Run> {
  const name = `run${u}x${++runCount}`;
  const r = await arm(env, 'PUT', `${src.resourceId}/pipelineRuns/${name}?${PIPELINE_API}`, {
    properties: {
      request: {
        pipelineResourceId: `${src.resourceId}/exportPipelines/${pipeline}`,
        target: { type: 'AzureStorageBlob', name: `access-${u}-${runCount}.tar` },
        artifacts: [artifact],
      },
    },
  });
  expect(r.status).toBe(200);
  return waitForRun(src.resourceId, name);
}

async function importRun(pipeline: string, blob: string): Promise<Run> {
  const name = `run${u}i${++runCount}`;
  const r = await arm(env, 'PUT', `${dst.resourceId}/pipelineRuns/${name}?${PIPELINE_API}`, {
    properties: { request: { pipelineResourceId: `${dst.resourceId}/importPipelines/${pipeline}`, source: { type: 'AzureStorageBlob', name: blob } } },
  });
  expect(r.status).toBe(200);
  return waitForRun(dst.resourceId, name);
}

const errorOf = (run: Run): string => run.properties.response?.pipelineRunErrorMessage ?? '';

async function setKnobs(knobs: Json): Promise<void> {
  expect((await control(env, 'PATCH', '/knobs', knobs)).status).toBe(200);
}

/** Turns enforcement on (and any other knobs) for `fn`, then puts the knobs and the vault back as they were. */
async function enforcing<T>(knobs: Json, fn: () => Promise<T>): Promise<T> {
  const before = (await control<Json>(env, 'GET', '/knobs')).body;
  await setKnobs({ enforceAccess: true, ...knobs });
  try {
    return await fn();
  } finally {
    await setKnobs(Object.fromEntries(['enforceAccess', ...Object.keys(knobs)].map((k) => [k, before[k]])));
    expect((await control(env, 'POST', '/keyvault/reset')).status).toBe(200);
  }
}

let artifact: string;
let sasSecret: string;

beforeAll(async () => {
  const [image] = await seedImages(src.backendUrl, [{ repo: `access${u}/app`, tag: 'v1' }]);
  artifact = image!.ref;
  await secrets.setSecret(`accesssas${u}`, `?${containerSas(env.storage.source, 'alrw')}`);
  sasSecret = secretUri(env, `accesssas${u}`);
});

// ---------- Key Vault as an ARM resource ----------

describe('Key Vault resource', () => {
  it('is listed by subscription with vaultUri = env.keyVaultUrl and GETs by name in the Key Vault shape', async () => {
    const vault = await findVault();
    expect(vault).toMatchObject({ name: 'acrtransferkv', type: 'Microsoft.KeyVault/vaults', location: 'eastus' });
    expect(vault.id).toBe(`${rg}/providers/Microsoft.KeyVault/vaults/acrtransferkv`);
    const r = await arm<Vault>(env, 'GET', `${vault.id}?${KV_API}`);
    expect(r.status).toBe(200);
    expectCorrelation(r);
    expect(r.body.properties).toMatchObject({ tenantId: env.tenantId, vaultUri: env.keyVaultUrl, enableRbacAuthorization: false, sku: { name: 'standard' } });
    expectArmError(await arm(env, 'GET', `${rg}/providers/Microsoft.KeyVault/vaults/nosuchvault?${KV_API}`), 404, 'ResourceNotFound', /nosuchvault/);
    expectArmError(await arm(env, 'GET', `${vault.id}`), 400, 'MissingApiVersionParameter');
    const anon = await fetch(`${env.armEndpoint}${vault.id}?${KV_API}`);
    expect(anon.status).toBe(401);
  });

  it('accessPolicies add merges permissions for an object id, replace sets them, remove takes them away', async () => {
    const vault = await findVault();
    const oid = randomUUID();
    const policyOf = async (): Promise<Policy | undefined> =>
      (await arm<Vault>(env, 'GET', `${vault.id}?${KV_API}`)).body.properties.accessPolicies.find((p) => p.objectId === oid);

    const added = await addPolicy(vault.id, oid, ['get']);
    expect(added.status).toBe(200);
    expectCorrelation(added);
    expect(added.body).toMatchObject({ properties: { accessPolicies: [{ objectId: oid, permissions: { secrets: ['get'] } }] } });
    expect((await addPolicy(vault.id, oid, ['list', 'get'])).status).toBe(200);
    expect((await policyOf())?.permissions.secrets).toEqual(['get', 'list']);
    expect((await addPolicy(vault.id, oid, ['set'], 'replace')).status).toBe(200);
    expect((await policyOf())?.permissions.secrets).toEqual(['set']);
    expect((await addPolicy(vault.id, oid, ['set'], 'remove')).status).toBe(200);
    expect(await policyOf()).toBeUndefined();

    expectArmError(await addPolicy(vault.id, oid, ['fly']), 400, 'BadRequest', /secrets\[0\]: fly/);
    expectArmError(await addPolicy(vault.id, 'not-a-guid', ['get']), 400, 'BadRequest', /objectId/);
  });
});

// ---------- role assignments ----------

describe('role assignments', () => {
  it('PUT creates (201) at the vault; the same trio under another name is 409 naming the existing one; GET, list and DELETE work', async () => {
    const vault = await findVault();
    const principal = randomUUID();
    const name = randomUUID();
    const created = await assignRole(vault.id, ROLE.keyVaultSecretsUser, principal, name);
    expect(created.status).toBe(201);
    expectCorrelation(created);
    expect(created.body).toMatchObject({
      name,
      id: `${vault.id}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: { roleDefinitionId: roleDefinitionId(ROLE.keyVaultSecretsUser), principalId: principal, principalType: 'ServicePrincipal', scope: vault.id },
    });
    // The same PUT again is idempotent; the same principal, role and scope under a new name is a conflict.
    expect((await assignRole(vault.id, ROLE.keyVaultSecretsUser, principal, name)).status).toBe(201);
    const dup = await assignRole(vault.id, ROLE.keyVaultSecretsUser, principal);
    expectArmError(dup, 409, 'RoleAssignmentExists', new RegExp(`existing role assignment is ${name.replace(/-/g, '')}`));

    const list = async (scope: string, filter: string): Promise<string[]> => {
      const r = await arm<{ value: Assignment[] }>(
        env,
        'GET',
        `${scope}/providers/Microsoft.Authorization/roleAssignments?${RA_API}&$filter=${encodeURIComponent(filter)}`,
      );
      expect(r.status).toBe(200);
      return r.body.value.map((a) => a.name);
    };
    // principalId eq lists at, above and below the scope; atScope() only at and above it.
    expect(await list(rg, `principalId eq '${principal}'`)).toEqual([name]);
    expect(await list(rg, `atScope() and principalId eq '${principal}'`)).toEqual([]);
    expect(await list(vault.id, `atScope() and assignedTo('${principal}')`)).toEqual([name]);
    expectArmError(
      await arm(env, 'GET', `${rg}/providers/Microsoft.Authorization/roleAssignments?${RA_API}&$filter=roleName%20eq%20'x'`),
      400,
      'UnsupportedQuery',
    );

    const one = `${vault.id}/providers/Microsoft.Authorization/roleAssignments/${name}?${RA_API}`;
    expect((await arm(env, 'GET', one)).status).toBe(200);
    expect((await arm(env, 'DELETE', one)).status).toBe(200);
    expectArmError(await arm(env, 'GET', one), 404, 'RoleAssignmentNotFound');
    expect((await arm(env, 'DELETE', one)).status).toBe(204);
  });

  it('takes subscription, resource group, storage account and registry scopes; refuses unknown roles, scopes and bad ids', async () => {
    const principal = randomUUID();
    const account = await storageAccountId(env.storage.source.blobEndpoint);
    for (const [scope, role] of [
      [sub, ROLE.acrPull],
      [rg, ROLE.storageBlobDataReader],
      [account, ROLE.storageBlobDataContributor],
      [src.resourceId, ROLE.acrPull],
    ] as const) {
      const r = await assignRole(scope, role, principal);
      expect({ scope, status: r.status }).toEqual({ scope, status: 201 });
      expect(r.body.properties.scope).toBe(scope);
    }
    expectArmError(await assignRole(rg, randomUUID(), principal), 400, 'RoleDefinitionDoesNotExist');
    expectArmError(await assignRole(`${rg}/providers/Microsoft.Storage/storageAccounts/nosuchaccount`, ROLE.acrPull, principal), 404, 'ResourceNotFound');
    expectArmError(await assignRole(rg, ROLE.acrPull, principal, 'not-a-guid'), 400, 'InvalidRoleAssignmentId');
    expectArmError(await assignRole(rg, ROLE.acrPull, 'someone'), 400, 'InvalidPrincipalId');
  });
});

// ---------- storage accounts ----------

describe('storage accounts', () => {
  it('GET shows the blob endpoint and listKeys returns the real account key', async () => {
    const id = await storageAccountId(env.storage.target.blobEndpoint);
    expect(id).toBe(`${rg}/providers/Microsoft.Storage/storageAccounts/${env.storage.target.account}`);
    const r = await arm<Json>(env, 'GET', `${id}?${ST_API}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: env.storage.target.account,
      type: 'Microsoft.Storage/storageAccounts',
      kind: 'StorageV2',
      properties: { primaryEndpoints: { blob: env.storage.target.blobEndpoint }, supportsHttpsTrafficOnly: true, allowSharedKeyAccess: true },
    });
    const keys = await arm<{ keys: { keyName: string; value: string; permissions: string }[] }>(env, 'POST', `${id}/listKeys?${ST_API}`);
    expect(keys.status).toBe(200);
    expectCorrelation(keys);
    expect(keys.body.keys[0]).toMatchObject({ keyName: 'key1', value: env.storage.target.key, permissions: 'FULL' });
    expectArmError(await arm(env, 'POST', `${rg}/providers/Microsoft.Storage/storageAccounts/nosuchaccount/listKeys?${ST_API}`), 404, 'ResourceNotFound');
  });
});

// ---------- enforcement ----------

describe('enforceAccess: Key Vault', () => {
  it('an export run fails with Key Vault 403 wording until the identity has an access policy with secrets get', async () => {
    await enforcing({}, async () => {
      const vault = await findVault();
      const pipeline = `kvpolicy${u}`;
      const principal = await putExportPipeline(pipeline, { keyVaultUri: sasSecret });
      const denied = await exportRun(pipeline, artifact);
      expect(denied.properties.provisioningState).toBe('Failed');
      expect(errorOf(denied)).toContain(`Failed to get secret 'accesssas${u}' from Key Vault`);
      expect(errorOf(denied)).toContain(
        `403 Forbidden (Forbidden): The user, group or application 'oid=${principal}' does not have secrets get permission on key vault 'acrtransferkv;location=eastus'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
      );
      // 'list' alone is not 'get'.
      expect((await addPolicy(vault.id, principal, ['list'])).status).toBe(200);
      expect((await exportRun(pipeline, artifact)).properties.provisioningState).toBe('Failed');
      expect((await addPolicy(vault.id, principal, ['get'])).status).toBe(200);
      const granted = await exportRun(pipeline, artifact);
      expect({ state: granted.properties.provisioningState, error: errorOf(granted) }).toEqual({ state: 'Succeeded', error: '' });
    });
  });

  it('an RBAC vault ignores access policies and needs Key Vault Secrets User at the vault (or above)', async () => {
    await enforcing({}, async () => {
      const vault = await findVault();
      const pipeline = `kvrbac${u}`;
      const principal = await putExportPipeline(pipeline, { keyVaultUri: sasSecret });
      expect((await addPolicy(vault.id, principal, ['get'])).status).toBe(200);
      const rbac = await control<{ enableRbacAuthorization: boolean }>(env, 'PATCH', '/keyvault', { enableRbacAuthorization: true });
      expect(rbac.body.enableRbacAuthorization).toBe(true);
      expect((await arm<Vault>(env, 'GET', `${vault.id}?${KV_API}`)).body.properties.enableRbacAuthorization).toBe(true);

      const denied = await exportRun(pipeline, artifact);
      expect(errorOf(denied)).toContain('Caller is not authorized to perform action on resource.');
      expect(errorOf(denied)).toContain(`oid=${principal}`);
      expect(errorOf(denied)).toContain("Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'");
      expect(errorOf(denied)).toContain('ForbiddenByRbac');
      // A storage role at the resource group is no Key Vault role.
      expect((await assignRole(rg, ROLE.storageBlobDataContributor, principal)).status).toBe(201);
      expect((await exportRun(pipeline, artifact)).properties.provisioningState).toBe('Failed');
      expect((await assignRole(rg, ROLE.keyVaultSecretsUser, principal)).status).toBe(201);
      expect((await exportRun(pipeline, artifact)).properties.provisioningState).toBe('Succeeded');
    });
  });

  it('grantDelayMs: a fresh grant does not work yet, and works once the delay has passed', async () => {
    const delayMs = 2500;
    await enforcing({ grantDelayMs: delayMs }, async () => {
      const vault = await findVault();
      const pipeline = `kvdelay${u}`;
      const principal = await putExportPipeline(pipeline, { keyVaultUri: sasSecret });
      expect((await addPolicy(vault.id, principal, ['get'])).status).toBe(200);
      const grantedAt = Date.now();
      const early = await exportRun(pipeline, artifact);
      expect(errorOf(early)).toContain('does not have secrets get permission');
      await new Promise((r) => setTimeout(r, Math.max(0, grantedAt + delayMs + 200 - Date.now())));
      expect((await exportRun(pipeline, artifact)).properties.provisioningState).toBe('Succeeded');
    });
  });
});

describe('enforceAccess: storage roles in ManagedIdentity mode', () => {
  it('export needs Storage Blob Data Contributor; import reads with Reader but needs Contributor to delete the source blob', async () => {
    await enforcing({}, async () => {
      const account = await storageAccountId(env.storage.source.blobEndpoint);
      const exporter = `miexport${u}`;
      const principal = await putExportPipeline(exporter, { storageAccessMode: 'ManagedIdentity' });

      const denied = await exportRun(exporter, artifact);
      expect(errorOf(denied)).toContain('403 AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission.');
      expect(errorOf(denied)).toContain('Storage Blob Data Contributor');
      expect((await assignRole(account, ROLE.storageBlobDataReader, principal)).status).toBe(201);
      expect(errorOf(await exportRun(exporter, artifact))).toContain('AuthorizationPermissionMismatch');
      expect((await assignRole(account, ROLE.storageBlobDataContributor, principal)).status).toBe(201);
      const exported = await exportRun(exporter, artifact);
      expect({ state: exported.properties.provisioningState, error: errorOf(exported) }).toEqual({ state: 'Succeeded', error: '' });
      const blob = `access-${u}-${runCount}.tar`;

      // The import pipeline reads the export container directly (no copy needed for this check); trigger off.
      const importer = `miimport${u}`;
      const put = await arm<{ identity: { principalId: string } }>(env, 'PUT', `${dst.resourceId}/importPipelines/${importer}?${PIPELINE_API}`, {
        identity: { type: 'SystemAssigned' },
        properties: {
          source: { type: 'AzureStorageBlobContainer', uri: exportContainer, storageAccessMode: 'ManagedIdentity' },
          trigger: { sourceTrigger: { status: 'Disabled' } },
          options: ['OverwriteTags', 'DeleteSourceBlobOnSuccess'],
        },
      });
      expect(put.status).toBe(200);
      const importPrincipal = put.body.identity.principalId;
      expect(errorOf(await importRun(importer, blob))).toMatch(/Downloading the blob .* AuthorizationPermissionMismatch.*Storage Blob Data Reader/);
      // Reader at the container scope is enough to read, not to delete the source blob afterwards.
      expect(
        (await assignRole(`${account}/blobServices/default/containers/${env.storage.source.container}`, ROLE.storageBlobDataReader, importPrincipal)).status,
      ).toBe(201);
      expect(errorOf(await importRun(importer, blob))).toMatch(/Deleting the source blob .* AuthorizationPermissionMismatch.*Storage Blob Data Contributor/);
      expect((await assignRole(account, ROLE.storageBlobDataContributor, importPrincipal)).status).toBe(201);
      expect((await importRun(importer, blob)).properties.provisioningState).toBe('Succeeded');
    });
  });
});

describe('enforceAccess off (the default)', () => {
  it('a pipeline identity without any grant still runs', async () => {
    const knobs = (await control<{ enforceAccess: boolean; grantDelayMs: number }>(env, 'GET', '/knobs')).body;
    expect({ enforceAccess: knobs.enforceAccess, grantDelayMs: knobs.grantDelayMs }).toEqual({ enforceAccess: false, grantDelayMs: 0 });
    const pipeline = `noenforce${u}`;
    await putExportPipeline(pipeline, { keyVaultUri: sasSecret });
    expect((await exportRun(pipeline, artifact)).properties.provisioningState).toBe('Succeeded');
  });
});

// ---------- ACR manifest list ----------

describe('ACR /acr/v1/{repo}/_manifests', () => {
  const front = `https://${src.loginServer}`;

  async function acrToken(scope: string): Promise<string> {
    const aad = await credential(env).getToken('https://management.azure.com/.default');
    const form = (fields: Record<string, string>): URLSearchParams => new URLSearchParams(fields);
    const ex = await fetch(`${front}/oauth2/exchange`, {
      method: 'POST',
      body: form({ grant_type: 'access_token', service: src.loginServer, tenant: env.tenantId, access_token: aad.token }),
    });
    const { refresh_token } = (await ex.json()) as { refresh_token: string };
    const tok = await fetch(`${front}/oauth2/token`, {
      method: 'POST',
      body: form({ grant_type: 'refresh_token', service: src.loginServer, scope, refresh_token }),
    });
    return ((await tok.json()) as { access_token: string }).access_token;
  }

  it('lists an untagged manifest after its tag moved, pages with a Link header, and DELETE removes it', async () => {
    const repo = `access${u}/purge`;
    const old = await pushManifest(src.backendUrl, repo, ['v1'], 'old');
    const current = await pushManifest(src.backendUrl, repo, ['v1'], 'new');
    const other = await pushManifest(src.backendUrl, repo, ['v2'], 'other');

    const noScope = await fetch(`${front}/acr/v1/${repo}/_manifests`, { headers: { authorization: `Bearer ${await acrToken(`repository:${repo}:pull`)}` } });
    expect(noScope.status).toBe(401);
    expect(noScope.headers.get('www-authenticate')).toContain(`scope="repository:${repo}:metadata_read"`);

    const read = { authorization: `Bearer ${await acrToken(`repository:${repo}:metadata_read`)}` };
    const all = await fetch(`${front}/acr/v1/${repo}/_manifests`, { headers: read });
    expect(all.status).toBe(200);
    const body = (await all.json()) as ManifestList;
    expect({ registry: body.registry, imageName: body.imageName }).toEqual({ registry: src.loginServer, imageName: repo });
    const byDigest = new Map(body.manifests.map((m) => [m.digest, m]));
    expect(body.manifests.map((m) => m.digest)).toEqual([old, current, other].sort());
    expect(byDigest.get(old)?.tags).toBeUndefined();
    expect(byDigest.get(current)?.tags).toEqual(['v1']);
    expect(byDigest.get(other)).toMatchObject({ tags: ['v2'], mediaType: OCI_MANIFEST });
    expect(byDigest.get(old)?.imageSize).toBeGreaterThan(0);

    const first = await fetch(`${front}/acr/v1/${repo}/_manifests?n=2`, { headers: read });
    const link = first.headers.get('link') ?? '';
    expect(((await first.json()) as ManifestList).manifests).toHaveLength(2);
    const next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
    expect(next).toBeDefined();
    const second = await fetch(`${front}${next}`, { headers: read });
    expect(((await second.json()) as ManifestList).manifests.map((m) => m.digest)).toEqual([[old, current, other].sort()[2]]);
    expect(second.headers.get('link')).toBeNull();

    // The manifest GET a check inspects carries its descriptors through the proxy.
    const pull = { authorization: `Bearer ${await acrToken(`repository:${repo}:pull,delete`)}`, accept: OCI_MANIFEST };
    const got = await fetch(`${front}/v2/${repo}/manifests/${old}`, { headers: pull });
    expect(((await got.json()) as { config: { digest: string } }).config.digest).toMatch(/^sha256:/);

    const onlyPull = { authorization: `Bearer ${await acrToken(`repository:${repo}:pull`)}` };
    expect((await fetch(`${front}/v2/${repo}/manifests/${old}`, { method: 'DELETE', headers: onlyPull })).status).toBe(401);
    expect((await fetch(`${front}/v2/${repo}/manifests/${old}`, { method: 'DELETE', headers: pull })).status).toBe(202);
    const after = (await (await fetch(`${front}/acr/v1/${repo}/_manifests`, { headers: read })).json()) as ManifestList;
    expect(after.manifests.map((m) => m.digest)).toEqual([current, other].sort());
    expect((await fetch(`${front}/v2/${repo}/manifests/${old}`, { headers: pull })).status).toBe(404);

    const missing = await fetch(`${front}/acr/v1/access${u}/nothing/_manifests`, {
      headers: { authorization: `Bearer ${await acrToken(`repository:access${u}/nothing:metadata_read`)}` },
    });
    expect(missing.status).toBe(404);
  });
});
