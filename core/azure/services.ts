/**
 * Builds the real Services (ARM, registry data planes, blobs, Key Vault) for a run: resolves the cloud, builds the
 * credential, and gives every client the host's abort signal, clock and the run's deadline.
 */
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import { sameUri } from '../domain/urls';
import type { Host } from '../host';
import type { Services } from '../ports';
import type { TransferSettings } from '../settings';
import { AcrDataPlaneFactory } from './acr';
import { ArmAccessClient } from './arm/access';
import { ArmPipelinesClient } from './arm/pipelines';
import { ArmTransport } from './arm/transport';
import { type AuthEnvironment, type CredentialKind, createCredential, processAuthEnvironment, signIn } from './auth';
import { AzureBlobStore } from './blobs';
import { cloudForArmEndpoint, type CloudEndpoints, resolveCloud } from './cloud';
import { KeyVaultSecretStore } from './keyvault';

export interface CreateServicesOptions {
  /** Transport for ARM, the ACR data plane, metadata discovery and token requests (tests: a fake); storage and Key Vault use their SDKs. */
  readonly httpClient?: HttpClient;
  /** What `auto` authentication looks at (environment variables, PATH). */
  readonly authEnvironment?: AuthEnvironment;
  /**
   * The SAS that lets a copy read a source container. Default: the export SAS from Key Vault for the export
   * container (settings.exportPipeline), otherwise a user-delegation SAS made with the caller's token.
   */
  readonly sourceSas?: (containerUri: string) => Promise<string | undefined>;
}

export interface CreatedServices {
  readonly services: Services;
  readonly cloud: CloudEndpoints;
  /** Which credential signs in, and why (also logged). */
  readonly auth: { readonly kind: CredentialKind; readonly reason: string };
}

export async function createServices(settings: TransferSettings, host: Host, o: CreateServicesOptions = {}): Promise<CreatedServices> {
  const { clock, signal, deadline } = host.budget;
  const httpClient = o.httpClient ?? createDefaultHttpClient();
  const logger = host.logger;
  const common = { clock, signal, logger };
  const resolveOpts = { httpClient, signal, clock, log: (m: string) => logger.info(m) };

  const cloud = host.credential
    ? await cloudForArmEndpoint(
        host.credential.armEndpoint,
        {
          ...(host.credential.armAudience !== undefined ? { armAudience: host.credential.armAudience } : {}),
          ...(host.credential.authorityHost !== undefined ? { authorityHost: host.credential.authorityHost } : {}),
        },
        resolveOpts,
      )
    : await resolveCloud(settings.auth, resolveOpts);
  const choice = createCredential(settings.auth, cloud, host, o.authEnvironment ?? processAuthEnvironment, o.httpClient);
  logger.info(`Azure sign-in: ${choice.reason}; ARM ${cloud.armEndpoint}`);
  await signIn(choice, cloud.armScope, signal);
  const credential = choice.credential;
  const mask = (s: string): void => host.mask(s);

  const secrets = new KeyVaultSecretStore({ credential, mask, ...(cloud.keyVaultDnsSuffix ? { keyVaultDnsSuffix: cloud.keyVaultDnsSuffix } : {}), ...common });
  const exportPipeline = settings.exportPipeline;
  const sourceSas =
    o.sourceSas ??
    (async (containerUri: string): Promise<string | undefined> => {
      if (exportPipeline.storageUri === undefined || exportPipeline.sasSecretUri === undefined || !sameUri(exportPipeline.storageUri, containerUri))
        return undefined;
      return (await secrets.getSecret(exportPipeline.sasSecretUri)).value || undefined;
    });

  // One ARM transport for both clients: the same retries, deadline and signal.
  const armTransport = new ArmTransport({ endpoint: cloud.armEndpoint, credential, scope: cloud.armScope, httpClient, deadline, ...common });
  const services: Services = {
    arm: new ArmPipelinesClient(armTransport, { apiVersion: settings.apiVersion }),
    access: new ArmAccessClient(armTransport, { mask }),
    registries: new AcrDataPlaneFactory({
      credential,
      scopes: cloud.acrScopes,
      httpClient,
      mask,
      ...(settings.auth.tenantId ? { tenantId: settings.auth.tenantId } : {}),
      ...common,
    }),
    blobs: new AzureBlobStore({ credential, scope: cloud.storageScope, sourceSas, mask, deadline, ...common }),
    secrets,
  };
  return { services, cloud, auth: { kind: choice.kind, reason: choice.reason } };
}
