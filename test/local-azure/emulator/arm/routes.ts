/**
 * ARM for the local Azure: registry GET / listUsages and the transfer resources (exportPipelines, importPipelines,
 * pipelineRuns) exactly per test/local-azure/spec/acr-2025-06-01-preview (see the README there), plus
 * `/_control/registries/*` to make a registry non-Premium or disable its export policy.
 *
 * Choices where the real service is undocumented (docs/local-azure.md#open-questions, numbered as there):
 * - LRO style is a knob (`emu.knobs.lroStyle`): `sync` is what recorded traffic shows (PUT 200, DELETE 200 empty;
 *   runs answer 200 in progress and are polled by GET), `async` is what the spec allows (201 + Azure-AsyncOperation,
 *   DELETE 202 + Location). A failed run fails its async operation with the run's pipelineRunErrorMessage (open question 1).
 * - Run requests are checked synchronously at PUT (>50 artifacts, duplicates, bad references → 400) (open question 3).
 * - PUT on an existing pipeline replaces it (200, Updating); deleting a pipeline with a run in progress is 409;
 *   a run must name a pipeline of its own registry; a missing one is 404 ResourceNotFound naming it (open question 6).
 * - No identity in a pipeline PUT means a system-assigned one (what the CLI always sends); an explicit `None` is
 *   400 IdentityRequired, because the pipeline reads its Key Vault secret (SasToken) or the storage account
 *   (ManagedIdentity) as that identity. SasToken mode without keyVaultUri is a 400 at PUT (open question 7).
 * Error codes for these semantic checks are the emulator's own (the real ones are unknown); messages name the value.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { ARM_AUDIENCES, type Emulator, type Json, type PipelineKind, type PipelineRecord } from '../context';
import { bearerToken, correlationHeaders, headerValue, HttpError, readJson, sendJson } from '../http';
import type { Request, Router } from '../router';
import type { Claims } from '../jwt';
import { validate } from './schema';
import { parameter } from './swagger';
import {
  ArmState,
  type Collection,
  collectionOf,
  COLLECTIONS,
  directoryBytes,
  fingerprintOf,
  isTerminal,
  type OperationEntry,
  type OperationView,
  type PipelineEntry,
  props,
  type RegistryState,
  type RunEntry,
  type SkuName,
  stableUuid,
  systemData,
} from './state';

// ---- api-versions (docs/azure-service.md#resources-and-api-versions)

/** Preview versions that carry the transfer resources. */
export const PIPELINE_API_VERSIONS = [
  '2019-12-01-preview',
  '2020-11-01-preview',
  '2021-06-01-preview',
  '2021-08-01-preview',
  '2021-12-01-preview',
  '2022-02-01-preview',
  '2022-12-01-preview',
  '2023-01-01-preview',
  '2023-06-01-preview',
  '2023-08-01-preview',
  '2023-11-01-preview',
  '2024-11-01-preview',
  '2025-03-01-preview',
  '2025-05-01-preview',
  '2025-06-01-preview',
  '2025-12-01-preview',
  '2026-01-01-preview',
  '2026-09-01-preview',
] as const;

/** Registry GET / listUsages also exist in stable versions (and older previews). */
export const REGISTRY_API_VERSIONS = [
  '2016-06-27-preview',
  '2017-03-01',
  '2017-06-01-preview',
  '2017-10-01',
  '2019-05-01',
  '2019-06-01-preview',
  '2021-09-01',
  '2022-12-01',
  '2023-07-01',
  '2025-04-01',
  '2025-11-01',
  '2026-11-01',
  ...PIPELINE_API_VERSIONS,
].sort();

/** `storageAccessMode` (Managed Identity access to storage) exists from this version on (docs/azure-service.md#resources-and-api-versions). */
const STORAGE_ACCESS_MODE_SINCE = '2025-06-01';

const PAGE_SIZE = 20;
const MAX_ARTIFACTS = 50;
export const RESOURCE_NOT_FOUND_HELP = 'For more details please go to https://aka.ms/ARMResourceNotFoundFix';

const EXPORT_OPTIONS = ['OverwriteBlobs', 'ContinueOnErrors'];
const IMPORT_OPTIONS = ['OverwriteTags', 'DeleteSourceBlobOnSuccess', 'ContinueOnErrors'];
const ALL_OPTIONS = ['OverwriteTags', 'OverwriteBlobs', 'DeleteSourceBlobOnSuccess', 'ContinueOnErrors'];
const ACCESS_MODES = ['SasToken', 'ManagedIdentity'];

// ---- request bodies after schema validation

interface StorageSideIn {
  type?: string;
  uri?: string;
  keyVaultUri?: string;
  storageAccessMode?: string;
}

interface IdentityIn {
  type?: string;
  userAssignedIdentities?: Record<string, unknown>;
}

interface PipelineIn {
  location?: string;
  identity?: IdentityIn;
  properties?: { target?: StorageSideIn; source?: StorageSideIn; options?: string[]; trigger?: { sourceTrigger?: { status?: string } } };
}

interface BlobRef {
  type?: string;
  name?: string;
}

interface RunRequestIn {
  pipelineResourceId?: string;
  artifacts?: string[];
  source?: BlobRef;
  target?: BlobRef;
  catalogDigest?: string;
}

interface RunIn {
  properties?: { request?: RunRequestIn; forceUpdateTag?: string };
}

interface Caller {
  by: string;
  type: string;
}

/** Everything a handler needs once the common checks have passed. */
interface Ctx {
  readonly req: Request;
  readonly res: ServerResponse;
  readonly corr: Record<string, string>;
  readonly apiVersion: string;
  readonly caller: Caller;
  readonly reg: RegistryState;
}

// ---- errors

export function fail(status: number, code: string, message: string, target?: string, extra: Record<string, string> = {}): HttpError {
  return new HttpError(status, { error: { code, message, ...(target !== undefined ? { target } : {}) } }, extra);
}

const bad = (code: string, message: string, target?: string): HttpError => fail(400, code, message, target);

function notFound(rg: string, typePath: string): HttpError {
  return fail(404, 'ResourceNotFound', `The Resource '${typePath}' under resource group '${rg}' was not found. ${RESOURCE_NOT_FOUND_HELP}`);
}

// ---- common checks: auth, api-version, subscription, resource group, names

function wwwAuthenticate(emu: Emulator, description: string): Record<string, string> {
  const d = description.replace(/["\\]/g, "'");
  return { 'www-authenticate': `Bearer authorization_uri="${emu.baseUrl}/${emu.config.tenantId}", error="invalid_token", error_description="${d}"` };
}

export function authenticate(emu: Emulator, req: Request): Claims {
  if (!headerValue(req.headers.authorization)) {
    throw fail(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
      undefined,
      wwwAuthenticate(emu, "The authentication failed because of missing 'Authorization' header."),
    );
  }
  const token = bearerToken(req);
  if (!token) {
    const message = "Authentication failed. The 'Authorization' header is provided in an invalid format.";
    throw fail(401, 'AuthenticationFailedInvalidHeader', message, undefined, wwwAuthenticate(emu, message));
  }
  const r = emu.tokens.verifyAccessToken(token, ARM_AUDIENCES);
  if (!r.ok) throw fail(r.status, r.code, r.message, undefined, wwwAuthenticate(emu, r.message));
  return r.claims;
}

function callerOf(claims: Claims): Caller {
  const user = claims['upn'] ?? claims['unique_name'] ?? claims['preferred_username'];
  if (typeof user === 'string') return { by: user, type: 'User' };
  const app = claims['appid'] ?? claims['azp'] ?? claims['oid'] ?? claims.sub;
  return { by: typeof app === 'string' ? app : 'unknown', type: claims['xms_mirid'] !== undefined ? 'ManagedIdentity' : 'Application' };
}

function requireApiVersion(req: Request): string {
  const v = req.url.searchParams.get('api-version');
  if (!v) throw bad('MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  return v.toLowerCase();
}

/** ARM's two wordings: a known version without this type (InvalidResourceType), an unknown version (NoRegisteredProviderFound). */
function checkApiVersion(emu: Emulator, v: string, collection: Collection | undefined): void {
  const supported: readonly string[] = collection ? PIPELINE_API_VERSIONS : REGISTRY_API_VERSIONS;
  if (supported.includes(v)) return;
  const list = supported.join(', ');
  if (collection && REGISTRY_API_VERSIONS.includes(v)) {
    throw bad(
      'InvalidResourceType',
      `The resource type '${collection}' could not be found in the namespace 'Microsoft.ContainerRegistry' for api version '${v}'. The supported api-versions are '${list}'.`,
    );
  }
  const type = collection ? `registries/${collection}` : 'registries';
  const loc = emu.config.location;
  throw bad(
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${loc}' and API version '${v}' for type '${type}'. The supported api-versions are '${list}'. The supported locations are '${loc}'.`,
  );
}

export function checkSubscription(emu: Emulator, sub: string): void {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sub))
    throw bad('InvalidSubscriptionId', `The provided subscription identifier '${sub}' is malformed or invalid.`);
  if (sub.toLowerCase() !== emu.config.subscriptionId.toLowerCase()) throw fail(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
}

export function checkScope(emu: Emulator, sub: string, rg: string): void {
  checkSubscription(emu, sub);
  if (rg.toLowerCase() !== emu.config.resourceGroup.toLowerCase()) throw fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
}

/** Path names follow the swagger's parameter rules (5–50 chars, `^[a-zA-Z0-9]*$`). */
function checkName(parameterName: string, value: string): void {
  const p = parameter(parameterName);
  const okLength = (p.minLength === undefined || value.length >= p.minLength) && (p.maxLength === undefined || value.length <= p.maxLength);
  const okPattern = p.pattern === undefined || new RegExp(p.pattern).test(value);
  if (okLength && okPattern) return;
  throw bad(
    'InvalidResourceName',
    `The value '${value}' of parameter '${parameterName}' is invalid: it must be ${p.minLength ?? 0} to ${p.maxLength ?? '∞'} characters long and match the pattern '${p.pattern ?? '.*'}'.`,
    parameterName,
  );
}

const NAME_PARAMETER: Readonly<Record<Collection, string>> = {
  exportPipelines: 'exportPipelineName',
  importPipelines: 'importPipelineName',
  pipelineRuns: 'pipelineRunName',
};

function registryTypePath(reg: RegistryState | string): string {
  return `Microsoft.ContainerRegistry/registries/${typeof reg === 'string' ? reg : reg.name}`;
}

type ArmHandler = (ctx: Ctx) => Promise<void> | void;

/** Wraps a handler with the checks every ARM call gets, in ARM's order, and puts the correlation headers on every answer. */
function armRoute(emu: Emulator, state: ArmState, handler: ArmHandler) {
  return async (req: Request, res: ServerResponse): Promise<void> => {
    const corr = correlationHeaders(req);
    try {
      const claims = authenticate(emu, req);
      const apiVersion = requireApiVersion(req);
      const { sub = '', rg = '', registry = '', collection, name } = req.params;
      const coll = collection ? canonicalCollection(collection) : undefined;
      checkScope(emu, sub, rg);
      checkApiVersion(emu, apiVersion, coll);
      checkName('registryName', registry);
      const reg = state.registry(registry);
      if (!reg) throw notFound(rg, registryTypePath(registry));
      if (coll && name !== undefined) checkName(NAME_PARAMETER[coll], name);
      state.sweep();
      await handler({ req, res, corr, apiVersion, caller: callerOf(claims), reg });
    } catch (e) {
      if (e instanceof HttpError) throw new HttpError(e.status, e.body, { ...corr, ...e.headers });
      throw e;
    }
  };
}

function canonicalCollection(s: string): Collection {
  const found = (Object.keys(COLLECTIONS) as Collection[]).find((c) => c.toLowerCase() === s.toLowerCase());
  if (!found) throw new Error(`unknown collection ${s}`);
  return found;
}

function send(ctx: Ctx, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJson(ctx.res, status, body, { ...ctx.corr, ...headers });
}

// ---- rendering

function supportsAccessMode(apiVersion: string): boolean {
  return apiVersion.slice(0, 10) >= STORAGE_ACCESS_MODE_SINCE;
}

/** A stored resource as the given api-version shows it: older versions have no storageAccessMode. */
function render(resource: Json, apiVersion: string): Json {
  const out = structuredClone(resource);
  if (supportsAccessMode(apiVersion)) return out;
  const p = (out['properties'] ?? {}) as Json;
  const response = (p['response'] ?? {}) as Json;
  for (const side of [p['target'], p['source'], response['target'], response['source']]) {
    if (side && typeof side === 'object') delete (side as Json)['storageAccessMode'];
  }
  return out;
}

// ---- registry GET and listUsages (docs/azure-service.md#registry-and-usage)

function registryBody(emu: Emulator, state: ArmState, reg: RegistryState): Json {
  const at = state.createdAt;
  const premium = reg.sku === 'Premium';
  return {
    id: state.registryId(reg),
    name: reg.name,
    type: 'Microsoft.ContainerRegistry/registries',
    location: emu.config.location,
    tags: {},
    systemData: systemData({ by: emu.config.clientId, type: 'Application' }, at),
    sku: { name: reg.sku, tier: reg.sku },
    properties: {
      loginServer: `${emu.config.host}:${reg.config.port}`.toLowerCase(),
      creationDate: at,
      provisioningState: 'Succeeded',
      adminUserEnabled: false,
      ...(premium ? { networkRuleSet: { defaultAction: 'Allow', ipRules: [] } } : {}),
      policies: {
        quarantinePolicy: { status: 'disabled' },
        trustPolicy: { type: 'Notary', status: 'disabled' },
        retentionPolicy: { days: 7, lastUpdatedTime: at, status: 'disabled' },
        exportPolicy: { status: reg.exportPolicy },
        azureADAuthenticationAsArmPolicy: { status: 'enabled' },
        softDeletePolicy: { retentionDays: 7, lastUpdatedTime: at, status: 'disabled' },
      },
      encryption: { status: 'disabled' },
      dataEndpointEnabled: false,
      dataEndpointHostNames: [],
      privateEndpointConnections: [],
      publicNetworkAccess: 'Enabled',
      networkRuleBypassOptions: 'AzureServices',
      networkRuleBypassAllowedForTasks: false,
      zoneRedundancy: 'Disabled',
      anonymousPullEnabled: false,
      metadataSearch: 'Disabled',
      autoGeneratedDomainNameLabelScope: 'Unsecure',
      roleAssignmentMode: 'LegacyRegistryPermissions',
    },
  };
}

/** Included storage and feature limits per SKU (Learn: container-registry-skus). */
const SKU_LIMITS: Readonly<Record<SkuName, { size: number; webhooks: number; geo: number; ipRules: number; vnetRules: number; privateEndpoints: number }>> = {
  Basic: { size: 10737418240, webhooks: 2, geo: 0, ipRules: 0, vnetRules: 0, privateEndpoints: 0 },
  Standard: { size: 107374182400, webhooks: 10, geo: 0, ipRules: 0, vnetRules: 0, privateEndpoints: 0 },
  Premium: { size: 536870912000, webhooks: 500, geo: -1, ipRules: 200, vnetRules: 100, privateEndpoints: 200 },
};

async function usagesBody(reg: RegistryState): Promise<Json> {
  const l = SKU_LIMITS[reg.sku];
  const count = (name: string, limit: number): Json => ({ name, limit, currentValue: 0, unit: 'Count' });
  return {
    value: [
      { name: 'Size', limit: l.size, currentValue: await directoryBytes(reg.config.rootDir), unit: 'Bytes' },
      count('Webhooks', l.webhooks),
      count('Geo-replications', l.geo),
      count('IPRules', l.ipRules),
      count('VNetRules', l.vnetRules),
      count('PrivateEndpointConnections', l.privateEndpoints),
    ],
  };
}

// ---- body checks shared by the PUTs

async function bodyOf(ctx: Ctx, definition: string): Promise<Json> {
  const body = await readJson(ctx.req);
  if (body === undefined)
    throw bad('InvalidRequestContent', `The request content was invalid and could not be deserialized: the body is empty; a JSON ${definition} is required.`);
  const errors = validate(definition, body, 'request');
  if (errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (${errors.length - 1} more problem${errors.length > 2 ? 's' : ''} in details)` : '';
    throw new HttpError(400, {
      error: {
        code: 'InvalidRequestContent',
        message: `The request content was invalid and could not be deserialized: '${first.message}. Path '${first.path}'.'${more}`,
        target: first.path,
        details: errors.map((e) => ({ code: 'InvalidRequestContent', target: e.path, message: `${e.message}. Path '${e.path}'.` })),
      },
    });
  }
  return body as Json;
}

function requirePremium(reg: RegistryState): void {
  if (reg.sku !== 'Premium') {
    throw bad(
      'RegistrySkuNotSupported',
      `Transfer pipelines require the Premium SKU; registry '${reg.name}' has the '${reg.sku}' SKU. Upgrade the registry to Premium to use export/import pipelines.`,
    );
  }
}

function requireExportPolicy(reg: RegistryState): void {
  if (reg.exportPolicy !== 'enabled') {
    throw bad(
      'ExportPolicyDisabled',
      `Exports are not allowed from registry '${reg.name}': its export policy (properties.policies.exportPolicy.status) is 'disabled'. Enable the export policy to create or run export pipelines.`,
    );
  }
}

// ---- pipelines

const SECRET_URI = /^\/secrets\/[0-9a-zA-Z-]{1,127}(\/[0-9a-zA-Z]{32})?\/?$/;

function isHttpsUrl(s: string): URL | undefined {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' && u.hostname !== '' ? u : undefined;
  } catch {
    return undefined;
  }
}

/** Key Vault secret URIs: https://{vault}/secrets/{name}[/{version}]; the local vault may sit under a path prefix. */
function isSecretUri(s: string): boolean {
  const u = isHttpsUrl(s);
  if (!u || u.search !== '') return false;
  const i = u.pathname.indexOf('/secrets/');
  return i >= 0 && SECRET_URI.test(u.pathname.slice(i));
}

interface SideOut {
  out: Json;
  mode: string;
}

function checkStorageSide(side: StorageSideIn | undefined, at: string, apiVersion: string): SideOut {
  if (!side)
    throw bad(
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: 'Required property '${at.split('.').pop()}' is missing. Path '${at}'.'`,
      at,
    );
  if (side.storageAccessMode !== undefined && !supportsAccessMode(apiVersion)) {
    // Older api-versions do not know the member: ARM's deserializer rejects it the way it rejects a typo.
    throw bad(
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: 'Could not find member 'storageAccessMode' on object of type '${at.endsWith('target') ? 'ExportPipelineTargetProperties' : 'ImportPipelineSourceProperties'}'. Path '${at}.storageAccessMode'.' storageAccessMode needs api-version ${STORAGE_ACCESS_MODE_SINCE}-preview or later; this request uses '${apiVersion}'.`,
      `${at}.storageAccessMode`,
    );
  }
  const mode = side.storageAccessMode ?? 'SasToken';
  if (!ACCESS_MODES.includes(mode))
    throw bad('InvalidStorageAccessMode', `'${mode}' is not a storage access mode; use one of ${ACCESS_MODES.join(', ')}.`, `${at}.storageAccessMode`);
  if (side.type && side.type !== 'AzureStorageBlobContainer') {
    throw bad('InvalidParameter', `The ${at}.type '${side.type}' is not supported; pipelines use 'AzureStorageBlobContainer'.`, `${at}.type`);
  }
  if (!side.uri)
    throw bad(
      'InvalidStorageUri',
      `${at}.uri is required: the https URL of the storage container, e.g. https://account.blob.core.windows.net/container.`,
      `${at}.uri`,
    );
  const u = isHttpsUrl(side.uri);
  if (!u || u.pathname.replace(/\/+$/, '') === '') {
    throw bad(
      'InvalidStorageUri',
      `The ${at}.uri '${side.uri}' is not an https URL of a storage container (https://account.blob.core.windows.net/container).`,
      `${at}.uri`,
    );
  }
  if (mode === 'SasToken') {
    if (!side.keyVaultUri) {
      throw bad(
        'KeyVaultUriRequired',
        `${at}.keyVaultUri is required in SasToken storage access mode: the Key Vault secret URI holding the SAS token.`,
        `${at}.keyVaultUri`,
      );
    }
    if (!isSecretUri(side.keyVaultUri)) {
      throw bad(
        'InvalidKeyVaultUri',
        `The ${at}.keyVaultUri '${side.keyVaultUri}' is not a Key Vault secret URI (https://{vault}.vault.azure.net/secrets/{name}[/{version}]).`,
        `${at}.keyVaultUri`,
      );
    }
  }
  // In ManagedIdentity mode the service keeps no Key Vault URI and omits it (observed; docs/azure-service.md#resources-and-api-versions).
  const out: Json = {
    type: side.type || 'AzureStorageBlobContainer',
    uri: side.uri,
    ...(mode === 'SasToken' ? { keyVaultUri: side.keyVaultUri } : {}),
    storageAccessMode: mode,
  };
  return { out, mode };
}

function checkOptions(kind: PipelineKind, options: readonly string[] | undefined): string[] | undefined {
  if (!options || options.length === 0) return undefined;
  const allowed = kind === 'export' ? EXPORT_OPTIONS : IMPORT_OPTIONS;
  options.forEach((o, i) => {
    const at = `properties.options[${i}]`;
    if (!ALL_OPTIONS.includes(o)) throw bad('InvalidPipelineOption', `'${o}' is not a pipeline option; ${kind} pipelines accept ${allowed.join(', ')}.`, at);
    if (!allowed.includes(o))
      throw bad('InvalidPipelineOption', `The option '${o}' does not apply to ${kind} pipelines; ${kind} pipelines accept ${allowed.join(', ')}.`, at);
  });
  return [...options];
}

const UAI_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;

/**
 * The identity as the service returns it. Its `type` is camelCase although the swagger enum is PascalCase: the real
 * service does that (observed; docs/azure-service.md#identity-types-in-responses), and clients must compare case-insensitively.
 */
function buildIdentity(
  emu: Emulator,
  input: IdentityIn | undefined,
  mode: string,
  existing: PipelineEntry | undefined,
): { identity?: Json; systemPrincipalId?: string } {
  const type = input?.type ?? 'SystemAssigned';
  if (type === 'None') {
    const why =
      mode === 'ManagedIdentity' ? 'in ManagedIdentity mode it authenticates to the storage account' : 'in SasToken mode it reads the SAS token from Key Vault';
    throw bad(
      'IdentityRequired',
      `The pipeline needs a managed identity (identity.type 'None' was given): ${why}. Use SystemAssigned or UserAssigned.`,
      'identity.type',
    );
  }
  const system = type.includes('SystemAssigned');
  const user = type.includes('UserAssigned');
  const uais = Object.keys(input?.userAssignedIdentities ?? {});
  if (user && uais.length === 0)
    throw bad('InvalidIdentity', `identity.type '${type}' needs at least one entry in identity.userAssignedIdentities.`, 'identity.userAssignedIdentities');
  if (!user && uais.length > 0)
    throw bad(
      'InvalidIdentity',
      `identity.userAssignedIdentities is only allowed when identity.type includes UserAssigned (got '${type}').`,
      'identity.userAssignedIdentities',
    );
  const badId = uais.find((id) => !UAI_ID.test(id));
  if (badId !== undefined) {
    throw bad(
      'InvalidIdentity',
      `'${badId}' is not a user-assigned identity resource id (/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}).`,
      'identity.userAssignedIdentities',
    );
  }
  const systemPrincipalId = system ? (existing?.systemPrincipalId ?? randomUUID()) : undefined;
  const identity: Json = {
    type: [system ? 'systemAssigned' : '', user ? 'userAssigned' : ''].filter(Boolean).join(', '),
    ...(systemPrincipalId ? { principalId: systemPrincipalId, tenantId: emu.config.tenantId } : {}),
    ...(user
      ? {
          userAssignedIdentities: Object.fromEntries(
            uais.map((id) => [id, { principalId: stableUuid(`principal:${id.toLowerCase()}`), clientId: stableUuid(`client:${id.toLowerCase()}`) }]),
          ),
        }
      : {}),
  };
  return { identity, ...(systemPrincipalId ? { systemPrincipalId } : {}) };
}

function checkTrigger(trigger: NonNullable<PipelineIn['properties']>['trigger']): Json {
  const status = trigger?.sourceTrigger?.status ?? 'Enabled';
  if (status !== 'Enabled' && status !== 'Disabled') {
    throw bad(
      'InvalidParameter',
      `The properties.trigger.sourceTrigger.status '${status}' is not valid; use Enabled or Disabled.`,
      'properties.trigger.sourceTrigger.status',
    );
  }
  return { sourceTrigger: { status } };
}

function inProgressConflict(what: string, state: string): HttpError {
  return fail(409, 'Conflict', `${what} is in provisioning state '${state}'; wait for the current operation to finish and retry.`);
}

async function putPipeline(emu: Emulator, state: ArmState, ctx: Ctx, kind: PipelineKind, name: string): Promise<void> {
  const collection = collectionOf(kind);
  const body = (await bodyOf(ctx, kind === 'export' ? 'ExportPipeline' : 'ImportPipeline')) as PipelineIn;
  if (!body.properties)
    throw bad(
      'InvalidRequestContent',
      "The request content was invalid and could not be deserialized: 'Required property 'properties' is missing. Path 'properties'.'",
      'properties',
    );
  requirePremium(ctx.reg);
  if (kind === 'export') requireExportPolicy(ctx.reg);
  const existing = state.pipelineEntry(ctx.reg.name, kind, name);
  if (existing && (existing.deleteAt !== undefined || existing.readyAt !== undefined)) {
    throw inProgressConflict(`The ${kind} pipeline '${existing.name}'`, String(props(existing.resource)['provisioningState']));
  }
  const sideName = kind === 'export' ? 'target' : 'source';
  const side = checkStorageSide(body.properties[sideName], `properties.${sideName}`, ctx.apiVersion);
  const options = checkOptions(kind, body.properties.options);
  const { identity, systemPrincipalId } = buildIdentity(emu, body.identity, side.mode, existing);
  const isAsync = emu.knobs.lroStyle === 'async';
  const now = new Date().toISOString();
  const provisioningState = isAsync ? (existing ? 'Updating' : 'Creating') : 'Succeeded';
  const created = (existing?.resource['systemData'] as Json | undefined)?.['createdAt'];
  const resourceName = existing?.name ?? name;
  const resource: Json = {
    id: state.resourceId(ctx.reg, collection, resourceName),
    name: resourceName,
    type: COLLECTIONS[collection].type,
    systemData: systemData(ctx.caller, typeof created === 'string' ? created : now, { ...ctx.caller, at: now }),
    ...(body.location ? { location: body.location } : {}),
    ...(identity ? { identity } : {}),
    properties: {
      [sideName]: side.out,
      ...(kind === 'import' ? { trigger: checkTrigger(body.properties.trigger) } : {}),
      ...(options ? { options } : {}),
      provisioningState,
    },
  };
  const readyAt = isAsync ? Date.now() + emu.knobs.pipelineProvisioningMs : undefined;
  const entry = state.putPipeline(ctx.reg.name, kind, name, resource, {
    ...(systemPrincipalId ? { systemPrincipalId } : {}),
    ...(readyAt !== undefined ? { readyAt } : {}),
  });
  if (!isAsync) return send(ctx, 200, render(resource, ctx.apiVersion));
  const generation = entry.putGeneration;
  const op = state.newOperation(collection, String(resource['id']), 'async', () => pipelinePutView(state, entry, generation));
  send(ctx, existing ? 200 : 201, render(resource, ctx.apiVersion), asyncHeaders(emu, state, op, ctx.apiVersion, 'azure-asyncoperation'));
}

function pipelinePutView(state: ArmState, entry: PipelineEntry, generation: number): OperationView {
  const current = state.pipelineEntry(entry.registry, entry.kind, entry.name);
  if (!current || current.putGeneration !== generation || current.deleteAt !== undefined) return { status: 'Canceled' };
  return { status: current.readyAt === undefined ? 'Succeeded' : 'InProgress' };
}

function asyncHeaders(
  emu: Emulator,
  state: ArmState,
  op: OperationEntry,
  apiVersion: string,
  header: 'azure-asyncoperation' | 'location',
): Record<string, string> {
  return { [header]: state.operationUrl(op, apiVersion), 'retry-after': String(emu.knobs.asyncRetryAfterSeconds) };
}

// ---- runs

const PIPELINE_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)\/(exportPipelines|importPipelines)\/([^/]+)$/i;

/** Distribution's reference grammar (lower-case path components; tags; sha256 digests). */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const ARTIFACT_FORMS = "allowed forms: 'repo' (means repo:latest), 'repo:tag', 'repo@sha256:<64 lower-case hex digits>'";

/** Parses an artifact; returns its identity (repo:tag or repo@digest) or throws a 400 naming the problem. */
function artifactKey(a: string, at: string): string {
  const invalid = (why: string): HttpError => bad('InvalidArtifact', `The artifact '${a}' (${at}) is not valid: ${why}; ${ARTIFACT_FORMS}.`, at);
  let repo = a;
  let key: string;
  const atSign = a.indexOf('@');
  if (atSign >= 0) {
    repo = a.slice(0, atSign);
    const digest = a.slice(atSign + 1);
    if (repo.includes(':')) throw invalid('give either a tag or a digest, not both');
    if (!DIGEST.test(digest)) throw invalid(`'${digest}' is not a sha256 digest`);
    key = `${repo}@${digest}`;
  } else {
    const colon = a.lastIndexOf(':');
    const tag = colon >= 0 ? a.slice(colon + 1) : 'latest';
    if (colon >= 0) repo = a.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(`'${tag}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')`);
    key = `${repo}:${tag}`;
  }
  if (repo.length === 0 || repo.length > 255 || !REPOSITORY.test(repo)) {
    throw invalid(`'${repo}' is not a repository name (lower-case letters and digits, components separated by '/', joined by '.', '_', '__' or '-')`);
  }
  return key;
}

function checkArtifacts(artifacts: readonly string[] | undefined): void {
  if (!artifacts || artifacts.length === 0) {
    throw bad(
      'ArtifactsRequired',
      'An export pipeline run needs properties.request.artifacts: the images to export (repo, repo:tag or repo@sha256:digest).',
      'properties.request.artifacts',
    );
  }
  if (artifacts.length > MAX_ARTIFACTS) {
    throw bad(
      'TooManyArtifacts',
      `A pipeline run transfers at most ${MAX_ARTIFACTS} artifacts; properties.request.artifacts has ${artifacts.length}. Split them over several runs.`,
      'properties.request.artifacts',
    );
  }
  const seen = new Map<string, number>();
  artifacts.forEach((a, i) => {
    const at = `properties.request.artifacts[${i}]`;
    const key = artifactKey(a, at);
    const first = seen.get(key);
    if (first !== undefined)
      throw bad('DuplicateArtifact', `The artifact '${a}' (${at}) repeats properties.request.artifacts[${first}] ('${artifacts[first]}').`, at);
    seen.set(key, i);
  });
}

function checkBlobRef(ref: BlobRef | undefined, at: string): void {
  if (ref?.type && ref.type !== 'AzureStorageBlob')
    throw bad('InvalidParameter', `The ${at}.type '${ref.type}' is not supported; use 'AzureStorageBlob'.`, `${at}.type`);
  if (ref?.name !== undefined && ref.name.length > 1024)
    throw bad('InvalidParameter', `The ${at}.name is longer than 1024 characters, the blob name limit.`, `${at}.name`);
}

/**
 * Drops '' strings, [] arrays and then-empty objects: the official ARM templates send them for the unused side
 * (docs/azure-service.md#empty-values-from-arm-templates).
 */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v;
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, x] of Object.entries(v as Json)) {
      const p = prune(x);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v === '' ? undefined : v;
}

/** The pipeline a run names, checked: same registry, existing. */
function runPipeline(state: ArmState, ctx: Ctx, id: string | undefined): PipelineRecord {
  const at = 'properties.request.pipelineResourceId';
  if (!id) throw bad('InvalidPipelineResourceId', `${at} is required: the resource id of the export or import pipeline to run.`, at);
  const m = PIPELINE_ID.exec(id);
  if (!m) {
    throw bad(
      'InvalidPipelineResourceId',
      `The ${at} '${id}' is not the resource id of an export or import pipeline (…/registries/{registry}/exportPipelines/{name} or …/importPipelines/{name}).`,
      at,
    );
  }
  const [, sub = '', rg = '', registry = '', collection = '', name = ''] = m;
  const own = state.registryId(ctx.reg).toLowerCase();
  if (`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerRegistry/registries/${registry}`.toLowerCase() !== own) {
    throw bad(
      'InvalidPipelineResourceId',
      `The ${at} '${id}' names a pipeline of another registry; a run executes a pipeline of its own registry ('${ctx.reg.name}').`,
      at,
    );
  }
  const kind: PipelineKind = collection.toLowerCase() === 'exportpipelines' ? 'export' : 'import';
  const pipeline = state.getPipeline(ctx.reg.name, kind, name);
  if (!pipeline) {
    const typePath = `${registryTypePath(ctx.reg)}/${canonicalCollection(collection)}/${name}`;
    throw fail(404, 'ResourceNotFound', `The Resource '${typePath}' under resource group '${rg}' was not found (${at}). ${RESOURCE_NOT_FOUND_HELP}`, at);
  }
  return pipeline;
}

/** Checks the request for the pipeline's kind and returns it as the service keeps it (unused side dropped). */
function checkRunRequest(ctx: Ctx, pipeline: PipelineRecord, request: RunRequestIn): Json {
  checkBlobRef(request.source, 'properties.request.source');
  checkBlobRef(request.target, 'properties.request.target');
  const normalized = (prune(request) ?? {}) as Json & RunRequestIn;
  if (pipeline.kind === 'export') {
    requireExportPolicy(ctx.reg);
    checkArtifacts(request.artifacts);
    if (!request.target?.name)
      throw bad(
        'TargetNameRequired',
        'An export pipeline run needs properties.request.target.name: the name of the blob to write.',
        'properties.request.target.name',
      );
    if (request.source?.name)
      throw bad(
        'InvalidParameter',
        `properties.request.source ('${request.source.name}') is for import runs; an export run writes properties.request.target.name.`,
        'properties.request.source',
      );
    delete normalized.source;
  } else {
    if (!request.source?.name)
      throw bad(
        'SourceNameRequired',
        'An import pipeline run needs properties.request.source.name: the name of the blob to import.',
        'properties.request.source.name',
      );
    if (request.artifacts && request.artifacts.length > 0) {
      throw bad(
        'InvalidParameter',
        'properties.request.artifacts is for export runs; an import run imports every artifact in the blob.',
        'properties.request.artifacts',
      );
    }
    if (request.target?.name)
      throw bad(
        'InvalidParameter',
        `properties.request.target ('${request.target.name}') is for export runs; an import run reads properties.request.source.name.`,
        'properties.request.target',
      );
    delete normalized.target;
  }
  return normalized;
}

async function putRun(emu: Emulator, state: ArmState, ctx: Ctx, name: string): Promise<void> {
  const body = (await bodyOf(ctx, 'PipelineRun')) as RunIn;
  requirePremium(ctx.reg);
  const request = body.properties?.request;
  if (!request) throw bad('InvalidParameter', 'properties.request is required: the pipeline to run and what to transfer.', 'properties.request');
  const pipeline = runPipeline(state, ctx, request.pipelineResourceId);
  const normalized = checkRunRequest(ctx, pipeline, request);
  const forceUpdateTag = body.properties?.forceUpdateTag;
  const fingerprint = fingerprintOf(normalized, forceUpdateTag);
  const existing = state.runEntry(ctx.reg.name, name);
  if (existing?.deleteAt !== undefined) throw inProgressConflict(`The pipeline run '${existing.name}'`, 'Deleting');
  // Same request and forceUpdateTag: nothing to do (docs/azure-service.md#forceupdatetag).
  if (existing && existing.fingerprint === fingerprint) return send(ctx, 200, render(existing.resource, ctx.apiVersion));
  if (existing && !isTerminal(existing.resource)) {
    throw fail(
      409,
      'Conflict',
      `The pipeline run '${existing.name}' is still in progress (provisioningState '${String(props(existing.resource)['provisioningState'])}'); wait for it to finish before running it again.`,
    );
  }
  const now = new Date().toISOString();
  const runName = existing?.name ?? name;
  const created = (existing?.resource['systemData'] as Json | undefined)?.['createdAt'];
  const resource: Json = {
    id: state.resourceId(ctx.reg, 'pipelineRuns', runName),
    name: runName,
    type: COLLECTIONS.pipelineRuns.type,
    systemData: systemData(ctx.caller, typeof created === 'string' ? created : now, { ...ctx.caller, at: now }),
    properties: {
      request: normalized,
      ...(forceUpdateTag !== undefined ? { forceUpdateTag } : {}),
      provisioningState: existing ? 'Updating' : 'Creating',
      response: { status: 'Running', progress: { percentage: '0' }, startTime: now },
    },
  };
  const entry = state.startRun(ctx.reg.name, runName, resource, fingerprint, pipeline);
  if (emu.knobs.lroStyle !== 'async') return send(ctx, 200, render(entry.resource, ctx.apiVersion));
  const generation = entry.generation;
  const op = state.newOperation('pipelineRuns', String(resource['id']), 'async', () => runPutView(state, entry, generation));
  send(ctx, existing ? 200 : 201, render(entry.resource, ctx.apiVersion), asyncHeaders(emu, state, op, ctx.apiVersion, 'azure-asyncoperation'));
}

function runPutView(state: ArmState, entry: RunEntry, generation: number): OperationView {
  if (state.runEntry(entry.registry, entry.name) !== entry || entry.generation !== generation || entry.deleteAt !== undefined) return { status: 'Canceled' };
  const p = props(entry.resource);
  const response = (p['response'] ?? {}) as Json;
  const finishTime = typeof response['finishTime'] === 'string' ? { endTime: response['finishTime'] } : {};
  switch (p['provisioningState']) {
    case 'Succeeded':
      return { status: 'Succeeded', ...finishTime };
    case 'Canceled':
      return { status: 'Canceled', ...finishTime };
    case 'Failed': {
      const message = typeof response['pipelineRunErrorMessage'] === 'string' ? response['pipelineRunErrorMessage'] : 'The pipeline run failed.';
      return { status: 'Failed', ...finishTime, error: { code: 'PipelineRunFailed', message } };
    }
    default:
      return { status: 'InProgress' };
  }
}

// ---- GET / LIST / DELETE

interface Item {
  readonly seq: number;
  readonly resource: Json;
}

function itemsOf(state: ArmState, reg: RegistryState, collection: Collection): Item[] {
  const kind = COLLECTIONS[collection].kind;
  return (kind ? state.pipelineEntries(reg.name, kind) : state.runEntries(reg.name)).sort((a, b) => a.seq - b.seq);
}

function findItem(state: ArmState, reg: RegistryState, collection: Collection, name: string): PipelineEntry | RunEntry | undefined {
  const kind = COLLECTIONS[collection].kind;
  return kind ? state.pipelineEntry(reg.name, kind, name) : state.runEntry(reg.name, name);
}

function itemNotFound(ctx: Ctx, collection: Collection, name: string): HttpError {
  return notFound(ctx.req.params['rg'] ?? '', `${registryTypePath(ctx.reg)}/${collection}/${name}`);
}

/** Oldest first (the CLI's `--top n` takes the last n); `$skipToken` is the position after the previous page. */
function listPage(emu: Emulator, state: ArmState, ctx: Ctx, collection: Collection): void {
  const token = ctx.req.url.searchParams.get('$skipToken');
  let after = 0;
  if (token !== null) {
    const decoded = /^s(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!decoded) throw bad('InvalidSkipToken', `The $skipToken '${token}' is not valid; use the nextLink exactly as returned.`, '$skipToken');
    after = Number(decoded[1]);
  }
  const rest = itemsOf(state, ctx.reg, collection).filter((i) => i.seq > after);
  const page = rest.slice(0, PAGE_SIZE);
  const body: Json = { value: page.map((i) => render(i.resource, ctx.apiVersion)) };
  if (rest.length > PAGE_SIZE) {
    const q = new URLSearchParams({ 'api-version': ctx.apiVersion, $skipToken: Buffer.from(`s${page[page.length - 1]!.seq}`).toString('base64url') });
    body['nextLink'] = `${emu.baseUrl}${ctx.req.url.pathname}?${q.toString()}`;
  }
  send(ctx, 200, body);
}

function deleteItem(emu: Emulator, state: ArmState, ctx: Ctx, collection: Collection, name: string): void {
  const item = findItem(state, ctx.reg, collection, name);
  if (!item) return send(ctx, 204, undefined);
  const isAsync = emu.knobs.lroStyle === 'async';
  if (item.deleteAt !== undefined) {
    const op = state.newOperation(collection, String(item.resource['id']), 'location', () => deleteView(state, ctx.reg, collection, item));
    return send(ctx, 202, undefined, asyncHeaders(emu, state, op, ctx.apiVersion, 'location'));
  }
  const kind = COLLECTIONS[collection].kind;
  if (kind) {
    const active = state.activeRunsOf(item as PipelineEntry, String(item.resource['id']));
    if (active.length > 0) {
      throw fail(
        409,
        'Conflict',
        `The ${kind} pipeline '${(item as PipelineEntry).name}' has pipeline runs in progress (${active.map((r) => r.name).join(', ')}); wait for them to finish or delete them first.`,
      );
    }
  }
  if (!isAsync) {
    if (kind) state.removePipeline(item as PipelineEntry);
    else state.removeRun(item as RunEntry);
    return send(ctx, 200, undefined);
  }
  if (kind) delete (item as PipelineEntry).readyAt;
  // A run's record stays visible as Deleting, but its execution stops now (deleting a run is like deleting its log).
  else (item as RunEntry).generation += 1;
  item.deleteAt = Date.now() + emu.knobs.pipelineProvisioningMs;
  props(item.resource)['provisioningState'] = 'Deleting';
  const op = state.newOperation(collection, String(item.resource['id']), 'location', () => deleteView(state, ctx.reg, collection, item));
  send(ctx, 202, undefined, asyncHeaders(emu, state, op, ctx.apiVersion, 'location'));
}

function deleteView(state: ArmState, reg: RegistryState, collection: Collection, item: PipelineEntry | RunEntry): OperationView {
  const name = (item as { name: string }).name;
  return { status: findItem(state, reg, collection, name) === item ? 'InProgress' : 'Succeeded' };
}

function operationStatus(emu: Emulator, state: ArmState, ctx: Ctx, collection: Collection, name: string, opName: string): void {
  const op = state.operation(opName);
  const resourceId = state.resourceId(ctx.reg, collection, name);
  if (!op || op.resourceId.toLowerCase() !== resourceId.toLowerCase()) {
    throw fail(404, 'OperationNotFound', `The operation '${opName}' was not found for '${registryTypePath(ctx.reg)}/${collection}/${name}'.`);
  }
  const q = ctx.req.url.searchParams;
  if (q.get('t') !== op.t || q.get('s') !== state.signature(op)) {
    throw bad(
      'InvalidOperationStatusUrl',
      'The operation status URL is incomplete or was altered; poll the Azure-AsyncOperation/Location URL exactly as returned.',
    );
  }
  const v = op.view();
  const retry = { 'retry-after': String(emu.knobs.asyncRetryAfterSeconds) };
  if (op.style === 'location') {
    if (v.status === 'InProgress') return send(ctx, 202, undefined, { location: state.operationUrl(op, ctx.apiVersion), ...retry });
    return send(ctx, 204, undefined);
  }
  const body: Json = {
    id: `${op.resourceId}/operationStatuses/${op.name}`,
    name: op.name,
    status: v.status,
    startTime: op.startTime,
    ...(v.endTime !== undefined ? { endTime: v.endTime } : {}),
    ...(v.error ? { error: v.error } : {}),
  };
  send(ctx, 200, body, v.status === 'InProgress' ? retry : {});
}

// ---- control: registry knobs

const SKUS: readonly SkuName[] = ['Basic', 'Standard', 'Premium'];

function controlError(status: number, message: string): HttpError {
  return new HttpError(status, { error: { code: 'BadControlRequest', message } });
}

function registryView(reg: RegistryState): Json {
  return { name: reg.name, sku: reg.sku, exportPolicy: reg.exportPolicy };
}

function registerControlRoutes(router: Router, state: ArmState): void {
  const regOf = (name: string | undefined): RegistryState => {
    const reg = name ? state.registry(name) : undefined;
    if (!reg) throw controlError(404, `no registry '${name ?? ''}'; known: ${[...state.registries.values()].map((r) => r.name).join(', ')}`);
    return reg;
  };
  router.add('control', 'GET', /^\/_control\/registries$/, (_req, res) => sendJson(res, 200, [...state.registries.values()].map(registryView)));
  router.add('control', 'PATCH', /^\/_control\/registries\/(?<name>[^/]+)$/, async (req, res) => {
    const reg = regOf(req.params['name']);
    const body = (await readJson(req)) as { sku?: unknown; exportPolicy?: unknown } | undefined;
    if (!body || typeof body !== 'object') throw controlError(400, 'body must be a JSON object {sku?, exportPolicy?}');
    const unknown = Object.keys(body).filter((k) => k !== 'sku' && k !== 'exportPolicy');
    if (unknown.length > 0) throw controlError(400, `unknown field(s) ${unknown.join(', ')}; known: sku, exportPolicy`);
    if (body.sku !== undefined && !SKUS.includes(body.sku as SkuName)) throw controlError(400, `sku must be one of ${SKUS.join(', ')}`);
    if (body.exportPolicy !== undefined && body.exportPolicy !== 'enabled' && body.exportPolicy !== 'disabled')
      throw controlError(400, 'exportPolicy must be enabled or disabled');
    if (body.sku !== undefined) reg.sku = body.sku as SkuName;
    if (body.exportPolicy !== undefined) reg.exportPolicy = body.exportPolicy as 'enabled' | 'disabled';
    sendJson(res, 200, registryView(reg));
  });
  router.add('control', 'POST', /^\/_control\/registries\/(?<name>[^/]+)\/reset$/, (req, res) => {
    const reg = regOf(req.params['name']);
    state.resetRegistries(reg.name);
    sendJson(res, 200, registryView(regOf(reg.name)));
  });
}

// ---- registration

const REGISTRY_PATH = String.raw`^/subscriptions/(?<sub>[^/]+)/resourceGroups/(?<rg>[^/]+)/providers/Microsoft\.ContainerRegistry/registries/(?<registry>[^/]+)`;
const COLLECTION = '(?<collection>exportPipelines|importPipelines|pipelineRuns)';

/** Registers ARM on the main port and sets `emu.arm`. ARM paths are case-insensitive, as in Azure. */
export function registerArm(router: Router, emu: Emulator): void {
  const state = new ArmState(emu);
  emu.arm = state;
  const route = (method: string, suffix: string, handler: ArmHandler): void =>
    void router.add('arm', method, new RegExp(`${REGISTRY_PATH}${suffix}$`, 'i'), armRoute(emu, state, handler));
  const coll = (ctx: Ctx): Collection => canonicalCollection(ctx.req.params['collection'] ?? '');
  const itemName = (ctx: Ctx): string => ctx.req.params['name'] ?? '';

  route('GET', '', (ctx) => send(ctx, 200, registryBody(emu, state, ctx.reg)));
  route('GET', '/listUsages', async (ctx) => send(ctx, 200, await usagesBody(ctx.reg)));
  route('GET', `/${COLLECTION}`, (ctx) => listPage(emu, state, ctx, coll(ctx)));
  route('GET', `/${COLLECTION}/(?<name>[^/]+)/operationStatuses/(?<op>[^/]+)`, (ctx) =>
    operationStatus(emu, state, ctx, coll(ctx), itemName(ctx), ctx.req.params['op'] ?? ''),
  );
  route('GET', `/${COLLECTION}/(?<name>[^/]+)`, (ctx) => {
    const item = findItem(state, ctx.reg, coll(ctx), itemName(ctx));
    if (!item) throw itemNotFound(ctx, coll(ctx), itemName(ctx));
    send(ctx, 200, render(item.resource, ctx.apiVersion));
  });
  route('PUT', `/${COLLECTION}/(?<name>[^/]+)`, (ctx) => {
    const c = coll(ctx);
    const kind = COLLECTIONS[c].kind;
    return kind ? putPipeline(emu, state, ctx, kind, itemName(ctx)) : putRun(emu, state, ctx, itemName(ctx));
  });
  route('DELETE', `/${COLLECTION}/(?<name>[^/]+)`, (ctx) => deleteItem(emu, state, ctx, coll(ctx), itemName(ctx)));
  registerControlRoutes(router, state);
}
