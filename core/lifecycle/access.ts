/**
 * Whether a pipeline's identity can reach what its runs read: the SAS secret in Key Vault (sas-token mode) or the blob
 * container (managed-identity mode). Finds the vault or storage account from ARM lists (vaultUri / primaryEndpoints.blob),
 * reads the grants (access policies or role assignments), grants what is missing (setup), and probes whether a grant
 * works yet: new permissions take minutes (https://learn.microsoft.com/azure/container-registry/container-registry-faq).
 */
import { errorMessage } from '../errors';
import type { PipelineKind, PipelineResource, StorageAccountInfo, VaultInfo } from '../ports';
import type { ChangeItem } from '../report';
import type { PipelineIdentity, RegistryRef } from '../settings';
import { type OpContext, oneLine } from '../operation';
import { sameUri, withoutTrailingSlash } from '../domain/urls';

/** Built-in role ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
export const ROLES = {
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  'Key Vault Administrator': '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
} as const;
export type RoleName = keyof typeof ROLES;

/** What one pipeline's runs need to reach, and as whom. */
export interface AccessNeed {
  readonly kind: PipelineKind;
  readonly registry: RegistryRef;
  readonly mode: 'sas-token' | 'managed-identity';
  /** Key Vault secret URI (sas-token) or blob container URL (managed-identity). */
  readonly target: string;
  /** import with DeleteSourceBlobOnSuccess deletes blobs: Reader is not enough. */
  readonly writes: boolean;
}

/** The ARM resource that decides access, once found. */
export type AccessResource =
  | { readonly type: 'vault'; readonly vault: VaultInfo; readonly scope: string }
  | { readonly type: 'storage'; readonly account: StorageAccountInfo; readonly scope: string };

export interface GrantState {
  readonly granted: boolean;
  /** e.g. "access policy with secret permissions get, list" or "Storage Blob Data Reader at …/containers/x". */
  readonly how: string;
}

/** The principal (object) id of the pipeline's identity: the system-assigned one, or the user-assigned one it names. */
export function principalOf(p: PipelineResource, want: PipelineIdentity): string | undefined {
  if (want.type === 'user') {
    const hit = Object.entries(p.identity?.userAssignedIdentities ?? {}).find(([id]) => sameUri(id, want.resourceId));
    return hit?.[1].principalId ?? undefined;
  }
  return p.identity?.principalId ?? undefined;
}

/** Subscription id from a resource id (`/subscriptions/{s}/…`). */
export function subscriptionOf(id: string): string | undefined {
  return /^\/subscriptions\/([^/]+)/i.exec(id)?.[1];
}

const roleId = (subscription: string, role: RoleName): string =>
  `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${ROLES[role]}`;
const guidOf = (roleDefinitionId: string): string => (roleDefinitionId.split('/').pop() ?? '').toLowerCase();
const hostOf = (url: string): string => {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return '';
  }
};

/** Looks resources up once per operation: the lists are per subscription and do not change while it runs. */
export class AccessLookup {
  private readonly vaults = new Map<string, Promise<VaultInfo[]>>();
  private readonly accounts = new Map<string, Promise<StorageAccountInfo[]>>();

  constructor(private readonly ctx: OpContext) {}

  /** The subscriptions to look in: the registry's, then subscription-id. */
  private subscriptions(reg: RegistryRef): string[] {
    const subs = [reg.subscriptionId, ...[this.ctx.settings.source, this.ctx.settings.target].map((r) => r?.subscriptionId)];
    return [...new Set(subs.filter((s): s is string => !!s).map((s) => s.toLowerCase()))];
  }

  /** The vault holding the secret (matched on properties.vaultUri's host), or undefined when no listed subscription has it. */
  async vaultFor(need: AccessNeed): Promise<AccessResource | undefined> {
    const host = hostOf(need.target);
    for (const sub of this.subscriptions(need.registry)) {
      let list = this.vaults.get(sub);
      if (!list) {
        list = this.ctx.services.access.listVaults(sub);
        this.vaults.set(sub, list);
      }
      const vault = (await list).find((v) => hostOf(v.vaultUri) === host);
      if (vault) return { type: 'vault', vault, scope: vault.id };
    }
    return undefined;
  }

  /** The storage account holding the container (matched on properties.primaryEndpoints.blob), or undefined. */
  async accountFor(need: AccessNeed): Promise<AccessResource | undefined> {
    const container = withoutTrailingSlash(need.target).toLowerCase();
    for (const sub of this.subscriptions(need.registry)) {
      let list = this.accounts.get(sub);
      if (!list) {
        list = this.ctx.services.access.listStorageAccounts(sub);
        this.accounts.set(sub, list);
      }
      const account = (await list).find((a) => a.blobEndpoint !== '' && container.startsWith(`${withoutTrailingSlash(a.blobEndpoint)}/`.toLowerCase()));
      if (account) return { type: 'storage', account, scope: account.id };
    }
    return undefined;
  }

  resourceFor(need: AccessNeed): Promise<AccessResource | undefined> {
    return need.mode === 'sas-token' ? this.vaultFor(need) : this.accountFor(need);
  }
}

/** Which roles would do, and the one setup grants. */
export function rolesFor(need: AccessNeed, resource: AccessResource): { readonly grant: RoleName; readonly enough: readonly RoleName[] } {
  if (resource.type === 'vault')
    return { grant: 'Key Vault Secrets User', enough: ['Key Vault Secrets User', 'Key Vault Secrets Officer', 'Key Vault Administrator'] };
  if (need.writes) return { grant: 'Storage Blob Data Contributor', enough: ['Storage Blob Data Contributor', 'Storage Blob Data Owner'] };
  return { grant: 'Storage Blob Data Reader', enough: ['Storage Blob Data Reader', 'Storage Blob Data Contributor', 'Storage Blob Data Owner'] };
}

/** The narrowest scope the runs use: the secret, or the container; a grant at it or above it counts. */
function usedScope(need: AccessNeed, resource: AccessResource): string {
  if (resource.type === 'vault') {
    const name = new URL(need.target).pathname.split('/').filter(Boolean)[1] ?? '';
    return `${resource.vault.id}/secrets/${name}`;
  }
  const container = withoutTrailingSlash(need.target).split('/').pop() ?? '';
  return `${resource.account.id}/blobServices/default/containers/${container}`;
}

const covers = (grantScope: string, used: string): boolean => {
  const g = withoutTrailingSlash(grantScope).toLowerCase();
  const u = used.toLowerCase();
  return g === '' || g === '/' || u === g || u.startsWith(`${g}/`);
};

/** Whether ARM shows a grant for the principal (access policy with secret get, or one of the roles at or above the used scope). */
export async function grantState(ctx: OpContext, need: AccessNeed, resource: AccessResource, principalId: string): Promise<GrantState> {
  if (resource.type === 'vault' && !resource.vault.enableRbacAuthorization) {
    const policy = resource.vault.accessPolicies.find((p) => p.objectId.toLowerCase() === principalId.toLowerCase());
    const ok = policy !== undefined && (policy.secrets.includes('get') || policy.secrets.includes('all'));
    return {
      granted: ok,
      how: policy ? `access policy with secret permissions ${policy.secrets.join(', ') || '(none)'}` : `no access policy for ${principalId}`,
    };
  }
  const { enough } = rolesFor(need, resource);
  const wanted = new Set<string>(enough.map((r) => ROLES[r]));
  const used = usedScope(need, resource);
  const assignments = await ctx.services.access.listRoleAssignments(resource.scope, principalId);
  const hit = assignments.find((a) => wanted.has(guidOf(a.roleDefinitionId)) && covers(a.scope || resource.scope, used));
  if (!hit) return { granted: false, how: `no ${enough.join(' / ')} role assignment for ${principalId} covering ${used}` };
  const name = (Object.keys(ROLES) as RoleName[]).find((r) => ROLES[r] === guidOf(hit.roleDefinitionId)) ?? hit.roleDefinitionId;
  return { granted: true, how: `${name} at ${hit.scope || resource.scope}` };
}

/** Grants the principal what its runs need (setup with grant-access); `dryRun` only says what it would do. */
export async function grant(ctx: OpContext, need: AccessNeed, resource: AccessResource, principalId: string, dryRun: boolean): Promise<ChangeItem> {
  const state = await grantState(ctx, need, resource, principalId);
  const useRbac = resource.type === 'storage' || resource.vault.enableRbacAuthorization;
  const where = resource.type === 'vault' ? `Key Vault '${resource.vault.name}'` : `storage account '${resource.account.name}'`;
  const kind: ChangeItem['kind'] = useRbac ? 'role-assignment' : 'access-policy';
  const role = rolesFor(need, resource).grant;
  const name = useRbac ? `${role} for ${need.kind} pipeline identity ${principalId}` : `secret get for ${need.kind} pipeline identity ${principalId}`;
  if (state.granted) return { kind, name, scope: where, action: 'grant', status: 'unchanged', detail: `already granted: ${state.how}` };
  if (dryRun) return { kind, name, scope: where, action: 'grant', status: 'planned' };
  try {
    if (useRbac) {
      const sub = subscriptionOf(resource.scope) ?? need.registry.subscriptionId;
      const r = await ctx.services.access.createRoleAssignment(resource.scope, roleId(sub, role), principalId);
      return { kind, name, scope: where, action: 'grant', status: r === 'exists' ? 'unchanged' : 'done', detail: `${role} at ${resource.scope}` };
    }
    const vault = (resource as Extract<AccessResource, { type: 'vault' }>).vault;
    await ctx.services.access.addVaultAccessPolicy(vault.id, { tenantId: vault.tenantId, objectId: principalId, secrets: ['get'] });
    return { kind, name, scope: where, action: 'grant', status: 'done', detail: 'access policy: secrets get' };
  } catch (e) {
    return { kind, name, scope: where, action: 'grant', status: 'failed', error: oneLine(errorMessage(e)) };
  }
}

/** The az command that grants by hand what setup grants, for a check's fix. */
export function grantCommand(need: AccessNeed, resource: AccessResource | undefined, principalId: string | undefined): string {
  const who = principalId ?? '<pipeline identity principal id>';
  if (need.mode === 'sas-token') {
    if (resource?.type === 'vault' && !resource.vault.enableRbacAuthorization)
      return `az keyvault set-policy --name ${resource.vault.name} --object-id ${who} --secret-permissions get`;
    const scope = resource?.scope ?? '<vault resource id>';
    return `az role assignment create --role "Key Vault Secrets User" --assignee-object-id ${who} --assignee-principal-type ServicePrincipal --scope ${scope}`;
  }
  const role = need.writes ? 'Storage Blob Data Contributor' : 'Storage Blob Data Reader';
  return `az role assignment create --role "${role}" --assignee-object-id ${who} --assignee-principal-type ServicePrincipal --scope ${resource?.scope ?? '<storage account resource id>'}`;
}
