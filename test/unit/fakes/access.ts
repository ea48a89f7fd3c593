import { AzureRequestError } from '../../../core/errors';
import type { AccessApi, RoleAssignmentInfo, StorageAccountInfo, VaultAccessPolicy, VaultInfo } from '../../../core/ports';
import type { FakeClock } from './clock';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A grant as ARM records it, and when it starts to work (new permissions take minutes). */
interface Grant {
  readonly principalId: string;
  /** vault id (policy), or the role assignment's scope. */
  readonly scope: string;
  readonly roleGuid?: string;
  readonly effectiveAt: number;
}

/**
 * ARM for Key Vaults, storage accounts and role assignments, in memory. Grants take `grantDelayMs` of virtual time to
 * work; `canRead` answers what the transfer service would see.
 */
export class FakeAccess implements AccessApi {
  readonly vaults: Mutable<VaultInfo>[] = [];
  readonly accounts: StorageAccountInfo[] = [];
  readonly assignments: RoleAssignmentInfo[] = [];
  readonly grants: Grant[] = [];
  readonly calls: string[] = [];
  grantDelayMs = 0;
  /** Subscriptions whose lists answer 403. */
  readonly forbidden = new Set<string>();

  constructor(private readonly clock: FakeClock) {}

  addVault(sub: string, name: string, o: { rbac?: boolean } = {}): Mutable<VaultInfo> {
    const v: Mutable<VaultInfo> = {
      id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/${name}`,
      name,
      vaultUri: `https://${name}.vault.azure.net/`,
      tenantId: 'tenant-1',
      enableRbacAuthorization: o.rbac ?? false,
      accessPolicies: [],
    };
    this.vaults.push(v);
    return v;
  }

  addAccount(sub: string, name: string): StorageAccountInfo {
    const a = {
      id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/${name}`,
      name,
      blobEndpoint: `https://${name}.blob.core.windows.net/`,
    };
    this.accounts.push(a);
    return a;
  }

  /** Whether `principalId` can read from `scope` (a vault id or account id) now: a grant there that is in effect. */
  canRead(principalId: string, scope: string): boolean {
    return this.grants.some((g) => g.principalId === principalId && scope.toLowerCase().startsWith(g.scope.toLowerCase()) && g.effectiveAt <= this.clock.now());
  }

  listVaults(subscriptionId: string): Promise<VaultInfo[]> {
    this.calls.push(`listVaults ${subscriptionId}`);
    if (this.forbidden.has(subscriptionId)) return Promise.reject(new AzureRequestError('GET vaults', 403, 'AuthorizationFailed', 'no'));
    return Promise.resolve(
      this.vaults.filter((v) => v.id.startsWith(`/subscriptions/${subscriptionId}/`)).map((v) => ({ ...v, accessPolicies: [...v.accessPolicies] })),
    );
  }

  addVaultAccessPolicy(vaultId: string, policy: VaultAccessPolicy): Promise<void> {
    this.calls.push(`addVaultAccessPolicy ${vaultId} ${policy.objectId} ${policy.secrets.join(',')}`);
    const v = this.vaults.find((x) => x.id === vaultId)!;
    v.accessPolicies = [...v.accessPolicies.filter((p) => p.objectId !== policy.objectId), policy];
    this.grants.push({ principalId: policy.objectId, scope: vaultId, effectiveAt: this.clock.now() + this.grantDelayMs });
    return Promise.resolve();
  }

  listStorageAccounts(subscriptionId: string): Promise<StorageAccountInfo[]> {
    this.calls.push(`listStorageAccounts ${subscriptionId}`);
    return Promise.resolve(this.accounts.filter((a) => a.id.startsWith(`/subscriptions/${subscriptionId}/`)));
  }

  storageAccountKey(accountId: string): Promise<string> {
    this.calls.push(`storageAccountKey ${accountId}`);
    return Promise.resolve('fakeaccountkey==');
  }

  listRoleAssignments(scope: string, principalId: string): Promise<RoleAssignmentInfo[]> {
    this.calls.push(`listRoleAssignments ${scope} ${principalId}`);
    return Promise.resolve(
      this.assignments.filter(
        (a) =>
          a.principalId === principalId && (scope.toLowerCase().startsWith(a.scope.toLowerCase()) || a.scope.toLowerCase().startsWith(scope.toLowerCase())),
      ),
    );
  }

  createRoleAssignment(scope: string, roleDefinitionId: string, principalId: string): Promise<'created' | 'exists'> {
    this.calls.push(`createRoleAssignment ${scope} ${roleDefinitionId.split('/').pop()} ${principalId}`);
    if (this.assignments.some((a) => a.scope === scope && a.roleDefinitionId === roleDefinitionId && a.principalId === principalId))
      return Promise.resolve('exists');
    this.assignments.push({
      id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${this.assignments.length + 1}`,
      scope,
      roleDefinitionId,
      principalId,
    });
    this.grants.push({ principalId, scope, roleGuid: roleDefinitionId.split('/').pop()!, effectiveAt: this.clock.now() + this.grantDelayMs });
    return Promise.resolve('created');
  }
}
