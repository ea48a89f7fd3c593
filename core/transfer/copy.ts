/**
 * Copy: export blobs from the export container to the import container, server-side, keeping what the
 * import pipeline's source trigger needs: Content-MD5 and the metadata category=acr-transfer-blob
 * (copies that strip them leave the blob ignored, https://learn.microsoft.com/azure/container-registry/container-registry-transfer-troubleshooting).
 */
import { errorMessage } from '../errors';
import { BLOB_CATEGORY, category } from '../domain/blob-rules';
import type { BlobInfo } from '../ports';
import type { BlobReport } from '../report';
import { type Interruption, interruption, mapLimit, oneLine, type OpContext, type OperationResult, stopped, TransferError, warn } from '../operation';
import { sameUri } from '../domain/urls';
import { pipelineContainer } from './pipelines';

function sameContent(src: BlobInfo, dst: BlobInfo): boolean {
  return (
    dst.contentMD5 !== undefined &&
    dst.contentMD5 === src.contentMD5 &&
    dst.size === src.size &&
    (category(src) !== BLOB_CATEGORY || category(dst) === BLOB_CATEGORY)
  );
}

function checkCopy(src: BlobInfo, dst: BlobInfo | undefined, to: string): string | undefined {
  if (!dst) return `the copy is not in ${to}`;
  if (dst.size !== src.size) return `the copy has ${dst.size} bytes, the source ${src.size}`;
  if (src.contentMD5 !== undefined && dst.contentMD5 !== src.contentMD5)
    return `the copy's Content-MD5 ${dst.contentMD5 ?? '(none)'} differs from the source's ${src.contentMD5}`;
  if (category(src) === BLOB_CATEGORY && category(dst) !== BLOB_CATEGORY)
    return `the copy lost the metadata category=${BLOB_CATEGORY}: the source trigger will not import it`;
  return undefined;
}

const describe = (b: BlobInfo): Pick<BlobReport, 'size' | 'contentMD5'> => ({
  size: b.size,
  ...(b.contentMD5 !== undefined ? { contentMD5: b.contentMD5 } : {}),
});

export interface CopyResult extends OperationResult {
  /** Blobs now in the import container, checked. */
  readonly ready: readonly string[];
}

function noContainer(ctx: OpContext, kind: 'export' | 'import'): string {
  const p = kind === 'export' ? ctx.settings.exportPipeline : ctx.settings.importPipeline;
  return `${kind} pipeline '${p.name}' has no container to copy ${kind === 'export' ? 'from' : 'to'}: it does not exist or names none; give '${kind}-storage-uri'`;
}

/**
 * Copies one blob unless it is there with the same content, and checks the copy. `stop` (or a cancel or time-out now)
 * leaves it uncopied; an interruption during the copy is returned, not thrown.
 */
export async function copyBlob(
  ctx: OpContext,
  from: string,
  to: string,
  blob: string,
  stop?: Interruption,
): Promise<{ report: BlobReport; interrupted?: Interruption }> {
  const { blobs: store } = ctx.services;
  const why = stop ?? stopped(ctx);
  if (why) return { report: { name: blob, error: 'not copied: the operation stopped first' }, interrupted: why };
  try {
    const src = await store.getBlob(from, blob);
    if (!src) return { report: { name: blob, error: `not in the export container ${from}` } };
    if (src.contentMD5 === undefined) warn(ctx, `blob '${blob}' has no Content-MD5: the import pipeline's source trigger ignores such blobs`);
    if (category(src) !== BLOB_CATEGORY)
      warn(ctx, `blob '${blob}' lacks the metadata category=${BLOB_CATEGORY}: the import pipeline's source trigger ignores such blobs`);
    const dst = await store.getBlob(to, blob);
    if (dst && sameContent(src, dst)) {
      ctx.log.info(`blob '${blob}' is already in ${to} with the same Content-MD5: not copied again`);
      return { report: { name: blob, copied: false, ...describe(dst) } };
    }
    const r = await store.copyBlob({ containerUri: from, blob }, { containerUri: to, blob }, ctx.signal);
    ctx.log.info(`copied blob '${blob}' (${r.size} bytes, ${r.mode}) to ${to}`);
    const problem = checkCopy(src, await store.getBlob(to, blob), to);
    return { report: problem ? { name: blob, copied: true, error: problem } : { name: blob, copied: true, ...describe(src) } };
  } catch (e) {
    const why = interruption(e, ctx.signal);
    if (why) return { report: { name: blob, error: 'not copied: the operation stopped first' }, interrupted: why };
    return { report: { name: blob, error: oneLine(errorMessage(e)) } };
  }
}

/** The containers a copy goes between: the settings' or the pipelines'. */
export async function copyContainers(ctx: OpContext, o: { readonly from?: string; readonly to?: string }): Promise<{ from: string; to: string }> {
  const from = o.from ?? (await pipelineContainer(ctx, 'export'));
  const to = o.to ?? (await pipelineContainer(ctx, 'import'));
  // The settings hold a container URI or a registry for each side; without a URI, the pipeline there must name one.
  if (from === undefined) throw new TransferError(noContainer(ctx, 'export'));
  if (to === undefined) throw new TransferError(noContainer(ctx, 'import'));
  return { from, to };
}

export async function runCopy(ctx: OpContext, o: { readonly blobs: readonly string[]; readonly from?: string; readonly to?: string }): Promise<CopyResult> {
  const { from, to } = await copyContainers(ctx, o);
  if (o.blobs.length === 0) return { artifacts: [], runs: [], blobs: [], failures: [], ready: [] };
  if (sameUri(from, to)) {
    ctx.log.info(`The export and import pipelines share the container ${from}: nothing to copy`);
    return { artifacts: [], runs: [], blobs: o.blobs.map((name) => ({ name, copied: false })), failures: [], ready: o.blobs };
  }
  if (ctx.settings.dryRun) {
    ctx.log.info(`dry run: would copy ${o.blobs.length} blobs from ${from} to ${to}: ${o.blobs.join(', ')}`);
    return { artifacts: [], runs: [], blobs: o.blobs.map((name) => ({ name })), failures: [], ready: o.blobs };
  }

  let stop: Interruption | undefined;
  const copyOne = async (blob: string): Promise<BlobReport> => {
    const r = await copyBlob(ctx, from, to, blob, stop);
    stop ??= r.interrupted;
    return r.report;
  };
  const blobs = await ctx.log.group(`Copy ${o.blobs.length} blob${o.blobs.length === 1 ? '' : 's'}`, () =>
    mapLimit(o.blobs, ctx.settings.maxParallelRuns, copyOne),
  );
  return {
    artifacts: [],
    runs: [],
    blobs,
    failures: stop ? [] : blobs.filter((b) => b.error !== undefined).map((b) => `blob '${b.name}': ${b.error}`),
    ready: blobs.filter((b) => b.error === undefined).map((b) => b.name),
    ...(stop ? { interrupted: stop } : {}),
  };
}
