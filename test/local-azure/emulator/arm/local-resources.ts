/**
 * The resources of the local Azure around the registries, as the lifecycle operations see them in ARM: the
 * subscription, the resource group, the one Key Vault (its vaultUri is env.keyVaultUrl) and the two storage accounts;
 * their ids, and role assignment scopes resolved against them.
 */
import { keyVaultUrl, type StorageEnv } from '../../config';
import type { Emulator } from '../context';
import type { HttpError } from '../http';
import { badRequest, checkScope, checkSubscription, resourceNotFound } from './frame';

export const lower = (s: string): string => s.toLowerCase();

/** A scope covers a resource when it is the resource or one of its ancestors. */
export const covers = (scope: string, resourceId: string): boolean => lower(resourceId) === lower(scope) || lower(resourceId).startsWith(`${lower(scope)}/`);

export class LocalResources {
  /** When the emulator "created" these resources (their systemData and creation times): the first start's time. */
  readonly createdAt: string;

  constructor(private readonly emu: Emulator) {
    this.createdAt = emu.disk.kept('resources-created', () => new Date().toISOString());
  }

  get sub(): string {
    return this.emu.config.subscriptionId;
  }

  get rgId(): string {
    return `/subscriptions/${this.sub}/resourceGroups/${this.emu.config.resourceGroup}`;
  }

  get vault(): { name: string; uri: string } {
    return { name: this.emu.config.keyVaultName, uri: keyVaultUrl(this.emu.config) };
  }

  get vaultId(): string {
    return `${this.rgId}/providers/Microsoft.KeyVault/vaults/${this.vault.name}`;
  }

  storageAccounts(): StorageEnv[] {
    return [this.emu.config.storage.source, this.emu.config.storage.target];
  }

  storageAccount(name: string): StorageEnv | undefined {
    return this.storageAccounts().find((s) => lower(s.account) === lower(name));
  }

  storageId(account: string): string {
    return `${this.rgId}/providers/Microsoft.Storage/storageAccounts/${account}`;
  }

  roleDefinitionId(roleId: string): string {
    return `/subscriptions/${this.sub}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
  }

  /**
   * The canonical form of a role assignment scope: the subscription, the resource group, or one of the resources
   * the local Azure has (the vault, a storage account or one of its blob containers, a registry).
   */
  canonicalScope(raw: string): string {
    const parts = raw.split('/').filter(Boolean);
    const invalid = (): HttpError =>
      badRequest(
        'InvalidScope',
        `The scope '${raw}' is not valid: use a subscription, resource group or resource id (/subscriptions/{id}[/resourceGroups/{name}[/providers/…]]).`,
      );
    if (lower(parts[0] ?? '') !== 'subscriptions' || !parts[1]) throw invalid();
    checkSubscription(this.emu, parts[1]);
    if (parts.length === 2) return `/subscriptions/${this.sub}`;
    if (lower(parts[2] ?? '') !== 'resourcegroups' || !parts[3]) throw invalid();
    checkScope(this.emu, parts[1], parts[3]);
    if (parts.length === 4) return this.rgId;
    if (lower(parts[4] ?? '') !== 'providers' || parts.length < 8) throw invalid();
    const [ns = '', type = '', name = ''] = parts.slice(5, 8);
    const rest = parts.slice(8);
    const typePath = `${ns}/${type}`;
    const missing = (): HttpError => resourceNotFound(parts[3] ?? '', `${typePath}/${name}`);
    switch (lower(typePath)) {
      case 'microsoft.keyvault/vaults':
        if (lower(name) !== lower(this.vault.name)) throw missing();
        if (rest.length > 0) throw invalid();
        return this.vaultId;
      case 'microsoft.storage/storageaccounts': {
        const s = this.storageAccount(name);
        if (!s) throw missing();
        if (rest.length === 0) return this.storageId(s.account);
        if (rest.length === 4 && lower(rest[0] ?? '') === 'blobservices' && lower(rest[1] ?? '') === 'default' && lower(rest[2] ?? '') === 'containers')
          return `${this.storageId(s.account)}/blobServices/default/containers/${rest[3]}`;
        throw invalid();
      }
      case 'microsoft.containerregistry/registries': {
        const reg = [this.emu.config.registries.source, this.emu.config.registries.target].find((r) => lower(r.name) === lower(name));
        if (!reg) throw missing();
        if (rest.length > 0) throw invalid();
        return `${this.rgId}/providers/Microsoft.ContainerRegistry/registries/${reg.name}`;
      }
      default:
        throw missing();
    }
  }
}
