/**
 * The narrow interfaces through which the core reaches Azure and its host. Real implementations live in
 * core/azure/ (over the Azure SDKs and ARM REST); unit tests use small in-memory fakes.
 */
import type { RegistryRef } from './settings';

export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  /** Runs `fn` inside a collapsible log group (GitHub ::group::, ADO ##[group]). */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Overall progress, 0–100 (ADO task.setprogress; GitHub logs it). */
  progress(percent: number, message: string): void;
}

// ---- ARM: registries and the transfer pipeline resources (api-version from settings) ----

export type PipelineKind = 'export' | 'import';
export type ProvisioningState = 'Creating' | 'Updating' | 'Deleting' | 'Succeeded' | 'Failed' | 'Canceled' | (string & {});

export interface RegistryInfo {
  readonly id: string;
  readonly name: string;
  readonly sku: string;
  /** Lower case, as the data plane expects (https://aka.ms/acr/faq: login servers are case-sensitive for some clients). */
  readonly loginServer: string;
  readonly exportPolicyEnabled: boolean;
}

export interface RegistryUsage {
  readonly name: string;
  readonly limit: number;
  readonly currentValue: number;
  readonly unit: string;
}

/** The parts of ExportPipeline / ImportPipeline the core uses (swagger 2025-06-01-preview). */
export interface PipelineResource {
  readonly id: string;
  readonly name: string;
  readonly kind: PipelineKind;
  readonly provisioningState?: ProvisioningState;
  /** Blob container URL (target.uri / source.uri). */
  readonly storageUri?: string;
  readonly keyVaultUri?: string;
  readonly storageAccessMode?: string;
  readonly options: readonly string[];
  readonly sourceTriggerEnabled?: boolean;
  readonly identity?: {
    readonly type: string;
    readonly principalId?: string;
    readonly userAssignedIdentities?: Readonly<Record<string, { principalId?: string; clientId?: string }>>;
  };
}

export interface PipelineSpec {
  readonly kind: PipelineKind;
  readonly storageUri: string;
  readonly keyVaultUri?: string;
  readonly storageAccessMode: 'SasToken' | 'ManagedIdentity';
  readonly options: readonly string[];
  readonly sourceTriggerEnabled?: boolean;
  readonly identity: { readonly type: 'SystemAssigned' } | { readonly type: 'UserAssigned'; readonly resourceId: string };
}

export interface PipelineRunResource {
  readonly id: string;
  readonly name: string;
  readonly provisioningState?: ProvisioningState;
  readonly pipelineResourceId?: string;
  readonly artifacts?: readonly string[];
  /** Export: request.target.name; import: request.source.name. */
  readonly blobName?: string;
  readonly forceUpdateTag?: string;
  readonly status?: string;
  readonly percentage?: number;
  readonly startTime?: string;
  readonly finishTime?: string;
  readonly importedArtifacts?: readonly string[];
  readonly catalogDigest?: string;
  readonly errorMessage?: string;
  /** Set on runs the source trigger started. */
  readonly triggeredAt?: string;
  /** The Retry-After the service sent with this response, if any: the poller waits that long before the next GET. */
  readonly retryAfterMs?: number;
  /** ARM's x-ms-ratelimit-remaining-subscription-reads on this response, if sent: a low one slows polling down. */
  readonly remainingReads?: number;
}

/** One page of a registry's pipeline runs, for watching many runs with one read (docs/azure-service.md#watching-runs). */
export interface RunsPage {
  readonly runs: readonly PipelineRunResource[];
  /** The nextLink to the following page; undefined on the last. */
  readonly next?: string;
  readonly retryAfterMs?: number;
  readonly remainingReads?: number;
}

export interface PipelineRunSpec {
  readonly pipelineResourceId: string;
  readonly kind: PipelineKind;
  readonly blobName: string;
  /** Export only. */
  readonly artifacts?: readonly string[];
  readonly catalogDigest?: string;
  readonly forceUpdateTag?: string;
}

export interface ArmApi {
  getRegistry(reg: RegistryRef): Promise<RegistryInfo>;
  listUsages(reg: RegistryRef): Promise<RegistryUsage[]>;
  getPipeline(reg: RegistryRef, kind: PipelineKind, name: string): Promise<PipelineResource | undefined>;
  /** Create or update, waiting for the long-running operation to end. */
  putPipeline(reg: RegistryRef, name: string, spec: PipelineSpec): Promise<PipelineResource>;
  deletePipeline(reg: RegistryRef, kind: PipelineKind, name: string): Promise<void>;
  getRun(reg: RegistryRef, name: string): Promise<PipelineRunResource | undefined>;
  listRuns(reg: RegistryRef): Promise<PipelineRunResource[]>;
  /** One page of the runs list: the first without `next`, a later one with the `next` the previous page gave. */
  listRunsPage(reg: RegistryRef, next?: string): Promise<RunsPage>;
  /** Create (or re-run, with a new forceUpdateTag) a run; returns once ARM accepted it, without waiting for the transfer. */
  putRun(reg: RegistryRef, name: string, spec: PipelineRunSpec): Promise<PipelineRunResource>;
  deleteRun(reg: RegistryRef, name: string): Promise<void>;
}

// ---- Registry data plane (https://{loginServer}/v2/) ----

/** One blob (layer or config) a manifest names. */
export interface ManifestBlob {
  readonly digest: string;
  readonly size: number;
  readonly mediaType?: string;
  /** Where a non-distributable (foreign) layer is fetched from instead of the registry. */
  readonly urls?: readonly string[];
}

/** A manifest as the registry stores it: an image manifest (layers) or an index / manifest list (manifests). */
export interface ManifestInfo {
  readonly digest: string;
  readonly mediaType?: string;
  readonly layers: readonly ManifestBlob[];
  /** Children of an index or manifest list. */
  readonly manifests: readonly { readonly digest: string; readonly mediaType?: string; readonly platform?: string }[];
  /** OCI 1.1 referrers (signatures, SBOMs) name the manifest they are about. */
  readonly subject?: string;
  /** OCI 1.1 `artifactType` of an artifact manifest. */
  readonly artifactType?: string;
}

/** One manifest of a repository as ACR lists it (GET /acr/v1/{repo}/_manifests). */
export interface ManifestSummary {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly mediaType?: string;
  readonly createdTime?: string;
  readonly lastUpdateTime?: string;
  /** changeableAttributes.deleteEnabled: false locks it. */
  readonly deleteEnabled?: boolean;
}

/** One entry of a referrers list (OCI 1.1: an image index's descriptors, https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers). */
export interface ReferrerDescriptor {
  readonly digest: string;
  readonly mediaType?: string;
  /** The manifest's artifactType, or its config's media type when it has none (as the spec has registries fill it). */
  readonly artifactType?: string;
  readonly size?: number;
}

export interface RegistryDataPlane {
  readonly loginServer: string;
  /** Gets pull access to these repositories up front, many to a token request (docs/azure-service.md#token-economy). */
  prepare(repositories: readonly string[]): Promise<void>;
  listRepositories(): Promise<string[]>;
  /** Every tag of a repository, across pages (ACR pages at 100); [] when the repository does not exist. */
  listTags(repository: string): Promise<string[]>;
  /** The manifest digest a tag or digest resolves to; undefined when it does not exist. */
  manifestDigest(repository: string, reference: string): Promise<string | undefined>;
  /** The manifest a tag or digest resolves to, parsed; undefined when it does not exist. */
  getManifest(repository: string, reference: string): Promise<ManifestInfo | undefined>;
  /** Every manifest of a repository with its tags (ACR's _manifests list), across pages; [] when the repository does not exist. */
  listManifests(repository: string): Promise<ManifestSummary[]>;
  /** Deletes a manifest by digest (needs the delete action); a manifest already gone is not an error. */
  deleteManifest(repository: string, digest: string): Promise<void>;
  /**
   * What refers to the manifest `digest` (GET /v2/{repo}/referrers/{digest}), across pages, of `artifactType` only when
   * given (filtered by the registry, or here when it did not say it filtered); [] when the registry has no referrers API.
   */
  listReferrers(repository: string, digest: string, artifactType?: string): Promise<ReferrerDescriptor[]>;
}

export interface RegistryDataPlaneFactory {
  forLoginServer(loginServer: string): RegistryDataPlane;
}

// ---- Storage and Key Vault ----

export interface BlobInfo {
  readonly name: string;
  readonly size: number;
  readonly contentMD5?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastModified?: string;
  readonly etag?: string;
}

export interface BlobCopyResult {
  readonly blob: string;
  readonly size: number;
  readonly contentMD5?: string;
  readonly mode: 'sync' | 'async';
}

export interface BlobStore {
  /** Properties of a blob in a container (container URL without SAS); undefined when it does not exist. */
  getBlob(containerUri: string, blob: string): Promise<BlobInfo | undefined>;
  listBlobs(containerUri: string, prefix?: string): Promise<BlobInfo[]>;
  /**
   * Server-side copy between containers (no byte passes through the runner), keeping Content-MD5 and
   * metadata; synchronous up to 256 MiB, asynchronous above, polled.
   */
  copyBlob(from: { containerUri: string; blob: string }, to: { containerUri: string; blob: string }, signal?: AbortSignal): Promise<BlobCopyResult>;
  deleteBlob(containerUri: string, blob: string): Promise<void>;
  /** Replaces a blob's metadata with `metadata` (the caller keeps what it wants of the old). */
  setBlobMetadata(containerUri: string, blob: string, metadata: Readonly<Record<string, string>>): Promise<void>;
  /** Whether the container exists (read with the caller's identity). */
  containerExists(containerUri: string): Promise<boolean>;
  /**
   * A container SAS (query string without '?'), https only, masked before it is returned. Signed with a user-delegation
   * key of the caller unless `accountKey` is given.
   */
  createSas(containerUri: string, o: SasRequest): Promise<string>;
}

export interface SasRequest {
  /** Container SAS permission letters in any order, e.g. 'alrw' (the SDK orders them). */
  readonly permissions: string;
  readonly startsOn: Date;
  readonly expiresOn: Date;
  /** Sign with this storage account key instead of a user-delegation key. */
  readonly accountKey?: string;
}

export interface SecretStore {
  getSecret(secretUri: string): Promise<{ value: string; version?: string; expiresOn?: Date }>;
  /** Stores a new version of the secret; `id` is the versioned secret URI. */
  setSecret(vaultUrl: string, name: string, value: string, expiresOn?: Date): Promise<{ id: string }>;
}

// ---- ARM: who may reach the vault and the storage (Microsoft.KeyVault, Microsoft.Storage, Microsoft.Authorization) ----

export interface VaultAccessPolicy {
  readonly tenantId: string;
  readonly objectId: string;
  /** Secret permissions, lower case (get, list, set, all, ...). */
  readonly secrets: readonly string[];
}

export interface VaultInfo {
  readonly id: string;
  readonly name: string;
  /** https://{name}.vault.azure.net/ */
  readonly vaultUri: string;
  readonly tenantId: string;
  /** true: Azure RBAC decides (Key Vault Secrets User); false: access policies. */
  readonly enableRbacAuthorization: boolean;
  readonly accessPolicies: readonly VaultAccessPolicy[];
}

export interface StorageAccountInfo {
  readonly id: string;
  readonly name: string;
  /** properties.primaryEndpoints.blob, e.g. https://{name}.blob.core.windows.net/ */
  readonly blobEndpoint: string;
}

export interface RoleAssignmentInfo {
  readonly id: string;
  readonly scope: string;
  /** /subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid} */
  readonly roleDefinitionId: string;
  readonly principalId: string;
}

export interface AccessApi {
  listVaults(subscriptionId: string): Promise<VaultInfo[]>;
  /** Adds (or merges into) the access policy of `objectId` (PUT …/accessPolicies/add). */
  addVaultAccessPolicy(vaultId: string, policy: VaultAccessPolicy): Promise<void>;
  listStorageAccounts(subscriptionId: string): Promise<StorageAccountInfo[]>;
  /** The first key of the account (POST …/listKeys); masked before it is returned. */
  storageAccountKey(accountId: string): Promise<string>;
  /** Role assignments of a principal that apply at `scope` (at it, above it or below it). */
  listRoleAssignments(scope: string, principalId: string): Promise<RoleAssignmentInfo[]>;
  /** 'exists' when ARM answers 409 RoleAssignmentExists. */
  createRoleAssignment(scope: string, roleDefinitionId: string, principalId: string): Promise<'created' | 'exists'>;
}

/** Everything the core needs from outside, built once by the front-end (core/azure/ makes the real one). */
export interface Services {
  readonly arm: ArmApi;
  readonly registries: RegistryDataPlaneFactory;
  readonly blobs: BlobStore;
  readonly secrets: SecretStore;
  readonly access: AccessApi;
}
