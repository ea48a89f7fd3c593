/** The AccessApi port over ARM REST: who may reach the vault and the storage (Microsoft.KeyVault, Microsoft.Storage, Microsoft.Authorization). */
import { createHash } from 'node:crypto';
import { AzureRequestError } from '../../errors';
import type { AccessApi, RoleAssignmentInfo, StorageAccountInfo, VaultAccessPolicy, VaultInfo } from '../../ports';
import { type AccessTarget, describe, errorOf, responseError } from './errors';
import type { RoleAssignmentResource, StorageAccountResource, VaultResource } from './models';
import type { ArmTransport } from './transport';

/** Key Vault Secrets User, Storage Blob Data Contributor / Reader: the data roles setup grants (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
export const ACCESS_API_VERSIONS = { keyVault: '2023-07-01', storage: '2023-05-01', authorization: '2022-04-01' } as const;

export interface AccessClientOptions {
  /** Registers secrets (storage account keys) with the host's log masking. */
  readonly mask?: (secret: string) => void;
}

export class ArmAccessClient implements AccessApi {
  constructor(
    private readonly http: ArmTransport,
    private readonly o: AccessClientOptions = {},
  ) {}

  async listVaults(subscriptionId: string): Promise<VaultInfo[]> {
    const vaults = await this.listOfSubscription<VaultResource>(subscriptionId, 'Key Vaults', 'Microsoft.KeyVault/vaults', ACCESS_API_VERSIONS.keyVault);
    return vaults.map((v) => ({
      id: v.id ?? '',
      name: v.name ?? '',
      vaultUri: v.properties?.vaultUri ?? '',
      tenantId: v.properties?.tenantId ?? '',
      enableRbacAuthorization: v.properties?.enableRbacAuthorization === true,
      accessPolicies: (v.properties?.accessPolicies ?? []).map((p) => ({
        tenantId: p.tenantId ?? '',
        objectId: p.objectId ?? '',
        secrets: (p.permissions?.secrets ?? []).map((x) => x.toLowerCase()),
      })),
    }));
  }

  async addVaultAccessPolicy(vaultId: string, policy: VaultAccessPolicy): Promise<void> {
    const t: AccessTarget = { method: 'PUT', resource: `access policy of '${policy.objectId}' on Key Vault '${lastSegment(vaultId)}'`, area: 'access' };
    const body = { properties: { accessPolicies: [{ tenantId: policy.tenantId, objectId: policy.objectId, permissions: { secrets: policy.secrets } }] } };
    const res = await this.http.send('PUT', this.http.url(`${vaultId}/accessPolicies/add`, ACCESS_API_VERSIONS.keyVault), body, t);
    if (res.status !== 200 && res.status !== 201) throw responseError(res, t);
  }

  async listStorageAccounts(subscriptionId: string): Promise<StorageAccountInfo[]> {
    const accounts = await this.listOfSubscription<StorageAccountResource>(
      subscriptionId,
      'storage accounts',
      'Microsoft.Storage/storageAccounts',
      ACCESS_API_VERSIONS.storage,
    );
    return accounts.map((a) => ({ id: a.id ?? '', name: a.name ?? '', blobEndpoint: a.properties?.primaryEndpoints?.blob ?? '' }));
  }

  async storageAccountKey(accountId: string): Promise<string> {
    const t: AccessTarget = { method: 'POST', resource: `keys of storage account '${lastSegment(accountId)}'`, area: 'access' };
    const res = await this.http.send('POST', this.http.url(`${accountId}/listKeys`, ACCESS_API_VERSIONS.storage), undefined, t);
    if (res.status !== 200) throw responseError(res, t);
    const key = (res.body as { keys?: { value?: string }[] } | undefined)?.keys?.find((k) => k.value)?.value;
    if (!key) throw new AzureRequestError(describe(t), 200, 'NoKeys', 'the answer holds no key (is shared key access disabled on the account?)');
    this.o.mask?.(key);
    return key;
  }

  async listRoleAssignments(scope: string, principalId: string): Promise<RoleAssignmentInfo[]> {
    const t: AccessTarget = { method: 'GET', resource: `role assignments of '${principalId}' at ${scope}`, area: 'access' };
    const filter = `&$filter=${encodeURIComponent(`principalId eq '${principalId}'`)}`;
    const url = `${this.http.url(`${scope}/providers/Microsoft.Authorization/roleAssignments`, ACCESS_API_VERSIONS.authorization)}${filter}`;
    return (await this.http.listAll<RoleAssignmentResource>(url, t)).map((r) => ({
      id: r.id ?? '',
      scope: r.properties?.scope ?? '',
      roleDefinitionId: r.properties?.roleDefinitionId ?? '',
      principalId: r.properties?.principalId ?? '',
    }));
  }

  async createRoleAssignment(scope: string, roleDefinitionId: string, principalId: string): Promise<'created' | 'exists'> {
    const t: AccessTarget = {
      method: 'PUT',
      resource: `role assignment of '${lastSegment(roleDefinitionId)}' to '${principalId}' at ${scope}`,
      area: 'access',
    };
    // A name derived from scope, role and principal: a re-run asks for the same assignment and gets 409 RoleAssignmentExists.
    const name = derivedGuid(`${scope.toLowerCase()}|${roleDefinitionId.toLowerCase()}|${principalId.toLowerCase()}`);
    const body = { properties: { roleDefinitionId, principalId, principalType: 'ServicePrincipal' } };
    const url = this.http.url(`${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`, ACCESS_API_VERSIONS.authorization);
    const res = await this.http.send('PUT', url, body, t);
    if (res.status === 409 && errorOf(res.body, res.text).code.toLowerCase() === 'roleassignmentexists') return 'exists';
    if (res.status !== 200 && res.status !== 201) throw responseError(res, t);
    return 'created';
  }

  /** Every resource of a type in a subscription, e.g. `Key Vaults` at `Microsoft.KeyVault/vaults`. */
  private async listOfSubscription<T>(subscriptionId: string, what: string, type: string, apiVersion: string): Promise<T[]> {
    const t: AccessTarget = { method: 'GET', resource: `${what} of subscription '${subscriptionId}'`, area: 'access' };
    return this.http.listAll<T>(this.http.url(`/subscriptions/${subscriptionId}/providers/${type}`, apiVersion), t);
  }
}

function lastSegment(id: string): string {
  return id.split('/').filter(Boolean).pop() ?? id;
}

/** A stable GUID from text (sha256, shaped as a version-5-style GUID): role assignment names must be GUIDs. */
export function derivedGuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
