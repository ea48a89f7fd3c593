/** The pipelines: each one exists (or the operation creates it), is provisioned, matches the inputs and has an identity. */
import { definedOnly } from '../../domain/objects';
import { errorMessage } from '../../errors';
import type { PipelineKind, PipelineResource } from '../../ports';
import type { RegistryRef } from '../../settings';
import { desiredSpec, diffText, pipelineDiff } from '../../domain/pipeline-spec';
import { principalOf } from '../access';
import { type CheckRun, type Effective, item } from './shared';

interface Side {
  readonly kind: PipelineKind;
  readonly reg: RegistryRef;
}

/** One pipeline per registry that could be read: export on the source, import on the target. */
export function pipelineSides(run: CheckRun): Side[] {
  const { settings } = run.ctx;
  const sides: Side[] = [];
  for (const { side, reg } of run.registries) {
    const kind: PipelineKind = side === 'source' ? 'export' : 'import';
    // setup makes only the pipelines it has a container for.
    if (settings.operation === 'setup' && (kind === 'export' ? settings.exportPipeline : settings.importPipeline).storageUri === undefined) continue;
    sides.push({ kind, reg });
  }
  return sides;
}

/** The pipeline's own items; what it is, or will be, for the checks of each pipeline; undefined when it could not be read. */
export async function pipelineItems(run: CheckRun, side: Side): Promise<Effective | undefined> {
  const { ctx, mode, items } = run;
  const { settings } = ctx;
  const { kind, reg } = side;
  const p = kind === 'export' ? settings.exportPipeline : settings.importPipeline;
  const title = `The ${kind} pipeline '${p.name}' on registry '${reg.name}' is provisioned`;
  let existing: PipelineResource | undefined;
  try {
    existing = await ctx.services.arm.getPipeline(reg, kind, p.name);
  } catch (e) {
    items.push(item(`${kind}-pipeline`, title, 'fail', errorMessage(e)));
    return undefined;
  }
  const want = desiredSpec(settings, kind, existing);
  const create = `give '${kind}-storage-uri'${settings.storageAccessMode === 'sas-token' ? ` and '${kind}-sas-secret-uri'` : ''} to create it (operation: setup), or check '${kind}-pipeline'`;
  if (!existing) {
    if (!want) {
      items.push(item(`${kind}-pipeline`, title, 'fail', `${kind} pipeline '${p.name}' does not exist on registry '${reg.name}'`, create));
      return undefined;
    }
    items.push(
      item(
        `${kind}-pipeline`,
        title,
        mode === 'preflight' ? 'pass' : 'warn',
        `${kind} pipeline '${p.name}' does not exist yet; ${settings.operation === 'check' ? 'setup, export, import and transfer create it' : 'the operation creates it'} from '${kind}-storage-uri'`,
        'run setup (operation: setup, grant-access: true) to create it and give its identity access',
      ),
    );
  } else if (existing.provisioningState !== undefined && existing.provisioningState !== 'Succeeded') {
    const failed = existing.provisioningState === 'Failed';
    items.push(
      item(
        `${kind}-pipeline`,
        title,
        failed && !want ? 'fail' : 'warn',
        `provisioningState is ${existing.provisioningState}${want ? '; the operation updates it from the inputs' : ''}`,
        failed ? `give '${kind}-storage-uri' so that it is updated, or recreate it` : 'wait for it to finish provisioning',
      ),
    );
  } else {
    const fields = want !== undefined ? pipelineDiff(existing, want) : [];
    const differs = fields.length > 0;
    // update-pipelines: false makes a difference fatal: the operation refuses to change the pipeline.
    const frozen = differs && !settings.updatePipelines;
    items.push(
      item(
        `${kind}-pipeline`,
        title,
        frozen ? 'fail' : differs && mode === 'check' ? 'warn' : 'pass',
        `provisioningState Succeeded, container ${existing.storageUri ?? '(none)'}${
          differs
            ? `; it differs from the inputs (${diffText(fields)})${frozen ? " and 'update-pipelines' is false" : ': setup, export, import and transfer update it'}`
            : ''
        }`,
        frozen ? "change the inputs to match the pipeline, or set 'update-pipelines' to true" : 'run setup to update it',
      ),
    );
  }

  let principal: string | undefined;
  if (existing) {
    principal = principalOf(existing, settings.pipelineIdentity) ?? (want ? undefined : (existing.identity?.principalId ?? firstUserPrincipal(existing)));
    const has = principal !== undefined;
    items.push(
      item(
        `${kind}-identity`,
        `The ${kind} pipeline has a managed identity`,
        has || want ? 'pass' : 'fail',
        has ? `principal ${principal}` : want ? 'the operation gives it the identity of pipeline-identity' : `identity ${existing.identity?.type ?? 'None'}`,
        `recreate the pipeline with an identity (pipeline-identity: system, or a user-assigned identity's resource id)`,
      ),
    );
  }

  return definedOnly<Effective>({
    kind,
    reg,
    existing,
    principal,
    container: want?.storageUri ?? existing?.storageUri,
    secretUri: want?.keyVaultUri ?? existing?.keyVaultUri,
    mode: want ? settings.storageAccessMode : existing?.storageAccessMode?.toLowerCase() === 'managedidentity' ? 'managed-identity' : 'sas-token',
    options: want?.options ?? existing?.options ?? [],
    sourceTrigger: kind === 'import' && (want ? (want.sourceTriggerEnabled ?? false) : (existing?.sourceTriggerEnabled ?? true)),
  });
}

function firstUserPrincipal(p: PipelineResource): string | undefined {
  return Object.values(p.identity?.userAssignedIdentities ?? {}).find((u) => u.principalId)?.principalId;
}
