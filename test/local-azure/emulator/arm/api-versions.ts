/**
 * The api-versions the local ARM accepts, the `api-supported-versions` header the service sends with them, and what a
 * resource looks like in each (docs/azure-service.md#resources-and-api-versions).
 */
import type { Emulator, Json } from '../context';
import { type ArmHandler, badRequest } from './frame';
import type { Collection } from './state';

/**
 * Preview versions that carry the transfer resources: the versions Microsoft Learn's template reference lists for
 * them (https://learn.microsoft.com/azure/templates/microsoft.containerregistry/2026-09-01-preview/registries/exportpipelines,
 * the same for importPipelines and pipelineRuns), and 2025-12-01-preview, which the service's own
 * `api-supported-versions` named in January 2026 (docs/azure-service.md#resources-and-api-versions).
 */
export const PIPELINE_API_VERSIONS = [
  '2019-12-01-preview',
  '2020-11-01-preview',
  '2021-06-01-preview',
  '2021-08-01-preview',
  '2021-12-01-preview',
  '2022-02-01-preview',
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
  '2026-03-01-preview',
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
export const STORAGE_ACCESS_MODE_SINCE = '2025-06-01';

/**
 * The `api-supported-versions` header the service sends with every answer on a registry or its transfer resources
 * once the api-version was accepted (observed, docs/azure-service.md#resources-and-api-versions): the versions of that
 * resource type, comma-separated.
 */
export function supportedVersionsHeader(collection: Collection | undefined): Record<string, string> {
  return { 'api-supported-versions': (collection ? [...PIPELINE_API_VERSIONS] : REGISTRY_API_VERSIONS).join(', ') };
}

/** Microsoft.ContainerRegistry: ARM's two wordings, a known version without this type (InvalidResourceType), an unknown version (NoRegisteredProviderFound). */
export function checkRegistryApiVersion(emu: Emulator, v: string, collection: Collection | undefined): void {
  const supported: readonly string[] = collection ? PIPELINE_API_VERSIONS : REGISTRY_API_VERSIONS;
  if (supported.includes(v)) return;
  const list = supported.join(', ');
  if (collection && REGISTRY_API_VERSIONS.includes(v)) {
    throw badRequest(
      'InvalidResourceType',
      `The resource type '${collection}' could not be found in the namespace 'Microsoft.ContainerRegistry' for api version '${v}'. The supported api-versions are '${list}'.`,
    );
  }
  const type = collection ? `registries/${collection}` : 'registries';
  const loc = emu.config.location;
  throw badRequest(
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${loc}' and API version '${v}' for type '${type}'. The supported api-versions are '${list}'. The supported locations are '${loc}'.`,
  );
}

const DATED_API_VERSION = /^20\d{2}-\d{2}-\d{2}(-preview)?$/;

/**
 * The Key Vault, storage and authorization types accept any api-version of the form 20xx-xx-xx[-preview]
 * (their versions are not worth modelling); the check comes before the handler's own.
 */
export function anyDatedApiVersion(handler: ArmHandler): ArmHandler {
  return (req) => {
    if (!DATED_API_VERSION.test(req.apiVersion))
      throw badRequest(
        'InvalidApiVersionParameter',
        `The api-version '${req.apiVersion}' is invalid. The supported versions are of the form 'yyyy-mm-dd[-preview]'.`,
      );
    return handler(req);
  };
}

export function supportsAccessMode(apiVersion: string): boolean {
  return apiVersion.slice(0, 10) >= STORAGE_ACCESS_MODE_SINCE;
}

/** A stored resource as the given api-version shows it: older versions have no storageAccessMode. */
export function render(resource: Json, apiVersion: string): Json {
  const out = structuredClone(resource);
  if (supportsAccessMode(apiVersion)) return out;
  const p = (out['properties'] ?? {}) as Json;
  const response = (p['response'] ?? {}) as Json;
  for (const side of [p['target'], p['source'], response['target'], response['source']]) {
    if (side && typeof side === 'object') delete (side as Json)['storageAccessMode'];
  }
  return out;
}
