import { type EmulatorConfig, LOCAL_DNS_SUFFIX } from '../config';
import type { DiskState } from './disk';
import type { Service } from './router';
import type { Claims } from './jwt';

/** A fault injected through the control API: applies to the next `count` matching requests. */
export interface Fault {
  /** Which service; omitted or '*' means any. */
  readonly service?: Service | '*';
  /** HTTP method; omitted means any. */
  readonly method?: string;
  /** A regular expression (source text) matched against the URL path. */
  readonly path: string;
  readonly kind: '429' | '429-no-retry-after' | '500' | '503' | 'reset' | 'delay';
  count: number;
  readonly retryAfterSeconds?: number;
  readonly delayMs?: number;
}

/** A pipeline run that fails on purpose: the next `count` runs whose name or pipeline name matches. */
export interface RunFailure {
  /** Regular expression (source text) matched against the run name and the pipeline name. */
  readonly match: string;
  readonly message: string;
  count: number;
}

/** Test and benchmark knobs, set through the control API (`PATCH {controlUrl}/knobs`). */
export interface Knobs {
  /** `sync`: PUT answers 200 (runs still in progress, polled by GET); `async`: 201 + Azure-AsyncOperation, DELETE 202 + Location. */
  lroStyle: 'sync' | 'async';
  /** Retry-After (seconds) sent with async LRO answers. */
  asyncRetryAfterSeconds: number;
  /** In `async` style, how long a pipeline stays Creating/Updating. */
  pipelineProvisioningMs: number;
  /** Service time of a pipeline run: a fixed part and a part per MB moved. */
  runBaseMs: number;
  runPerMbMs: number;
  /** How often enabled source triggers look at their containers (the real service: up to 15 minutes). */
  triggerIntervalMs: number;
  /** Lifetime of ID tokens from the GitHub-style OIDC endpoint (GitHub: about 10 minutes). */
  idTokenLifetimeSeconds: number;
  /** Lifetime of Entra access tokens. */
  accessTokenLifetimeSeconds: number;
  /**
   * Pipeline runs (and source triggers) check their identity's Key Vault access (SasToken) or storage role
   * (ManagedIdentity) as the real service does. Off by default: suites written before the lifecycle operations create pipelines
   * without granting anything, and the grants are the lifecycle operations' business, not every test's.
   */
  enforceAccess: boolean;
  /** How long after an access policy or role assignment it takes effect (Azure: up to minutes, see the ACR FAQ). */
  grantDelayMs: number;
  /**
   * Entra access tokens issued before this time (seconds since the epoch; 0: none) are refused with 401
   * InvalidAuthenticationToken, as when a session is revoked (`POST {controlUrl}/forget-tokens`); tokens issued from now on pass.
   */
  tokensIssuedBefore: number;
  runFailures: RunFailure[];
  faults: Fault[];
}

export function defaultKnobs(): Knobs {
  return {
    lroStyle: 'sync',
    asyncRetryAfterSeconds: 1,
    pipelineProvisioningMs: 300,
    runBaseMs: 200,
    runPerMbMs: 0,
    triggerIntervalMs: 1000,
    idTokenLifetimeSeconds: 600,
    accessTokenLifetimeSeconds: 3600,
    enforceAccess: false,
    grantDelayMs: 0,
    tokensIssuedBefore: 0,
    runFailures: [],
    faults: [],
  };
}

export type Outcome<T> = ({ ok: true } & T) | { ok: false; status: number; code: string; message: string };

/** Entra: checks access tokens it issued (entra/tokens.ts). */
export interface TokenVerifier {
  /** Verifies an Entra access token for one of `audiences` (resource URIs, e.g. https://vault.azure.net). */
  verifyAccessToken(token: string, audiences: readonly string[]): Outcome<{ claims: Claims }>;
}

/** Key Vault as the transfer service sees it (keyvault.ts): reads a secret by its URI. */
export interface SecretReader {
  readSecret(secretUri: string): Outcome<{ value: string; version: string }>;
}

/**
 * Who may do what, as the transfer service is checked by Key Vault and storage (arm/access.ts). Each answer is
 * undefined when allowed, else the service's refusal; the caller decides whether enforcement is on.
 */
export interface AccessChecker {
  /** Key Vault: may one of `principalIds` get secrets (access policy or RBAC, whichever the vault uses)? */
  secretGetDenial(principalIds: readonly string[]): AccessDenial | undefined;
  /** Storage RBAC: may one of `principalIds` read (`write: false`) or write/delete blobs of the container? */
  blobDenial(principalIds: readonly string[], account: string, container: string, write: boolean): AccessDenial | undefined;
  /** The vault URI (env.keyVaultUrl) and its name, for messages. */
  readonly vault: { readonly name: string; readonly uri: string };
}

export interface AccessDenial {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** Key Vault's innererror code (AccessDenied, ForbiddenByRbac). */
  readonly innerCode?: string;
  /** The role that would fix it (storage), for the run's hint. */
  readonly role?: string;
}

/** Starts pipeline runs (transfer/runner.ts); the ARM layer calls it after accepting a run PUT. */
export interface RunExecutor {
  /** Executes the run in the background, updating `run.resource` as it goes. */
  start(run: RunRecord, pipeline: PipelineRecord): void;
}

/** ARM state the transfer service needs (arm/state.ts). */
export interface ArmStore {
  getPipeline(registry: string, kind: PipelineKind, name: string): PipelineRecord | undefined;
  listPipelines(registry: string, kind: PipelineKind): PipelineRecord[];
  /** Creates a run as the source trigger does (no PUT), and starts it. */
  createTriggeredRun(pipeline: PipelineRecord, blobName: string, timestamp: string): RunRecord;
  /** Writes a run to disk: at once when `urgent` (a state change), else within a second (progress). */
  saveRun(run: RunRecord, urgent: boolean): void;
  /** At start: runs the last process left in progress carry on, as the service's would. */
  resumeRuns(): void;
}

export type PipelineKind = 'export' | 'import';
export type Json = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `v` if it is a JSON object, else an empty one: for reading optional nested members. */
export function obj(v: unknown): Json {
  return isObject(v) ? v : {};
}

export interface PipelineRecord {
  readonly kind: PipelineKind;
  readonly registry: string;
  readonly name: string;
  /** The resource exactly as GET returns it (swagger ExportPipeline / ImportPipeline). */
  resource: Json;
}

export interface RunRecord {
  readonly registry: string;
  readonly name: string;
  /** The resource exactly as GET returns it (swagger PipelineRun); the executor fills properties.response. */
  resource: Json;
  /** Bumped on every (re-)execution, so that a superseded execution stops writing. */
  generation: number;
  /** How far the execution got, kept on disk: a run resumed after a restart does not redo a finished transfer. */
  checkpoint?: Json;
}

/** Everything the emulator's parts share. Each part is registered on it at start (main.ts). */
export interface Emulator {
  readonly config: EmulatorConfig;
  readonly knobs: Knobs;
  /** The state that survives a restart (disk.ts). */
  readonly disk: DiskState;
  /** Base URL of the main HTTPS port, e.g. https://127.0.0.1:8443 */
  readonly baseUrl: string;
  tokens: TokenVerifier;
  secrets: SecretReader;
  arm: ArmStore;
  runs: RunExecutor;
  access: AccessChecker;
}

/**
 * Audiences ARM accepts. The first is what `metadata/endpoints` advertises (a custom cloud, so that clients
 * that discover it are told apart from ones that assume the public cloud); the public ones let the
 * stock SDK defaults work too.
 */
export const ARM_AUDIENCES = ['https://management.local-azure.test/', 'https://management.azure.com/', 'https://management.core.windows.net/'] as const;
/** The local cloud's Key Vault audience: a vault's challenge names it, and the SDK checks the vault host is under it. */
export const KEY_VAULT_RESOURCE = `https://vault.${LOCAL_DNS_SUFFIX}`;
/** The public cloud's Key Vault audience: Entra issues tokens for it, but the local vault does not accept them. */
export const PUBLIC_KEY_VAULT_RESOURCE = 'https://vault.azure.net';
export const STORAGE_RESOURCE = 'https://storage.azure.com';
export const ACR_RESOURCE = 'https://containerregistry.azure.net';
/** The api-version the emulator treats as the reference (test/local-azure/spec/acr-2025-06-01-preview). */
export const REFERENCE_API_VERSION = '2025-06-01-preview';
