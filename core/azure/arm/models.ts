/**
 * Wire models of the ARM resources acr-transfer uses, hand-written from the swagger subset in
 * test/local-azure/spec/acr-2025-06-01-preview (no Azure SDK covers the pipeline resources). Everything the service
 * returns is optional here, and every `type`/enum field is a plain string: the service answers outside the
 * swagger's enums (identity types in camelCase, `AzureStorageBlob` where the enum says AzureStorageBlobContainer).
 */

/** ARM common-types v6 ErrorResponse; only code and message are reliable. */
export interface ArmErrorResponse {
  readonly error?: ArmErrorDetail;
}

export interface ArmErrorDetail {
  readonly code?: string;
  readonly message?: string;
  readonly target?: string;
  readonly details?: readonly ArmErrorDetail[];
}

export interface SystemData {
  readonly createdBy?: string;
  readonly createdByType?: string;
  readonly createdAt?: string;
  readonly lastModifiedBy?: string;
  readonly lastModifiedByType?: string;
  readonly lastModifiedAt?: string;
}

interface ProxyResource {
  readonly id?: string;
  readonly name?: string;
  readonly type?: string;
  readonly systemData?: SystemData;
}

/** IdentityProperties. `type`: SystemAssigned | UserAssigned | 'SystemAssigned, UserAssigned' | None, in any case. */
export interface IdentityProperties {
  readonly principalId?: string;
  readonly tenantId?: string;
  readonly type?: string;
  readonly userAssignedIdentities?: Readonly<Record<string, { readonly principalId?: string; readonly clientId?: string }>>;
}

/** ExportPipelineTargetProperties / ImportPipelineSourceProperties (same shape). */
export interface PipelineStorageProperties {
  /** AzureStorageBlobContainer for pipelines; runs' responses say AzureStorageBlob. */
  readonly type?: string;
  readonly uri?: string;
  readonly keyVaultUri?: string;
  /** SasToken | ManagedIdentity (2025-06-01-preview and later). */
  readonly storageAccessMode?: string;
}

export interface ExportPipeline extends ProxyResource {
  readonly location?: string;
  readonly identity?: IdentityProperties;
  readonly properties?: {
    readonly target?: PipelineStorageProperties;
    readonly options?: readonly string[];
    readonly provisioningState?: string;
  };
}

export interface ImportPipeline extends ProxyResource {
  readonly location?: string;
  readonly identity?: IdentityProperties;
  readonly properties?: {
    readonly source?: PipelineStorageProperties;
    readonly trigger?: { readonly sourceTrigger?: { readonly status?: string } };
    readonly options?: readonly string[];
    readonly provisioningState?: string;
  };
}

export interface PipelineRunBlob {
  readonly type?: string;
  readonly name?: string;
}

export interface PipelineRunRequest {
  readonly pipelineResourceId?: string;
  readonly artifacts?: readonly string[];
  readonly source?: PipelineRunBlob;
  readonly target?: PipelineRunBlob;
  readonly catalogDigest?: string;
}

export interface PipelineRunResponse {
  /** Free string; examples "Running", "Succeeded". provisioningState is what says the run is over. */
  readonly status?: string;
  readonly importedArtifacts?: readonly string[];
  /** A string in the wire format, e.g. "20". */
  readonly progress?: { readonly percentage?: string };
  readonly startTime?: string;
  readonly finishTime?: string;
  readonly source?: PipelineStorageProperties;
  readonly target?: PipelineStorageProperties;
  readonly catalogDigest?: string;
  readonly trigger?: { readonly sourceTrigger?: { readonly timestamp?: string } };
  readonly pipelineRunErrorMessage?: string;
}

export interface PipelineRun extends ProxyResource {
  readonly properties?: {
    readonly provisioningState?: string;
    readonly request?: PipelineRunRequest;
    readonly response?: PipelineRunResponse;
    readonly forceUpdateTag?: string;
  };
}

export interface ListResult<T> {
  readonly value?: readonly T[];
  readonly nextLink?: string | null;
}

export interface Registry {
  readonly id?: string;
  readonly name?: string;
  readonly type?: string;
  readonly location?: string;
  readonly sku?: { readonly name?: string; readonly tier?: string };
  readonly properties?: {
    readonly loginServer?: string;
    readonly provisioningState?: string;
    readonly publicNetworkAccess?: string;
    readonly policies?: {
      readonly exportPolicy?: { readonly status?: string };
      readonly azureADAuthenticationAsArmPolicy?: { readonly status?: string };
    };
  };
}

export interface RegistryUsageListResult {
  readonly value?: readonly { readonly name?: string; readonly limit?: number; readonly currentValue?: number; readonly unit?: string }[];
}

/** The Azure-AsyncOperation status monitor body (ARM convention). */
export interface AsyncOperationStatus {
  readonly status?: string;
  readonly error?: ArmErrorDetail;
}

// ---- Key Vault, storage accounts and role assignments (Microsoft.KeyVault, Microsoft.Storage, Microsoft.Authorization) ----

export interface VaultResource {
  readonly id?: string;
  readonly name?: string;
  readonly properties?: {
    readonly vaultUri?: string;
    readonly tenantId?: string;
    readonly enableRbacAuthorization?: boolean;
    readonly accessPolicies?: readonly { tenantId?: string; objectId?: string; permissions?: { secrets?: readonly string[] } }[];
  };
}

export interface StorageAccountResource {
  readonly id?: string;
  readonly name?: string;
  readonly properties?: { readonly primaryEndpoints?: { readonly blob?: string } };
}

export interface RoleAssignmentResource {
  readonly id?: string;
  readonly properties?: { readonly scope?: string; readonly roleDefinitionId?: string; readonly principalId?: string };
}

// ---- request bodies (what we send) ----

export interface PipelineIdentityRequest {
  readonly type: 'SystemAssigned' | 'UserAssigned';
  readonly userAssignedIdentities?: Record<string, Record<string, never>>;
}

export interface ExportPipelineRequest {
  readonly identity: PipelineIdentityRequest;
  readonly properties: {
    readonly target: { readonly type: 'AzureStorageBlobContainer'; readonly uri: string; readonly keyVaultUri?: string; readonly storageAccessMode: string };
    readonly options: readonly string[];
  };
}

export interface ImportPipelineRequest {
  readonly identity: PipelineIdentityRequest;
  readonly properties: {
    readonly source: { readonly type: 'AzureStorageBlobContainer'; readonly uri: string; readonly keyVaultUri?: string; readonly storageAccessMode: string };
    readonly trigger: { readonly sourceTrigger: { readonly status: 'Enabled' | 'Disabled' } };
    readonly options: readonly string[];
  };
}

export interface PipelineRunCreateRequest {
  readonly properties: {
    readonly request: {
      readonly pipelineResourceId: string;
      readonly artifacts?: readonly string[];
      readonly source?: { readonly type: 'AzureStorageBlob'; readonly name: string };
      readonly target?: { readonly type: 'AzureStorageBlob'; readonly name: string };
      readonly catalogDigest?: string;
    };
    readonly forceUpdateTag?: string;
  };
}
