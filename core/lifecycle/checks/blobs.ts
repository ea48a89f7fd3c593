/**
 * The blobs (import, copy, check): each one is in the container with Content-MD5 and the export's category metadata.
 *
 * A missing blob only warns in the preflight: the operation itself reports it, and ContinueOnErrors may let it go on
 * without it.
 */
import { errorMessage } from '../../errors';
import type { BlobInfo, PipelineKind } from '../../ports';
import type { CheckItem } from '../../report';
import { mapLimit } from '../../operation';
import { BLOB_CATEGORY, category } from '../../domain/blob-rules';
import { type CheckRun, containerOf, item } from './shared';

export async function blobItems(run: CheckRun): Promise<void> {
  const { settings } = run.ctx;
  const op = settings.operation;
  // copy reads the export's container; so does check when it has no import side to look at.
  const kind: PipelineKind = op === 'copy' || (op === 'check' && !settings.target && settings.importPipeline.storageUri === undefined) ? 'export' : 'import';
  const container = await containerOf(run.ctx, kind);
  if (container !== undefined) run.items.push(await blobItem(run, kind, container));
}

async function blobItem(run: CheckRun, kind: PipelineKind, container: string): Promise<CheckItem> {
  const { ctx, mode } = run;
  const { settings } = ctx;
  const where = `${kind} container`;
  const title = `The blobs are in the ${where} with Content-MD5 and the transfer metadata`;
  let found: (BlobInfo | undefined)[];
  try {
    found = await mapLimit(settings.blobs, 8, (b) => ctx.services.blobs.getBlob(container, b));
  } catch (e) {
    return item('blobs', title, 'warn', `not checked: ${errorMessage(e)}`);
  }
  const missing = settings.blobs.filter((_, i) => found[i] === undefined);
  const present = found.filter((b): b is BlobInfo => b !== undefined);
  const noMd5 = present.filter((b) => b.contentMD5 === undefined).map((b) => b.name);
  const noMeta = present.filter((b) => category(b) !== BLOB_CATEGORY).map((b) => b.name);
  const problems = [
    ...missing.map((b) => `blob '${b}' is not in the ${where} ${container}`),
    ...(noMd5.length > 0 ? [`no Content-MD5 on ${noMd5.join(', ')}`] : []),
    ...(noMeta.length > 0 ? [`no metadata category=${BLOB_CATEGORY} on ${noMeta.join(', ')}`] : []),
  ];
  if (problems.length === 0) return item('blobs', title, 'pass', `${present.length} blobs`);
  // The source trigger ignores blobs without Content-MD5 or the category metadata (docs/azure-service.md#source-trigger).
  const trigger = kind === 'import' && settings.sourceTrigger;
  const hard = missing.length > 0 || (trigger && (noMd5.length > 0 || noMeta.length > 0));
  return item(
    'blobs',
    title,
    hard && mode === 'check' ? 'fail' : 'warn',
    problems.join('; ') + (trigger && noMd5.length + noMeta.length > 0 ? ': the source trigger ignores such blobs' : ''),
    [
      ...(missing.length > 0 ? [`check the names in 'blobs' (they are case-sensitive) and copy the export's blobs there first (operation: copy)`] : []),
      ...(noMd5.length + noMeta.length > 0 ? ['copy the blobs with operation: copy, which keeps Content-MD5 and the metadata'] : []),
    ].join('; '),
  );
}
