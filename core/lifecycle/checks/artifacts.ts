/**
 * The artifacts (export, transfer, check): they exist in the source registry (with the nearest tags of a misspelled
 * one), fit the runs, have no layer over the service's limit and no non-distributable layers.
 *
 * A missing artifact only warns in the preflight: the operation itself reports it (failed-artifacts), and
 * ContinueOnErrors may let it go on without it.
 */
import { errorMessage } from '../../errors';
import type { ManifestBlob } from '../../ports';
import { PatternError, type ResolvedArtifact, resolveOnce, tooMany } from '../../domain/artifacts';
import { continueOnErrors, mapLimit } from '../../operation';
import { LAYER_WARN_BYTES, MAX_ARTIFACTS_PER_RUN, MAX_LAYER_BYTES } from '../../domain/limits';
import { isDigest, splitRef } from '../../domain/reference';
import { listProgress } from '../../progress';
import { type CheckRun, item } from './shared';

export async function artifactItems(run: CheckRun): Promise<void> {
  const { ctx, mode, items } = run;
  const { settings } = ctx;
  const info = run.registries.find((r) => r.side === 'source')?.info;
  if (!info) return;
  const registry = ctx.services.registries.forLoginServer(info.loginServer);
  const title = `The artifacts exist in the source registry ${info.loginServer}`;
  let artifacts: readonly ResolvedArtifact[];
  try {
    const r = await resolveOnce(settings.artifacts, registry, { onProgress: listProgress(ctx.log, `resolved in ${info.loginServer}`) });
    artifacts = r.artifacts;
    if (r.missing.length > 0) {
      const hints = await mapLimit(r.missing, 4, async (m) => `${m.ref}${await hint(registry, m.ref)}`);
      const strict = mode === 'check' && !continueOnErrors(settings, 'export');
      items.push(
        item(
          'artifacts-found',
          title,
          strict ? 'fail' : 'warn',
          `not found: ${hints.join('; ')}`,
          "check the spelling in 'artifacts' (repository names are lower case; tags are case-sensitive), or push the missing tags first",
        ),
      );
    } else items.push(item('artifacts-found', title, 'pass', plural(artifacts.length, 'artifact')));
  } catch (e) {
    items.push(item('artifacts-found', title, 'fail', errorMessage(e), e instanceof PatternError ? "check the patterns in 'artifacts'" : undefined));
    return;
  }
  const runs = Math.ceil(artifacts.length / settings.maxArtifactsPerRun);
  const excess = tooMany(artifacts.length);
  items.push(
    item(
      'artifacts-per-run',
      `At most ${MAX_ARTIFACTS_PER_RUN} artifacts per run`,
      excess !== undefined ? 'fail' : 'pass',
      excess ?? `${plural(artifacts.length, 'artifact')} in ${plural(runs, 'run')} of at most ${settings.maxArtifactsPerRun}`,
      excess !== undefined ? "split 'artifacts' across steps" : undefined,
    ),
  );
  if (artifacts.length === 0 || excess !== undefined) return;

  // Layer sizes and foreign layers come from the manifests (an index: from each of its children), each digest read once:
  // many tags of a few images cost a few reads.
  const layers = new Map<string, { artifact: string; layer: ManifestBlob }[]>();
  const byDigest = new Map<string, ResolvedArtifact[]>();
  for (const a of artifacts) byDigest.set(a.sourceDigest, [...(byDigest.get(a.sourceDigest) ?? []), a]);
  try {
    await mapLimit([...byDigest.values()], 8, async (same) => {
      const a = same[0]!;
      const top = await registry.getManifest(a.repository, a.sourceDigest);
      const children = top ? await mapLimit(top.manifests, 4, (c) => registry.getManifest(a.repository, c.digest)) : [];
      const found = [top, ...children].flatMap((m) => m?.layers ?? []);
      for (const x of same)
        layers.set(
          x.ref,
          found.map((layer) => ({ artifact: x.ref, layer })),
        );
    });
  } catch (e) {
    items.push(item('layer-size', 'No layer is larger than 8 GB', 'warn', `not checked: the manifests could not be read: ${errorMessage(e)}`));
    return;
  }
  const all = [...layers.values()].flat();
  const huge = all.filter((x) => x.layer.size > MAX_LAYER_BYTES);
  const big = all.filter((x) => x.layer.size > LAYER_WARN_BYTES && x.layer.size <= MAX_LAYER_BYTES);
  const largest = all.reduce((m, x) => Math.max(m, x.layer.size), 0);
  const list = (xs: typeof all): string => [...new Set(xs.map((x) => `${x.artifact} (layer ${x.layer.digest.slice(0, 19)}, ${gib(x.layer.size)})`))].join(', ');
  items.push(
    item(
      'layer-size',
      'No layer is larger than 8 GB',
      huge.length > 0 ? 'fail' : big.length > 0 ? 'warn' : 'pass',
      huge.length > 0
        ? `export runs fail on layers over 8 GB: ${list(huge)}`
        : big.length > 0
          ? `layers close to the 8 GB limit: ${list(big)}`
          : `largest layer ${gib(largest)}`,
      "rebuild the image with smaller layers, or leave it out of 'artifacts'",
    ),
  );
  // Non-distributable ("foreign") layers stay behind: the target pulls them from their own URLs (docs/azure-service.md#non-distributable-layers).
  const foreign = all.filter((x) => (x.layer.urls?.length ?? 0) > 0 || /foreign|nondistributable/i.test(x.layer.mediaType ?? ''));
  items.push(
    item(
      'foreign-layers',
      'No artifact has non-distributable (foreign) layers',
      foreign.length > 0 ? 'warn' : 'pass',
      foreign.length > 0
        ? `${[...new Set(foreign.map((x) => `${x.artifact} (from ${x.layer.urls?.[0] ?? x.layer.mediaType ?? 'elsewhere'})`))].join(', ')}: the transfer does not carry these layers; pulls in a disconnected cloud fail`
        : `${plural(all.length, 'layer')}, all in the registry`,
      'build the image without foreign layers, or make sure the target can reach the layers’ URLs',
    ),
  );
}

/** Why a reference is missing: its repository does not exist, or which tags come closest. */
async function hint(registry: { listTags(repository: string): Promise<string[]> }, ref: string): Promise<string> {
  const { repository, reference } = splitRef(ref);
  let tags: string[];
  try {
    tags = await registry.listTags(repository);
  } catch {
    return '';
  }
  if (tags.length === 0) return ` (repository '${repository}' does not exist or has no tags)`;
  if (isDigest(reference)) return ` (repository '${repository}' has no manifest with that digest)`;
  const near = [...tags].sort((a, b) => distance(a, reference) - distance(b, reference)).slice(0, 5);
  return ` (repository '${repository}' has ${near.join(', ')}${tags.length > near.length ? ', …' : ''})`;
}

/** Levenshtein distance, for the nearest tags of a misspelled one. */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

function gib(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
