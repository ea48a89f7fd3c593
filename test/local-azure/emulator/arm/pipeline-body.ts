/**
 * The checks of an export or import pipeline's PUT body beyond its swagger definition: the storage side, the options,
 * the identity and the source trigger. Each refusal is a 400 naming the value and what is allowed; the codes are the
 * emulator's own (docs/local-azure.md#open-questions, open question 7).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Emulator, Json, PipelineKind } from '../context';
import { supportsAccessMode, STORAGE_ACCESS_MODE_SINCE } from './api-versions';
import { badRequest } from './frame';
import type { PipelineEntry } from './state';

export interface StorageSideIn {
  type?: string;
  uri?: string;
  keyVaultUri?: string;
  storageAccessMode?: string;
}

export interface IdentityIn {
  type?: string;
  userAssignedIdentities?: Record<string, unknown>;
}

export interface PipelineIn {
  location?: string;
  identity?: IdentityIn;
  properties?: { target?: StorageSideIn; source?: StorageSideIn; options?: string[]; trigger?: { sourceTrigger?: { status?: string } } };
}

const EXPORT_OPTIONS = ['OverwriteBlobs', 'ContinueOnErrors'];
const IMPORT_OPTIONS = ['OverwriteTags', 'DeleteSourceBlobOnSuccess', 'ContinueOnErrors'];
const ALL_OPTIONS = ['OverwriteTags', 'OverwriteBlobs', 'DeleteSourceBlobOnSuccess', 'ContinueOnErrors'];
const ACCESS_MODES = ['SasToken', 'ManagedIdentity'];
const SECRET_URI = /^\/secrets\/[0-9a-zA-Z-]{1,127}(\/[0-9a-zA-Z]{32})?\/?$/;
const UAI_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;

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

export interface SideOut {
  out: Json;
  mode: string;
}

export function checkStorageSide(side: StorageSideIn | undefined, at: string, apiVersion: string): SideOut {
  if (!side)
    throw badRequest(
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: 'Required property '${at.split('.').pop()}' is missing. Path '${at}'.'`,
      at,
    );
  if (side.storageAccessMode !== undefined && !supportsAccessMode(apiVersion)) {
    // Older api-versions do not know the member: ARM's deserializer rejects it the way it rejects a typo.
    throw badRequest(
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: 'Could not find member 'storageAccessMode' on object of type '${at.endsWith('target') ? 'ExportPipelineTargetProperties' : 'ImportPipelineSourceProperties'}'. Path '${at}.storageAccessMode'.' storageAccessMode needs api-version ${STORAGE_ACCESS_MODE_SINCE}-preview or later; this request uses '${apiVersion}'.`,
      `${at}.storageAccessMode`,
    );
  }
  const mode = side.storageAccessMode ?? 'SasToken';
  if (!ACCESS_MODES.includes(mode))
    throw badRequest('InvalidStorageAccessMode', `'${mode}' is not a storage access mode; use one of ${ACCESS_MODES.join(', ')}.`, `${at}.storageAccessMode`);
  if (side.type && side.type !== 'AzureStorageBlobContainer') {
    throw badRequest('InvalidParameter', `The ${at}.type '${side.type}' is not supported; pipelines use 'AzureStorageBlobContainer'.`, `${at}.type`);
  }
  if (!side.uri)
    throw badRequest(
      'InvalidStorageUri',
      `${at}.uri is required: the https URL of the storage container, e.g. https://account.blob.core.windows.net/container.`,
      `${at}.uri`,
    );
  const u = isHttpsUrl(side.uri);
  if (!u || u.pathname.replace(/\/+$/, '') === '') {
    throw badRequest(
      'InvalidStorageUri',
      `The ${at}.uri '${side.uri}' is not an https URL of a storage container (https://account.blob.core.windows.net/container).`,
      `${at}.uri`,
    );
  }
  if (mode === 'SasToken') {
    if (!side.keyVaultUri) {
      throw badRequest(
        'KeyVaultUriRequired',
        `${at}.keyVaultUri is required in SasToken storage access mode: the Key Vault secret URI holding the SAS token.`,
        `${at}.keyVaultUri`,
      );
    }
    if (!isSecretUri(side.keyVaultUri)) {
      throw badRequest(
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

export function checkOptions(kind: PipelineKind, options: readonly string[] | undefined): string[] | undefined {
  if (!options || options.length === 0) return undefined;
  const allowed = kind === 'export' ? EXPORT_OPTIONS : IMPORT_OPTIONS;
  options.forEach((o, i) => {
    const at = `properties.options[${i}]`;
    if (!ALL_OPTIONS.includes(o))
      throw badRequest('InvalidPipelineOption', `'${o}' is not a pipeline option; ${kind} pipelines accept ${allowed.join(', ')}.`, at);
    if (!allowed.includes(o))
      throw badRequest('InvalidPipelineOption', `The option '${o}' does not apply to ${kind} pipelines; ${kind} pipelines accept ${allowed.join(', ')}.`, at);
  });
  return [...options];
}

/** A stable uuid-shaped value derived from text (same input, same id), for user-assigned identities. */
function stableUuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The identity as the service returns it. Its `type` is camelCase although the swagger enum is PascalCase: the real
 * service does that (observed; docs/azure-service.md#identity-types-in-responses), and clients must compare case-insensitively.
 */
export function buildIdentity(
  emu: Emulator,
  input: IdentityIn | undefined,
  mode: string,
  existing: PipelineEntry | undefined,
): { identity?: Json; systemPrincipalId?: string } {
  const type = input?.type ?? 'SystemAssigned';
  if (type === 'None') {
    const why =
      mode === 'ManagedIdentity' ? 'in ManagedIdentity mode it authenticates to the storage account' : 'in SasToken mode it reads the SAS token from Key Vault';
    throw badRequest(
      'IdentityRequired',
      `The pipeline needs a managed identity (identity.type 'None' was given): ${why}. Use SystemAssigned or UserAssigned.`,
      'identity.type',
    );
  }
  const system = type.includes('SystemAssigned');
  const user = type.includes('UserAssigned');
  const uais = Object.keys(input?.userAssignedIdentities ?? {});
  if (user && uais.length === 0)
    throw badRequest(
      'InvalidIdentity',
      `identity.type '${type}' needs at least one entry in identity.userAssignedIdentities.`,
      'identity.userAssignedIdentities',
    );
  if (!user && uais.length > 0)
    throw badRequest(
      'InvalidIdentity',
      `identity.userAssignedIdentities is only allowed when identity.type includes UserAssigned (got '${type}').`,
      'identity.userAssignedIdentities',
    );
  const badId = uais.find((id) => !UAI_ID.test(id));
  if (badId !== undefined) {
    throw badRequest(
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

export function checkTrigger(trigger: NonNullable<PipelineIn['properties']>['trigger']): Json {
  const status = trigger?.sourceTrigger?.status ?? 'Enabled';
  if (status !== 'Enabled' && status !== 'Disabled') {
    throw badRequest(
      'InvalidParameter',
      `The properties.trigger.sourceTrigger.status '${status}' is not valid; use Enabled or Disabled.`,
      'properties.trigger.sourceTrigger.status',
    );
  }
  return { sourceTrigger: { status } };
}
