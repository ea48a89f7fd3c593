import { ARTIFACT_GRAMMAR, type ArtifactSpec, parseArtifact, printArtifact } from './domain/reference';
import { MAX_ARTIFACTS_PER_RUN, USER_DELEGATION_MAX_DAYS } from './domain/limits';
import { ConfigError } from './errors';
import { INPUTS, type Operation, OPERATIONS } from './inputs';

/** Where the front-end's inputs come from: GitHub's getInput or ADO's tl.getInput, by kebab-case name. */
export interface InputReader {
  /** The trimmed value, or undefined when the input is missing or empty. */
  get(name: string): string | undefined;
}

export const AUTH_TYPES = ['auto', 'oidc', 'azure-cli', 'service-principal', 'managed-identity'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];
export const CLOUDS = ['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud', 'AzureStack'] as const;
export type CloudName = (typeof CLOUDS)[number];
export const EXPORT_OPTIONS = ['OverwriteBlobs', 'ContinueOnErrors'] as const;
export type ExportOption = (typeof EXPORT_OPTIONS)[number];
export const IMPORT_OPTIONS = ['OverwriteTags', 'DeleteSourceBlobOnSuccess', 'ContinueOnErrors'] as const;
export type ImportOption = (typeof IMPORT_OPTIONS)[number];

export const SAS_SIGNINGS = ['user-delegation', 'account-key'] as const;
export type SasSigning = (typeof SAS_SIGNINGS)[number];
export interface AuthSettings {
  readonly type: AuthType;
  readonly clientId?: string;
  readonly tenantId?: string;
  readonly clientSecret?: string;
  /** PEM text (certificate and key) of a service principal's certificate. */
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

/** Every input, parsed and checked once. Nothing else in the product reads inputs. */
export interface TransferSettings {
  readonly operation: Operation;
  readonly auth: AuthSettings;
  readonly source?: RegistryRef;
  readonly target?: RegistryRef;
  readonly exportPipeline: PipelineSettings<ExportOption>;
  readonly importPipeline: PipelineSettings<ImportOption>;
  readonly sourceTrigger: boolean;
  readonly storageAccessMode: 'sas-token' | 'managed-identity';
  readonly pipelineIdentity: PipelineIdentity;
  readonly apiVersion: string;
  readonly artifacts: readonly ArtifactSpec[];
  readonly blobName?: string;
  readonly blobs: readonly string[];
  readonly maxArtifactsPerRun: number;
  readonly maxParallelRuns: number;
  readonly skipExisting: boolean;
  readonly verify: boolean;
  readonly timeoutMinutes: number;
  readonly dryRun: boolean;
  readonly preflight: boolean;
  /** Days the SAS tokens setup makes stay valid. */
  readonly sasExpiryDays: number;
  /** How setup signs SAS tokens: a user-delegation key (Entra; at most 7 days), or the account key (only when asked). */
  readonly sasSigning: SasSigning;
  readonly grantAccess: boolean;
  readonly olderThanDays: number;
  readonly failedOnly: boolean;
  readonly deleteBlobs: boolean;
  readonly deletePipelines: boolean;
  readonly purgeUntagged: boolean;
}

const DEFAULTS: ReadonlyMap<string, string> = new Map(INPUTS.filter((i) => i.default !== undefined).map((i) => [i.name, i.default!]));

function bad(input: string, value: string, allowed: string): ConfigError {
  return new ConfigError(`Input '${input}' is '${value}': ${allowed}`);
}

class Inputs {
  constructor(private readonly reader: InputReader) {}

  opt(name: string): string | undefined {
    const v = this.reader.get(name)?.trim();
    return v ? v : DEFAULTS.get(name);
  }

  req(name: string, why: string): string {
    const v = this.opt(name);
    if (v === undefined) throw new ConfigError(`Input '${name}' is required ${why}`);
    return v;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const v = this.opt(name);
    if (v === undefined) return undefined;
    const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!hit) throw bad(name, v, `it must be one of ${allowed.join(', ')}`);
    return hit;
  }

  /** GitHub's YAML 1.2 core booleans (what getBooleanInput accepts). */
  bool(name: string): boolean {
    const v = this.opt(name) ?? 'false';
    if (['true', 'True', 'TRUE'].includes(v)) return true;
    if (['false', 'False', 'FALSE'].includes(v)) return false;
    throw bad(name, v, 'it must be true or false');
  }

  int(name: string, min: number, max: number, why = ''): number {
    const v = this.opt(name)!;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw bad(name, v, `it must be a whole number from ${min} to ${max}${why}`);
    return Number(v);
  }

  number(name: string, min: number, max: number): number {
    const v = this.opt(name)!;
    if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= min || Number(v) > max) throw bad(name, v, `it must be a number greater than ${min} and at most ${max}`);
    return Number(v);
  }

  /** Comma- or newline-separated, blanks dropped. */
  list(name: string): string[] {
    return (this.opt(name) ?? '')
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean);
  }
}

const PIPELINE_NAME = /^[a-zA-Z0-9]{5,50}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REGISTRY_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i;
const UAI_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;
const RESOURCE_GROUP = /^[-\w._()]{1,90}$/;
// Blob names: keep to what every tool carries safely across clouds.
const BLOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

function pipelineName(inp: Inputs, name: string): string {
  const v = inp.opt(name)!;
  if (!PIPELINE_NAME.test(v)) throw bad(name, v, 'it must be 5 to 50 letters or digits (no hyphens or underscores)');
  return v;
}

function httpsUrl(inp: Inputs, name: string, what: string): string | undefined {
  const v = inp.opt(name);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(name, redactUrl(v), `it must be an https URL of ${what}`);
  }
  if (u.protocol !== 'https:') throw bad(name, redactUrl(v), `it must be an https URL of ${what} (the service refuses http)`);
  if (u.search) throw bad(name, redactUrl(v), `it must be the URL of ${what} without a query string; keep SAS tokens in Key Vault`);
  return v.replace(/\/+$/, '');
}

function redactUrl(v: string): string {
  return v.replace(/([?&]sig=)[^&]+/gi, '$1REDACTED');
}

function storageUri(inp: Inputs, name: string): string | undefined {
  const v = httpsUrl(inp, name, 'a blob container, e.g. https://account.blob.core.windows.net/transfer');
  if (v === undefined) return undefined;
  const segments = new URL(v).pathname.split('/').filter(Boolean);
  // Path-style endpoints (emulators, Azure Stack by IP) carry the account as the first segment.
  if (segments.length < 1 || segments.length > 2 || !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(segments[segments.length - 1]!)) {
    throw bad(
      name,
      v,
      'it must be the URL of one blob container, e.g. https://account.blob.core.windows.net/transfer (container names: 3-63 lower-case letters, digits and single hyphens)',
    );
  }
  return v;
}

function secretUri(inp: Inputs, name: string): string | undefined {
  const v = httpsUrl(inp, name, 'a Key Vault secret, e.g. https://myvault.vault.azure.net/secrets/acrexportsas');
  if (v === undefined) return undefined;
  if (!/^\/secrets\/[0-9a-zA-Z-]{1,127}(?:\/[0-9a-f]{32})?$/.test(new URL(v).pathname)) {
    throw bad(name, v, 'it must be a Key Vault secret URI, https://<vault>/secrets/<name>[/<version>]');
  }
  return v;
}

function options<O extends string>(inp: Inputs, name: string, allowed: readonly O[]): O[] {
  const out: O[] = [];
  for (const v of inp.list(name)) {
    const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!hit) throw bad(name, v, `each option must be one of ${allowed.join(', ')}`);
    if (!out.includes(hit)) out.push(hit);
  }
  return out;
}

function registry(inp: Inputs, which: 'source' | 'target', subscriptionId: string | undefined): RegistryRef | undefined {
  const input = `${which}-registry`;
  const v = inp.opt(input);
  if (v === undefined) return undefined;
  const m = REGISTRY_ID.exec(v);
  if (m) {
    const [, sub, rg, name] = m as unknown as [string, string, string, string];
    if (!PIPELINE_NAME.test(name)) throw bad(input, v, 'the registry name must be 5 to 50 letters or digits');
    return { subscriptionId: sub, resourceGroup: rg, name, resourceId: v };
  }
  if (v.startsWith('/'))
    throw bad(input, v, 'a resource id must look like /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>');
  if (!PIPELINE_NAME.test(v)) throw bad(input, v, 'it must be a registry name (5 to 50 letters or digits) or a full resource id');
  const rg = inp.opt(`${which}-resource-group`);
  if (rg === undefined)
    throw new ConfigError(`Input '${which}-resource-group' is required when '${input}' is a name ('${v}'); or give the registry's full resource id`);
  if (!RESOURCE_GROUP.test(rg)) throw bad(`${which}-resource-group`, rg, 'it must be 1 to 90 letters, digits, hyphens, underscores, periods or parentheses');
  if (subscriptionId === undefined)
    throw new ConfigError(`Input 'subscription-id' is required when '${input}' is a name ('${v}'); or give the registry's full resource id`);
  return {
    subscriptionId,
    resourceGroup: rg,
    name: v,
    resourceId: `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.ContainerRegistry/registries/${v}`,
  };
}

/** Which registries and inputs each operation needs. */
const NEEDS: Record<Operation, { source: boolean; target: boolean; artifacts: boolean }> = {
  export: { source: true, target: false, artifacts: true },
  import: { source: false, target: true, artifacts: false },
  copy: { source: false, target: false, artifacts: false },
  transfer: { source: true, target: true, artifacts: true },
  setup: { source: false, target: false, artifacts: false },
  check: { source: false, target: false, artifacts: false },
  cleanup: { source: false, target: false, artifacts: false },
};

function auth(inp: Inputs): AuthSettings {
  const type = inp.oneOf('auth-type', AUTH_TYPES) ?? 'auto';
  const environment = inp.oneOf('environment', CLOUDS) ?? 'AzureCloud';
  let clientId = inp.opt('client-id');
  let tenantId = inp.opt('tenant-id');
  let clientSecret = inp.opt('client-secret');
  let resourceManagerEndpoint = httpsUrl(inp, 'resource-manager-endpoint', 'an Azure Resource Manager endpoint');
  const credsText = inp.opt('creds');
  if (credsText !== undefined) {
    let creds: unknown;
    try {
      creds = JSON.parse(credsText);
    } catch {
      throw new ConfigError("Input 'creds' is not valid JSON: it must be an azure/login-style object with clientId, clientSecret and tenantId");
    }
    // `null`, a string or an array parse as JSON too; the value is a secret, so it is not repeated here.
    if (creds === null || typeof creds !== 'object' || Array.isArray(creds))
      throw new ConfigError("Input 'creds' is not a JSON object: it must be an azure/login-style object with clientId, clientSecret and tenantId");
    const fields = creds as Record<string, unknown>;
    const str = (k: string): string | undefined => (typeof fields[k] === 'string' && fields[k] ? (fields[k] as string) : undefined);
    // Like azure/login: explicit inputs win over the JSON.
    clientId ??= str('clientId');
    tenantId ??= str('tenantId');
    clientSecret ??= str('clientSecret');
    resourceManagerEndpoint ??= str('resourceManagerEndpointUrl')?.replace(/\/+$/, '');
  }
  for (const [name, v] of [
    ['client-id', clientId],
    ['tenant-id', tenantId],
  ] as const) {
    if (v !== undefined && !GUID.test(v) && !(name === 'tenant-id' && /^[a-z0-9.-]+$/i.test(v))) throw bad(name, v, 'it must be a GUID');
  }
  let clientCertificate = inp.opt('client-certificate');
  if (clientCertificate !== undefined && !clientCertificate.includes('-----BEGIN')) clientCertificate = `@file:${clientCertificate}`;
  if (environment === 'AzureStack' && resourceManagerEndpoint === undefined) {
    throw new ConfigError("Input 'resource-manager-endpoint' is required when 'environment' is AzureStack");
  }
  if (type === 'oidc' || type === 'service-principal') {
    if (clientId === undefined) throw new ConfigError(`Input 'client-id' is required when 'auth-type' is ${type}`);
    if (tenantId === undefined) throw new ConfigError(`Input 'tenant-id' is required when 'auth-type' is ${type}`);
  }
  if (type === 'service-principal' && clientSecret === undefined && clientCertificate === undefined) {
    throw new ConfigError("Input 'client-secret' (or 'client-certificate', or 'creds') is required when 'auth-type' is service-principal");
  }
  const authorityHost = httpsUrl(inp, 'authority-host', 'an Entra authority host');
  return {
    type,
    audience: inp.opt('audience')!,
    environment,
    ...(clientId !== undefined ? { clientId } : {}),
    ...(tenantId !== undefined ? { tenantId } : {}),
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    ...(clientCertificate !== undefined ? { clientCertificate } : {}),
    ...(resourceManagerEndpoint !== undefined ? { resourceManagerEndpoint } : {}),
    ...(authorityHost !== undefined ? { authorityHost } : {}),
  };
}

/**
 * Reads and checks every input once. Throws ConfigError (one line: input, value, what is allowed) on the
 * first bad one, before anything talks to Azure.
 */
export function parseSettings(reader: InputReader): TransferSettings {
  const inp = new Inputs(reader);
  const operation = inp.oneOf('operation', OPERATIONS);
  if (operation === undefined) throw new ConfigError(`Input 'operation' is required: one of ${OPERATIONS.join(', ')}`);
  const needs = NEEDS[operation];
  const authSettings = auth(inp);
  const subscriptionId = inp.opt('subscription-id');
  if (subscriptionId !== undefined && !GUID.test(subscriptionId)) throw bad('subscription-id', subscriptionId, 'it must be a subscription id (a GUID)');
  const source = registry(inp, 'source', subscriptionId);
  const target = registry(inp, 'target', subscriptionId);
  if (needs.source && !source) throw new ConfigError(`Input 'source-registry' is required for operation '${operation}'`);
  if (needs.target && !target) throw new ConfigError(`Input 'target-registry' is required for operation '${operation}'`);

  const storageAccessMode = inp.oneOf('storage-access-mode', ['sas-token', 'managed-identity'] as const)!;
  const exportPipeline: PipelineSettings<ExportOption> = {
    name: pipelineName(inp, 'export-pipeline'),
    options: options(inp, 'export-options', EXPORT_OPTIONS),
    ...optional('storageUri', storageUri(inp, 'export-storage-uri')),
    ...optional('sasSecretUri', secretUri(inp, 'export-sas-secret-uri')),
  };
  const importPipeline: PipelineSettings<ImportOption> = {
    name: pipelineName(inp, 'import-pipeline'),
    options: options(inp, 'import-options', IMPORT_OPTIONS),
    ...optional('storageUri', storageUri(inp, 'import-storage-uri')),
    ...optional('sasSecretUri', secretUri(inp, 'import-sas-secret-uri')),
  };
  for (const [p, side] of [
    [exportPipeline, 'export'],
    [importPipeline, 'import'],
  ] as const) {
    if (storageAccessMode === 'sas-token' && p.storageUri !== undefined && p.sasSecretUri === undefined) {
      throw new ConfigError(`Input '${side}-sas-secret-uri' is required with '${side}-storage-uri' when 'storage-access-mode' is sas-token`);
    }
    if (storageAccessMode === 'managed-identity' && p.sasSecretUri !== undefined) {
      throw bad(
        `${side}-sas-secret-uri`,
        p.sasSecretUri,
        "it must not be set when 'storage-access-mode' is managed-identity (the pipeline identity reaches storage; no Key Vault)",
      );
    }
  }

  const identityText = inp.opt('pipeline-identity')!;
  let pipelineIdentity: PipelineIdentity;
  if (identityText.toLowerCase() === 'system') pipelineIdentity = { type: 'system' };
  else if (UAI_ID.test(identityText)) pipelineIdentity = { type: 'user', resourceId: identityText };
  else
    throw bad(
      'pipeline-identity',
      identityText,
      'it must be system or the resource id of a user-assigned identity (/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)',
    );

  const apiVersion = inp.opt('api-version')!;
  if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) throw bad('api-version', apiVersion, 'it must look like 2025-06-01-preview');

  const artifacts: ArtifactSpec[] = [];
  const seen = new Set<string>();
  for (const text of inp.list('artifacts')) {
    const a = parseArtifact(text);
    if (a === undefined) throw bad('artifacts', text, ARTIFACT_GRAMMAR);
    const key = printArtifact(a.kind === 'pattern' ? { repository: a.repository, tag: a.tag } : a);
    if (!seen.has(key)) artifacts.push(a);
    seen.add(key);
  }
  if (needs.artifacts && artifacts.length === 0)
    throw new ConfigError(`Input 'artifacts' is required for operation '${operation}': at least one repo, repo:tag or repo@sha256:<digest>`);

  const blobName = inp.opt('blob-name');
  if (blobName !== undefined && !BLOB_NAME.test(blobName))
    throw bad('blob-name', blobName, 'it must be 1 to 200 letters, digits, dots, hyphens or underscores, starting with a letter or digit');
  const blobs = inp.list('blobs');
  for (const b of blobs)
    if (!BLOB_NAME.test(b) && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,1023}$/.test(b))
      throw bad('blobs', b, 'each blob name must be letters, digits, dots, hyphens, underscores or slashes');
  // Checks that depend only on the inputs belong here, before authentication or any Azure read.
  if (operation === 'copy' && blobs.length === 0) throw new ConfigError("Input 'blobs' is required for operation 'copy': the blob names the export wrote");
  if (operation === 'export' && !target && inp.bool('skip-existing'))
    throw new ConfigError("Input 'target-registry' is required with 'skip-existing': its digests decide what to leave out");
  if (operation === 'cleanup' && !source && !target)
    throw new ConfigError(
      "Operation 'cleanup' needs 'source-registry' (the export pipeline and its runs) or 'target-registry' (the import pipeline and its runs)",
    );
  if (operation === 'import' && blobs.length === 0 && !inp.bool('dry-run')) {
    const trigger = inp.oneOf('source-trigger', ['enabled', 'disabled'] as const) === 'enabled';
    if (!trigger)
      throw new ConfigError("Input 'blobs' is required for operation 'import' (the blob names the export wrote), unless 'source-trigger' is enabled");
  }

  const sasSigning = inp.oneOf('sas-signing', SAS_SIGNINGS) ?? 'user-delegation';
  const sasExpiryDays =
    inp.opt('sas-expiry-days') === undefined ? (sasSigning === 'user-delegation' ? USER_DELEGATION_MAX_DAYS : 30) : inp.int('sas-expiry-days', 1, 365);
  if (sasSigning === 'user-delegation' && sasExpiryDays > USER_DELEGATION_MAX_DAYS) {
    throw bad(
      'sas-expiry-days',
      String(sasExpiryDays),
      `a SAS signed with a user-delegation key (sas-signing: user-delegation) cannot outlive the key, which lives at most ${USER_DELEGATION_MAX_DAYS} days: set it to ${USER_DELEGATION_MAX_DAYS} or less and re-run setup before the tokens expire, or set 'sas-signing' to account-key`,
    );
  }

  return {
    operation,
    auth: authSettings,
    ...optional('source', source),
    ...optional('target', target),
    exportPipeline,
    importPipeline,
    sourceTrigger: inp.oneOf('source-trigger', ['enabled', 'disabled'] as const) === 'enabled',
    storageAccessMode,
    pipelineIdentity,
    apiVersion,
    artifacts,
    ...optional('blobName', blobName),
    blobs,
    maxArtifactsPerRun: inp.int('max-artifacts-per-run', 1, MAX_ARTIFACTS_PER_RUN, ' (the service allows at most 50 artifacts per pipeline run)'),
    maxParallelRuns: inp.int('max-parallel-runs', 1, 50),
    skipExisting: inp.bool('skip-existing'),
    verify: inp.bool('verify'),
    timeoutMinutes: inp.number('timeout-minutes', 0, 10080),
    dryRun: inp.bool('dry-run'),
    preflight: inp.bool('preflight'),
    sasExpiryDays,
    sasSigning,
    grantAccess: inp.bool('grant-access'),
    olderThanDays: inp.int('older-than-days', 0, 3650),
    failedOnly: inp.bool('failed-only'),
    deleteBlobs: inp.bool('delete-blobs'),
    deletePipelines: inp.bool('delete-pipelines'),
    purgeUntagged: inp.bool('purge-untagged'),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Values that must be masked before anything logs (client secret, certificate, creds JSON). */
export function secretValues(reader: InputReader): string[] {
  return INPUTS.filter((i) => i.secret)
    .map((i) => reader.get(i.name)?.trim())
    .filter((v): v is string => !!v);
}
