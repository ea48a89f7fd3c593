/**
 * ARM's reads that sign-in and lookup by name need (docs/local-azure.md#the-az-cli): the tenants and subscriptions the
 * caller can see (`az login` lists them), one subscription, and the generic resource list with its `$filter`
 * (`az acr show -n <name>` finds a registry's resource group this way). Shapes: the Microsoft.Resources spec
 * (azure-rest-api-specs resources/resource-manager/Microsoft.Resources: subscriptions.json, resources.json).
 */
import type { Emulator, Json } from '../context';
import { anyDatedApiVersion } from './api-versions';
import { type ArmHandler, badRequest, checkPathScope, checkSubscription } from './frame';
import type { LocalResources } from './local-resources';
import type { ArmState } from './state';

/** A resource as the generic list shows it (GenericResourceExpanded, without `$expand`). */
interface ListedResource {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly location: string;
  readonly resourceGroup: string;
  readonly body: Json;
}

function subscriptionBody(emu: Emulator): Json {
  const id = emu.config.subscriptionId;
  return {
    id: `/subscriptions/${id}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: id,
    tenantId: emu.config.tenantId,
    displayName: 'Local Azure',
    state: 'Enabled',
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  };
}

function tenantBody(emu: Emulator): Json {
  const id = emu.config.tenantId;
  return {
    id: `/tenants/${id}`,
    tenantId: id,
    tenantCategory: 'Home',
    countryCode: 'US',
    displayName: 'Local Azure',
    domains: ['local-azure.localhost'],
    defaultDomain: 'local-azure.localhost',
    tenantType: 'AAD',
  };
}

/** Every resource the local Azure has, as the generic list shows it. */
function listedResources(emu: Emulator, state: ArmState, resources: LocalResources): ListedResource[] {
  const location = emu.config.location;
  const rg = emu.config.resourceGroup;
  const entry = (id: string, name: string, type: string, extra: Json): ListedResource => ({
    id,
    name,
    type,
    location,
    resourceGroup: rg,
    body: { id, name, type, ...extra, location, tags: {} },
  });
  return [
    ...[...state.registries.values()].map((r) =>
      entry(state.registryId(r), r.name, 'Microsoft.ContainerRegistry/registries', { sku: { name: r.sku, tier: r.sku } }),
    ),
    entry(resources.vaultId, resources.vault.name, 'Microsoft.KeyVault/vaults', {}),
    ...resources.storageAccounts().map((s) =>
      entry(resources.storageId(s.account), s.account, 'Microsoft.Storage/storageAccounts', {
        sku: { name: 'Standard_LRS', tier: 'Standard' },
        kind: 'StorageV2',
      }),
    ),
  ];
}

const FIELDS: Readonly<Record<string, (r: ListedResource) => string>> = {
  resourcetype: (r) => r.type,
  name: (r) => r.name,
  location: (r) => r.location,
  resourcegroup: (r) => r.resourceGroup,
};

/**
 * `$filter` of the generic list: clauses `<field> eq '<value>'` joined by `and`, on resourceType, name, location or
 * resourceGroup, compared without case as ARM does. Anything else is ARM's 400 InvalidFilterInQueryString: a filter
 * the emulator cannot apply must not answer with more than was asked for.
 */
export function resourceFilter(filter: string | null): (r: ListedResource) => boolean {
  if (filter === null || filter.trim() === '') return () => true;
  const invalid = (): Error => badRequest('InvalidFilterInQueryString', `Invalid $filter '${filter}' specified in the query string.`);
  const clauses = filter.split(/\s+and\s+/i).map((clause) => {
    const m = /^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(clause);
    const field = m ? FIELDS[m[1]!.toLowerCase()] : undefined;
    if (!m || !field) throw invalid();
    const value = m[2]!.replace(/''/g, "'").toLowerCase();
    return (r: ListedResource): boolean => field(r).toLowerCase() === value;
  });
  return (r) => clauses.every((c) => c(r));
}

/** Handlers of `/tenants`, `/subscriptions[/{sub}]` and `…/resources` (subscription or resource group). */
export function subscriptionRoutes(emu: Emulator, state: ArmState, resources: LocalResources): Record<'tenants' | 'list' | 'get' | 'resources', ArmHandler> {
  return {
    tenants: anyDatedApiVersion(() => ({ status: 200, body: { value: [tenantBody(emu)] } })),
    list: anyDatedApiVersion(() => ({ status: 200, body: { value: [subscriptionBody(emu)], count: { type: 'Total', value: 1 } } })),
    get: anyDatedApiVersion((req) => {
      checkSubscription(emu, req.params['sub'] ?? '');
      return { status: 200, body: subscriptionBody(emu) };
    }),
    resources: anyDatedApiVersion((req) => {
      checkPathScope(emu, req);
      const keep = resourceFilter(req.url.searchParams.get('$filter'));
      const inScope = (r: ListedResource): boolean => req.params['rg'] === undefined || r.resourceGroup.toLowerCase() === req.params['rg'].toLowerCase();
      return {
        status: 200,
        body: {
          value: listedResources(emu, state, resources)
            .filter((r) => inScope(r) && keep(r))
            .map((r) => r.body),
        },
      };
    }),
  };
}
