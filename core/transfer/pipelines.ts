import { desiredSpec, diffText, pipelineDiff } from '../domain/pipeline-spec';
import type { PipelineKind, PipelineResource, PipelineSpec } from '../ports';
import type { ChangeItem } from '../report';
import type { RegistryRef } from '../settings';
import { type OpContext, TransferError, warn } from '../operation';

/** The pipeline a stage runs on: the resource, or in a dry run what it would be. */
export interface PipelineTarget {
  readonly id: string;
  readonly name: string;
  /** Blob container URL of the pipeline (export target / import source). */
  readonly storageUri?: string;
  readonly sourceTriggerEnabled?: boolean;
  /** The pipeline's options, where it exists. */
  readonly options?: readonly string[];
}

const resourceId = (reg: RegistryRef, kind: PipelineKind, name: string): string => `${reg.resourceId}/${kind}Pipelines/${name}`;
const pipelineName = (ctx: OpContext, kind: PipelineKind): string => (kind === 'export' ? ctx.settings.exportPipeline.name : ctx.settings.importPipeline.name);

/** The one-line refusal of update-pipelines: false, naming each field that differs. */
function refusal(kind: PipelineKind, name: string, reg: RegistryRef, existing: PipelineResource, want: PipelineSpec): string | undefined {
  const fields = pipelineDiff(existing, want);
  if (fields.length === 0) return undefined;
  return `${kind} pipeline '${name}' on registry '${reg.name}' differs from the inputs (${diffText(fields)}) and 'update-pipelines' is false: change the inputs to match it, or set 'update-pipelines' to true to update it`;
}

/**
 * Brings one pipeline to its spec: creates it, updates the fields that differ (refused with update-pipelines: false), or
 * leaves it as it is. Returns the pipeline and what changed (no change when it already matched). `write: false` plans only.
 */
export async function applyPipeline(
  ctx: OpContext,
  reg: RegistryRef,
  name: string,
  existing: PipelineResource | undefined,
  want: PipelineSpec,
  o: { readonly write: boolean },
): Promise<{ pipeline?: PipelineResource; change?: ChangeItem }> {
  const fields = existing ? pipelineDiff(existing, want) : [];
  const failed = existing?.provisioningState === 'Failed';
  if (existing && fields.length === 0 && !failed) return { pipeline: existing };
  if (existing && !ctx.settings.updatePipelines) {
    throw new TransferError(
      refusal(want.kind, name, reg, existing, want) ??
        `${want.kind} pipeline '${name}' on registry '${reg.name}' is in provisioningState Failed and 'update-pipelines' is false: set it to true to update it, or recreate the pipeline`,
    );
  }
  const action: ChangeItem['action'] = existing ? 'update' : 'create';
  const detail = existing
    ? fields.length > 0
      ? diffText(fields)
      : 'provisioningState Failed: applied again'
    : `container ${want.storageUri}, options ${want.options.join(', ') || 'none'}, identity ${want.identity.type}${want.sourceTriggerEnabled !== undefined ? `, source trigger ${want.sourceTriggerEnabled ? 'Enabled' : 'Disabled'}` : ''}`;
  const base = { kind: 'pipeline' as const, name, scope: `registry '${reg.name}'`, action, detail, ...(fields.length > 0 ? { fields } : {}) };
  if (!o.write) return { ...(existing ? { pipeline: existing } : {}), change: { ...base, status: 'planned' } };
  ctx.log.info(`${action === 'create' ? 'Creating' : 'Updating'} ${want.kind} pipeline '${name}' on registry '${reg.name}': ${detail}`);
  const put = await ctx.services.arm.putPipeline(reg, name, want);
  if (put.provisioningState === 'Failed')
    throw new TransferError(`${want.kind} pipeline '${name}' on registry '${reg.name}' ended in provisioningState Failed after the ${action}`);
  return { pipeline: put, change: { ...base, status: 'done' } };
}

/**
 * update-pipelines: false, before anything runs: every pipeline the operation would update must already match.
 * (An operation that ensures several pipelines, as transfer does, would otherwise fail only at the second one.)
 */
export async function refuseDrift(ctx: OpContext, sides: readonly { readonly kind: PipelineKind; readonly reg: RegistryRef }[]): Promise<void> {
  if (ctx.settings.updatePipelines) return;
  for (const { kind, reg } of sides) {
    const name = pipelineName(ctx, kind);
    const existing = await ctx.services.arm.getPipeline(reg, kind, name);
    const want = existing && desiredSpec(ctx.settings, kind, existing);
    const why = want ? refusal(kind, name, reg, existing, want) : undefined;
    if (why !== undefined) throw new TransferError(why);
  }
}

/**
 * With a storage URI in the settings, creates or updates the pipeline to match (the change goes into the report);
 * without, it must exist. `write: false` (dry run) only reads and says what it would do.
 */
export async function ensurePipeline(ctx: OpContext, reg: RegistryRef, kind: PipelineKind, o: { readonly write: boolean }): Promise<PipelineTarget> {
  const { settings } = ctx;
  const name = pipelineName(ctx, kind);
  const existing = await ctx.services.arm.getPipeline(reg, kind, name);
  const want = desiredSpec(settings, kind, existing);
  if (want) {
    const { pipeline, change } = await applyPipeline(ctx, reg, name, existing, want, o);
    if (change) ctx.changes.push(change);
    if (kind === 'import' && want.sourceTriggerEnabled && !settings.sourceTrigger) triggerToo(ctx, name);
    if (o.write || !change) return pipeline!;
    warn(ctx, `dry run: would ${change.action} ${kind} pipeline '${name}' on registry '${reg.name}' (${change.detail ?? `container ${want.storageUri}`})`);
    return {
      id: existing?.id ?? resourceId(reg, kind, name),
      name,
      storageUri: want.storageUri,
      ...(want.sourceTriggerEnabled !== undefined ? { sourceTriggerEnabled: want.sourceTriggerEnabled } : {}),
    };
  }
  const input = `${kind}-storage-uri`;
  if (!existing) {
    const message = `${kind} pipeline '${name}' does not exist on registry '${reg.name}': give '${input}'${settings.storageAccessMode === 'sas-token' ? ` and '${kind}-sas-secret-uri'` : ''} to create it, or check '${kind}-pipeline'`;
    if (o.write) throw new TransferError(message);
    warn(ctx, `dry run: ${message}`);
    return { id: resourceId(reg, kind, name), name };
  }
  if (existing.provisioningState === 'Failed') {
    throw new TransferError(
      `${kind} pipeline '${name}' on registry '${reg.name}' is in provisioningState Failed: give '${input}' to update it, or recreate it`,
    );
  }
  if (kind === 'import') {
    const enabled = existing.sourceTriggerEnabled ?? true;
    if (settings.sourceTrigger && !enabled) {
      throw new TransferError(
        `import pipeline '${name}' has its source trigger disabled, but 'source-trigger' is enabled: give '${input}' so the pipeline is updated, or set 'source-trigger' to disabled`,
      );
    }
    if (!settings.sourceTrigger && enabled) triggerToo(ctx, name);
  }
  return existing;
}

function triggerToo(ctx: OpContext, name: string): void {
  warn(
    ctx,
    `import pipeline '${name}' has its source trigger enabled: the service may import the blobs on its own too (harmless, but set 'source-trigger' to enabled to wait for those runs instead)`,
  );
}

/** The container of a pipeline: from the settings, else from the existing pipeline when the registry is known. */
export async function pipelineContainer(ctx: OpContext, kind: PipelineKind): Promise<string | undefined> {
  const { settings } = ctx;
  const p = kind === 'export' ? settings.exportPipeline : settings.importPipeline;
  if (p.storageUri !== undefined) return p.storageUri;
  const reg = kind === 'export' ? settings.source : settings.target;
  if (!reg) return undefined;
  return (await ctx.services.arm.getPipeline(reg, kind, p.name))?.storageUri;
}
