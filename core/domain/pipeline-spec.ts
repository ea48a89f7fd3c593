/**
 * The pipeline the inputs ask for, and how an existing one differs from it: one home for the rule, used by the
 * operations (which create or update the pipeline), setup and the checks (which report drift field by field).
 */
import type { PipelineKind, PipelineResource, PipelineSpec } from '../ports';
import type { FieldChange } from '../report';
import type { TransferSettings } from '../settings';
import { sameUri } from './urls';

/**
 * The spec of the `kind` pipeline, or undefined when the inputs give no container (the pipeline is used as it is).
 * An unset source-trigger keeps the existing pipeline's trigger (a new one gets Disabled): an operation that does not
 * name it must not switch off a trigger setup turned on.
 */
export function desiredSpec(settings: TransferSettings, kind: PipelineKind, existing?: PipelineResource): PipelineSpec | undefined {
  const p = kind === 'export' ? settings.exportPipeline : settings.importPipeline;
  if (p.storageUri === undefined) return undefined;
  const id = settings.pipelineIdentity;
  const trigger = settings.sourceTriggerWanted ?? (existing ? triggerOf(existing) : false);
  return {
    kind,
    storageUri: p.storageUri,
    ...(settings.storageAccessMode === 'sas-token' && p.sasSecretUri !== undefined ? { keyVaultUri: p.sasSecretUri } : {}),
    storageAccessMode: settings.storageAccessMode === 'sas-token' ? 'SasToken' : 'ManagedIdentity',
    options: p.options,
    ...(kind === 'import' ? { sourceTriggerEnabled: trigger } : {}),
    identity: id.type === 'system' ? { type: 'SystemAssigned' } : { type: 'UserAssigned', resourceId: id.resourceId },
  };
}

/** An import pipeline without a trigger in the response has the service's default, Enabled. */
const triggerOf = (p: PipelineResource): boolean => p.sourceTriggerEnabled ?? true;

const optionList = (xs: readonly string[]): string => (xs.length > 0 ? [...xs].sort((a, b) => a.localeCompare(b)).join(', ') : 'none');
const sameOptions = (a: readonly string[], b: readonly string[]): boolean =>
  optionList(a.map((x) => x.toLowerCase())) === optionList(b.map((x) => x.toLowerCase()));

function identityText(p: PipelineResource): string {
  const users = Object.keys(p.identity?.userAssignedIdentities ?? {});
  return users.length > 0 ? `${p.identity?.type ?? 'UserAssigned'} ${users.join(', ')}` : (p.identity?.type ?? 'None');
}

/**
 * Each field in which an existing pipeline differs from the spec, with its old and new value; empty when it already
 * is what the spec asks for. URIs and the identity type compare without case: the az CLI lower-cases URIs, and the
 * service returns identity types in camelCase (docs/azure-service.md#identity-types-in-responses).
 */
export function pipelineDiff(existing: PipelineResource, want: PipelineSpec): FieldChange[] {
  const out: FieldChange[] = [];
  const field = (name: string, from: string, to: string): void => void out.push({ name, from, to });
  if (!sameUri(existing.storageUri, want.storageUri)) field('container', existing.storageUri ?? '(none)', want.storageUri);
  // In managed-identity mode the service leaves keyVaultUri out of the response.
  if (want.keyVaultUri !== undefined && !sameUri(existing.keyVaultUri, want.keyVaultUri))
    field('keyVaultUri', existing.keyVaultUri ?? '(none)', want.keyVaultUri);
  const mode = existing.storageAccessMode ?? 'SasToken';
  if (mode.toLowerCase() !== want.storageAccessMode.toLowerCase()) field('storageAccessMode', mode, want.storageAccessMode);
  if (!sameOptions(existing.options, want.options)) field('options', optionList(existing.options), optionList(want.options));
  if (want.kind === 'import' && want.sourceTriggerEnabled !== undefined && triggerOf(existing) !== want.sourceTriggerEnabled) {
    const state = (on: boolean): string => (on ? 'Enabled' : 'Disabled');
    field('sourceTrigger', state(triggerOf(existing)), state(want.sourceTriggerEnabled));
  }
  const type = (existing.identity?.type ?? '').toLowerCase();
  const identityOk =
    want.identity.type === 'SystemAssigned'
      ? type.includes('systemassigned')
      : Object.keys(existing.identity?.userAssignedIdentities ?? {}).some((k) => sameUri(k, (want.identity as { resourceId: string }).resourceId));
  if (!identityOk)
    field('identity', identityText(existing), want.identity.type === 'SystemAssigned' ? 'SystemAssigned' : `UserAssigned ${want.identity.resourceId}`);
  return out;
}

/** `sourceTrigger: Enabled → Disabled; options: none → OverwriteBlobs`: the diff in one line, for logs, errors and the summary. */
export function diffText(fields: readonly FieldChange[]): string {
  return fields.map((f) => `${f.name}: ${f.from} → ${f.to}`).join('; ');
}
