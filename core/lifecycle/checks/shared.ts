/** What the check families share: the run they add to, what one pipeline is (or will be), the item, and a pipeline's container. */
import { oneLine, type OpContext } from '../../operation';
import type { PipelineKind, PipelineResource, RegistryInfo } from '../../ports';
import type { ChangeItem, CheckItem } from '../../report';
import type { RegistryRef } from '../../settings';
import type { AccessLookup } from '../access';

export type CheckMode = 'check' | 'preflight' | 'setup';

export interface CheckResult {
  readonly items: readonly CheckItem[];
  /** The probe runs check creates and deletes. */
  readonly changes: readonly ChangeItem[];
}

/** A registry the registry checks could read. */
export interface ReadRegistry {
  readonly side: 'source' | 'target';
  readonly reg: RegistryRef;
  readonly info: RegistryInfo;
}

/** One call of runChecks: what the families found so far, and the lists they add to, in report order. */
export interface CheckRun {
  readonly ctx: OpContext;
  readonly mode: CheckMode;
  readonly items: CheckItem[];
  readonly changes: ChangeItem[];
  readonly lookup: AccessLookup;
  /** Filled by the registry checks, source first. */
  readonly registries: ReadRegistry[];
}

/** What one pipeline is, or will be once the operation creates or updates it. */
export interface Effective {
  readonly kind: PipelineKind;
  readonly reg: RegistryRef;
  readonly existing?: PipelineResource;
  /** The principal id of the existing pipeline's identity. */
  readonly principal?: string;
  readonly container?: string;
  readonly secretUri?: string;
  readonly mode: 'sas-token' | 'managed-identity';
  readonly options: readonly string[];
  readonly sourceTrigger: boolean;
}

export const item = (id: string, title: string, status: CheckItem['status'], detail: string, fix?: string): CheckItem => ({
  id,
  title,
  status,
  detail: oneLine(detail),
  ...(fix !== undefined && status !== 'pass' ? { fix: oneLine(fix) } : {}),
});

/** The container of a pipeline: from the inputs, else from the existing pipeline. */
export async function containerOf(ctx: OpContext, kind: PipelineKind): Promise<string | undefined> {
  const p = kind === 'export' ? ctx.settings.exportPipeline : ctx.settings.importPipeline;
  if (p.storageUri !== undefined) return p.storageUri;
  const reg = kind === 'export' ? ctx.settings.source : ctx.settings.target;
  if (!reg) return undefined;
  try {
    return (await ctx.services.arm.getPipeline(reg, kind, p.name))?.storageUri;
  } catch {
    return undefined;
  }
}
