/**
 * The ARM resources around transfer pipelines that the lifecycle operations (setup / check / cleanup) manage, in real Azure REST shapes:
 * - the Key Vault as a resource (`Microsoft.KeyVault/vaults`, one vault whose vaultUri is env.keyVaultUrl), with
 *   `accessPolicies/{add|replace|remove}`;
 * - the two storage accounts (`Microsoft.Storage/storageAccounts`) with `listKeys` (the real Azurite key);
 * - role assignments and the built-in role definitions (`Microsoft.Authorization`) at subscription, resource group,
 *   vault, storage account (or container) and registry scope;
 * - the AccessChecker the transfer service consults when the `enforceAccess` knob is on (`emu.access`).
 * Control: GET/PATCH /_control/keyvault `{enableRbacAuthorization?}`, POST /_control/keyvault/reset.
 *
 * Choices where Azure is not documented or not worth modelling:
 * - Any api-version of the form 20xx-xx-xx[-preview] is accepted for these types.
 * - Principals are not looked up in a directory: any GUID may be granted (pipeline identities are the emulator's own).
 * - A grant takes effect `grantDelayMs` after it was made (the ACR FAQ: new permissions can take minutes); a removal at once.
 * - An identical PUT of an existing role assignment (same name, scope, role, principal) answers 201 again (what ARM
 *   deployments rely on); the same trio under another name is 409 RoleAssignmentExists naming the existing one.
 * - `accessPolicies/*` answer with the policies of the request, as the real operation does; GET the vault for the result.
 * - listKeys returns key1 only: Azurite is started with one key per account.
 */
import type { ServerResponse } from 'node:http';
import type { StorageEnv } from '../../config';
import { type AccessChecker, type AccessDenial, type Emulator, isObject, type Json } from '../context';
import { servicePrincipalObjectId } from '../entra';
import { correlationHeaders, HttpError, readJson, sendJson } from '../http';
import type { Request, Router } from '../router';
import type { Claims } from '../jwt';
import { authenticate, checkScope, checkSubscription, fail, RESOURCE_NOT_FOUND_HELP } from './routes';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const API_VERSION = /^20\d{2}-\d{2}-\d{2}(-preview)?$/;
const KV_FORBIDDEN_HELP = 'For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287';
const GET_SECRET_ACTION = 'Microsoft.KeyVault/vaults/secrets/getSecret/action';

// ---- built-in roles (ids are fixed across Azure; names as `az role definition list` shows them)

export const ROLE = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
  keyVaultAdministrator: '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultReader: '21090545-7ca7-4776-b22c-e363652d74d2',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a',
  storageAccountContributor: '17d1049b-9a84-46fb-8f53-869881c3d3ab',
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
  acrDelete: 'c2f4ef07-c644-48eb-af81-4b1b4947fb11',
  // Learn's ACR built-in roles directory; the id as published in public Bicep role tables.
  containerRegistryTransferPipelineContributor: 'bf94e731-3a51-4a7c-8c54-a1ab9971dfc1',
} as const;

interface RoleDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly actions: readonly string[];
  readonly dataActions: readonly string[];
}

const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  { id: ROLE.owner, name: 'Owner', description: 'Full access to manage all resources, including assigning roles.', actions: ['*'], dataActions: [] },
  {
    id: ROLE.contributor,
    name: 'Contributor',
    description: 'Full access to manage all resources, without assigning roles.',
    actions: ['*'],
    dataActions: [],
  },
  { id: ROLE.reader, name: 'Reader', description: 'View all resources, without making changes.', actions: ['*/read'], dataActions: [] },
  {
    id: ROLE.userAccessAdministrator,
    name: 'User Access Administrator',
    description: 'Manage user access to Azure resources.',
    actions: ['*/read', 'Microsoft.Authorization/*'],
    dataActions: [],
  },
  {
    id: ROLE.keyVaultAdministrator,
    name: 'Key Vault Administrator',
    description: 'All data plane operations on a key vault and its objects.',
    actions: ['Microsoft.KeyVault/vaults/*/read'],
    dataActions: ['Microsoft.KeyVault/vaults/*'],
  },
  {
    id: ROLE.keyVaultSecretsOfficer,
    name: 'Key Vault Secrets Officer',
    description: 'Any action on the secrets of a key vault.',
    actions: ['Microsoft.KeyVault/vaults/*/read'],
    dataActions: ['Microsoft.KeyVault/vaults/secrets/*'],
  },
  {
    id: ROLE.keyVaultSecretsUser,
    name: 'Key Vault Secrets User',
    description: 'Read secret contents.',
    actions: [],
    dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'],
  },
  {
    id: ROLE.keyVaultReader,
    name: 'Key Vault Reader',
    description: 'Read metadata of key vaults and their objects, not secret contents.',
    actions: ['Microsoft.KeyVault/vaults/*/read'],
    dataActions: ['Microsoft.KeyVault/vaults/secrets/readMetadata/action'],
  },
  {
    id: ROLE.storageBlobDataOwner,
    name: 'Storage Blob Data Owner',
    description: 'Full access to blob containers and data, including POSIX access control.',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/*'],
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'],
  },
  {
    id: ROLE.storageBlobDataContributor,
    name: 'Storage Blob Data Contributor',
    description: 'Read, write and delete blob containers and blobs.',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/*'],
    dataActions: [
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action',
      'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action',
    ],
  },
  {
    id: ROLE.storageBlobDataReader,
    name: 'Storage Blob Data Reader',
    description: 'Read and list blob containers and blobs.',
    actions: [
      'Microsoft.Storage/storageAccounts/blobServices/containers/read',
      'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action',
    ],
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'],
  },
  {
    id: ROLE.storageBlobDelegator,
    name: 'Storage Blob Delegator',
    description: 'Get a user delegation key, to sign user delegation SAS tokens.',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action'],
    dataActions: [],
  },
  {
    id: ROLE.storageAccountContributor,
    name: 'Storage Account Contributor',
    description: 'Manage storage accounts, including their access keys.',
    actions: ['Microsoft.Storage/storageAccounts/*'],
    dataActions: [],
  },
  {
    id: ROLE.acrPull,
    name: 'AcrPull',
    description: 'Pull artifacts from a container registry.',
    actions: ['Microsoft.ContainerRegistry/registries/pull/read'],
    dataActions: [],
  },
  {
    id: ROLE.acrPush,
    name: 'AcrPush',
    description: 'Push artifacts to or pull artifacts from a container registry.',
    actions: ['Microsoft.ContainerRegistry/registries/pull/read', 'Microsoft.ContainerRegistry/registries/push/write'],
    dataActions: [],
  },
  {
    id: ROLE.acrDelete,
    name: 'AcrDelete',
    description: 'Delete repositories, tags or manifests from a container registry.',
    actions: ['Microsoft.ContainerRegistry/registries/artifacts/delete'],
    dataActions: [],
  },
  {
    id: ROLE.containerRegistryTransferPipelineContributor,
    name: 'Container Registry Transfer Pipeline Contributor',
    description: 'Manage transfer pipelines (export and import pipelines, pipeline runs); no data plane access.',
    actions: [
      'Microsoft.ContainerRegistry/registries/read',
      'Microsoft.ContainerRegistry/registries/exportPipelines/*',
      'Microsoft.ContainerRegistry/registries/importPipelines/*',
      'Microsoft.ContainerRegistry/registries/pipelineRuns/*',
    ],
    dataActions: [],
  },
];

/** Roles that let an identity read secret values (RBAC vaults). */
const SECRET_READERS: ReadonlySet<string> = new Set([ROLE.keyVaultSecretsUser, ROLE.keyVaultSecretsOfficer, ROLE.keyVaultAdministrator]);
/** Blob data roles: Owner and Contributor (control plane) grant no data access. */
const BLOB_READERS: ReadonlySet<string> = new Set([ROLE.storageBlobDataReader, ROLE.storageBlobDataContributor, ROLE.storageBlobDataOwner]);
const BLOB_WRITERS: ReadonlySet<string> = new Set([ROLE.storageBlobDataContributor, ROLE.storageBlobDataOwner]);

// ---- access policy permissions (Key Vault swagger, Permissions)

type Category = 'keys' | 'secrets' | 'certificates' | 'storage';
const CATEGORIES: readonly Category[] = ['keys', 'secrets', 'certificates', 'storage'];
const PERMISSIONS: Readonly<Record<Category, ReadonlySet<string>>> = {
  keys: new Set(
    'all encrypt decrypt wrapkey unwrapkey sign verify get list create update import delete backup restore recover purge release rotate getrotationpolicy setrotationpolicy'.split(
      ' ',
    ),
  ),
  secrets: new Set('all get list set delete backup restore recover purge'.split(' ')),
  certificates: new Set(
    'all get list delete create import update managecontacts getissuers listissuers setissuers deleteissuers manageissuers recover purge backup restore'.split(
      ' ',
    ),
  ),
  storage: new Set('all get list delete set update regeneratekey recover purge backup restore setsas listsas getsas deletesas'.split(' ')),
};

interface Policy {
  readonly tenantId: string;
  readonly objectId: string;
  readonly applicationId?: string;
  /** Permission names as given, per category. */
  readonly permissions: Record<Category, string[]>;
  /** `category:permission` (lower case) → when it was granted (ms), for grantDelayMs. */
  readonly grantedAt: Map<string, number>;
}

interface RoleAssignment {
  readonly name: string;
  readonly scope: string;
  readonly roleId: string;
  readonly principalId: string;
  readonly principalType: string;
  readonly description: string | null;
  readonly createdOn: string;
  readonly createdMs: number;
  readonly createdBy: string;
}

const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'];

const bad = (code: string, message: string, target?: string): HttpError => fail(400, code, message, target);
const lower = (s: string): string => s.toLowerCase();
/** A scope covers a resource when it is the resource or one of its ancestors. */
const covers = (scope: string, resourceId: string): boolean => lower(resourceId) === lower(scope) || lower(resourceId).startsWith(`${lower(scope)}/`);

class AccessState implements AccessChecker {
  rbac = false;
  policies: Policy[] = [];
  readonly assignments = new Map<string, RoleAssignment>();
  readonly createdAt = new Date().toISOString();

  constructor(private readonly emu: Emulator) {
    this.resetVault();
  }

  // ---- ids

  get sub(): string {
    return this.emu.config.subscriptionId;
  }

  get rgId(): string {
    return `/subscriptions/${this.sub}/resourceGroups/${this.emu.config.resourceGroup}`;
  }

  get vault(): { name: string; uri: string } {
    return { name: this.emu.config.keyVaultName, uri: `${this.emu.baseUrl}/` };
  }

  get vaultId(): string {
    return `${this.rgId}/providers/Microsoft.KeyVault/vaults/${this.vault.name}`;
  }

  storageAccounts(): StorageEnv[] {
    return [this.emu.config.storage.source, this.emu.config.storage.target];
  }

  storageAccount(name: string): StorageEnv | undefined {
    return this.storageAccounts().find((s) => lower(s.account) === lower(name));
  }

  storageId(account: string): string {
    return `${this.rgId}/providers/Microsoft.Storage/storageAccounts/${account}`;
  }

  roleDefinitionId(roleId: string): string {
    return `/subscriptions/${this.sub}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
  }

  /** The vault as its creator leaves it: access-policy model, one policy giving the service principal every secret permission. */
  resetVault(): void {
    this.rbac = false;
    const all = ['get', 'list', 'set', 'delete', 'recover', 'backup', 'restore', 'purge'];
    this.policies = [
      {
        tenantId: this.emu.config.tenantId,
        objectId: servicePrincipalObjectId(this.emu.config.clientId),
        permissions: { keys: [], secrets: all, certificates: [], storage: [] },
        grantedAt: new Map(all.map((p) => [`secrets:${p}`, 0])),
      },
    ];
  }

  // ---- rendering

  renderPolicy(p: Policy): Json {
    return {
      tenantId: p.tenantId,
      objectId: p.objectId,
      ...(p.applicationId ? { applicationId: p.applicationId } : {}),
      permissions: {
        keys: [...p.permissions.keys],
        secrets: [...p.permissions.secrets],
        certificates: [...p.permissions.certificates],
        ...(p.permissions.storage.length > 0 ? { storage: [...p.permissions.storage] } : {}),
      },
    };
  }

  vaultBody(): Json {
    return {
      id: this.vaultId,
      name: this.vault.name,
      type: 'Microsoft.KeyVault/vaults',
      location: this.emu.config.location,
      tags: {},
      systemData: { createdBy: this.emu.config.clientId, createdByType: 'Application', createdAt: this.createdAt },
      properties: {
        sku: { family: 'A', name: 'standard' },
        tenantId: this.emu.config.tenantId,
        accessPolicies: this.policies.map((p) => this.renderPolicy(p)),
        enabledForDeployment: false,
        enabledForDiskEncryption: false,
        enabledForTemplateDeployment: false,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enableRbacAuthorization: this.rbac,
        vaultUri: this.vault.uri,
        provisioningState: 'Succeeded',
        publicNetworkAccess: 'Enabled',
      },
    };
  }

  /** Only the blob endpoint: the local Azure runs Azurite's blob service alone. */
  storageBody(s: StorageEnv): Json {
    return {
      id: this.storageId(s.account),
      name: s.account,
      type: 'Microsoft.Storage/storageAccounts',
      location: this.emu.config.location,
      tags: {},
      kind: 'StorageV2',
      sku: { name: 'Standard_LRS', tier: 'Standard' },
      properties: {
        provisioningState: 'Succeeded',
        creationTime: this.createdAt,
        primaryLocation: this.emu.config.location,
        statusOfPrimary: 'available',
        primaryEndpoints: { blob: s.blobEndpoint },
        supportsHttpsTrafficOnly: true,
        allowSharedKeyAccess: true,
        allowBlobPublicAccess: false,
        minimumTlsVersion: 'TLS1_2',
        accessTier: 'Hot',
        publicNetworkAccess: 'Enabled',
        networkAcls: { bypass: 'AzureServices', defaultAction: 'Allow', ipRules: [], virtualNetworkRules: [] },
        encryption: { keySource: 'Microsoft.Storage', services: { blob: { enabled: true, keyType: 'Account' } } },
      },
    };
  }

  assignmentBody(a: RoleAssignment): Json {
    return {
      properties: {
        roleDefinitionId: this.roleDefinitionId(a.roleId),
        principalId: a.principalId,
        principalType: a.principalType,
        scope: a.scope,
        condition: null,
        conditionVersion: null,
        createdOn: a.createdOn,
        updatedOn: a.createdOn,
        createdBy: a.createdBy,
        updatedBy: a.createdBy,
        delegatedManagedIdentityResourceId: null,
        description: a.description,
      },
      id: `${a.scope}/providers/Microsoft.Authorization/roleAssignments/${a.name}`,
      type: 'Microsoft.Authorization/roleAssignments',
      name: a.name,
    };
  }

  roleDefinitionBody(r: RoleDefinition): Json {
    return {
      id: this.roleDefinitionId(r.id),
      name: r.id,
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: {
        roleName: r.name,
        type: 'BuiltInRole',
        description: r.description,
        assignableScopes: ['/'],
        permissions: [{ actions: [...r.actions], notActions: [], dataActions: [...r.dataActions], notDataActions: [] }],
      },
    };
  }

  // ---- AccessChecker

  private effective(grantedMs: number): boolean {
    return grantedMs + this.emu.knobs.grantDelayMs <= Date.now();
  }

  private hasRole(principalIds: readonly string[], roles: ReadonlySet<string>, resourceId: string): boolean {
    const ids = new Set(principalIds.map(lower));
    return [...this.assignments.values()].some(
      (a) => ids.has(lower(a.principalId)) && roles.has(a.roleId) && covers(a.scope, resourceId) && this.effective(a.createdMs),
    );
  }

  secretGetDenial(principalIds: readonly string[]): AccessDenial | undefined {
    const who = `oid=${principalIds[0] ?? '(no identity)'}`;
    const vaultTag = `${this.vault.name};location=${this.emu.config.location}`;
    if (this.rbac) {
      if (this.hasRole(principalIds, SECRET_READERS, this.vaultId)) return undefined;
      // Key Vault's lines are CRLF-separated; a run error message is one line, so they are joined with spaces here.
      const message = [
        'Caller is not authorized to perform action on resource.',
        'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
        `Caller: ${who}`,
        `Action: '${GET_SECRET_ACTION}'`,
        `Resource: '${lower(this.vaultId)}'`,
        'Assignment: (not found)',
        'DenyAssignmentId: null',
        'DecisionReason: null',
        `Vault: ${vaultTag}`,
      ].join(' ');
      return { status: 403, code: 'Forbidden', innerCode: 'ForbiddenByRbac', message };
    }
    const ids = new Set(principalIds.map(lower));
    const allowed = this.policies.some((p) => {
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
    const resourceId = `${this.storageId(this.storageAccount(account)?.account ?? account)}/blobServices/default/containers/${container}`;
    if (this.hasRole(principalIds, write ? BLOB_WRITERS : BLOB_READERS, resourceId)) return undefined;
    return {
      status: 403,
      code: 'AuthorizationPermissionMismatch',
      message: 'This request is not authorized to perform this operation using this permission.',
      role: write ? 'Storage Blob Data Contributor' : 'Storage Blob Data Reader',
    };
  }

  // ---- access policies

  /** `properties.accessPolicies` of an accessPolicies PUT, checked; names as given. */
  parsePolicies(body: unknown): Policy[] {
    const list = isObject(body) && isObject(body['properties']) ? body['properties']['accessPolicies'] : undefined;
    if (!Array.isArray(list) || list.length === 0)
      throw bad('BadRequest', 'properties.accessPolicies is required: a non-empty array of {tenantId, objectId, permissions}.', 'properties.accessPolicies');
    return list.map((raw, i) => {
      const at = `properties.accessPolicies[${i}]`;
      if (!isObject(raw)) throw bad('BadRequest', `${at} must be an object.`, at);
      const { tenantId, objectId, applicationId, permissions } = raw;
      if (typeof tenantId !== 'string' || !GUID.test(tenantId))
        throw bad('BadRequest', `${at}.tenantId must be a GUID, not '${String(tenantId)}'.`, `${at}.tenantId`);
      if (typeof objectId !== 'string' || !GUID.test(objectId))
        throw bad('BadRequest', `${at}.objectId must be a GUID, not '${String(objectId)}'.`, `${at}.objectId`);
      if (applicationId !== undefined && applicationId !== null && (typeof applicationId !== 'string' || !GUID.test(applicationId)))
        throw bad('BadRequest', `${at}.applicationId must be a GUID.`, `${at}.applicationId`);
      if (!isObject(permissions)) throw bad('BadRequest', `${at}.permissions is required.`, `${at}.permissions`);
      const out: Record<Category, string[]> = { keys: [], secrets: [], certificates: [], storage: [] };
      for (const c of CATEGORIES) {
        const v = permissions[c];
        if (v === undefined || v === null) continue;
        if (!Array.isArray(v)) throw bad('BadRequest', `${at}.permissions.${c} must be an array.`, `${at}.permissions.${c}`);
        v.forEach((perm, j) => {
          if (typeof perm !== 'string' || !PERMISSIONS[c].has(lower(perm)))
            throw bad('BadRequest', `Invalid value found at ${at}.permissions.${c}[${j}]: ${String(perm)}`, `${at}.permissions.${c}[${j}]`);
          if (!out[c].some((x) => lower(x) === lower(perm))) out[c].push(perm);
        });
      }
      return {
        tenantId,
        objectId,
        ...(typeof applicationId === 'string' ? { applicationId } : {}),
        permissions: out,
        grantedAt: new Map(),
      };
    });
  }

  private findPolicy(p: Policy): Policy | undefined {
    return this.policies.find(
      (x) =>
        lower(x.objectId) === lower(p.objectId) && lower(x.tenantId) === lower(p.tenantId) && lower(x.applicationId ?? '') === lower(p.applicationId ?? ''),
    );
  }

  /** add: union into the matching policy (or a new one); replace: its permissions become the given ones; remove: take them away. */
  applyPolicies(kind: 'add' | 'replace' | 'remove', input: readonly Policy[]): void {
    const now = Date.now();
    for (const p of input) {
      const existing = this.findPolicy(p);
      if (kind === 'remove') {
        if (!existing) continue;
        for (const c of CATEGORIES) {
          const gone = new Set(p.permissions[c].map(lower));
          existing.permissions[c] = existing.permissions[c].filter((x) => !gone.has(lower(x)));
          for (const g of gone) existing.grantedAt.delete(`${c}:${g}`);
        }
        if (CATEGORIES.every((c) => existing.permissions[c].length === 0)) this.policies = this.policies.filter((x) => x !== existing);
        continue;
      }
      const target = existing ?? { ...p, permissions: { keys: [], secrets: [], certificates: [], storage: [] }, grantedAt: new Map<string, number>() };
      if (!existing) this.policies.push(target);
      for (const c of CATEGORIES) {
        const next =
          kind === 'add'
            ? [...target.permissions[c], ...p.permissions[c].filter((x) => !target.permissions[c].some((y) => lower(y) === lower(x)))]
            : [...p.permissions[c]];
        const keep = new Set(next.map(lower));
        for (const key of [...target.grantedAt.keys()]) if (key.startsWith(`${c}:`) && !keep.has(key.slice(c.length + 1))) target.grantedAt.delete(key);
        // A permission already held keeps its grant time; a new one starts its propagation delay now.
        for (const perm of keep) if (!target.grantedAt.has(`${c}:${perm}`)) target.grantedAt.set(`${c}:${perm}`, now);
        target.permissions[c] = next;
      }
    }
  }

  // ---- role assignments

  /**
   * The canonical form of a role assignment scope: the subscription, the resource group, or one of the resources
   * the local Azure has (the vault, a storage account or one of its blob containers, a registry).
   */
  canonicalScope(raw: string): string {
    const parts = raw.split('/').filter(Boolean);
    const invalid = (): HttpError =>
      bad(
        'InvalidScope',
        `The scope '${raw}' is not valid: use a subscription, resource group or resource id (/subscriptions/{id}[/resourceGroups/{name}[/providers/…]]).`,
      );
    if (lower(parts[0] ?? '') !== 'subscriptions' || !parts[1]) throw invalid();
    checkSubscription(this.emu, parts[1]);
    if (parts.length === 2) return `/subscriptions/${this.sub}`;
    if (lower(parts[2] ?? '') !== 'resourcegroups' || !parts[3]) throw invalid();
    checkScope(this.emu, parts[1], parts[3]);
    if (parts.length === 4) return this.rgId;
    if (lower(parts[4] ?? '') !== 'providers' || parts.length < 8) throw invalid();
    const [ns = '', type = '', name = ''] = parts.slice(5, 8);
    const rest = parts.slice(8);
    const typePath = `${ns}/${type}`;
    const missing = (): HttpError =>
      fail(404, 'ResourceNotFound', `The Resource '${typePath}/${name}' under resource group '${parts[3]}' was not found. ${RESOURCE_NOT_FOUND_HELP}`);
    switch (lower(typePath)) {
      case 'microsoft.keyvault/vaults':
        if (lower(name) !== lower(this.vault.name)) throw missing();
        if (rest.length > 0) throw invalid();
        return this.vaultId;
      case 'microsoft.storage/storageaccounts': {
        const s = this.storageAccount(name);
        if (!s) throw missing();
        if (rest.length === 0) return this.storageId(s.account);
        if (rest.length === 4 && lower(rest[0] ?? '') === 'blobservices' && lower(rest[1] ?? '') === 'default' && lower(rest[2] ?? '') === 'containers')
          return `${this.storageId(s.account)}/blobServices/default/containers/${rest[3]}`;
        throw invalid();
      }
      case 'microsoft.containerregistry/registries': {
        const reg = [this.emu.config.registries.source, this.emu.config.registries.target].find((r) => lower(r.name) === lower(name));
        if (!reg) throw missing();
        if (rest.length > 0) throw invalid();
        return `${this.rgId}/providers/Microsoft.ContainerRegistry/registries/${reg.name}`;
      }
      default:
        throw missing();
    }
  }

  /** A role definition id in either form ARM accepts (subscription-scoped or tenant-level); returns the role GUID. */
  roleOf(id: unknown): string {
    const at = 'properties.roleDefinitionId';
    if (typeof id !== 'string' || id === '')
      throw bad('InvalidRequestContent', `${at} is required: /subscriptions/{id}/providers/Microsoft.Authorization/roleDefinitions/{guid}.`, at);
    const m = /^(?:\/subscriptions\/([^/]+))?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i.exec(id);
    if (!m) throw bad('InvalidRoleDefinitionId', `The role definition ID '${id}' is not valid.`, at);
    if (m[1] !== undefined && lower(m[1]) !== lower(this.sub))
      throw bad('InvalidRoleDefinitionId', `The role definition ID '${id}' names another subscription.`, at);
    const guid = lower(m[2] ?? '');
    if (!BUILT_IN_ROLES.some((r) => r.id === guid))
      throw bad('RoleDefinitionDoesNotExist', `The specified role definition with ID '${m[2] ?? ''}' does not exist.`, at);
    return guid;
  }

  putAssignment(scope: string, name: string, body: unknown, claims: Claims): RoleAssignment {
    if (!GUID.test(name)) throw bad('InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
    const props = isObject(body) && isObject(body['properties']) ? body['properties'] : undefined;
    if (!props)
      throw bad(
        'InvalidRequestContent',
        "The request content was invalid and could not be deserialized: 'Required property 'properties' is missing.'",
        'properties',
      );
    const roleId = this.roleOf(props['roleDefinitionId']);
    const principalId = props['principalId'];
    if (typeof principalId !== 'string' || !GUID.test(principalId))
      throw bad('InvalidPrincipalId', `The principal ID '${String(principalId ?? '')}' is not valid. Principal ID must be a GUID.`, 'properties.principalId');
    const principalType = props['principalType'] ?? 'ServicePrincipal';
    if (typeof principalType !== 'string' || !PRINCIPAL_TYPES.includes(principalType))
      throw bad(
        'InvalidPrincipalType',
        `The principal type '${String(principalType)}' is not valid; use one of ${PRINCIPAL_TYPES.join(', ')}.`,
        'properties.principalType',
      );
    const same = (a: RoleAssignment): boolean => lower(a.scope) === lower(scope) && a.roleId === roleId && lower(a.principalId) === lower(principalId);
    const existing = this.assignments.get(lower(name));
    if (existing) {
      if (same(existing)) return existing;
      throw bad('RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
    }
    const duplicate = [...this.assignments.values()].find(same);
    if (duplicate)
      throw fail(
        409,
        'RoleAssignmentExists',
        `The role assignment already exists. The ID of the existing role assignment is ${duplicate.name.replace(/-/g, '')}.`,
      );
    const by = claims['oid'] ?? claims.sub;
    const a: RoleAssignment = {
      name: lower(name),
      scope,
      roleId,
      principalId,
      principalType,
      description: typeof props['description'] === 'string' ? props['description'] : null,
      createdOn: new Date().toISOString(),
      createdMs: Date.now(),
      createdBy: typeof by === 'string' ? by : '',
    };
    this.assignments.set(a.name, a);
    return a;
  }

  /**
   * `$filter` as ARM reads it for role assignments: `atScope()` (at or above the scope), `principalId eq '{id}'` and
   * `assignedTo('{id}')` (that principal), joined by `and`. Without atScope() the list also holds assignments below the scope.
   */
  listAssignments(scope: string, filter: string | null): RoleAssignment[] {
    let atScope = false;
    let principal: string | undefined;
    for (const clause of (filter ?? '').split(/\s+and\s+/i).map((c) => c.trim())) {
      if (clause === '') continue;
      const m = /^principalId\s+eq\s+'([^']*)'$/i.exec(clause) ?? /^assignedTo\('([^']*)'\)$/i.exec(clause);
      if (/^atScope\(\)$/i.test(clause)) atScope = true;
      else if (m) principal = lower(m[1] ?? '');
      else
        throw bad(
          'UnsupportedQuery',
          `The $filter '${filter ?? ''}' is not supported: use atScope(), principalId eq '{id}' or assignedTo('{id}'), joined by 'and'.`,
          '$filter',
        );
    }
    return [...this.assignments.values()]
      .filter((a) => covers(a.scope, scope) || (!atScope && covers(scope, a.scope)))
      .filter((a) => principal === undefined || lower(a.principalId) === principal)
      .sort((a, b) => a.createdMs - b.createdMs);
  }

  findAssignment(scope: string, name: string): RoleAssignment | undefined {
    const a = this.assignments.get(lower(name));
    return a && lower(a.scope) === lower(scope) ? a : undefined;
  }
}

// ---- HTTP

type ArmHandler = (req: Request, claims: Claims) => Promise<[number, unknown]> | [number, unknown];

/** Bearer auth with an ARM audience, then api-version; every answer (errors too) carries the correlation headers. */
function armRoute(emu: Emulator, handler: ArmHandler) {
  return async (req: Request, res: ServerResponse): Promise<void> => {
    const corr = correlationHeaders(req);
    try {
      const claims = authenticate(emu, req);
      const v = req.url.searchParams.get('api-version');
      if (!v) throw bad('MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
      if (!API_VERSION.test(v))
        throw bad('InvalidApiVersionParameter', `The api-version '${v}' is invalid. The supported versions are of the form 'yyyy-mm-dd[-preview]'.`);
      const [status, body] = await handler(req, claims);
      sendJson(res, status, body, corr);
    } catch (e) {
      if (e instanceof HttpError) throw new HttpError(e.status, e.body, { ...corr, ...e.headers });
      throw e;
    }
  };
}

function controlError(message: string): HttpError {
  return new HttpError(400, { error: { code: 'BadControlRequest', message } });
}

const SUB = String.raw`^/subscriptions/(?<sub>[^/]+)`;
const RG = String.raw`${SUB}/resourceGroups/(?<rg>[^/]+)`;
const AUTHZ = String.raw`^(?<scope>/subscriptions/[^/]+(?:/.+?)?)/providers/Microsoft\.Authorization`;

/** Registers these ARM types, their control routes, and `emu.access`. ARM paths are case-insensitive, as in Azure. */
export function registerAccess(router: Router, emu: Emulator): void {
  const state = new AccessState(emu);
  emu.access = state;
  const arm = (method: string, pattern: string, handler: ArmHandler): void =>
    void router.add('arm', method, new RegExp(`${pattern}$`, 'i'), armRoute(emu, handler));
  const rgOf = (req: Request): void => checkScope(emu, req.params['sub'] ?? '', req.params['rg'] ?? '');
  const subOf = (req: Request): void => checkSubscription(emu, req.params['sub'] ?? '');
  const notFound = (req: Request, typePath: string): HttpError =>
    fail(404, 'ResourceNotFound', `The Resource '${typePath}' under resource group '${req.params['rg'] ?? ''}' was not found. ${RESOURCE_NOT_FOUND_HELP}`);
  const vaultOf = (req: Request): void => {
    rgOf(req);
    const name = req.params['name'] ?? '';
    if (lower(name) !== lower(state.vault.name)) throw notFound(req, `Microsoft.KeyVault/vaults/${name}`);
  };
  const accountOf = (req: Request): StorageEnv => {
    rgOf(req);
    const name = req.params['name'] ?? '';
    const s = state.storageAccount(name);
    if (!s) throw notFound(req, `Microsoft.Storage/storageAccounts/${name}`);
    return s;
  };

  // Key Vault (Microsoft.KeyVault/vaults)
  const vaults = String.raw`/providers/Microsoft\.KeyVault/vaults`;
  arm('GET', `${SUB}${vaults}`, (req) => {
    subOf(req);
    return [200, { value: [state.vaultBody()] }];
  });
  arm('GET', `${RG}${vaults}`, (req) => {
    rgOf(req);
    return [200, { value: [state.vaultBody()] }];
  });
  arm('GET', `${RG}${vaults}/(?<name>[^/]+)`, (req) => {
    vaultOf(req);
    return [200, state.vaultBody()];
  });
  arm('PUT', `${RG}${vaults}/(?<name>[^/]+)/accessPolicies/(?<kind>[^/]+)`, async (req) => {
    vaultOf(req);
    const kind = lower(req.params['kind'] ?? '');
    if (kind !== 'add' && kind !== 'replace' && kind !== 'remove')
      throw bad('InvalidOperationKind', `The access policy operation '${req.params['kind'] ?? ''}' is not valid; use add, replace or remove.`);
    const input = state.parsePolicies(await readJson(req));
    state.applyPolicies(kind, input);
    return [
      200,
      {
        id: `${state.vaultId}/accessPolicies/${kind}`,
        type: 'Microsoft.KeyVault/vaults/accessPolicies',
        location: emu.config.location,
        properties: { accessPolicies: input.map((p) => state.renderPolicy(p)) },
      },
    ];
  });

  // Storage accounts (Microsoft.Storage/storageAccounts)
  const accounts = String.raw`/providers/Microsoft\.Storage/storageAccounts`;
  arm('GET', `${SUB}${accounts}`, (req) => {
    subOf(req);
    return [200, { value: state.storageAccounts().map((s) => state.storageBody(s)) }];
  });
  arm('GET', `${RG}${accounts}`, (req) => {
    rgOf(req);
    return [200, { value: state.storageAccounts().map((s) => state.storageBody(s)) }];
  });
  arm('GET', `${RG}${accounts}/(?<name>[^/]+)`, (req) => [200, state.storageBody(accountOf(req))]);
  arm('POST', `${RG}${accounts}/(?<name>[^/]+)/listKeys`, (req) => [
    200,
    { keys: [{ keyName: 'key1', value: accountOf(req).key, permissions: 'FULL', creationTime: state.createdAt }] },
  ]);

  // Role assignments and role definitions (Microsoft.Authorization) at any scope the local Azure has.
  const scopeOf = (req: Request): string => state.canonicalScope(req.params['scope'] ?? '');
  arm('GET', `${AUTHZ}/roleAssignments`, (req) => {
    const scope = scopeOf(req);
    return [200, { value: state.listAssignments(scope, req.url.searchParams.get('$filter')).map((a) => state.assignmentBody(a)) }];
  });
  arm('GET', `${AUTHZ}/roleAssignments/(?<name>[^/]+)`, (req) => {
    const scope = scopeOf(req);
    const a = state.findAssignment(scope, req.params['name'] ?? '');
    if (!a) throw fail(404, 'RoleAssignmentNotFound', `The role assignment '${req.params['name'] ?? ''}' is not found.`);
    return [200, state.assignmentBody(a)];
  });
  arm('PUT', `${AUTHZ}/roleAssignments/(?<name>[^/]+)`, async (req, claims) => {
    const scope = scopeOf(req);
    return [201, state.assignmentBody(state.putAssignment(scope, req.params['name'] ?? '', await readJson(req), claims))];
  });
  arm('DELETE', `${AUTHZ}/roleAssignments/(?<name>[^/]+)`, (req) => {
    const scope = scopeOf(req);
    const a = state.findAssignment(scope, req.params['name'] ?? '');
    if (!a) return [204, undefined];
    state.assignments.delete(a.name);
    return [200, state.assignmentBody(a)];
  });
  arm('GET', `${AUTHZ}/roleDefinitions`, (req) => {
    scopeOf(req);
    const filter = req.url.searchParams.get('$filter');
    const byName = filter ? /^roleName\s+eq\s+'([^']*)'$/i.exec(filter.trim()) : null;
    if (filter && !byName) throw bad('UnsupportedQuery', `The $filter '${filter}' is not supported: use roleName eq '{name}'.`, '$filter');
    const roles = byName ? BUILT_IN_ROLES.filter((r) => lower(r.name) === lower(byName[1] ?? '')) : BUILT_IN_ROLES;
    return [200, { value: roles.map((r) => state.roleDefinitionBody(r)) }];
  });
  arm('GET', `${AUTHZ}/roleDefinitions/(?<name>[^/]+)`, (req) => {
    scopeOf(req);
    const r = BUILT_IN_ROLES.find((x) => x.id === lower(req.params['name'] ?? ''));
    if (!r) throw fail(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${req.params['name'] ?? ''}' does not exist.`);
    return [200, state.roleDefinitionBody(r)];
  });

  // Control: the vault's permission model, for tests of both.
  const view = (): Json => ({
    name: state.vault.name,
    vaultUri: state.vault.uri,
    enableRbacAuthorization: state.rbac,
    accessPolicies: state.policies.map((p) => state.renderPolicy(p)),
  });
  router.add('control', 'GET', /^\/_control\/keyvault$/, (_req, res) => sendJson(res, 200, view()));
  router.add('control', 'PATCH', /^\/_control\/keyvault$/, async (req, res) => {
    const body = await readJson(req);
    if (!isObject(body)) throw controlError('body must be a JSON object {enableRbacAuthorization?}');
    const unknown = Object.keys(body).filter((k) => k !== 'enableRbacAuthorization');
    if (unknown.length > 0) throw controlError(`unknown field(s) ${unknown.join(', ')}; known: enableRbacAuthorization`);
    if (body['enableRbacAuthorization'] !== undefined) {
      if (typeof body['enableRbacAuthorization'] !== 'boolean') throw controlError('enableRbacAuthorization must be a boolean');
      state.rbac = body['enableRbacAuthorization'];
    }
    sendJson(res, 200, view());
  });
  router.add('control', 'POST', /^\/_control\/keyvault\/reset$/, (_req, res) => {
    state.resetVault();
    sendJson(res, 200, view());
  });
}
