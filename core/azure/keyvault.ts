/**
 * Key Vault secrets (the SAS tokens the pipelines read) with @azure/keyvault-secrets. Every secret value goes
 * through host.mask before it is returned. The SDK's retries are off; core/retry.ts retries instead.
 */
import type { TokenCredential } from '@azure/core-auth';
import { SecretClient } from '@azure/keyvault-secrets';
import { AzureRequestError, CancelledError, redact } from '../errors';
import type { Logger, SecretStore } from '../ports';
import { abortError, type Clock, realClock } from '../retry';
import { type HttpRetryPolicy, retrySdkCall } from './http-retry';

/** Vault hosts whose challenge names a matching resource; any other host (private clouds, emulators) cannot pass the SDK's check. */
const PUBLIC_VAULT_SUFFIXES = ['.vault.azure.net', '.vault.azure.cn', '.vault.usgovcloudapi.net', '.vault.microsoftazure.de'];

export interface SecretStoreOptions {
  readonly credential: TokenCredential;
  readonly mask: (secret: string) => void;
  /** The cloud's own vault DNS suffix, also trusted for challenge verification. */
  readonly keyVaultDnsSuffix?: string;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  readonly retry?: HttpRetryPolicy;
  readonly logger?: Pick<Logger, 'debug'>;
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
  private readonly clock: Clock;

  constructor(private readonly o: SecretStoreOptions) {
    this.clock = o.clock ?? realClock;
  }

  async getSecret(secretUri: string): Promise<{ value: string; version?: string; expiresOn?: Date }> {
    const { vaultUrl, name, version } = parseSecretUri(secretUri);
    const what = `read secret '${name}' from Key Vault ${vaultUrl}`;
    const s = await this.retrying(what, () => this.client(vaultUrl).getSecret(name, { ...(version ? { version } : {}), ...this.abortOpt() }));
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
    const what = `store secret '${name}' in Key Vault ${url}`;
    const s = await this.retrying(what, () => this.client(url).setSecret(name, value, { ...(expiresOn ? { expiresOn } : {}), ...this.abortOpt() }));
    return { id: s.properties.id ?? `${url}/secrets/${name}` };
  }

  private client(vaultUrl: string): SecretClient {
    let c = this.clients.get(vaultUrl);
    if (!c) {
      const host = new URL(vaultUrl).hostname.toLowerCase();
      const suffixes = [...PUBLIC_VAULT_SUFFIXES, ...(this.o.keyVaultDnsSuffix ? [`.${this.o.keyVaultDnsSuffix.replace(/^\./, '')}`] : [])];
      const known = suffixes.some((s) => host.endsWith(s));
      c = new SecretClient(vaultUrl, this.o.credential, {
        // The SDK checks that the challenge's resource matches the vault host; only real vault hosts can pass.
        ...(known ? {} : { disableChallengeResourceVerification: true }),
        retryOptions: { maxRetries: 0 },
        userAgentOptions: { userAgentPrefix: 'acr-transfer' },
      });
      this.clients.set(vaultUrl, c);
    }
    return c;
  }

  private abortOpt(): { abortSignal?: AbortSignal } {
    return this.o.signal ? { abortSignal: this.o.signal } : {};
  }

  private async retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await retrySdkCall(what, fn, { ...this.o, clock: this.clock });
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
