/**
 * The supply chain in a transfer: before any run, the referrers of every artifact are found in the source (they travel
 * in the same batches, after their subjects) and `require-referrers` refuses what lacks one; after the import, the
 * target's referrers API must list each referrer that has a `subject`, with the source's artifactType.
 */
import { errorMessage } from '../errors';
import type { ResolvedArtifact } from '../domain/artifacts';
import { discoverReferrers, missingTypes, type TagCache, withReferrers } from '../domain/referrers';
import { splitRef } from '../domain/reference';
import type { ReferrerDescriptor, RegistryDataPlane } from '../ports';
import type { ArtifactReport } from '../report';
import type { ExportSettings, TransferOpSettings } from '../settings';
import { mapLimit, type OpContext } from '../operation';

export interface SupplyChain {
  /** What the export carries: the artifacts that may go, each followed by its referrers when they are included. */
  readonly artifacts: readonly ResolvedArtifact[];
  /** Artifacts require-referrers refused, failed with the missing types. */
  readonly refused: readonly ArtifactReport[];
}

/** Finds the referrers (when they are carried or required) and applies require-referrers. */
export async function supplyChain(
  ctx: OpContext<ExportSettings | TransferOpSettings>,
  source: RegistryDataPlane,
  artifacts: readonly ResolvedArtifact[],
): Promise<SupplyChain> {
  const { referrers: mode, requireReferrers: required } = ctx.settings;
  if (mode === 'skip' && required.length === 0) return { artifacts, refused: [] };
  const tags: TagCache = new Map();
  const found = await ctx.log.group(`Discover referrers in ${source.loginServer}`, async () => {
    const all = await mapLimit(artifacts, 8, (a) => discoverReferrers(source, a, tags));
    artifacts.forEach((a, i) => {
      const list = all[i] ?? [];
      ctx.log.info(
        `${a.ref}: ${list.length} referrer${list.length === 1 ? '' : 's'}${list.length > 0 ? ` (${list.map((r) => `${r.ref} ${r.referrer?.artifactType ?? 'no artifactType'}`).join(', ')})` : ''}`,
      );
    });
    return all;
  });
  const refused: ArtifactReport[] = [];
  const kept: ResolvedArtifact[] = [];
  const keptReferrers: ResolvedArtifact[][] = [];
  artifacts.forEach((a, i) => {
    const missing = missingTypes(a, found[i] ?? [], required);
    if (missing.length > 0) {
      refused.push({
        artifact: a.ref,
        sourceDigest: a.sourceDigest,
        result: 'failed',
        reason: `has no referrer of artifactType ${missing.join(', ')} in ${source.loginServer} (require-referrers)`,
      });
      return;
    }
    kept.push(a);
    keptReferrers.push(found[i] ?? []);
  });
  return { artifacts: mode === 'include' ? withReferrers(kept, keptReferrers) : kept, refused };
}

/**
 * Referrers verified by digest must also be listed by the target's referrers API under their subject, with the source's
 * artifactType (what Ratify, Kyverno and notation query). Each subject's list is read once.
 */
export async function checkListed(target: RegistryDataPlane, reports: readonly ArtifactReport[]): Promise<ArtifactReport[]> {
  const lists = new Map<string, Promise<ReferrerDescriptor[]>>();
  return mapLimit(reports, 8, async (a) => {
    const r = a.referrer;
    if (r === undefined || r.via !== 'api' || a.result !== 'verified' || a.targetDigest === undefined) return a;
    const { repository } = splitRef(a.artifact);
    const key = `${repository}@${r.subject}`;
    let list = lists.get(key);
    if (!list) lists.set(key, (list = target.listReferrers(repository, r.subject)));
    let listed: ReferrerDescriptor | undefined;
    try {
      listed = (await list).find((d) => d.digest === a.targetDigest);
    } catch (e) {
      return { ...a, result: 'failed', reason: `the referrers of ${r.subject} in ${target.loginServer} could not be read: ${errorMessage(e)}` };
    }
    if (!listed) return { ...a, result: 'failed', reason: `the referrers API of ${target.loginServer} does not list it under ${r.subject}` };
    if (listed.artifactType !== r.artifactType)
      return {
        ...a,
        result: 'failed',
        reason: `the referrers API of ${target.loginServer} lists it with artifactType ${listed.artifactType ?? '(none)'}, the source had ${r.artifactType ?? '(none)'}`,
      };
    return a;
  });
}
