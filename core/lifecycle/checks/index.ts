/**
 * The checks: every prerequisite the transfer docs' troubleshooting names (docs/azure-service.md#failure-modes-and-fixes), each passed, warned
 * or failed with its fix. `check` runs them all and probes whether grants work; export, import, copy and transfer run
 * the ones that apply to them first (the preflight), without the probe; setup runs them on what it made.
 *
 * Per-artifact and per-blob problems (a misspelled artifact, a missing blob) only warn in the preflight: the operation
 * itself reports them per artifact and blob (failed-artifacts), and ContinueOnErrors may let it go on without them.
 *
 * Each family of checks is one file of this folder and one row of CHECKS (or, for a check of each pipeline, of
 * PIPELINE_CHECKS); the order of the rows is the order of the report's items.
 */
import type { Operation } from '../../vocabulary';
import type { OpContext } from '../../operation';
import type { CheckItem } from '../../report';
import type { TransferSettings } from '../../settings';
import { AccessLookup } from '../access';
import { accessItem } from './access';
import { artifactItems } from './artifacts';
import { blobItems } from './blobs';
import { copyContainerItems, pipelineContainerItem } from './container';
import { pipelineItems, pipelineSides } from './pipeline';
import { registryItems } from './registry';
import { sasItem } from './secret';
import type { CheckMode, CheckResult, CheckRun, Effective } from './shared';

export type { CheckMode, CheckResult } from './shared';
export { distance } from './artifacts';

/** A family of checks: the operations it applies to (in every mode: the mode only changes how strict it is), and what it adds. */
interface CheckFamily {
  readonly operations: readonly Operation[];
  /** What it further needs from the inputs. */
  readonly when?: (settings: TransferSettings) => boolean;
  readonly run: (run: CheckRun) => Promise<void>;
}

/** A check of one pipeline: its item, or undefined where it does not apply to that pipeline. */
type PipelineCheck = (run: CheckRun, pipeline: Effective) => Promise<CheckItem | undefined>;

/** The operations that name registries; copy only moves blobs between containers, and cleanup runs no checks. */
const WITH_REGISTRIES: readonly Operation[] = ['check', 'setup', 'export', 'import', 'transfer'];

/** After each pipeline's own items (pipeline.ts), in this order, before the next pipeline's. */
const PIPELINE_CHECKS: readonly PipelineCheck[] = [sasItem, pipelineContainerItem, accessItem];

const CHECKS: readonly CheckFamily[] = [
  { operations: WITH_REGISTRIES, run: registryItems },
  { operations: WITH_REGISTRIES, run: eachPipeline },
  { operations: ['copy'], run: copyContainerItems },
  { operations: ['check', 'export', 'transfer'], when: (s) => s.artifacts.length > 0, run: artifactItems },
  { operations: ['check', 'import', 'copy'], when: (s) => s.blobs.length > 0, run: blobItems },
];

export async function runChecks(ctx: OpContext, mode: CheckMode): Promise<CheckResult> {
  const { settings } = ctx;
  const run: CheckRun = { ctx, mode, items: [], changes: [], lookup: new AccessLookup(ctx), registries: [] };
  for (const family of CHECKS) {
    if (family.operations.includes(settings.operation) && (family.when?.(settings) ?? true)) await family.run(run);
  }
  return { items: run.items, changes: run.changes };
}

async function eachPipeline(run: CheckRun): Promise<void> {
  for (const side of pipelineSides(run)) {
    const pipeline = await pipelineItems(run, side);
    if (!pipeline) continue;
    for (const check of PIPELINE_CHECKS) {
      const found = await check(run, pipeline);
      if (found) run.items.push(found);
    }
  }
}
