/**
 * The pipeline the inputs ask for, and whether an existing one already is it: one home for the rule, used by the
 * operations (which create or update the pipeline), setup and the checks (which report drift).
 */
import type { PipelineKind, PipelineResource, PipelineSpec } from '../ports';
import type { TransferSettings } from '../settings';
import { sameUri } from './urls';

export function desiredSpec(settings: TransferSettings, kind: PipelineKind): PipelineSpec | undefined {
  const p = kind === 'export' ? settings.exportPipeline : settings.importPipeline;
  if (p.storageUri === undefined) return undefined;
  const id = settings.pipelineIdentity;
  return {
    kind,
    storageUri: p.storageUri,
    ...(settings.storageAccessMode === 'sas-token' && p.sasSecretUri !== undefined ? { keyVaultUri: p.sasSecretUri } : {}),
    storageAccessMode: settings.storageAccessMode === 'sas-token' ? 'SasToken' : 'ManagedIdentity',
    options: p.options,
    ...(kind === 'import' ? { sourceTriggerEnabled: settings.sourceTrigger } : {}),
    identity: id.type === 'system' ? { type: 'SystemAssigned' } : { type: 'UserAssigned', resourceId: id.resourceId },
  };
}

/**
 * Whether an existing pipeline already is what the settings ask for. URIs and the identity type compare
 * without case: the az CLI lower-cases URIs, and the service returns identity types in camelCase (docs/azure-service.md#identity-types-in-responses).
 */
export function pipelineMatches(existing: PipelineResource, want: PipelineSpec): boolean {
  const options = (xs: readonly string[]): string =>
    [...xs]
      .map((x) => x.toLowerCase())
      .sort()
      .join(',');
  const identityType = (existing.identity?.type ?? '').toLowerCase();
  const identityOk =
    want.identity.type === 'SystemAssigned'
      ? identityType.includes('systemassigned')
      : Object.keys(existing.identity?.userAssignedIdentities ?? {}).some((k) => sameUri(k, (want.identity as { resourceId: string }).resourceId));
  return (
    sameUri(existing.storageUri, want.storageUri) &&
    // In managed-identity mode the service leaves keyVaultUri out of the response.
    (want.keyVaultUri === undefined || sameUri(existing.keyVaultUri, want.keyVaultUri)) &&
    (existing.storageAccessMode ?? 'SasToken').toLowerCase() === want.storageAccessMode.toLowerCase() &&
    options(existing.options) === options(want.options) &&
    (want.kind === 'export' || (existing.sourceTriggerEnabled ?? true) === want.sourceTriggerEnabled) &&
    identityOk
  );
}
