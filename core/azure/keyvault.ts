/**
 * Key Vault secrets (the SAS tokens the pipelines read) with @azure/keyvault-secrets. Every secret value goes
 * through host.mask before it is returned. The SDK's retries are off; core/retry.ts retries instead. A vault outside
 * the cloud's Key Vault suffix gets no request (hosts.ts), and the SDK's challenge-resource check stays on, so a token
 * only goes to a vault under the resource its challenge names (docs/azure-service.md#hosts-that-get-a-token).
 */
import type { TokenCredential } from '@azure/core-auth';
import { SecretClient } from '@azure/keyvault-secrets';
import { AzureRequestError, CancelledError, redact } from '../errors';
import type { Logger, SecretStore } from '../ports';
import { abortError, type Clock, realClock } from '../retry';
import { type HttpRetryPolicy, retrySdkCall, type SdkRetryOptions } from './http-retry';
import { REQUEST_TIMEOUT_MS } from './request-bounds';

export interface SecretStoreOptions extends Omit<SdkRetryOptions, 'clock'> {
  readonly credential: TokenCredential;
  readonly mask: (secret: string) => void;
  /** Throws when the vault URL is not a Key Vault of the cloud (hosts.ts); it then gets no request. */
  readonly checkVaultHost?: (vaultUrl: string) => void;
  readonly clock?: Clock;
  readonly retry?: HttpRetryPolicy;
  readonly logger?: Pick<Logger, 'debug'>;
  /** Each attempt's own time limit; default REQUEST_TIMEOUT_MS.keyVault. */
  readonly timeoutMs?: number;
}

/** `https://v.vault.azure.net/secrets/name[/version]` → its parts. */
export function parseSecretUri(secretUri: string): { vaultUrl: string; name: string; version?: string } {
  let u: URL;
  try {
    u = new URL(secretUri);
  } catch {
    throw new AzureRequestError(
      `read secret '${secretUri}'`,
      0,
      'InvalidSecretUri',
      'not a URL',
      undefined,
      'A secret URI looks like https://<vault>.vault.azure.net/secrets/<name>[/<version>]',
    );
  }
  const m = /^\/secrets\/([^/]+)(?:\/([^/]*))?\/?$/.exec(u.pathname);
  if (u.protocol !== 'https:' || !m) {
    throw new AzureRequestError(
      `read secret '${secretUri}'`,
      0,
      'InvalidSecretUri',
      'not an https Key Vault secret URI',
      undefined,
      'A secret URI looks like https://<vault>.vault.azure.net/secrets/<name>[/<version>]',
    );
  }
  return { vaultUrl: u.origin, name: decodeURIComponent(m[1]!), ...(m[2] ? { version: m[2] } : {}) };
}

export class KeyVaultSecretStore implements SecretStore {
  private readonly clients = new Map<string, SecretClient>();
  private generation = 0;
  private readonly clock: Clock;

  constructor(private readonly o: SecretStoreOptions) {
    this.clock = o.clock ?? realClock;
  }

  async getSecret(secretUri: string): Promise<{ value: string; version?: string; expiresOn?: Date }> {
    const { vaultUrl, name, version } = parseSecretUri(secretUri);
    this.o.checkVaultHost?.(vaultUrl);
    const what = `read secret '${name}' from Key Vault ${vaultUrl}`;
    const s = await this.retrying(what, (abortSignal) => this.client(vaultUrl).getSecret(name, { ...(version ? { version } : {}), abortSignal }));
    const value = s.value ?? '';
    if (value) this.o.mask(value);
    return {
      value,
      ...(s.properties.version ? { version: s.properties.version } : {}),
      ...(s.properties.expiresOn ? { expiresOn: s.properties.expiresOn } : {}),
    };
  }

  async setSecret(vaultUrl: string, name: string, value: string, expiresOn?: Date): Promise<{ id: string }> {
    this.o.mask(value);
    const url = new URL(vaultUrl).origin;
    this.o.checkVaultHost?.(url);
    const what = `store secret '${name}' in Key Vault ${url}`;
    const s = await this.retrying(what, (abortSignal) => this.client(url).setSecret(name, value, { ...(expiresOn ? { expiresOn } : {}), abortSignal }));
    return { id: s.properties.id ?? `${url}/secrets/${name}` };
  }

  /** One client per vault and sign-in generation: a client's auth policy caches its token, which a fresh sign-in replaces. */
  private client(vaultUrl: string): SecretClient {
    const generation = this.o.signIn?.generation ?? 0;
    if (generation !== this.generation) {
      this.clients.clear();
      this.generation = generation;
    }
    let c = this.clients.get(vaultUrl);
    if (!c) {
      c = new SecretClient(vaultUrl, this.o.credential, {
        // The challenge's resource must be a parent domain of the vault host, or the SDK sends no token.
        disableChallengeResourceVerification: false,
        retryOptions: { maxRetries: 0 },
        userAgentOptions: { userAgentPrefix: 'acr-transfer' },
      });
      this.clients.set(vaultUrl, c);
    }
    return c;
  }

  private async retrying<T>(what: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await retrySdkCall(what, fn, { ...this.o, clock: this.clock }, { timeoutMs: this.o.timeoutMs ?? REQUEST_TIMEOUT_MS.keyVault });
    } catch (e) {
      if (e instanceof AzureRequestError || e instanceof CancelledError) throw e;
      if (this.o.signal?.aborted) throw abortError(this.o.signal);
      const err = e as { statusCode?: unknown; code?: unknown; message?: unknown; response?: { headers?: { get(n: string): string | undefined } } };
      const status = typeof err.statusCode === 'number' ? err.statusCode : 0;
      const code = typeof err.code === 'string' ? err.code : status ? `HTTP${status}` : 'RequestFailed';
      throw new AzureRequestError(
        what,
        status,
        code,
        redact(String(err.message ?? e)),
        err.response?.headers?.get('x-ms-request-id'),
        keyVaultFix(status, code),
      );
    }
  }
}

function keyVaultFix(status: number, code: string): string | undefined {
  if (code === 'SecretNotFound' || status === 404) return 'Check the secret URI (vault, secret name, version)';
  if (status === 403) {
    return "The signed-in identity needs to read/write secrets in this vault: the 'Key Vault Secrets Officer' role (RBAC vaults) or a get/set access policy; the firewall must also let this machine in";
  }
  if (status === 401) return 'Check that the identity signs in to the tenant of the vault';
  return undefined;
}
