/**
 * The AccessChecker the transfer service consults when the `enforceAccess` knob is on (`emu.access`): may a pipeline's
 * identity read its secret (the vault's access policies, or its RBAC role assignments) and its storage (blob data
 * roles)? A grant takes effect `grantDelayMs` after it was made (the ACR FAQ: new permissions can take minutes).
 */
import type { AccessChecker, AccessDenial, Emulator } from '../context';
import { covers, type LocalResources, lower } from './local-resources';
import type { RoleAssignments } from './role-assignments';
import { BLOB_READERS, BLOB_WRITERS, SECRET_READERS } from './roles';
import type { VaultState } from './vaults';

const KV_FORBIDDEN_HELP = 'For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287';
const GET_SECRET_ACTION = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';

export class AccessChecks implements AccessChecker {
  constructor(
    private readonly emu: Emulator,
    private readonly resources: LocalResources,
    private readonly vaultState: VaultState,
    private readonly assignments: RoleAssignments,
  ) {}

  get vault(): { name: string; uri: string } {
    return this.resources.vault;
  }

  private effective(grantedMs: number): boolean {
    return grantedMs + this.emu.knobs.grantDelayMs <= Date.now();
  }

  private hasRole(principalIds: readonly string[], roles: ReadonlySet<string>, resourceId: string): boolean {
    const ids = new Set(principalIds.map(lower));
    return this.assignments
      .all()
      .some((a) => ids.has(lower(a.principalId)) && roles.has(a.roleId) && covers(a.scope, resourceId) && this.effective(a.createdMs));
  }

  secretGetDenial(principalIds: readonly string[]): AccessDenial | undefined {
    const who = `oid=${principalIds[0] ?? '(no identity)'}`;
    const vaultTag = `${this.vault.name};location=${this.emu.config.location}`;
    if (this.vaultState.rbac) {
      if (this.hasRole(principalIds, SECRET_READERS, this.resources.vaultId)) return undefined;
      // Key Vault's lines are CRLF-separated; a run error message is one line, so they are joined with spaces here.
      const message = [
        'Caller is not authorized to perform action on resource.',
        'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
        `Caller: ${who}`,
        `Action: '${GET_SECRET_ACTION}'`,
        `Resource: '${lower(this.resources.vaultId)}'`,
        'Assignment: (not found)',
        'DenyAssignmentId: null',
        'DecisionReason: null',
        `Vault: ${vaultTag}`,
      ].join(' ');
      return { status: 403, code: 'Forbidden', innerCode: 'ForbiddenByRbac', message };
    }
    const ids = new Set(principalIds.map(lower));
    const allowed = this.vaultState.policies.some((p) => {
      if (!ids.has(lower(p.objectId))) return false;
      return ['get', 'all'].some((perm) => {
        const at = p.grantedAt.get(`secrets:${perm}`);
        return at !== undefined && this.effective(at);
      });
    });
    if (allowed) return undefined;
    return {
      status: 403,
      code: 'Forbidden',
      innerCode: 'AccessDenied',
      message: `The user, group or application '${who}' does not have secrets get permission on key vault '${vaultTag}'. ${KV_FORBIDDEN_HELP}`,
    };
  }

  blobDenial(principalIds: readonly string[], account: string, container: string, write: boolean): AccessDenial | undefined {
    const resourceId = `${this.resources.storageId(this.resources.storageAccount(account)?.account ?? account)}/blobServices/default/containers/${container}`;
    if (this.hasRole(principalIds, write ? BLOB_WRITERS : BLOB_READERS, resourceId)) return undefined;
    return {
      status: 403,
      code: 'AuthorizationPermissionMismatch',
      message: 'This request is not authorized to perform this operation using this permission.',
      role: write ? 'Storage Blob Data Contributor' : 'Storage Blob Data Reader',
    };
  }
}
