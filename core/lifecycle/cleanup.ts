/**
 * cleanup: what accumulates after transfers: old and failed runs, blobs, untagged manifests (docs/azure-service.md#failure-modes-and-fixes,
 * docs/azure-service.md#registry-faq-points).
 * It first makes the list (runs of this tool's pipelines finished more than older-than-days ago, or only the failed ones;
 * their blobs; the pipelines; untagged manifests in the target repositories of `artifacts`), logs it, and in a dry run
 * stops there. Otherwise it deletes exactly what it listed: nothing is listed again in between.
 */
import { errorMessage } from '../errors';
import type { ManifestInfo, PipelineRunResource, RegistryDataPlane } from '../ports';
import type { ChangeItem } from '../report';
import type { CleanupSettings, RegistryRef, Side } from '../settings';
import { repositoryGlob } from '../domain/artifacts';
import { mapLimit, oneLine, type OpContext, type OperationResult } from '../operation';
import { sameUri } from '../domain/urls';

const DAY_MS = 24 * 3600 * 1000;
const TERMINAL = ['succeeded', 'failed', 'canceled', 'cancelled'];

/** One deletion cleanup lists, with how to carry it out. */
interface Planned {
  readonly change: ChangeItem;
  readonly run?: () => Promise<void>;
}

interface CleanupSide extends Side {
  readonly pipeline: string;
  readonly pipelineId: string;
  readonly container?: string;
  readonly exists: boolean;
  readonly selected: readonly PipelineRunResource[];
  readonly kept: readonly PipelineRunResource[];
}

/** Which runs cleanup takes: finished ones older than older-than-days (finish time, else start time), with failed-only only Failed ones. */
export function selectRuns(
  runs: readonly PipelineRunResource[],
  o: { readonly olderThanDays: number; readonly failedOnly: boolean; readonly now: number },
): PipelineRunResource[] {
  return runs.filter((r) => {
    const state = (r.provisioningState ?? '').toLowerCase();
    if (!TERMINAL.includes(state)) return false;
    if (o.failedOnly && state !== 'failed') return false;
    if (o.olderThanDays === 0) return true;
    const at = Date.parse(r.finishTime ?? r.startTime ?? '');
    return Number.isFinite(at) && o.now - at > o.olderThanDays * DAY_MS;
  });
}

/**
 * The manifests of a repository no tag references, except those a kept manifest needs: the children of a kept index
 * (untagged by nature; deleting them breaks the multi-arch image) and referrers (signatures, SBOMs) of a kept manifest.
 */
export async function untaggedManifests(registry: RegistryDataPlane, repository: string): Promise<{ digest: string; locked: boolean }[]> {
  const all = await registry.listManifests(repository);
  const parsed = new Map<string, ManifestInfo | undefined>();
  await mapLimit(all, 8, async (m) => parsed.set(m.digest, await registry.getManifest(repository, m.digest)));
  const keep = new Set(all.filter((m) => m.tags.length > 0).map((m) => m.digest));
  for (let changed = true; changed;) {
    changed = false;
    for (const m of all) {
      if (keep.has(m.digest)) {
        for (const c of parsed.get(m.digest)?.manifests ?? []) {
          if (keep.has(c.digest)) continue;
          keep.add(c.digest);
          changed = true;
        }
      } else {
        const subject = parsed.get(m.digest)?.subject;
        if (subject === undefined || !keep.has(subject)) continue;
        keep.add(m.digest);
        changed = true;
      }
    }
  }
  return all.filter((m) => !keep.has(m.digest)).map((m) => ({ digest: m.digest, locked: m.deleteEnabled === false }));
}

export async function runCleanup(ctx: OpContext<CleanupSettings>): Promise<OperationResult> {
  const { settings, services } = ctx;
  const now = ctx.clock.now();

  // ---- the list
  const sides: CleanupSide[] = [];
  for (const { kind, reg } of settings.sides) {
    const p = kind === 'export' ? settings.exportPipeline : settings.importPipeline;
    const pipelineId = `${reg.resourceId}/${kind}Pipelines/${p.name}`;
    const pipeline = await services.arm.getPipeline(reg, kind, p.name);
    const runs = (await services.arm.listRuns(reg)).filter((r) => sameUri(r.pipelineResourceId, pipeline?.id ?? pipelineId));
    const selected = selectRuns(runs, { olderThanDays: settings.olderThanDays, failedOnly: settings.failedOnly, now });
    const container = pipeline?.storageUri ?? p.storageUri;
    sides.push({
      kind,
      reg,
      pipeline: p.name,
      pipelineId: pipeline?.id ?? pipelineId,
      ...(container !== undefined ? { container } : {}),
      exists: pipeline !== undefined,
      selected,
      kept: runs.filter((r) => !selected.includes(r)),
    });
  }

  const plan: Planned[] = [];
  const criteria = `${settings.failedOnly ? 'failed, ' : ''}${settings.olderThanDays === 0 ? 'any age' : `finished more than ${settings.olderThanDays} days ago`}`;
  for (const s of sides) {
    for (const r of s.selected) {
      plan.push({
        change: {
          kind: 'run',
          name: r.name,
          scope: `registry '${s.reg.name}', ${s.kind} pipeline '${s.pipeline}'`,
          action: 'delete',
          status: 'planned',
          detail: `${r.provisioningState ?? 'unknown'}, ${r.finishTime ? `finished ${r.finishTime}` : `started ${r.startTime ?? 'at an unknown time'}`}${r.blobName ? `, blob ${r.blobName}` : ''} (${criteria})`,
        },
        run: () => services.arm.deleteRun(s.reg, r.name),
      });
    }
  }

  if (settings.deleteBlobs) {
    for (const s of sides) {
      if (s.container === undefined) continue;
      const names = [...new Set([...s.selected.map((r) => r.blobName).filter((b): b is string => b !== undefined), ...settings.blobs])];
      for (const name of names) {
        const user = s.kept.find((r) => r.blobName === name);
        const blob = await services.blobs.getBlob(s.container, name);
        if (!blob) continue;
        const base = { kind: 'blob' as const, name, scope: `${s.kind} container ${s.container}`, action: 'delete' as const };
        if (user)
          plan.push({ change: { ...base, status: 'skipped', detail: `run '${user.name}' (${user.provisioningState ?? 'unknown'}) is kept and uses it` } });
        else
          plan.push({
            change: { ...base, status: 'planned', detail: `${blob.size} bytes, last modified ${blob.lastModified ?? 'unknown'}` },
            run: () => services.blobs.deleteBlob(s.container!, name),
          });
      }
    }
  }

  if (settings.deletePipelines) {
    for (const s of sides) {
      if (!s.exists) continue;
      const base = { kind: 'pipeline' as const, name: s.pipeline, scope: `registry '${s.reg.name}'`, action: 'delete' as const };
      const busy = s.kept.find((r) => !TERMINAL.includes((r.provisioningState ?? '').toLowerCase()));
      if (busy) plan.push({ change: { ...base, status: 'skipped', detail: `run '${busy.name}' is still ${busy.provisioningState ?? 'in progress'}` } });
      else
        plan.push({
          change: { ...base, status: 'planned', detail: `${s.kind} pipeline${s.kept.length > 0 ? `; ${s.kept.length} runs not selected stay` : ''}` },
          run: () => services.arm.deletePipeline(s.reg, s.kind, s.pipeline),
        });
    }
  }

  if (settings.purgeUntaggedIn) plan.push(...(await purgePlan(ctx, settings.purgeUntaggedIn)));

  const todo = plan.filter((p) => p.run !== undefined);
  ctx.log.info(
    `cleanup ${settings.dryRun ? '(dry run) would delete' : 'deletes'} ${todo.length} item(s): ${count(todo, 'run')} runs, ${count(todo, 'blob')} blobs, ${count(todo, 'pipeline')} pipelines, ${count(todo, 'manifest')} manifests`,
  );
  for (const p of plan)
    ctx.log.info(
      `${p.change.status === 'skipped' ? 'keep' : settings.dryRun ? 'would delete' : 'delete'} ${p.change.kind} '${p.change.name}' (${p.change.scope})${p.change.detail ? `: ${p.change.detail}` : ''}`,
    );
  if (settings.dryRun) return { artifacts: [], runs: [], blobs: [], failures: failuresOf(plan.map((p) => p.change)), changes: plan.map((p) => p.change) };

  // ---- exactly the listed items; pipelines only after every run is gone (a pipeline may refuse to go while it has runs)
  const remove = async (p: (typeof plan)[number]): Promise<ChangeItem> => {
    if (!p.run) return p.change;
    try {
      await p.run();
      ctx.log.info(`deleted ${p.change.kind} '${p.change.name}' (${p.change.scope})`);
      return { ...p.change, status: 'done' };
    } catch (e) {
      const error = oneLine(errorMessage(e));
      ctx.log.info(`could not delete ${p.change.kind} '${p.change.name}' (${p.change.scope}): ${error}`);
      return { ...p.change, status: 'failed', error };
    }
  };
  const done = new Map<(typeof plan)[number], ChangeItem>();
  await ctx.log.group(`Delete ${todo.length} item(s)`, async () => {
    for (const last of [false, true]) {
      const phase = plan.filter((p) => (p.change.kind === 'pipeline') === last);
      (await mapLimit(phase, 4, remove)).forEach((c, i) => done.set(phase[i]!, c));
    }
  });
  const changes = plan.map((p) => done.get(p)!);
  return { artifacts: [], runs: [], blobs: [], failures: failuresOf(changes), changes };
}

function failuresOf(changes: readonly ChangeItem[]): string[] {
  return changes.filter((c) => c.status === 'failed').map((c) => `cleanup could not delete ${c.kind} '${c.name}' (${c.scope}): ${c.error ?? 'unknown error'}`);
}

function count(plan: readonly Planned[], kind: ChangeItem['kind']): number {
  return plan.filter((p) => p.change.kind === kind).length;
}

/** Untagged manifests in the target repositories `artifacts` names (patterns expanded against the target). */
async function purgePlan(ctx: OpContext, target: RegistryRef): Promise<Planned[]> {
  const info = await ctx.services.arm.getRegistry(target);
  const registry = ctx.services.registries.forLoginServer(info.loginServer);
  const repos = new Set<string>();
  let all: Promise<string[]> | undefined;
  for (const a of ctx.settings.artifacts) {
    if (a.kind === 'pattern' && /[*?]/.test(a.repository)) {
      all ??= registry.listRepositories();
      const re = repositoryGlob(a.repository);
      (await all).filter((r) => re.test(r)).forEach((r) => repos.add(r));
    } else repos.add(a.repository);
  }
  const plan: Planned[] = [];
  for (const repo of [...repos].sort()) {
    const scope = `registry '${target.name}' (${info.loginServer})`;
    try {
      for (const m of await untaggedManifests(registry, repo)) {
        const change: ChangeItem = {
          kind: 'manifest',
          name: `${repo}@${m.digest}`,
          scope,
          action: 'delete',
          status: m.locked ? 'skipped' : 'planned',
          detail: m.locked ? 'locked (deleteEnabled: false)' : 'no tag references it',
        };
        plan.push(m.locked ? { change } : { change, run: () => registry.deleteManifest(repo, m.digest) });
      }
    } catch (e) {
      plan.push({
        change: {
          kind: 'manifest',
          name: `${repo}@*`,
          scope,
          action: 'delete',
          status: 'failed',
          error: `the manifests could not be listed: ${oneLine(errorMessage(e))}`,
        },
      });
    }
  }
  return plan;
}
