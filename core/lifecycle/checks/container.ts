/** The blob containers: each one a pipeline (or copy) uses exists. */
import { errorMessage } from '../../errors';
import type { PipelineKind } from '../../ports';
import type { CheckItem } from '../../report';
import type { OpContext } from '../../operation';
import { withoutTrailingSlash } from '../../domain/urls';
import { type CheckRun, containerOf, type Effective, item } from './shared';

/** The container item of a pipeline; undefined when it has no container (neither in the inputs nor on the pipeline). */
export async function pipelineContainerItem(run: CheckRun, eff: Effective): Promise<CheckItem | undefined> {
  return eff.container === undefined ? undefined : containerItem(run.ctx, eff.kind, eff.container);
}

/** copy: both containers, export's first. */
export async function copyContainerItems(run: CheckRun): Promise<void> {
  for (const kind of ['export', 'import'] as const) {
    const container = await containerOf(run.ctx, kind);
    if (container !== undefined) run.items.push(await containerItem(run.ctx, kind, container));
  }
}

async function containerItem(ctx: OpContext, kind: PipelineKind, container: string): Promise<CheckItem> {
  const id = `${kind}-container`;
  const title = `The ${kind} blob container exists`;
  try {
    const ok = await ctx.services.blobs.containerExists(container);
    const name = withoutTrailingSlash(container).split('/').pop() ?? container;
    return item(
      id,
      title,
      ok ? 'pass' : 'fail',
      ok ? container : `container ${container} does not exist: the ${kind} runs fail`,
      `create it (az storage container create --name ${name} --account-name <account> --auth-mode login), or check '${kind}-storage-uri'`,
    );
  } catch (e) {
    return item(
      id,
      title,
      'warn',
      `not checked: ${errorMessage(e)}`,
      'give the signed-in identity Storage Blob Data Reader on the account to let check read it',
    );
  }
}
