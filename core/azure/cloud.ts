/**
 * Which Azure cloud we talk to: ARM endpoint and audience, Entra authority host, and the token scopes of the data
 * planes. Known clouds come from a table; Azure Stack Hub and other custom clouds are discovered from ARM's
 * `metadata/endpoints` document (the way azure-pipelines-tasks-common-packages does it, api-version 2015-01-01).
 */
import { createHttpHeaders, createPipelineRequest, type HttpClient } from '@azure/core-rest-pipeline';
import { withoutTrailingSlash } from '../domain/urls';
import type { CloudName } from '../inputs';
import { AzureRequestError, ConfigError, errorMessage } from '../errors';
import { type Clock, realClock, retry } from '../retry';
import type { AuthSettings } from '../settings';
import { isRetryableError, retryAfterMs, TransientHttpError } from './http-retry';

export interface CloudEndpoints {
  /** AzureCloud, AzureUSGovernment, AzureChinaCloud, or 'custom' (discovered from metadata/endpoints). */
  readonly name: CloudName | 'custom';
  /** ARM base URL, no trailing slash. */
  readonly armEndpoint: string;
  /** `<ARM audience>/.default`. */
  readonly armScope: string;
  /** Entra (or ADFS) authority host, no trailing slash. */
  readonly authorityHost: string;
  /** Set when the login endpoint is ADFS: credentials must use this tenant ('adfs') instead of the Entra tenant id. */
  readonly tenantOverride?: string;
  /** MSAL must not ask login.microsoftonline.com for instance metadata (sovereign, Stack, custom authority hosts). */
  readonly disableInstanceDiscovery: boolean;
  readonly storageScope: string;
  readonly keyVaultScope: string;
  /**
   * Scopes the ACR token exchange accepts, in the order to try: ARM first (works in every cloud while the registry's
   * azureADAuthenticationAsArmPolicy is enabled, as the Azure SDK's KnownContainerRegistryAudience does), then ACR's own.
   */
  readonly acrScopes: readonly string[];
  /** The OIDC audience GitHub tokens should carry in this cloud (Azure/login README). */
  readonly oidcAudience: string;
  /** DNS suffix of Key Vault hosts in this cloud (for challenge-resource verification); absent for custom clouds. */
  readonly keyVaultDnsSuffix?: string;
}

const PUBLIC_OIDC_AUDIENCE = 'api://AzureADTokenExchange';

/** The three public clouds (Azure Germany closed in 2021). */
export const KNOWN_CLOUDS: Readonly<Record<Exclude<CloudName, 'AzureStack'>, CloudEndpoints>> = {
  AzureCloud: {
    name: 'AzureCloud',
    armEndpoint: 'https://management.azure.com',
    armScope: 'https://management.azure.com/.default',
    authorityHost: 'https://login.microsoftonline.com',
    disableInstanceDiscovery: false,
    storageScope: 'https://storage.azure.com/.default',
    keyVaultScope: 'https://vault.azure.net/.default',
    acrScopes: ['https://management.azure.com/.default', 'https://containerregistry.azure.net/.default'],
    oidcAudience: PUBLIC_OIDC_AUDIENCE,
    keyVaultDnsSuffix: 'vault.azure.net',
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    armEndpoint: 'https://management.usgovcloudapi.net',
    armScope: 'https://management.usgovcloudapi.net/.default',
    authorityHost: 'https://login.microsoftonline.us',
    disableInstanceDiscovery: true,
    storageScope: 'https://storage.azure.us/.default',
    keyVaultScope: 'https://vault.usgovcloudapi.net/.default',
    acrScopes: ['https://management.usgovcloudapi.net/.default'],
    oidcAudience: 'api://AzureADTokenExchangeUSGov',
    keyVaultDnsSuffix: 'vault.usgovcloudapi.net',
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    armEndpoint: 'https://management.chinacloudapi.cn',
    armScope: 'https://management.chinacloudapi.cn/.default',
    authorityHost: 'https://login.chinacloudapi.cn',
    disableInstanceDiscovery: true,
    storageScope: 'https://storage.azure.cn/.default',
    keyVaultScope: 'https://vault.azure.cn/.default',
    acrScopes: ['https://management.chinacloudapi.cn/.default'],
    oidcAudience: 'api://AzureADTokenExchangeChina',
    keyVaultDnsSuffix: 'vault.azure.cn',
  },
};

/** `https://x/` or `https://x` → `https://x/.default`. */
export function scopeOf(audience: string): string {
  return `${withoutTrailingSlash(audience)}/.default`;
}

/** The ARM metadata document: the pre-2019 object form, or the array-of-clouds form. */
interface MetadataEndpoints {
  readonly resourceManager?: string;
  readonly authentication?: { readonly loginEndpoint?: string; readonly audiences?: readonly string[] };
  readonly suffixes?: { readonly keyVaultDns?: string };
}

export interface ResolveCloudOptions {
  readonly httpClient: HttpClient;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  /** Log line sink (which cloud, how it was found). */
  readonly log?: (message: string) => void;
}

/**
 * Resolves the cloud from the auth settings: a known cloud from the table, or, with `resource-manager-endpoint`
 * (always for AzureStack), the cloud that endpoint's metadata document describes. `authority-host` overrides.
 */
export async function resolveCloud(auth: AuthSettings, o: ResolveCloudOptions): Promise<CloudEndpoints> {
  let cloud: CloudEndpoints;
  const known = auth.environment === 'AzureStack' ? undefined : KNOWN_CLOUDS[auth.environment];
  if (auth.resourceManagerEndpoint !== undefined && !(known && sameOrigin(known.armEndpoint, auth.resourceManagerEndpoint))) {
    cloud = await discoverCloud(auth.resourceManagerEndpoint, o);
    o.log?.(
      `Cloud: custom, ARM ${cloud.armEndpoint}, authority ${cloud.authorityHost}${cloud.tenantOverride ? ` (${cloud.tenantOverride})` : ''} (from metadata/endpoints)`,
    );
  } else if (known) {
    cloud = known;
  } else {
    throw new ConfigError("Input 'resource-manager-endpoint' is required when 'environment' is AzureStack");
  }
  if (auth.authorityHost !== undefined) {
    cloud = { ...cloud, authorityHost: withoutTrailingSlash(auth.authorityHost), disableInstanceDiscovery: true };
  }
  return cloud;
}

/** Builds the endpoints of a cloud from an ARM endpoint that is not in the table. */
export async function discoverCloud(armEndpoint: string, o: ResolveCloudOptions): Promise<CloudEndpoints> {
  const arm = withoutTrailingSlash(armEndpoint);
  const url = `${arm}/metadata/endpoints?api-version=2015-01-01`;
  const what = `GET metadata/endpoints of ${arm}`;
  const doc = await retry(
    async () => {
      const res = await o.httpClient.sendRequest(
        createPipelineRequest({
          url,
          method: 'GET',
          headers: createHttpHeaders({ accept: 'application/json' }),
          ...(o.signal ? { abortSignal: o.signal } : {}),
        }),
      );
      if (res.status === 408 || res.status === 429 || res.status >= 500)
        throw new TransientHttpError(res.status, retryAfterMs(res.headers, (o.clock ?? realClock).now()));
      if (res.status !== 200) {
        throw new AzureRequestError(
          what,
          res.status,
          'MetadataUnavailable',
          (res.bodyAsText ?? '').slice(0, 300),
          undefined,
          "Check 'resource-manager-endpoint': it must be the ARM endpoint of the cloud (Azure Stack Hub: https://management.<region>.<fqdn>)",
        );
      }
      try {
        return JSON.parse(res.bodyAsText ?? '') as MetadataEndpoints | MetadataEndpoints[];
      } catch (e) {
        throw new AzureRequestError(what, res.status, 'InvalidMetadata', `not JSON: ${errorMessage(e)}`);
      }
    },
    {
      attempts: 4,
      minDelayMs: 1000,
      maxDelayMs: 10_000,
      retryable: isRetryableError,
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    },
  ).catch((e: unknown) => {
    if (e instanceof TransientHttpError) throw new AzureRequestError(what, e.status, 'MetadataUnavailable', e.message);
    if (e instanceof AzureRequestError || e instanceof ConfigError) throw e;
    throw new AzureRequestError(
      what,
      0,
      'ConnectionFailed',
      errorMessage(e),
      undefined,
      "Check 'resource-manager-endpoint' and that this machine can reach it",
    );
  });
  const entry = Array.isArray(doc) ? (doc.find((d) => d.resourceManager !== undefined && sameOrigin(d.resourceManager, arm)) ?? doc[0]) : doc;
  const login = entry?.authentication?.loginEndpoint;
  const audience = entry?.authentication?.audiences?.[0];
  if (!login || !audience) throw new AzureRequestError(what, 200, 'InvalidMetadata', 'the document has no authentication.loginEndpoint or audiences');
  // ADFS (disconnected Azure Stack Hub): the login endpoint ends in /adfs/ and the tenant is literally 'adfs'.
  const adfs = /\/adfs\/?$/i.test(login);
  const authorityHost = withoutTrailingSlash(adfs ? login.replace(/\/adfs\/?$/i, '') : login);
  const armScope = scopeOf(audience);
  const keyVaultDnsSuffix = entry?.suffixes?.keyVaultDns;
  return {
    name: 'custom',
    armEndpoint: arm,
    armScope,
    authorityHost,
    ...(adfs ? { tenantOverride: 'adfs' } : {}),
    disableInstanceDiscovery: true,
    // Custom clouds publish no storage or ACR audience in this document version; these are what Stack Hub accepts.
    storageScope: 'https://storage.azure.com/.default',
    keyVaultScope: keyVaultDnsSuffix ? `https://${keyVaultDnsSuffix}/.default` : 'https://vault.azure.net/.default',
    acrScopes: [armScope, 'https://containerregistry.azure.net/.default'],
    oidcAudience: PUBLIC_OIDC_AUDIENCE,
    ...(keyVaultDnsSuffix ? { keyVaultDnsSuffix } : {}),
  };
}

/** The cloud of a credential the host brings (ADO service connection): known by its ARM endpoint, else discovered. */
export async function cloudForArmEndpoint(
  armEndpoint: string,
  extra: { armAudience?: string; authorityHost?: string },
  o: ResolveCloudOptions,
): Promise<CloudEndpoints> {
  let cloud = Object.values(KNOWN_CLOUDS).find((c) => sameOrigin(c.armEndpoint, armEndpoint));
  if (!cloud) {
    if (extra.armAudience !== undefined) {
      const armScope = scopeOf(extra.armAudience);
      cloud = {
        name: 'custom',
        armEndpoint: withoutTrailingSlash(armEndpoint),
        armScope,
        authorityHost: withoutTrailingSlash(extra.authorityHost ?? KNOWN_CLOUDS.AzureCloud.authorityHost),
        disableInstanceDiscovery: true,
        storageScope: 'https://storage.azure.com/.default',
        keyVaultScope: 'https://vault.azure.net/.default',
        acrScopes: [armScope, 'https://containerregistry.azure.net/.default'],
        oidcAudience: PUBLIC_OIDC_AUDIENCE,
      };
    } else cloud = await discoverCloud(armEndpoint, o);
  } else if (extra.armAudience !== undefined) cloud = { ...cloud, armScope: scopeOf(extra.armAudience) };
  if (extra.authorityHost !== undefined) cloud = { ...cloud, authorityHost: withoutTrailingSlash(extra.authorityHost) };
  return cloud;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin.toLowerCase() === new URL(b).origin.toLowerCase();
  } catch {
    return false;
  }
}
