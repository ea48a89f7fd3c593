/**
 * Builds the real Services (ARM, registry data planes, blobs, Key Vault) for a run: resolves the cloud, checks that the
 * hosts the inputs name belong to it (before any token exists), builds the sign-in, and gives every client the run's
 * budget (signal, clock, deadline, in-flight requests) and the cloud's host rules.
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
import { checkHost, checkInputHosts } from './hosts';
import { KeyVaultSecretStore } from './keyvault';
import { SignInSession } from './sign-in';

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
  const { clock, signal, deadline, inFlight } = host.budget;
  const httpClient = o.httpClient ?? createDefaultHttpClient();
  const logger = host.logger;
  const common = { clock, signal, logger, deadline, inFlight };
  const resolveOpts = { httpClient, signal, clock, deadline, inFlight, log: (m: string) => logger.info(m) };

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
  const cloudName = cloud.name === 'custom' ? cloud.armEndpoint : cloud.name;
  // A container or secret of another cloud (or of anyone) gets no request and no token: refused before sign-in.
  checkInputHosts(settings, cloud.suffixes, cloudName);
  const env = o.authEnvironment ?? processAuthEnvironment;
  const choice = createCredential(settings.auth, cloud, host, env, o.httpClient);
  logger.info(`Azure sign-in: ${choice.reason}; ARM ${cloud.armEndpoint}`);
  // One sign-in before anything else: a refusal ends the step in one line naming the mode and the fix.
  await signIn(choice, cloud.armScope, signal);
  let signIns = 0;
  const credential = new SignInSession({
    // The first sign-in is the one just made; each later one builds a new credential, so no cached token survives.
    make: () => {
      if (signIns++ === 0) return choice.credential;
      const renewHost = host.credential?.renew;
      const again = renewHost && host.credential ? { mask: (x: string) => host.mask(x), credential: { ...host.credential, credential: renewHost() } } : host;
      return createCredential(settings.auth, cloud, again, env, o.httpClient).credential;
    },
    description: choice.kind === 'host' ? choice.reason : `auth-type ${choice.kind}`,
    signal,
    inFlight,
    log: (m) => logger.info(m),
  });
  const mask = (s: string): void => host.mask(s);
  const hostRules = {
    checkVaultHost: (url: string) => checkHost('keyVault', url, cloud.suffixes, cloudName),
    checkStorageHost: (url: string) => checkHost('storage', url, cloud.suffixes, cloudName),
    checkRegistryHost: (loginServer: string) => checkHost('registry', loginServer, cloud.suffixes, cloudName),
  };

  const secrets = new KeyVaultSecretStore({ credential, mask, signIn: credential, checkVaultHost: hostRules.checkVaultHost, ...common });
  const exportPipeline = settings.exportPipeline;
  const sourceSas =
    o.sourceSas ??
    (async (containerUri: string): Promise<string | undefined> => {
      if (exportPipeline.storageUri === undefined || exportPipeline.sasSecretUri === undefined || !sameUri(exportPipeline.storageUri, containerUri))
        return undefined;
      return (await secrets.getSecret(exportPipeline.sasSecretUri)).value || undefined;
    });

  // One ARM transport for both clients: the same retries, deadline and signal.
  const armTransport = new ArmTransport({ endpoint: cloud.armEndpoint, credential, scope: cloud.armScope, httpClient, signIn: credential, ...common });
  const services: Services = {
    arm: new ArmPipelinesClient(armTransport, { apiVersion: settings.apiVersion }),
    access: new ArmAccessClient(armTransport, { mask }),
    registries: new AcrDataPlaneFactory({
      credential,
      scopes: cloud.acrScopes,
      httpClient,
      mask,
      signIn: credential,
      checkRegistryHost: hostRules.checkRegistryHost,
      ...(settings.auth.tenantId ? { tenantId: settings.auth.tenantId } : {}),
      ...common,
    }),
    blobs: new AzureBlobStore({
      credential,
      scope: cloud.storageScope,
      sourceSas,
      mask,
      signIn: credential,
      checkStorageHost: hostRules.checkStorageHost,
      ...common,
    }),
    secrets,
  };
  return { services, cloud, auth: { kind: choice.kind, reason: choice.reason } };
}
