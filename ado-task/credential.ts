/**
 * Turns a service connection (plain data, see service-connection.ts) into the credential the core uses (Host.credential):
 * the cloud from the connection (environment, authority, ARM URL and audience; Azure Stack through metadata/endpoints), and
 * one credential per scheme (docs/hosts.md#azure-devops-service-connection). No task-lib here, so unit tests can drive it with plain objects.
 */
import { withoutTrailingSlash } from '../core/domain/urls';
import type { TokenCredential } from '@azure/core-auth';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { AzurePipelinesCredential, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { discoverCloud, KNOWN_CLOUDS } from '../core/azure/cloud';
import { ConfigError } from '../core/errors';
import type { Host } from '../core/host';
import type { ServiceConnection } from './service-connection';

export type HostCredential = NonNullable<Host['credential']>;

export interface ConnectionCloud {
  readonly armEndpoint: string;
  /** Without /.default; absent for a known cloud whose connection does not name one (the core uses the cloud's own). */
  readonly armAudience?: string;
  readonly authorityHost: string;
  /** ADFS (disconnected Azure Stack Hub): the tenant is literally 'adfs'. */
  readonly tenantOverride?: string;
  readonly disableInstanceDiscovery: boolean;
}

export interface CredentialOptions {
  readonly httpClient: HttpClient;
  readonly signal?: AbortSignal;
  readonly log?: (message: string) => void;
  /** process.env by default: AzurePipelinesCredential reads SYSTEM_OIDCREQUESTURI from there itself. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const PUBLIC_AUTHORITY = 'https://login.microsoftonline.com';

function knownCloud(environment: string | undefined): (typeof KNOWN_CLOUDS)[keyof typeof KNOWN_CLOUDS] | undefined {
  const hit = Object.entries(KNOWN_CLOUDS).find(([name]) => name.toLowerCase() === (environment ?? 'AzureCloud').toLowerCase());
  return hit?.[1];
}

function origin(url: string): string {
  try {
    return new URL(url).origin.toLowerCase();
  } catch {
    return url.toLowerCase();
  }
}

/** The cloud of a connection: what its data says, filled from the known clouds, or for Azure Stack and custom clouds from ARM's metadata document. */
export async function connectionCloud(conn: ServiceConnection, o: CredentialOptions): Promise<ConnectionCloud> {
  const known = conn.environment?.toLowerCase() === 'azurestack' ? undefined : knownCloud(conn.environment);
  const armEndpoint = conn.url !== undefined ? withoutTrailingSlash(conn.url) : known?.armEndpoint;
  if (armEndpoint === undefined) {
    throw new ConfigError(
      `Service connection '${conn.id}' (environment ${conn.environment ?? 'unknown'}) has no ARM URL: edit the connection and set its management endpoint`,
    );
  }
  let authority = conn.authority !== undefined ? withoutTrailingSlash(conn.authority) : undefined;
  let armAudience = conn.armAudience;
  if (known !== undefined && origin(known.armEndpoint) === origin(armEndpoint)) {
    authority ??= known.authorityHost; // the audience, when the connection names none, is the cloud's own (the core knows it)
  } else if (authority === undefined || armAudience === undefined) {
    // Azure Stack Hub, air-gapped and other custom clouds: the ARM endpoint describes itself.
    const found = await discoverCloud(armEndpoint, { httpClient: o.httpClient, ...(o.signal ? { signal: o.signal } : {}), ...(o.log ? { log: o.log } : {}) });
    authority ??= found.tenantOverride ? `${found.authorityHost}/${found.tenantOverride}` : found.authorityHost;
    armAudience ??= found.armScope.replace(/\/\.default$/, '');
    o.log?.(`Cloud of service connection '${conn.id}' from ${armEndpoint}/metadata/endpoints: authority ${authority}, audience ${armAudience}`);
  }
  // Azure Stack with ADFS names the authority as https://adfs.<region>.<fqdn>/adfs; MSAL wants the host and tenant 'adfs'.
  const adfs = /\/adfs$/i.test(authority);
  const authorityHost = adfs ? authority.replace(/\/adfs$/i, '') : authority;
  return {
    armEndpoint,
    ...(armAudience !== undefined ? { armAudience } : {}),
    authorityHost,
    ...(adfs ? { tenantOverride: 'adfs' } : {}),
    // MSAL asks login.microsoftonline.com about any other authority unless told not to: egress, and wrong in sovereign clouds.
    disableInstanceDiscovery: origin(authorityHost) !== PUBLIC_AUTHORITY,
  };
}

function need(conn: ServiceConnection, value: string | undefined, what: string): string {
  if (value === undefined) throw new ConfigError(`Service connection '${conn.id}' (${conn.scheme}) has no ${what}: edit the connection, or recreate it`);
  return value;
}

/** The credential for a connection's scheme (the caller has masked the connection's secrets already). */
export function connectionCredential(
  conn: ServiceConnection,
  cloud: ConnectionCloud,
  o: CredentialOptions,
): { credential: TokenCredential; description: string; fix: string } {
  const common = { authorityHost: cloud.authorityHost, disableInstanceDiscovery: cloud.disableInstanceDiscovery };
  const tenant = (): string => cloud.tenantOverride ?? need(conn, conn.tenantId, 'tenant id (tenantid)');
  const client = (): string => need(conn, conn.clientId, 'service principal id (serviceprincipalid)');
  const scheme = conn.scheme.toLowerCase();
  if (scheme === 'serviceprincipal') {
    if (conn.authenticationType?.toLowerCase() === 'spncertificate') {
      const pem = need(conn, conn.certificate, 'certificate (servicePrincipalCertificate)');
      return {
        credential: new ClientCertificateCredential(tenant(), client(), { certificate: pem }, common),
        description: `service principal ${client()} with a certificate`,
        fix: "check the connection's certificate (PEM with its private key, not expired, uploaded to the app registration): edit the connection and Verify",
      };
    }
    const key = need(conn, conn.servicePrincipalKey, 'service principal key (serviceprincipalkey)');
    return {
      credential: new ClientSecretCredential(tenant(), client(), key, common),
      description: `service principal ${client()} with a secret`,
      fix: "the connection's secret may have expired or been rotated: edit the connection and Verify it (or create a new secret)",
    };
  }
  if (scheme === 'managedserviceidentity') {
    // The agent's own identity through IMDS (self-hosted agents on Azure); no authority involved.
    const credential = conn.msiClientId !== undefined ? new ManagedIdentityCredential({ clientId: conn.msiClientId }) : new ManagedIdentityCredential();
    return {
      credential,
      description: `the agent's managed identity${conn.msiClientId ? ` ${conn.msiClientId}` : ''}`,
      fix: 'the agent machine needs a managed identity (self-hosted agents on Azure) with access to the registries, or use another kind of connection',
    };
  }
  if (scheme === 'workloadidentityfederation') {
    const env = o.env ?? process.env;
    const missing = [conn.systemAccessToken === undefined ? 'System.AccessToken' : '', !env['SYSTEM_OIDCREQUESTURI'] ? 'System.OidcRequestUri' : ''].filter(
      Boolean,
    );
    if (missing.length > 0) {
      throw new ConfigError(
        `Service connection '${conn.id}' uses workload identity federation, which needs ${missing.join(' and ')}, and this job does not have ${missing.length > 1 ? 'them' : 'it'}: ` +
          'map them into the step with `env: { SYSTEM_ACCESSTOKEN: $(System.AccessToken), SYSTEM_OIDCREQUESTURI: $(System.OidcRequestUri) }` ' +
          '(classic release: enable "Allow scripts to access the OAuth token"); Azure DevOps Server needs a version with workload identity federation',
      );
    }
    const token = conn.systemAccessToken!;
    // Fetches a fresh OIDC token from the job on every Entra request, so long transfers outlive the ~10-minute assertion.
    return {
      credential: new AzurePipelinesCredential(tenant(), client(), conn.id, token, common),
      description: `workload identity federation as ${client()}`,
      fix: "check the app registration's federated credential: its issuer and subject must be the ones the service connection shows",
    };
  }
  throw new ConfigError(
    `Service connection '${conn.id}' uses the ${conn.scheme} scheme, which cannot call Azure Resource Manager: use a ServicePrincipal, ManagedServiceIdentity or WorkloadIdentityFederation connection`,
  );
}

/** Host.credential for the core: the credential plus the cloud it belongs to. */
export async function hostCredential(conn: ServiceConnection, o: CredentialOptions): Promise<{ hostCredential: HostCredential; description: string }> {
  const cloud = await connectionCloud(conn, o);
  const { credential, description, fix } = connectionCredential(conn, cloud, o);
  return {
    hostCredential: {
      credential,
      signIn: { mode: `service connection '${conn.id}', ${description}`, fix },
      // A new credential object has no cached token: the core signs in again with it after Azure refused one.
      renew: () => connectionCredential(conn, cloud, o).credential,
      armEndpoint: cloud.armEndpoint,
      authorityHost: cloud.authorityHost,
      ...(cloud.armAudience !== undefined ? { armAudience: cloud.armAudience } : {}),
    },
    description: `${description}, ARM ${cloud.armEndpoint}, authority ${cloud.authorityHost}${cloud.tenantOverride ? ` (tenant ${cloud.tenantOverride})` : ''}`,
  };
}
