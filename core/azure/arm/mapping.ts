/**
 * Between the wire models (models.ts) and the ports' types: the resources ARM answers with, mapped to what the core
 * reads, and the request bodies built from what the core asks for.
 */
import { definedOnly } from '../../domain/objects';
import type { PipelineKind, PipelineResource, PipelineRunResource, PipelineRunSpec, PipelineSpec, RegistryInfo, RegistryUsage } from '../../ports';
import type { RegistryRef } from '../../settings';
import type {
  ExportPipeline,
  ExportPipelineRequest,
  IdentityProperties,
  ImportPipeline,
  ImportPipelineRequest,
  PipelineIdentityRequest,
  PipelineRun,
  PipelineRunCreateRequest,
  Registry,
  RegistryUsageListResult,
} from './models';

/** storageAccessMode exists from this api-version on (docs/azure-service.md#resources-and-api-versions). */
const STORAGE_ACCESS_MODE_SINCE = '2025-06-01';

export function toRegistry(r: Registry, reg: RegistryRef): RegistryInfo {
  return {
    id: r.id ?? reg.resourceId,
    name: r.name ?? reg.name,
    sku: r.sku?.name ?? r.sku?.tier ?? 'unknown',
    loginServer: (r.properties?.loginServer ?? '').toLowerCase(),
    exportPolicyEnabled: (r.properties?.policies?.exportPolicy?.status ?? 'enabled').toLowerCase() !== 'disabled',
  };
}

export function toUsages(list: RegistryUsageListResult): RegistryUsage[] {
  return (list.value ?? []).map((u) => ({
    name: u.name ?? '',
    limit: u.limit ?? 0,
    currentValue: u.currentValue ?? 0,
    unit: u.unit ?? '',
  }));
}

/** The service returns identity types in camelCase (`systemAssigned`); compare and report them case-insensitively. */
export function normalizeIdentityType(type: string | undefined): string {
  const key = (type ?? 'None').replace(/\s+/g, '').toLowerCase();
  const known: Record<string, string> = {
    systemassigned: 'SystemAssigned',
    userassigned: 'UserAssigned',
    'systemassigned,userassigned': 'SystemAssigned, UserAssigned',
    none: 'None',
  };
  return known[key] ?? type ?? 'None';
}

export function toIdentity(i: IdentityProperties | undefined): PipelineResource['identity'] {
  if (!i) return undefined;
  return definedOnly<NonNullable<PipelineResource['identity']>>({
    type: normalizeIdentityType(i.type),
    principalId: i.principalId ?? undefined,
    userAssignedIdentities: i.userAssignedIdentities,
  });
}

export function toPipeline(kind: PipelineKind, p: ExportPipeline & ImportPipeline): PipelineResource {
  const side = kind === 'export' ? p.properties?.target : p.properties?.source;
  const trigger = p.properties?.trigger?.sourceTrigger?.status;
  return definedOnly<PipelineResource>({
    id: p.id ?? '',
    name: p.name ?? '',
    kind,
    provisioningState: p.properties?.provisioningState,
    storageUri: side?.uri,
    keyVaultUri: side?.keyVaultUri ?? undefined,
    storageAccessMode: side?.storageAccessMode,
    options: p.properties?.options ?? [],
    // The service's default is Enabled (swagger PipelineSourceTriggerProperties).
    sourceTriggerEnabled: kind === 'import' ? (trigger ?? 'Enabled').toLowerCase() === 'enabled' : undefined,
    identity: toIdentity(p.identity),
  });
}

export function toRun(r: PipelineRun, budget: { readonly retryAfterMs?: number; readonly remainingReads?: number } = {}): PipelineRunResource {
  const req = r.properties?.request;
  const res = r.properties?.response;
  const isExport = /\/exportPipelines\//i.test(req?.pipelineResourceId ?? '') || (req?.target?.name !== undefined && req.target.name !== '');
  const percentage = Number(res?.progress?.percentage);
  return definedOnly<PipelineRunResource>({
    id: r.id ?? '',
    name: r.name ?? '',
    provisioningState: r.properties?.provisioningState,
    pipelineResourceId: req?.pipelineResourceId,
    artifacts: req?.artifacts,
    blobName: (isExport ? req?.target?.name : req?.source?.name) || undefined,
    forceUpdateTag: r.properties?.forceUpdateTag,
    status: res?.status,
    percentage: res?.progress?.percentage !== undefined && Number.isFinite(percentage) ? percentage : undefined,
    startTime: res?.startTime,
    finishTime: res?.finishTime,
    importedArtifacts: res?.importedArtifacts,
    catalogDigest: res?.catalogDigest ?? req?.catalogDigest,
    errorMessage: res?.pipelineRunErrorMessage,
    triggeredAt: res?.trigger?.sourceTrigger?.timestamp,
    retryAfterMs: budget.retryAfterMs,
    remainingReads: budget.remainingReads,
  });
}

// ---- request bodies

export function pipelineBody(spec: PipelineSpec, apiVersion: string): ExportPipelineRequest | ImportPipelineRequest {
  const identity: PipelineIdentityRequest =
    spec.identity.type === 'SystemAssigned' ? { type: 'SystemAssigned' } : { type: 'UserAssigned', userAssignedIdentities: { [spec.identity.resourceId]: {} } };
  // Older api-versions do not know storageAccessMode; send it there only for ManagedIdentity, so ARM says why it refuses.
  const sendMode = apiVersion.slice(0, 10) >= STORAGE_ACCESS_MODE_SINCE || spec.storageAccessMode !== 'SasToken';
  const storage = {
    type: 'AzureStorageBlobContainer' as const,
    uri: spec.storageUri,
    ...(spec.keyVaultUri !== undefined ? { keyVaultUri: spec.keyVaultUri } : {}),
    ...(sendMode ? { storageAccessMode: spec.storageAccessMode } : {}),
  } as ExportPipelineRequest['properties']['target'];
  if (spec.kind === 'export') return { identity, properties: { target: storage, options: spec.options } };
  return {
    identity,
    properties: { source: storage, trigger: { sourceTrigger: { status: spec.sourceTriggerEnabled ? 'Enabled' : 'Disabled' } }, options: spec.options },
  };
}

export function runBody(spec: PipelineRunSpec): PipelineRunCreateRequest {
  const blob = { type: 'AzureStorageBlob' as const, name: spec.blobName };
  return {
    properties: {
      request: {
        pipelineResourceId: spec.pipelineResourceId,
        ...(spec.kind === 'export' ? { target: blob, artifacts: spec.artifacts ?? [] } : { source: blob }),
        ...(spec.catalogDigest !== undefined ? { catalogDigest: spec.catalogDigest } : {}),
      },
      ...(spec.forceUpdateTag !== undefined ? { forceUpdateTag: spec.forceUpdateTag } : {}),
    },
  };
}
