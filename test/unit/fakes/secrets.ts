import type { SecretStore } from '../../../core/ports';

export class FakeSecretStore implements SecretStore {
  readonly secrets = new Map<string, string>();

  getSecret(secretUri: string): Promise<{ value: string }> {
    const value = this.secrets.get(secretUri);
    return value === undefined ? Promise.reject(new Error(`SecretNotFound: ${secretUri}`)) : Promise.resolve({ value });
  }

  setSecret(vaultUrl: string, name: string, value: string): Promise<{ id: string }> {
    const id = `${vaultUrl.replace(/\/+$/, '')}/secrets/${name}`;
    this.secrets.set(id, value);
    return Promise.resolve({ id });
  }
}
