/**
 * Reads the AzureRM service connection the agent hands the task (ENDPOINT_URL_<id>, ENDPOINT_AUTH_*, ENDPOINT_DATA_*) into
 * plain data. Only this file and the other adapter files touch task-lib; credential.ts turns the data into a credential.
 * Parameter names: those of azure-pipelines-tasks-common-packages azure-arm-rest (docs/hosts.md#azure-devops-service-connection).
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { ConfigError } from '../core/errors';

export interface ServiceConnection {
  readonly id: string;
  /** ServicePrincipal (also when absent), ManagedServiceIdentity, WorkloadIdentityFederation; anything else is refused. */
  readonly scheme: string;
  /** AzureCloud, AzureUSGovernment, AzureChinaCloud, AzureStack. */
  readonly environment?: string;
  /** The ARM URL (getEndpointUrl). */
  readonly url?: string;
  /** activeDirectoryAuthority, or environmentAuthorityUrl on older connections (Azure Stack: ends in /adfs/ for ADFS). */
  readonly authority?: string;
  /** activeDirectoryServiceEndpointResourceId: the ARM audience. */
  readonly armAudience?: string;
  readonly subscriptionId?: string;
  readonly tenantId?: string;
  readonly clientId?: string;
  /** spnKey (default) or spnCertificate. */
  readonly authenticationType?: string;
  readonly servicePrincipalKey?: string;
  /** PEM with the certificate and its private key. */
  readonly certificate?: string;
  /** The user-assigned identity to use on a ManagedServiceIdentity connection. */
  readonly msiClientId?: string;
  /** The job's OAuth token (System.AccessToken), for workload identity federation (which also needs SYSTEM_OIDCREQUESTURI). */
  readonly systemAccessToken?: string;
}

const opt = (v: string | undefined): string | undefined => (v && v.trim() ? v.trim() : undefined);

/** The connection named by the `azureSubscription` input; a ConfigError when the job does not have it. */
export function readServiceConnection(id: string): ServiceConnection {
  // The agent puts every connection the job may use into the environment; a missing one means a bad input or no authorization.
  if (tl.getEndpointAuthorization(id, true) === undefined && opt(tl.getEndpointUrl(id, true)) === undefined) {
    throw new ConfigError(
      `Input 'azureSubscription' is '${id}': the job has no such service connection; name an Azure Resource Manager service connection this pipeline is authorized to use`,
    );
  }
  const data = (key: string): string | undefined => opt(tl.getEndpointDataParameter(id, key, true));
  const auth = (key: string): string | undefined => opt(tl.getEndpointAuthorizationParameter(id, key, true));
  return {
    id,
    scheme: opt(tl.getEndpointAuthorizationScheme(id, true)) ?? 'ServicePrincipal',
    ...defined({
      environment: data('environment'),
      url: opt(tl.getEndpointUrl(id, true)),
      authority: data('activeDirectoryAuthority') ?? data('environmentAuthorityUrl'),
      armAudience: data('activeDirectoryServiceEndpointResourceId'),
      subscriptionId: data('subscriptionId'),
      tenantId: auth('tenantid'),
      clientId: auth('serviceprincipalid'),
      authenticationType: auth('authenticationType'),
      servicePrincipalKey: auth('serviceprincipalkey'),
      certificate: auth('servicePrincipalCertificate'),
      msiClientId: data('msiclientId'),
      // The job token reaches tasks as the SystemVssConnection endpoint without mapping; SYSTEM_ACCESSTOKEN when the user mapped it.
      systemAccessToken: opt(tl.getEndpointAuthorizationParameter('SystemVssConnection', 'AccessToken', true)) ?? opt(tl.getVariable('System.AccessToken')),
    }),
  };
}

/** Drops the absent values (exactOptionalPropertyTypes: an optional field is missing, never undefined). */
function defined<K extends string>(o: Record<K, string | undefined>): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const k of Object.keys(o) as K[]) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
