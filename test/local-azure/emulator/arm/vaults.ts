/**
 * The Key Vault as an ARM resource (`Microsoft.KeyVault/vaults`): one vault, whose vaultUri is env.keyVaultUrl, with
 * its permission model (access policies, or RBAC) and `accessPolicies/{add|replace|remove}`, which answer with the
 * policies of the request, as the real operation does (GET the vault for the result).
 * Control: GET/PATCH /_control/keyvault `{enableRbacAuthorization?}`, POST /_control/keyvault/reset.
 */
import { type Emulator, isObject, type Json } from '../context';
import { controlError } from '../control';
import { readJson, sendJson } from '../http';
import { servicePrincipalObjectId } from '../entra/tokens';
import type { Handler } from '../router';
import { applyPolicies, creatorPolicy, parsePolicies, type Policy, renderPolicy } from './access-policies';
import { type ArmHandler, type ArmRequest, badRequest, checkPathScope, resourceNotFound } from './frame';
import { type LocalResources, lower } from './local-resources';

export class VaultState {
  rbac = false;
  policies: Policy[] = [];

  constructor(
    private readonly emu: Emulator,
    private readonly resources: LocalResources,
  ) {
    this.reset();
    const saved = emu.disk.read<{ rbac: boolean; policies: (Omit<Policy, 'grantedAt'> & { grantedAt: [string, number][] })[] }>('vault', 'state');
    if (saved) {
      this.rbac = saved.rbac;
      this.policies = saved.policies.map((p) => ({ ...p, grantedAt: new Map(p.grantedAt) }));
    }
  }

  /** On disk after every change (docs/local-azure.md#state-on-disk). */
  save(): void {
    this.emu.disk.write('vault', 'state', { rbac: this.rbac, policies: this.policies.map((p) => ({ ...p, grantedAt: [...p.grantedAt] })) });
  }

  /** The vault as its creator leaves it: access-policy model, one policy giving the service principal every secret permission. */
  reset(): void {
    this.rbac = false;
    this.policies = [creatorPolicy(this.emu.config.tenantId, servicePrincipalObjectId(this.emu.config.clientId))];
  }

  body(): Json {
    const { emu, resources } = this;
    return {
      id: resources.vaultId,
      name: resources.vault.name,
      type: 'Microsoft.KeyVault/vaults',
      location: emu.config.location,
      tags: {},
      systemData: { createdBy: emu.config.clientId, createdByType: 'Application', createdAt: resources.createdAt },
      properties: {
        sku: { family: 'A', name: 'standard' },
        tenantId: emu.config.tenantId,
        accessPolicies: this.policies.map(renderPolicy),
        enabledForDeployment: false,
        enabledForDiskEncryption: false,
        enabledForTemplateDeployment: false,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enableRbacAuthorization: this.rbac,
        vaultUri: resources.vault.uri,
        provisioningState: 'Succeeded',
        publicNetworkAccess: 'Enabled',
      },
    };
  }
}

/** Handlers of `…/providers/Microsoft.KeyVault/vaults[/{name}[/accessPolicies/{kind}]]`. */
export function vaultRoutes(emu: Emulator, resources: LocalResources, vault: VaultState): Record<'list' | 'get' | 'putAccessPolicies', ArmHandler> {
  const checkVault = (req: ArmRequest): void => {
    checkPathScope(emu, req);
    const name = req.params['name'] ?? '';
    if (lower(name) !== lower(resources.vault.name)) throw resourceNotFound(req.params['rg'] ?? '', `Microsoft.KeyVault/vaults/${name}`);
  };
  return {
    list: (req) => {
      checkPathScope(emu, req);
      return { status: 200, body: { value: [vault.body()] } };
    },
    get: (req) => {
      checkVault(req);
      return { status: 200, body: vault.body() };
    },
    putAccessPolicies: async (req) => {
      checkVault(req);
      const kind = lower(req.params['kind'] ?? '');
      if (kind !== 'add' && kind !== 'replace' && kind !== 'remove')
        throw badRequest('InvalidOperationKind', `The access policy operation '${req.params['kind'] ?? ''}' is not valid; use add, replace or remove.`);
      const input = parsePolicies(await readJson(req));
      vault.policies = applyPolicies(vault.policies, kind, input);
      vault.save();
      const body = {
        id: `${resources.vaultId}/accessPolicies/${kind}`,
        type: 'Microsoft.KeyVault/vaults/accessPolicies',
        location: emu.config.location,
        properties: { accessPolicies: input.map(renderPolicy) },
      };
      return { status: 200, body };
    },
  };
}

/** The control routes: the vault's permission model, for tests of both. */
export function vaultControl(resources: LocalResources, vault: VaultState): Record<'get' | 'patch' | 'reset', Handler> {
  const view = (): Json => ({
    name: resources.vault.name,
    vaultUri: resources.vault.uri,
    enableRbacAuthorization: vault.rbac,
    accessPolicies: vault.policies.map(renderPolicy),
  });
  return {
    get: (_req, res) => sendJson(res, 200, view()),
    patch: async (req, res) => {
      const body = await readJson(req);
      if (!isObject(body)) throw controlError(400, 'body must be a JSON object {enableRbacAuthorization?}');
      const unknown = Object.keys(body).filter((k) => k !== 'enableRbacAuthorization');
      if (unknown.length > 0) throw controlError(400, `unknown field(s) ${unknown.join(', ')}; known: enableRbacAuthorization`);
      if (body['enableRbacAuthorization'] !== undefined) {
        if (typeof body['enableRbacAuthorization'] !== 'boolean') throw controlError(400, 'enableRbacAuthorization must be a boolean');
        vault.rbac = body['enableRbacAuthorization'];
      }
      vault.save();
      sendJson(res, 200, view());
    },
    reset: (_req, res) => {
      vault.reset();
      vault.save();
      sendJson(res, 200, view());
    },
  };
}
