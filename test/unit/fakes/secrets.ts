import { AzureRequestError } from '../../../core/errors';
import type { SecretStore } from '../../../core/ports';

/** Key Vault secrets by URI without version; every set makes a new version. Denied URIs answer 403. */
export class FakeSecretStore implements SecretStore {
  readonly secrets = new Map<string, string>();
  readonly versions: { id: string; value: string; expiresOn?: Date }[] = [];
  readonly denied = new Set<string>();

  getSecret(secretUri: string): Promise<{ value: string }> {
    if (this.denied.has(secretUri)) return Promise.reject(new AzureRequestError(`read secret ${secretUri}`, 403, 'Forbidden', 'denied'));
    const value = this.secrets.get(secretUri);
    return value === undefined
      ? Promise.reject(new AzureRequestError(`read secret ${secretUri}`, 404, 'SecretNotFound', `A secret with (name/id) ${secretUri} was not found`))
      : Promise.resolve({ value });
  }

  setSecret(vaultUrl: string, name: string, value: string, expiresOn?: Date): Promise<{ id: string }> {
    const uri = `${vaultUrl.replace(/\/+$/, '')}/secrets/${name}`;
    this.secrets.set(uri, value);
    const id = `${uri}/${String(this.versions.length + 1).padStart(32, '0')}`;
    this.versions.push({ id, value, ...(expiresOn ? { expiresOn } : {}) });
    return Promise.resolve({ id });
  }
}
