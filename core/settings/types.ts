/**
 * What parseSettings proves: one type per operation, with the fields that operation cannot start without present
 * (a registry, artifacts, blobs, a side to set up). The operations read these and never check an input again.
 */
import type { ArtifactSpec } from '../domain/reference';
import type { AuthType, CloudName, ExportOption, ImportOption, ReferrerMode, SasSigning, StorageAccessMode } from '../vocabulary';
import type { PipelineKind } from '../ports';

export type NonEmpty<T> = readonly [T, ...T[]];

export interface AuthSettings {
  readonly type: AuthType;
  readonly clientId?: string;
  readonly tenantId?: string;
  readonly clientSecret?: string;
  /** PEM text (certificate and key) of a service principal's certificate, or `@file:<path>`. */
  readonly clientCertificate?: string;
  readonly audience: string;
  readonly environment: CloudName;
  readonly resourceManagerEndpoint?: string;
  readonly authorityHost?: string;
}

export interface RegistryRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  /** /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{name} */
  readonly resourceId: string;
}

export interface PipelineSettings<O extends string> {
  readonly name: string;
  /** Blob container URL; given → the pipeline is created or updated to match. */
  readonly storageUri?: string;
  /** Key Vault secret URI holding the SAS (sas-token mode). */
  readonly sasSecretUri?: string;
  readonly options: readonly O[];
}

export type PipelineIdentity = { readonly type: 'system' } | { readonly type: 'user'; readonly resourceId: string };

/** A pipeline side on its registry: export on the source, import on the target. */
export interface Side {
  readonly kind: PipelineKind;
  readonly reg: RegistryRef;
}

/** Every input, parsed and checked once; what all operations share. */
export interface CommonSettings {
  readonly auth: AuthSettings;
  /** The registries given; an operation that needs one has it in its own type. */
  readonly source?: RegistryRef;
  readonly target?: RegistryRef;
  readonly exportPipeline: PipelineSettings<ExportOption>;
  readonly importPipeline: PipelineSettings<ImportOption>;
  /** source-trigger enabled: import waits for the trigger's runs. */
  readonly sourceTrigger: boolean;
  /** What the import pipeline's trigger must be; undefined (the input unset): a new pipeline gets Disabled, an existing one keeps its own. */
  readonly sourceTriggerWanted?: boolean;
  /** update-pipelines: false forbids changing an existing pipeline (the operation fails naming each difference). */
  readonly updatePipelines: boolean;
  readonly storageAccessMode: StorageAccessMode;
  readonly pipelineIdentity: PipelineIdentity;
  readonly apiVersion: string;
  readonly artifacts: readonly ArtifactSpec[];
  readonly blobName?: string;
  readonly blobs: readonly string[];
  readonly maxArtifactsPerRun: number;
  readonly maxParallelRuns: number;
  readonly verify: boolean;
  readonly timeoutMinutes: number;
  readonly dryRun: boolean;
  readonly preflight: boolean;
}

/** What export and transfer share. */
interface ExportingSettings extends CommonSettings {
  readonly source: RegistryRef;
  readonly artifacts: NonEmpty<ArtifactSpec>;
  /** skip-existing: the registry whose digests decide what to leave out; absent when it is off. */
  readonly skipExistingIn?: RegistryRef;
  /** include: the artifacts' referrers travel with them; skip: the artifacts alone. */
  readonly referrers: ReferrerMode;
  /** Artifact types (media types) every artifact must have a referrer of, else it is refused before any run. */
  readonly requireReferrers: readonly string[];
}

export interface ExportSettings extends ExportingSettings {
  readonly operation: 'export';
}

export interface ImportSettings extends CommonSettings {
  readonly operation: 'import';
  readonly target: RegistryRef;
}

export interface CopySettings extends CommonSettings {
  readonly operation: 'copy';
  readonly blobs: NonEmpty<string>;
}

export interface TransferOpSettings extends ExportingSettings {
  readonly operation: 'transfer';
  readonly target: RegistryRef;
}

/** A side setup makes: its registry, its container, and what the pipeline identity must reach. */
export interface SetupSide extends Side {
  readonly container: string;
  /** The Key Vault secret (sas-token mode) or the container (managed-identity mode). */
  readonly accessTarget: string;
}

export interface SetupSettings extends CommonSettings {
  readonly operation: 'setup';
  /** The sides given with a registry and a container. */
  readonly sides: NonEmpty<SetupSide>;
  /** Days the SAS tokens setup makes stay valid. */
  readonly sasExpiryDays: number;
  /** How setup signs SAS tokens: a user-delegation key (Entra; at most 7 days), or the account key (only when asked). */
  readonly sasSigning: SasSigning;
  readonly grantAccess: boolean;
}

export interface CheckSettings extends CommonSettings {
  readonly operation: 'check';
}

export interface CleanupSettings extends CommonSettings {
  readonly operation: 'cleanup';
  /** The sides given with a registry: their pipelines and runs are cleaned. */
  readonly sides: NonEmpty<Side>;
  readonly olderThanDays: number;
  readonly failedOnly: boolean;
  readonly deleteBlobs: boolean;
  readonly deletePipelines: boolean;
  /** purge-untagged: the registry whose repositories (those `artifacts` names) are purged; absent when it is off. */
  readonly purgeUntaggedIn?: RegistryRef;
}

export type TransferSettings = ExportSettings | ImportSettings | CopySettings | TransferOpSettings | SetupSettings | CheckSettings | CleanupSettings;

/** The settings of one operation. */
export type SettingsOf<O extends TransferSettings['operation']> = Extract<TransferSettings, { readonly operation: O }>;
