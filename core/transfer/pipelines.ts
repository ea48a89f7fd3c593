import { desiredSpec, pipelineMatches } from '../domain/pipeline-spec';
import type { PipelineKind } from '../ports';
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

/**
 * With a storage URI in the settings, creates or updates the pipeline to match; without, it must exist.
 * `write: false` (dry run) only reads and says what it would do.
 */
export async function ensurePipeline(ctx: OpContext, reg: RegistryRef, kind: PipelineKind, o: { readonly write: boolean }): Promise<PipelineTarget> {
  const { settings } = ctx;
  const name = kind === 'export' ? settings.exportPipeline.name : settings.importPipeline.name;
  const existing = await ctx.services.arm.getPipeline(reg, kind, name);
  const want = desiredSpec(settings, kind);
  if (want) {
    if (existing && pipelineMatches(existing, want) && existing.provisioningState !== 'Failed') return existing;
    const verb = existing ? 'update' : 'create';
    if (!o.write) {
      warn(ctx, `dry run: would ${verb} ${kind} pipeline '${name}' on registry '${reg.name}' (container ${want.storageUri})`);
      return {
        id: existing?.id ?? resourceId(reg, kind, name),
        name,
        storageUri: want.storageUri,
        ...(want.sourceTriggerEnabled !== undefined ? { sourceTriggerEnabled: want.sourceTriggerEnabled } : {}),
      };
    }
    ctx.log.info(`${verb === 'create' ? 'Creating' : 'Updating'} ${kind} pipeline '${name}' on registry '${reg.name}' (container ${want.storageUri})`);
    const put = await ctx.services.arm.putPipeline(reg, name, want);
    if (put.provisioningState === 'Failed')
      throw new TransferError(`${kind} pipeline '${name}' on registry '${reg.name}' ended in provisioningState Failed after the ${verb}`);
    return put;
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
    if (!settings.sourceTrigger && enabled) {
      warn(
        ctx,
        `import pipeline '${name}' has its source trigger enabled: the service may import the blobs on its own too (harmless, but set 'source-trigger' to enabled to wait for those runs instead)`,
      );
    }
  }
  return existing;
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
