/**
 * The TokenCredential for AuthSettings: OIDC (GitHub federated token), an azure/login CLI session, a service
 * principal (secret or certificate), or a managed identity; `auto` takes the first whose inputs or environment are
 * present and says which. Every token the credential hands out goes through host.mask first.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { AzureCliCredential, ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, errorMessage, SignInError } from '../errors';
import type { Host } from '../host';
import type { AuthType } from '../vocabulary';
import type { AuthSettings } from '../settings';
import type { CloudEndpoints } from './cloud';

export type CredentialKind = Exclude<AuthType, 'auto'> | 'host';

/** Which sign-in a credential is, and what fixes it when Entra refuses it: for the one line a failed sign-in ends in. */
export interface SignInMode {
  readonly mode: string;
  readonly fix: string;
}

export interface CredentialChoice {
  readonly credential: TokenCredential;
  readonly kind: CredentialKind;
  /** One line for the log: which credential and why. */
  readonly reason: string;
  readonly signIn: SignInMode;
}

/** What auto-selection looks at besides the settings; injectable for tests. */
export interface AuthEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether an executable is on PATH. */
  readonly onPath: (command: string) => boolean;
}

export const processAuthEnvironment: AuthEnvironment = {
  env: process.env,
  onPath: (command) => {
    const exts = process.platform === 'win32' ? ['.cmd', '.exe', ''] : [''];
    return (process.env['PATH'] ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .some((dir) => exts.some((ext) => existsSync(path.join(dir, command + ext))));
  },
};

/** Decides the auth type for `auto`, in the documented order (docs/hosts.md#auth-type-auto). */
export function chooseAuthType(auth: AuthSettings, host: Pick<Host, 'getIdToken'>, e: AuthEnvironment): { type: Exclude<AuthType, 'auto'>; reason: string } {
  if (auth.type !== 'auto') return { type: auth.type, reason: `auth-type ${auth.type}` };
  const app = auth.clientId !== undefined && auth.tenantId !== undefined;
  if (app && e.env['ACTIONS_ID_TOKEN_REQUEST_URL'] && host.getIdToken)
    return { type: 'oidc', reason: 'auto: client-id and tenant-id given and the workflow can issue OIDC tokens' };
  if (app && (auth.clientSecret !== undefined || auth.clientCertificate !== undefined)) {
    return { type: 'service-principal', reason: `auto: client-id, tenant-id and a client ${auth.clientSecret !== undefined ? 'secret' : 'certificate'} given` };
  }
  if (e.onPath('az')) return { type: 'azure-cli', reason: 'auto: the Azure CLI is on PATH (reusing its azure/login session)' };
  return {
    type: 'managed-identity',
    reason: `auto: nothing else present, using the machine's managed identity${auth.clientId ? ` (client id ${auth.clientId})` : ''}`,
  };
}

/** Wraps a credential so that every access token is registered with the host's log masking before anyone sees it. */
export class MaskingCredential implements TokenCredential {
  constructor(
    private readonly inner: TokenCredential,
    private readonly mask: (secret: string) => void,
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const token = await this.inner.getToken(scopes, options);
    if (token?.token) this.mask(token.token);
    return token;
  }
}

/** Builds the credential; the host's own credential (ADO service connection) wins when present. */
export function createCredential(
  auth: AuthSettings,
  cloud: CloudEndpoints,
  host: Pick<Host, 'getIdToken' | 'mask' | 'credential'>,
  e: AuthEnvironment = processAuthEnvironment,
  /** Transport for the token requests (tests: a fake). */
  httpClient?: HttpClient,
): CredentialChoice {
  if (host.credential)
    return {
      credential: new MaskingCredential(host.credential.credential, (s) => host.mask(s)),
      kind: 'host',
      reason: "the pipeline's Azure service connection",
      signIn: host.credential.signIn ?? { mode: "the pipeline's Azure service connection", fix: 'check the service connection (Verify, in its settings)' },
    };
  const { type, reason } = chooseAuthType(auth, host, e);
  const common = { authorityHost: cloud.authorityHost, disableInstanceDiscovery: cloud.disableInstanceDiscovery, ...(httpClient ? { httpClient } : {}) };
  const tenant = (): string => {
    const t = cloud.tenantOverride ?? auth.tenantId;
    if (t === undefined) throw new ConfigError(`Input 'tenant-id' is required when 'auth-type' is ${type}`);
    return t;
  };
  const client = (): string => {
    if (auth.clientId === undefined) throw new ConfigError(`Input 'client-id' is required when 'auth-type' is ${type}`);
    return auth.clientId;
  };
  let credential: TokenCredential;
  switch (type) {
    case 'oidc': {
      const getIdToken = host.getIdToken;
      if (!getIdToken)
        throw new ConfigError("auth-type 'oidc' needs a workflow OIDC token: add `permissions: id-token: write` to the job (GitHub Actions only)");
      const audience = auth.audience === 'api://AzureADTokenExchange' ? cloud.oidcAudience : auth.audience;
      // Called on every token request, so each one gets a fresh assertion: GitHub's lasts ~10 minutes, a transfer longer
      // (the az CLI session cannot do this: AADSTS700024, Azure/login#180).
      credential = new ClientAssertionCredential(
        tenant(),
        client(),
        async () => {
          try {
            const assertion = await getIdToken(audience);
            host.mask(assertion);
            return assertion;
          } catch (err) {
            throw new ConfigError(
              `could not get a GitHub OIDC token for audience '${audience}': ${errorMessage(err)}. The job needs \`permissions: id-token: write\``,
            );
          }
        },
        common,
      );
      break;
    }
    case 'service-principal':
      if (auth.clientSecret !== undefined) credential = new ClientSecretCredential(tenant(), client(), auth.clientSecret, common);
      else if (auth.clientCertificate !== undefined) {
        const cert = auth.clientCertificate;
        credential = cert.startsWith('@file:')
          ? new ClientCertificateCredential(tenant(), client(), { certificatePath: cert.slice('@file:'.length) }, common)
          : new ClientCertificateCredential(tenant(), client(), { certificate: cert }, common);
      } else throw new ConfigError("Input 'client-secret' (or 'client-certificate', or 'creds') is required when 'auth-type' is service-principal");
      break;
    case 'azure-cli':
      if (!e.onPath('az'))
        throw new ConfigError(
          "auth-type 'azure-cli' needs the Azure CLI, and 'az' is not on PATH: install it and sign in (an azure/login step), or choose another auth-type",
        );
      credential = new AzureCliCredential({ ...(auth.tenantId !== undefined ? { tenantId: auth.tenantId } : {}), processTimeoutInMs: 60_000 });
      break;
    case 'managed-identity':
      credential = new ManagedIdentityCredential({
        ...(auth.clientId !== undefined ? { clientId: auth.clientId } : {}),
        ...(httpClient ? { httpClient } : {}),
      });
      break;
  }
  return { credential: new MaskingCredential(credential, (s) => host.mask(s)), kind: type, reason, signIn: signInMode(type, auth) };
}

/** How each auth-type names itself in a failed sign-in, and its usual fix. */
export function signInMode(type: Exclude<AuthType, 'auto'>, auth: AuthSettings): SignInMode {
  const app = `client-id ${auth.clientId ?? '(none)'}, tenant-id ${auth.tenantId ?? '(none)'}`;
  switch (type) {
    case 'oidc':
      return {
        mode: `oidc (the workflow's federated token; ${app})`,
        fix: "check that the app registration has a federated credential for this repository and workflow (issuer, subject, audience), and 'client-id' and 'tenant-id'",
      };
    case 'service-principal':
      return auth.clientSecret !== undefined
        ? {
            mode: `service principal with a client secret (${app})`,
            fix: "check 'client-secret' (it may have expired or been rotated), 'client-id' and 'tenant-id'",
          }
        : {
            mode: `service principal with a certificate (${app})`,
            fix: "check 'client-certificate' (PEM with its private key, uploaded to the app registration, not expired), 'client-id' and 'tenant-id'",
          };
    case 'azure-cli':
      return {
        mode: 'azure-cli (the az session of an earlier azure/login step)',
        fix: 'sign in first in this job (an azure/login step, or az login), or choose another auth-type',
      };
    case 'managed-identity':
      return {
        mode: `managed identity${auth.clientId ? ` (client-id ${auth.clientId})` : " (the machine's)"}`,
        fix: "run on an Azure machine (a self-hosted runner) with a managed identity, give 'client-id' of a user-assigned one, or choose another auth-type",
      };
  }
}

/** Entra's answer without its trace lines and troubleshooting link: the AADSTS code and its sentence are what a user acts on. */
function signInReason(e: unknown): string {
  const text = oneLineText(errorMessage(e))
    .replace(/\s*Trace ID:.*$/i, '')
    .replace(/\s*To troubleshoot, visit \S+\.?/i, '')
    .trim()
    .replace(/\.$/, '');
  return /\bAADSTS\d+:.*$/.exec(text)?.[0] ?? text;
}

const oneLineText = (t: string): string => t.replace(/\s*[\r\n]+\s*/g, ' ');

/**
 * Signs in once, before anything else talks to Azure: a refused credential ends the step in one line naming the mode and
 * its fix, instead of every service failing its first call with the same error.
 */
export async function signIn(choice: CredentialChoice, scope: string, signal?: AbortSignal): Promise<void> {
  try {
    const token = await choice.credential.getToken(scope, signal ? { abortSignal: signal } : {});
    if (!token) throw new Error('the credential returned no token');
  } catch (e) {
    if (signal?.aborted || e instanceof ConfigError) throw e;
    throw new SignInError(`Azure sign-in failed (${choice.signIn.mode}): ${signInReason(e)}. Fix: ${choice.signIn.fix}`);
  }
}
