/**
 * ARM for the local Azure, as one route table: registry GET / listUsages and the transfer resources (exportPipelines,
 * importPipelines, pipelineRuns) exactly per test/local-azure/spec/acr-2025-06-01-preview (see the README there); the
 * resources around them that the lifecycle operations manage (the Key Vault, the storage accounts, role assignments);
 * `metadata/endpoints`; and the control routes of these resources. Every ARM route goes through the frame (frame.ts);
 * the handlers live in one file per resource.
 *
 * Choices where the real service is undocumented (docs/local-azure.md#open-questions, numbered as there):
 * - LRO style is a knob (`emu.knobs.lroStyle`): `sync` is what recorded traffic shows (PUT 200, DELETE 200 empty;
 *   runs answer 200 in progress and are polled by GET), `async` is what the spec allows (201 + Azure-AsyncOperation,
 *   DELETE 202 + Location). A failed run fails its async operation with the run's pipelineRunErrorMessage (open question 1).
 * - Run requests are checked synchronously at PUT (>50 artifacts, duplicates, bad references → 400) (open question 3).
 * - PUT on an existing pipeline replaces it (200, Updating); deleting a pipeline with a run in progress is 409;
 *   a run must name a pipeline of its own registry; a missing one is 404 ResourceNotFound naming it (open question 6).
 * - No identity in a pipeline PUT means a system-assigned one (what the CLI always sends); an explicit `None` is
 *   400 IdentityRequired, because the pipeline reads its Key Vault secret (SasToken) or the storage account
 *   (ManagedIdentity) as that identity. SasToken mode without keyVaultUri is a 400 at PUT (open question 7).
 * Error codes for these semantic checks are the emulator's own (the real ones are unknown); messages name the value.
 */
import type { Emulator } from '../context';
import type { Router } from '../router';
import { AccessChecks } from './access';
import { anyDatedApiVersion as dated } from './api-versions';
import { deleteItem, getItem, listItems } from './collections';
import { armRoutes, RESOURCE_GROUP, SUBSCRIPTION } from './frame';
import { LocalResources } from './local-resources';
import { Operations, operationStatus } from './lro';
import { metadataEndpoints } from './metadata-endpoints';
import { putRun } from './pipeline-runs';
import { putPipeline } from './pipelines';
import { getRegistry, listUsages, registryControl } from './registries';
import { REGISTRY, registryScope } from './registry-scope';
import { authorizationRoutes, RoleAssignments } from './role-assignments';
import { ArmState } from './state';
import { storageAccountRoutes } from './storage-accounts';
import { subscriptionRoutes } from './subscriptions';
import { VaultState, vaultControl, vaultRoutes } from './vaults';

const NAME = '/(?<name>[^/]+)';
const OPERATION = `${NAME}/operationStatuses/(?<op>[^/]+)`;
const EXPORTS = `${REGISTRY}/exportPipelines`;
const IMPORTS = `${REGISTRY}/importPipelines`;
const RUNS = `${REGISTRY}/pipelineRuns`;
const VAULTS = String.raw`/providers/Microsoft\.KeyVault/vaults`;
const ACCOUNTS = String.raw`/providers/Microsoft\.Storage/storageAccounts`;
/** Role assignments and definitions at any scope the local Azure has (local-resources.ts resolves it). */
const AUTHORIZATION = String.raw`(?<scope>/subscriptions/[^/]+(?:/.+?)?)/providers/Microsoft\.Authorization`;

/** Registers ARM on the main port and sets `emu.arm` and `emu.access`. */
export function registerArm(router: Router, emu: Emulator): void {
  const state = new ArmState(emu);
  const resources = new LocalResources(emu);
  const vault = new VaultState(emu, resources);
  const assignments = new RoleAssignments(resources, emu.disk);
  emu.arm = state;
  emu.access = new AccessChecks(emu, resources, vault, assignments);

  const arm = armRoutes(router, emu);
  const { registry, items } = registryScope(emu, state, new Operations(emu.baseUrl, emu.disk));
  // `//metadata/endpoints` too: the az CLI appends `/metadata/endpoints` to the ARM endpoint as registered, slash or not.
  router.add('arm', 'GET', /^\/+metadata\/endpoints\/?$/, metadataEndpoints(emu));

  // Tenants, subscriptions and the generic resource list: what sign-in and lookups by name read (subscriptions.ts)
  const subscriptions = subscriptionRoutes(emu, state, resources);
  arm('GET', '/tenants', subscriptions.tenants);
  arm('GET', '/subscriptions', subscriptions.list);
  arm('GET', SUBSCRIPTION, subscriptions.get);
  arm('GET', `${SUBSCRIPTION}/resources`, subscriptions.resources);
  arm('GET', `${RESOURCE_GROUP}/resources`, subscriptions.resources);

  // Microsoft.ContainerRegistry/registries (registries.ts)
  arm('GET', REGISTRY, registry(getRegistry));
  arm('GET', `${REGISTRY}/listUsages`, registry(listUsages));
  // Its transfer resources: list, get and delete alike (collections.ts), PUT per type, operation status (lro.ts)
  arm('GET', EXPORTS, items('exportPipelines', listItems));
  arm('GET', `${EXPORTS}${OPERATION}`, items('exportPipelines', operationStatus));
  arm('GET', `${EXPORTS}${NAME}`, items('exportPipelines', getItem));
  arm('PUT', `${EXPORTS}${NAME}`, items('exportPipelines', putPipeline));
  arm('DELETE', `${EXPORTS}${NAME}`, items('exportPipelines', deleteItem));
  arm('GET', IMPORTS, items('importPipelines', listItems));
  arm('GET', `${IMPORTS}${OPERATION}`, items('importPipelines', operationStatus));
  arm('GET', `${IMPORTS}${NAME}`, items('importPipelines', getItem));
  arm('PUT', `${IMPORTS}${NAME}`, items('importPipelines', putPipeline));
  arm('DELETE', `${IMPORTS}${NAME}`, items('importPipelines', deleteItem));
  arm('GET', RUNS, items('pipelineRuns', listItems));
  arm('GET', `${RUNS}${OPERATION}`, items('pipelineRuns', operationStatus));
  arm('GET', `${RUNS}${NAME}`, items('pipelineRuns', getItem));
  arm('PUT', `${RUNS}${NAME}`, items('pipelineRuns', putRun));
  arm('DELETE', `${RUNS}${NAME}`, items('pipelineRuns', deleteItem));

  // Microsoft.KeyVault/vaults (vaults.ts)
  const vaults = vaultRoutes(emu, resources, vault);
  arm('GET', `${SUBSCRIPTION}${VAULTS}`, dated(vaults.list));
  arm('GET', `${RESOURCE_GROUP}${VAULTS}`, dated(vaults.list));
  arm('GET', `${RESOURCE_GROUP}${VAULTS}${NAME}`, dated(vaults.get));
  arm('PUT', `${RESOURCE_GROUP}${VAULTS}${NAME}/accessPolicies/(?<kind>[^/]+)`, dated(vaults.putAccessPolicies));

  // Microsoft.Storage/storageAccounts (storage-accounts.ts)
  const accounts = storageAccountRoutes(emu, resources);
  arm('GET', `${SUBSCRIPTION}${ACCOUNTS}`, dated(accounts.list));
  arm('GET', `${RESOURCE_GROUP}${ACCOUNTS}`, dated(accounts.list));
  arm('GET', `${RESOURCE_GROUP}${ACCOUNTS}${NAME}`, dated(accounts.get));
  arm('POST', `${RESOURCE_GROUP}${ACCOUNTS}${NAME}/listKeys`, dated(accounts.listKeys));

  // Microsoft.Authorization (role-assignments.ts)
  const authz = authorizationRoutes(resources, assignments);
  arm('GET', `${AUTHORIZATION}/roleAssignments`, dated(authz.listAssignments));
  arm('GET', `${AUTHORIZATION}/roleAssignments${NAME}`, dated(authz.getAssignment));
  arm('PUT', `${AUTHORIZATION}/roleAssignments${NAME}`, dated(authz.putAssignment));
  arm('DELETE', `${AUTHORIZATION}/roleAssignments${NAME}`, dated(authz.deleteAssignment));
  arm('GET', `${AUTHORIZATION}/roleDefinitions`, dated(authz.listRoles));
  arm('GET', `${AUTHORIZATION}/roleDefinitions${NAME}`, dated(authz.getRole));

  // Control: make a registry non-Premium or disable its export (registries.ts); the vault's permission model (vaults.ts)
  const registries = registryControl(state);
  router.add('control', 'GET', /^\/_control\/registries$/, registries.list);
  router.add('control', 'PATCH', /^\/_control\/registries\/(?<name>[^/]+)$/, registries.patch);
  router.add('control', 'POST', /^\/_control\/registries\/(?<name>[^/]+)\/reset$/, registries.reset);
  const keyVault = vaultControl(resources, vault);
  router.add('control', 'GET', /^\/_control\/keyvault$/, keyVault.get);
  router.add('control', 'PATCH', /^\/_control\/keyvault$/, keyVault.patch);
  router.add('control', 'POST', /^\/_control\/keyvault\/reset$/, keyVault.reset);
}
