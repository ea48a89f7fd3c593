import type { ReferrerOf } from './domain/referrers';
import type { Operation } from './vocabulary';
import type { PipelineKind, RegistryUsage } from './ports';

export type ArtifactResult = 'exported' | 'imported' | 'verified' | 'skipped' | 'failed' | 'planned' | 'pending';

export interface ArtifactReport {
  /** As requested, after pattern expansion: repo:tag or repo@sha256:… */
  readonly artifact: string;
  readonly sourceDigest?: string;
  /** 1-based batch number. */
  readonly batch?: number;
  readonly exportRun?: string;
  readonly importRun?: string;
  readonly blob?: string;
  readonly result: ArtifactResult;
  readonly targetDigest?: string;
  readonly reason?: string;
  /** The signatures, SBOMs and attestations carried with it (referrers: include). */
  readonly referrers?: readonly ReferrerReport[];
  /** Set on a referrer's own row while the operation runs; the report nests such rows under their artifact (nestReferrers). */
  readonly referrer?: ReferrerOf;
}

/** One referrer carried with an artifact. */
export interface ReferrerReport {
  /** How it travels: `repo@sha256:…` (referrers API), or `repo:sha256-<hex>.sig` (cosign's tags). */
  readonly artifact: string;
  readonly digest?: string;
  readonly artifactType?: string;
  /** The digest it refers to: the artifact, a child of an index, or another referrer. */
  readonly subject: string;
  readonly batch?: number;
  readonly result: ArtifactResult;
  readonly targetDigest?: string;
  readonly reason?: string;
}

/** Referrer rows under the artifact they were carried with (a row whose artifact is not in the list stays a row). */
export function nestReferrers(artifacts: readonly ArtifactReport[]): ArtifactReport[] {
  const roots = new Set(artifacts.filter((a) => a.referrer === undefined).map((a) => a.artifact));
  const nested = new Map<string, ReferrerReport[]>();
  for (const a of artifacts) {
    const r = a.referrer;
    if (r === undefined || !roots.has(r.of)) continue;
    nested.set(r.of, [
      ...(nested.get(r.of) ?? []),
      {
        artifact: a.artifact,
        ...(a.sourceDigest !== undefined ? { digest: a.sourceDigest } : {}),
        ...(r.artifactType !== undefined ? { artifactType: r.artifactType } : {}),
        subject: r.subject,
        ...(a.batch !== undefined ? { batch: a.batch } : {}),
        result: a.result,
        ...(a.targetDigest !== undefined ? { targetDigest: a.targetDigest } : {}),
        ...(a.reason !== undefined ? { reason: a.reason } : {}),
      },
    ]);
  }
  return artifacts
    .filter((a) => a.referrer === undefined || !roots.has(a.referrer.of))
    .map((a) => (a.referrer === undefined && nested.has(a.artifact) ? { ...a, referrers: nested.get(a.artifact)! } : a));
}

export type RunStatus = 'planned' | 'reused' | 'running' | 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

export interface RunReport {
  readonly name: string;
  readonly pipeline: string;
  readonly kind: PipelineKind;
  readonly status: RunStatus;
  readonly blob: string;
  readonly artifacts: readonly string[];
  readonly startTime?: string;
  readonly finishTime?: string;
  /** pipelineRunErrorMessage, word for word. */
  readonly error?: string;
}

/** The stages a batch goes through in a transfer, in order. */
export type Stage = 'export' | 'copy' | 'import' | 'verify';

/** When one batch's stage ran, as this tool saw it: from its start (a slot granted) to its end (the run seen ended). */
export interface StageTiming {
  readonly batch: number;
  readonly stage: Stage;
  readonly startTime: string;
  readonly finishTime: string;
}

export interface BlobReport {
  readonly name: string;
  readonly copied?: boolean;
  readonly size?: number;
  readonly contentMD5?: string;
  /** Why the blob is missing, or did not copy or verify. */
  readonly error?: string;
}

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckItem {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string;
}

export type ChangeKind = 'secret' | 'pipeline' | 'access-policy' | 'role-assignment' | 'probe-run' | 'run' | 'blob' | 'manifest';

/** One field of a pipeline an operation changed (or would change): its value before and after. */
export interface FieldChange {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** One thing the operation changed, or in a dry run would change. Never holds a secret value. */
export interface ChangeItem {
  readonly kind: ChangeKind;
  /** Secret name, pipeline name, run name, blob name, repo@digest, role name… */
  readonly name: string;
  /** Where: the vault, registry, container or repository. */
  readonly scope: string;
  readonly action: 'create' | 'update' | 'delete' | 'grant' | 'keep';
  /** planned: dry run; done; unchanged: already so; skipped: left alone on purpose (detail says why); failed: error says why. */
  readonly status: 'planned' | 'done' | 'unchanged' | 'skipped' | 'failed';
  readonly detail?: string;
  /** A pipeline update: each field that changed (or would change), old and new. */
  readonly fields?: readonly FieldChange[];
  readonly error?: string;
}

export interface UsageReport {
  readonly registry: string;
  readonly before?: readonly RegistryUsage[];
  readonly after?: readonly RegistryUsage[];
}

/** The outcome of one operation, as data. Front-ends render it (outputs, summary, annotations, exit status). */
export interface TransferReport {
  readonly operation: Operation;
  readonly dryRun: boolean;
  /** succeeded: all done; partial: ContinueOnErrors left failures; failed: stopped with an error; cancelled / timed-out. */
  readonly outcome: 'succeeded' | 'partial' | 'failed' | 'cancelled' | 'timed-out';
  readonly startTime: string;
  readonly finishTime: string;
  readonly artifacts: readonly ArtifactReport[];
  readonly runs: readonly RunReport[];
  readonly blobs: readonly BlobReport[];
  readonly checks: readonly CheckItem[];
  /** What the operation changed (or would change): pipelines, secrets, grants, deletions. */
  readonly changes: readonly ChangeItem[];
  readonly usage: readonly UsageReport[];
  /** transfer: each batch's stages in time (the summary's timeline). */
  readonly timeline?: readonly StageTiming[];
  readonly warnings: readonly string[];
  /** The error that stopped the operation, if any: one line. */
  readonly error?: string;
}
