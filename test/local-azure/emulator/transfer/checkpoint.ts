/**
 * How far a run's execution got, kept with the run on disk (RunRecord.checkpoint): once the transfer itself is done
 * (the export blob written, the artifacts imported), a run resumed after a restart only finishes, as the service's
 * would; before that it is executed again (docs/local-azure.md#state-on-disk).
 */
import type { Json, RunRecord } from '../context';

export interface Outcome {
  readonly bytesMoved: number;
  /** Artifact failures tolerated under ContinueOnErrors; reported in pipelineRunErrorMessage of a succeeded run. */
  readonly artifactErrors: readonly string[];
}

export function checkpointOf(outcome: Outcome): Json {
  return { transferred: true, bytesMoved: outcome.bytesMoved, artifactErrors: [...outcome.artifactErrors] };
}

/** The outcome of a transfer already done, or undefined when the run has not got that far. */
export function transferred(run: RunRecord): Outcome | undefined {
  const c = run.checkpoint;
  if (c?.['transferred'] !== true) return undefined;
  const errors = c['artifactErrors'];
  return { bytesMoved: Number(c['bytesMoved'] ?? 0), artifactErrors: Array.isArray(errors) ? errors.map(String) : [] };
}
