/**
 * The built-in roles the local Azure knows (`Microsoft.Authorization/roleDefinitions`): ids are fixed across Azure;
 * names as `az role definition list` shows them.
 */
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

export interface RoleDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly actions: readonly string[];
  readonly dataActions: readonly string[];
}

export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
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
export const SECRET_READERS: ReadonlySet<string> = new Set([ROLE.keyVaultSecretsUser, ROLE.keyVaultSecretsOfficer, ROLE.keyVaultAdministrator]);
/** Blob data roles: Owner and Contributor (control plane) grant no data access. */
export const BLOB_READERS: ReadonlySet<string> = new Set([ROLE.storageBlobDataReader, ROLE.storageBlobDataContributor, ROLE.storageBlobDataOwner]);
export const BLOB_WRITERS: ReadonlySet<string> = new Set([ROLE.storageBlobDataContributor, ROLE.storageBlobDataOwner]);
