/**
 * ARM errors as the user reads them: what was being done, the service's status, code, message and correlation id, and
 * how to fix it where known (docs/azure-service.md#failure-modes-and-fixes).
 */
import type { HttpHeaders } from '@azure/core-rest-pipeline';
import { AzureRequestError } from '../../errors';
import type { RegistryRef } from '../../settings';
import type { ArmErrorResponse } from './models';
import type { ArmResponse } from './transport';

export const TRANSFER_ROLE = 'Container Registry Transfer Pipeline Contributor';

/** Which resource a request is about, for error messages and fix hints. */
export type Target = RegistryTarget | AccessTarget;

export interface RegistryTarget {
  readonly method: string;
  readonly reg: RegistryRef;
  /** e.g. "export pipeline 'exp1'"; absent for the registry itself. */
  readonly resource?: string;
  readonly area: 'registry' | 'pipeline' | 'run';
}

/** Key Vault, storage account and role assignment resources (setup's grants, check's access items). */
export interface AccessTarget {
  readonly method: string;
  /** e.g. "Key Vaults of subscription '…'" */
  readonly resource: string;
  readonly area: 'access';
}

export function describe(t: Target): string {
  if (t.area === 'access') return `${t.method} ${t.resource}`;
  return `${t.method} ${t.resource ? `${t.resource} on ` : ''}registry '${t.reg.name}'`;
}

/** ARM error bodies: `{error:{code,message}}` (common-types v6), or the older bare `{code,message}`. */
export function errorOf(body: unknown, text: string): { code: string; message: string } {
  const b = body as (ArmErrorResponse & { code?: unknown; message?: unknown }) | undefined;
  const e = b?.error ?? (typeof b?.code === 'string' ? (b as { code?: string; message?: string }) : undefined);
  if (e) return { code: e.code ?? '', message: e.message ?? '' };
  return { code: '', message: text.slice(0, 500) };
}

export function correlationOf(headers: HttpHeaders): string | undefined {
  return headers.get('x-ms-correlation-request-id') ?? headers.get('x-ms-request-id') ?? undefined;
}

/** An answer that is not the one the call expects, as an error. */
export function responseError(res: ArmResponse, t: Target): AzureRequestError {
  const { code, message } = errorOf(res.body, res.text);
  return new AzureRequestError(
    describe(t),
    res.status,
    code || `HTTP${res.status}`,
    message || `unexpected HTTP ${res.status}`,
    correlationOf(res.headers),
    fixFor(res.status, code, message, t),
  );
}

/** 404 codes that mean a parent (subscription, group, registry) is missing, not the item asked for. */
const PARENT_MISSING = new Set(['parentresourcenotfound', 'resourcegroupnotfound', 'subscriptionnotfound']);

/** A 404 of the item itself (it does not exist), not of a parent. */
export function isItemMissing(res: ArmResponse): boolean {
  if (res.status !== 404) return false;
  return !PARENT_MISSING.has(errorOf(res.body, res.text).code.toLowerCase());
}

/** How to fix the error, where known. */
export function fixFor(status: number, code: string, message: string, t: Target): string | undefined {
  const c = code.toLowerCase();
  if (t.area === 'access') return accessFix(status, c);
  const text = `${code} ${message}`;
  if (c === 'noregisteredproviderfound' || c === 'invalidresourcetype' || c === 'invalidapiversionparameter') {
    return t.area === 'registry' ? undefined : "Set 'api-version' to a preview api-version that has transfer pipelines, e.g. 2025-06-01-preview";
  }
  if (/premium|sku/i.test(text)) return `ACR transfer needs the Premium SKU on both registries: az acr update -n ${t.reg.name} --sku Premium`;
  if (/export ?policy/i.test(text)) {
    return `Enable the export policy of registry '${t.reg.name}': az resource update --ids ${t.reg.resourceId} --set properties.policies.exportPolicy.status=enabled`;
  }
  if (c === 'subscriptionnotfound') return `Check 'subscription-id' (${t.reg.subscriptionId}) and that the identity has access to it`;
  if (c === 'resourcegroupnotfound') return `Check the resource group '${t.reg.resourceGroup}' of registry '${t.reg.name}'`;
  if (status === 404 && (t.area === 'registry' || c === 'parentresourcenotfound' || new RegExp(`registries/${t.reg.name}'`, 'i').test(message))) {
    return `Check the registry name '${t.reg.name}', its resource group '${t.reg.resourceGroup}' and 'subscription-id' (az acr show -n ${t.reg.name} -g ${t.reg.resourceGroup})`;
  }
  if (status === 401) {
    return `Check the sign-in (tenant, client id, and that the token is for this cloud); the identity also needs the '${TRANSFER_ROLE}' role on registry '${t.reg.name}'`;
  }
  if (status === 403 || c === 'authorizationfailed') {
    return t.area === 'registry'
      ? `Grant the signed-in identity at least Reader on registry '${t.reg.name}' (and '${TRANSFER_ROLE}' for the pipelines)`
      : `Grant the signed-in identity the '${TRANSFER_ROLE}' role (or Contributor) on registry '${t.reg.name}': az role assignment create --role "${TRANSFER_ROLE}" --scope ${t.reg.resourceId} --assignee <client id>`;
  }
  if (status === 409 && t.area === 'run') return 'A run with this name is still in progress: wait for it to finish, or use another run name';
  if (status === 409) return 'Runs of this pipeline are still in progress: wait for them to finish or delete them first';
  if (status === 429) return 'Azure Resource Manager throttled the requests; run again later or with fewer parallel runs (max-parallel-runs)';
  return undefined;
}

export function accessFix(status: number, code: string): string | undefined {
  if (status === 403 || code === 'authorizationfailed') {
    return 'The signed-in identity needs Reader on the vault or storage account to find it, and Owner or User Access Administrator (RBAC vaults, storage) or Key Vault Contributor (access-policy vaults) to grant access';
  }
  if (status === 404 && code === 'subscriptionnotfound') return "Check 'subscription-id' and that the identity has access to it";
  if (status === 429) return 'Azure Resource Manager throttled the requests; run again later';
  return undefined;
}
