/**
 * Does a grant work yet? New permissions take minutes to reach Key Vault and storage (https://learn.microsoft.com/azure/container-registry/container-registry-faq:
 * "up to ~10 minutes"), and ARM listing the grant says nothing about that. So a probe asks the service itself: it runs the
 * pipeline on a blob (import) or artifact (export) that does not exist. A run must read the SAS from Key Vault (or, in
 * managed-identity mode, reach the container) before it can find the blob missing, so:
 * - it fails with Key Vault's (or storage's) refusal: the grant is not in effect yet;
 * - it fails for any other reason (blob or artifact not found) or succeeds: the run got past the read, the grant works.
 * For export the service is assumed to read the secret before it resolves the artifacts [inferred; the import probe is exact];
 * an export pipeline in managed-identity mode cannot be probed this way (storage comes after the artifacts), so it is not.
 * One run name per pipeline, re-run with a new forceUpdateTag each attempt and deleted at the end.
 */
import { createHash } from 'node:crypto';
import { errorMessage } from '../errors';
import type { PipelineResource, PipelineRunResource, PipelineRunSpec } from '../ports';
import type { ChangeItem } from '../report';
import { pollUntil } from '../retry';
import { interruption, oneLine, type OpContext } from '../operation';
import type { AccessNeed } from './access';

export type ProbeState = 'effective' | 'denied' | 'unknown';

export interface ProbeResult {
  readonly state: ProbeState;
  /** The service's own words (pipelineRunErrorMessage), or why the probe could not tell. */
  readonly detail: string;
  readonly attempts: number;
  readonly changes: readonly ChangeItem[];
}

// Key Vault's refusals: access policies ("does not have secrets get permission"), RBAC (ForbiddenByRbac), and a 401/403 in
// the service's "could not read the secret" message.
const KEY_VAULT_DENIED =
  /does not have secrets? get permission|ForbiddenBy(Rbac|Policy)|not authori[sz]ed to perform action|Key ?Vault\b[^\n]*?\b(401|403|Forbidden|Unauthorized|AccessDenied)\b/i;
// Storage's refusals of the pipeline identity (managed-identity mode).
const STORAGE_DENIED = /AuthorizationPermissionMismatch|AuthorizationFailure|AuthorizationFailed|\b403\b|not authori[sz]ed|needs the Storage Blob Data/i;

/** First backoff between attempts; doubles up to the maximum. */
export const PROBE_BACKOFF = { firstMs: 5000, maxMs: 60_000 } as const;
const RUN_POLL = { intervalMs: 1000, maxIntervalMs: 5000 } as const;

export function probeRunName(pipelineId: string): string {
  return `acrprobe${createHash('sha256').update(pipelineId.toLowerCase()).digest('hex').slice(0, 16)}`;
}

/** Reads a finished probe run: did it get past the secret (or container)? */
export function classify(run: PipelineRunResource, mode: AccessNeed['mode']): { state: ProbeState; detail: string } {
  if (run.provisioningState === 'Succeeded') return { state: 'effective', detail: 'the probe run succeeded' };
  const message = run.errorMessage ?? '';
  if (message === '') return { state: 'unknown', detail: `the probe run ended ${run.provisioningState ?? 'without a state'} with no message` };
  const denied = mode === 'sas-token' ? KEY_VAULT_DENIED.test(message) : STORAGE_DENIED.test(message);
  return { state: denied ? 'denied' : 'effective', detail: oneLine(message) };
}

/**
 * Probes once, or with `wait` until the grant works or timeout-minutes run out, backing off between attempts.
 * Never throws for service errors: they make the state 'unknown'.
 */
export async function probeAccess(ctx: OpContext, need: AccessNeed, pipeline: PipelineResource, o: { readonly wait: boolean }): Promise<ProbeResult> {
  if (need.kind === 'export' && need.mode === 'managed-identity') {
    // An export resolves its artifacts before it touches storage, so an absent artifact fails the run before the role is used.
    return {
      state: 'unknown',
      detail: 'an export probe cannot test a storage role (the service resolves the artifacts before it reaches storage); the grant was read from ARM only',
      attempts: 0,
      changes: [],
    };
  }
  const { arm } = ctx.services;
  const name = probeRunName(pipeline.id);
  const tag = createHash('sha256').update(pipeline.id.toLowerCase()).digest('hex').slice(0, 12);
  const spec: Omit<PipelineRunSpec, 'forceUpdateTag'> = {
    pipelineResourceId: pipeline.id,
    kind: need.kind,
    blobName: `acrtransfer-probe-${tag}`,
    ...(need.kind === 'export' ? { artifacts: [`acrtransfer-probe/absent:${tag}`] } : {}),
  };
  const scope = `registry '${need.registry.name}'`;
  const changes: ChangeItem[] = [];
  let attempts = 0;
  let last: { state: ProbeState; detail: string } = { state: 'unknown', detail: 'the probe did not run' };
  let backoff: number = PROBE_BACKOFF.firstMs;
  const started = ctx.clock.now();
  try {
    for (;;) {
      attempts++;
      await arm.putRun(need.registry, name, { ...spec, forceUpdateTag: `probe-${new Date(ctx.clock.now()).toISOString()}-${attempts}` });
      const run = await pollUntil(
        async () => {
          const r = await arm.getRun(need.registry, name);
          return { value: r, ...(r?.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}) };
        },
        {
          ...RUN_POLL,
          deadline: ctx.deadline,
          clock: ctx.clock,
          signal: ctx.signal,
          done: (r) => r === undefined || ['succeeded', 'failed', 'canceled'].includes((r.provisioningState ?? '').toLowerCase()),
          what: `probe run '${name}'`,
        },
      );
      last = run ? classify(run, need.mode) : { state: 'unknown', detail: `probe run '${name}' disappeared` };
      ctx.log.info(`access probe ${attempts} (${need.kind} pipeline '${pipeline.name}'): ${last.state}: ${last.detail}`);
      if (last.state !== 'denied' || !o.wait) break;
      if (ctx.clock.now() + backoff > ctx.deadline) {
        last = {
          state: 'denied',
          detail: `still refused after ${attempts} probes over ${Math.round((ctx.clock.now() - started) / 60_000)} minutes: ${last.detail}`,
        };
        break;
      }
      await ctx.clock.sleep(backoff, ctx.signal);
      backoff = Math.min(PROBE_BACKOFF.maxMs, backoff * 2);
    }
  } catch (e) {
    const why = interruption(e, ctx.signal);
    if (why?.reason === 'cancelled') throw e;
    last = why
      ? {
          state: last.state === 'denied' ? 'denied' : 'unknown',
          detail: `timed out (timeout-minutes) waiting for probe run '${name}'${last.state === 'denied' ? `; last: ${last.detail}` : ''}`,
        }
      : { state: 'unknown', detail: oneLine(errorMessage(e)) };
  } finally {
    const cleanup = await removeProbe(ctx, need, name, spec.blobName, pipeline.storageUri);
    changes.push(
      {
        kind: 'probe-run',
        name,
        scope,
        action: 'create',
        status: attempts > 0 ? 'done' : 'failed',
        detail: `${attempts} run(s) of ${need.kind} pipeline '${pipeline.name}' to test the grant`,
      },
      cleanup,
    );
  }
  return { ...last, attempts, changes };
}

/** Deletes the probe run, and the blob an export probe could only have written if the absent artifact existed after all. */
async function removeProbe(ctx: OpContext, need: AccessNeed, name: string, blob: string, container: string | undefined): Promise<ChangeItem> {
  const item: ChangeItem = { kind: 'probe-run', name, scope: `registry '${need.registry.name}'`, action: 'delete', status: 'done' };
  try {
    await ctx.services.arm.deleteRun(need.registry, name);
    if (need.kind === 'export' && container !== undefined && (await ctx.services.blobs.getBlob(container, blob)))
      await ctx.services.blobs.deleteBlob(container, blob);
    return item;
  } catch (e) {
    return { ...item, status: 'failed', error: oneLine(errorMessage(e)) };
  }
}
