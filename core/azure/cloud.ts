/**
 * Which Azure cloud we talk to: ARM endpoint and audience, Entra authority host, the token scopes of the data planes,
 * and the DNS suffixes of its storage, Key Vault and registry hosts (hosts.ts). Known clouds come from a table (the az
 * CLI's cloud definitions); Azure Stack Hub and other custom clouds are discovered from ARM's `metadata/endpoints`
 * document: api-version 2022-09-01, which carries `suffixes`, else 2015-01-01 (what azure-pipelines-tasks-common-packages
 * reads), whose suffixes are derived from the ARM host as Azure Stack Hub names them.
 */
import { createHttpHeaders, createPipelineRequest, type HttpClient } from '@azure/core-rest-pipeline';
import type { InFlight } from '../budget';
import { withoutTrailingSlash } from '../domain/urls';
import type { CloudName } from '../vocabulary';
import { AzureRequestError, CancelledError, ConfigError, errorMessage } from '../errors';
import { type Clock, realClock, retry } from '../retry';
import type { AuthSettings } from '../settings';
import { type CloudSuffixes, suffix } from './hosts';
import { isRetryableError, retryAfterMs, TransientHttpError } from './http-retry';
import { boundedAttempt, REQUEST_TIMEOUT_MS } from './request-bounds';

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
  /** The hosts that may get a token: storage, Key Vault and registry DNS suffixes (hosts.ts). */
  readonly suffixes: CloudSuffixes;
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
    // storage.azure.net: accounts with Azure DNS zone endpoints (<account>.z<nn>.blob.storage.azure.net).
    suffixes: { storage: ['core.windows.net', 'storage.azure.net'], keyVault: ['vault.azure.net'], registry: ['azurecr.io'] },
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
    suffixes: { storage: ['core.usgovcloudapi.net'], keyVault: ['vault.usgovcloudapi.net'], registry: ['azurecr.us'] },
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
    suffixes: { storage: ['core.chinacloudapi.cn'], keyVault: ['vault.azure.cn'], registry: ['azurecr.cn'] },
  },
};

/** `https://x/` or `https://x` → `https://x/.default`. */
export function scopeOf(audience: string): string {
  return `${withoutTrailingSlash(audience)}/.default`;
}

/** The ARM metadata document: one cloud (2015-01-01 without suffixes, 2022-09-01 with them), or an array of clouds (2019-05-01). */
interface MetadataEndpoints {
  readonly resourceManager?: string;
  readonly authentication?: { readonly loginEndpoint?: string; readonly audiences?: readonly string[] };
  readonly suffixes?: { readonly storage?: string; readonly keyVaultDns?: string; readonly acrLoginServer?: string };
}

export interface ResolveCloudOptions {
  readonly httpClient: HttpClient;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  /** Log line sink (which cloud, how it was found). */
  readonly log?: (message: string) => void;
  readonly deadline?: number;
  readonly inFlight?: InFlight;
  /** The metadata request's own time limit; default REQUEST_TIMEOUT_MS.metadata. */
  readonly timeoutMs?: number;
}

/**
 * A custom cloud's suffixes when its document names none: Azure Stack Hub's ARM is management.<region>.<fqdn>, its
 * storage <account>.blob.<region>.<fqdn>, its vaults <vault>.vault.<region>.<fqdn> and its registries
 * <registry>.azsacr.<region>.<fqdn> (the suffixes its docs register with `az cloud register`; docs/azure-service.md#hosts-that-get-a-token).
 * An ARM host of another shape names nothing: no host is trusted then.
 */
export function derivedSuffixes(armEndpoint: string): CloudSuffixes {
  let host = '';
  try {
    host = new URL(armEndpoint).hostname.toLowerCase();
  } catch {
    /* no host: nothing derived */
  }
  const m = /^(?:management|adminmanagement)\.(.+\..+)$/.exec(host);
  if (!m) return { storage: [], keyVault: [], registry: [] };
  const rest = m[1]!;
  return { storage: [rest], keyVault: [`vault.${rest}`], registry: [`azsacr.${rest}`] };
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
  // The newer document names the cloud's host suffixes; clouds that only know the 2015 form refuse its api-version.
  const doc = (await metadataDocument(arm, '2022-09-01', o)) ?? (await metadataDocument(arm, '2015-01-01', o));
  const what = `GET metadata/endpoints of ${arm}`;
  if (doc === undefined)
    throw new AzureRequestError(what, 404, 'MetadataUnavailable', 'neither api-version 2022-09-01 nor 2015-01-01 is served', undefined, METADATA_FIX);
  const entry = Array.isArray(doc) ? (doc.find((d) => d.resourceManager !== undefined && sameOrigin(d.resourceManager, arm)) ?? doc[0]) : doc;
  const login = entry?.authentication?.loginEndpoint;
  const audience = entry?.authentication?.audiences?.[0];
  if (!login || !audience) throw new AzureRequestError(what, 200, 'InvalidMetadata', 'the document has no authentication.loginEndpoint or audiences');
  // ADFS (disconnected Azure Stack Hub): the login endpoint ends in /adfs/ and the tenant is literally 'adfs'.
  const adfs = /\/adfs\/?$/i.test(login);
  const authorityHost = withoutTrailingSlash(adfs ? login.replace(/\/adfs\/?$/i, '') : login);
  const armScope = scopeOf(audience);
  const named = entry?.suffixes;
  const derived = derivedSuffixes(arm);
  const suffixes: CloudSuffixes = {
    storage: named?.storage ? [suffix(named.storage)] : derived.storage,
    keyVault: named?.keyVaultDns ? [suffix(named.keyVaultDns)] : derived.keyVault,
    registry: named?.acrLoginServer ? [suffix(named.acrLoginServer)] : derived.registry,
  };
  const keyVault = suffixes.keyVault[0];
  return {
    name: 'custom',
    armEndpoint: arm,
    armScope,
    authorityHost,
    ...(adfs ? { tenantOverride: 'adfs' } : {}),
    disableInstanceDiscovery: true,
    // Custom clouds publish no storage or ACR audience in this document; these are what Stack Hub accepts.
    storageScope: 'https://storage.azure.com/.default',
    keyVaultScope: keyVault ? `https://${keyVault}/.default` : 'https://vault.azure.net/.default',
    acrScopes: [armScope, 'https://containerregistry.azure.net/.default'],
    oidcAudience: PUBLIC_OIDC_AUDIENCE,
    suffixes,
  };
}

const METADATA_FIX = "Check 'resource-manager-endpoint': it must be the ARM endpoint of the cloud (Azure Stack Hub: https://management.<region>.<fqdn>)";

/** The metadata document in one api-version; undefined when the endpoint does not serve that version (400, 404). */
async function metadataDocument(arm: string, apiVersion: string, o: ResolveCloudOptions): Promise<MetadataEndpoints | MetadataEndpoints[] | undefined> {
  const url = `${arm}/metadata/endpoints?api-version=${apiVersion}`;
  const what = `GET metadata/endpoints of ${arm}`;
  const entry = o.inFlight?.start(what);
  try {
    return await retry(
      () =>
        boundedAttempt({ signal: o.signal, timeoutMs: o.timeoutMs ?? REQUEST_TIMEOUT_MS.metadata }, what, async (abortSignal) => {
          const res = await o.httpClient.sendRequest(
            createPipelineRequest({ url, method: 'GET', headers: createHttpHeaders({ accept: 'application/json' }), abortSignal }),
          );
          if (res.status === 408 || res.status === 429 || res.status >= 500)
            throw new TransientHttpError(res.status, retryAfterMs(res.headers, (o.clock ?? realClock).now()));
          if (res.status === 400 || res.status === 404) return undefined;
          if (res.status !== 200)
            throw new AzureRequestError(what, res.status, 'MetadataUnavailable', (res.bodyAsText ?? '').slice(0, 300), undefined, METADATA_FIX);
          try {
            return JSON.parse(res.bodyAsText ?? '') as MetadataEndpoints | MetadataEndpoints[];
          } catch (e) {
            throw new AzureRequestError(what, res.status, 'InvalidMetadata', `not JSON: ${errorMessage(e)}`);
          }
        }),
      {
        attempts: 4,
        minDelayMs: 1000,
        maxDelayMs: 10_000,
        retryable: isRetryableError,
        ...(o.clock ? { clock: o.clock } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
        onRetry: (e) => entry?.note(`retrying after ${errorMessage(e)}`),
      },
    );
  } catch (e) {
    if (e instanceof TransientHttpError) throw new AzureRequestError(what, e.status, 'MetadataUnavailable', e.message);
    if (e instanceof AzureRequestError || e instanceof ConfigError || e instanceof CancelledError) throw e;
    throw new AzureRequestError(
      what,
      0,
      'ConnectionFailed',
      errorMessage(e),
      undefined,
      "Check 'resource-manager-endpoint' and that this machine can reach it",
    );
  } finally {
    entry?.done();
  }
}

/** The cloud of a credential the host brings (ADO service connection): known by its ARM endpoint, else discovered. */
export async function cloudForArmEndpoint(
  armEndpoint: string,
  extra: { armAudience?: string; authorityHost?: string },
  o: ResolveCloudOptions,
): Promise<CloudEndpoints> {
  let cloud = Object.values(KNOWN_CLOUDS).find((c) => sameOrigin(c.armEndpoint, armEndpoint));
  if (!cloud) {
    // The document names the cloud's host suffixes even when the connection names its authority and audience.
    cloud = await discoverCloud(armEndpoint, o).catch((e: unknown) => {
      if (extra.armAudience === undefined || e instanceof CancelledError) throw e;
      o.log?.(`metadata/endpoints of ${armEndpoint} not read (${errorMessage(e)}): host suffixes derived from the ARM host`);
      const armScope = scopeOf(extra.armAudience);
      return {
        name: 'custom' as const,
        armEndpoint: withoutTrailingSlash(armEndpoint),
        armScope,
        authorityHost: withoutTrailingSlash(extra.authorityHost ?? KNOWN_CLOUDS.AzureCloud.authorityHost),
        disableInstanceDiscovery: true,
        storageScope: 'https://storage.azure.com/.default',
        keyVaultScope: 'https://vault.azure.net/.default',
        acrScopes: [armScope, 'https://containerregistry.azure.net/.default'],
        oidcAudience: PUBLIC_OIDC_AUDIENCE,
        suffixes: derivedSuffixes(armEndpoint),
      };
    });
  }
  if (extra.armAudience !== undefined) {
    const armScope = scopeOf(extra.armAudience);
    cloud = { ...cloud, armScope, acrScopes: cloud.name === 'custom' ? [armScope, ...cloud.acrScopes.slice(1)] : cloud.acrScopes };
  }
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
