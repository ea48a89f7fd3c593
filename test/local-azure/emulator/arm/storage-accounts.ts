/**
 * The two storage accounts as ARM resources (`Microsoft.Storage/storageAccounts`), with `listKeys`, which returns
 * the real Azurite key: key1 only, as Azurite is started with one key per account.
 */
import type { StorageEnv } from '../../config';
import type { Emulator, Json } from '../context';
import { type ArmHandler, type ArmRequest, checkPathScope, resourceNotFound } from './frame';
import type { LocalResources } from './local-resources';

/** Only the blob endpoint: the local Azure runs Azurite's blob service alone. */
function storageBody(emu: Emulator, resources: LocalResources, s: StorageEnv): Json {
  return {
    id: resources.storageId(s.account),
    name: s.account,
    type: 'Microsoft.Storage/storageAccounts',
    location: emu.config.location,
    tags: {},
    kind: 'StorageV2',
    sku: { name: 'Standard_LRS', tier: 'Standard' },
    properties: {
      provisioningState: 'Succeeded',
      creationTime: resources.createdAt,
      primaryLocation: emu.config.location,
      statusOfPrimary: 'available',
      primaryEndpoints: { blob: s.blobEndpoint },
      supportsHttpsTrafficOnly: true,
      allowSharedKeyAccess: true,
      allowBlobPublicAccess: false,
      minimumTlsVersion: 'TLS1_2',
      accessTier: 'Hot',
      publicNetworkAccess: 'Enabled',
      networkAcls: { bypass: 'AzureServices', defaultAction: 'Allow', ipRules: [], virtualNetworkRules: [] },
      encryption: { keySource: 'Microsoft.Storage', services: { blob: { enabled: true, keyType: 'Account' } } },
    },
  };
}

/** Handlers of `…/providers/Microsoft.Storage/storageAccounts[/{name}[/listKeys]]`. */
export function storageAccountRoutes(emu: Emulator, resources: LocalResources): Record<'list' | 'get' | 'listKeys', ArmHandler> {
  const accountOf = (req: ArmRequest): StorageEnv => {
    checkPathScope(emu, req);
    const name = req.params['name'] ?? '';
    const s = resources.storageAccount(name);
    if (!s) throw resourceNotFound(req.params['rg'] ?? '', `Microsoft.Storage/storageAccounts/${name}`);
    return s;
  };
  return {
    list: (req) => {
      checkPathScope(emu, req);
      return { status: 200, body: { value: resources.storageAccounts().map((s) => storageBody(emu, resources, s)) } };
    },
    get: (req) => ({ status: 200, body: storageBody(emu, resources, accountOf(req)) }),
    listKeys: (req) => ({
      status: 200,
      body: { keys: [{ keyName: 'key1', value: accountOf(req).key, permissions: 'FULL', creationTime: resources.createdAt }] },
    }),
  };
}
