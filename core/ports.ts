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
  /** Create (or re-run, with a new forceUpdateTag) a run; returns once ARM accepted it, without waiting for the transfer. */
  putRun(reg: RegistryRef, name: string, spec: PipelineRunSpec): Promise<PipelineRunResource>;
  deleteRun(reg: RegistryRef, name: string): Promise<void>;
}

// ---- Registry data plane (https://{loginServer}/v2/) ----

export interface RegistryDataPlane {
  readonly loginServer: string;
  listRepositories(): Promise<string[]>;
  /** Every tag of a repository, across pages (ACR pages at 100); [] when the repository does not exist. */
  listTags(repository: string): Promise<string[]>;
  /** The manifest digest a tag or digest resolves to; undefined when it does not exist. */
  manifestDigest(repository: string, reference: string): Promise<string | undefined>;
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
}

export interface SecretStore {
  getSecret(secretUri: string): Promise<{ value: string; version?: string; expiresOn?: Date }>;
  setSecret(vaultUrl: string, name: string, value: string, expiresOn?: Date): Promise<{ id: string }>;
}

/** Everything the core needs from outside, built once by the front-end (core/azure/ makes the real one). */
export interface Services {
  readonly arm: ArmApi;
  readonly registries: RegistryDataPlaneFactory;
  readonly blobs: BlobStore;
  readonly secrets: SecretStore;
}
