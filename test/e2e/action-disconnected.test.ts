/**
 * @live
 * The disconnected flow as three workflow steps, each given only the inputs its side of the boundary has:
 * `export` (source registry and export storage), `copy` (both containers), `import` (target registry and import
 * storage), with the blob names handed from one step's `blobs` output to the next step's `blobs` input.
 */
import type { SeededImage } from '../local-azure/seed';
import {
  type ActionFixture,
  blobsIn,
  containerUri,
  createActionFixture,
  expectNoSecrets,
  jsonOutput,
  seed,
  stepInputs,
  targetDigest,
} from './support/action-fixture';
import { type ActionRun, describeRun, runAction } from './support/action-runner';
import { containerClient } from './support/local-azure';

jest.setTimeout(300_000);

let f: ActionFixture;
let images: SeededImage[];

beforeAll(async () => {
  f = await createActionFixture('dc');
  images = await seed(f, [
    { repo: `act${f.u}/web`, tag: '1.0' },
    { repo: `act${f.u}/web`, tag: '1.1' },
    { repo: `act${f.u}/worker`, tag: 'stable', multiArch: true },
  ]);
});

const AUTH = ['auth-type', 'client-id', 'tenant-id', 'client-secret', 'resource-manager-endpoint', 'subscription-id', 'timeout-minutes'];

/** Only the named inputs of a full step, as a workflow on one side would write them. */
function only(inputs: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).filter(([k]) => [...AUTH, 'operation', ...names].includes(k)));
}

function expectSuccess(run: ActionRun): void {
  expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
  expect(run.report?.outcome).toBe('succeeded');
  expectNoSecrets(run, f);
}

it('exports, copies and imports in separate steps, handing blob names through outputs', async () => {
  const artifacts = images.map((i) => i.ref).join(',');
  const exp = await runAction({
    inputs: only(stepInputs(f, 'export', { artifacts }), ['source-registry', 'artifacts', 'export-pipeline', 'export-storage-uri', 'export-sas-secret-uri']),
  });
  expectSuccess(exp);
  const blobs = jsonOutput<string[]>(exp, 'blobs');
  expect(blobs).toHaveLength(1);
  expect(await blobsIn(f.exportStorage)).toEqual(blobs);
  expect(await blobsIn(f.importStorage)).toEqual([]);

  const copy = await runAction({
    inputs: only(stepInputs(f, 'copy', { blobs: blobs.join('\n') }), [
      'blobs',
      'export-storage-uri',
      'export-sas-secret-uri',
      'import-storage-uri',
      'import-sas-secret-uri',
    ]),
  });
  expectSuccess(copy);
  expect(jsonOutput<string[]>(copy, 'blobs')).toEqual(blobs);
  // A server-side copy that keeps what the import (and the source trigger) needs: Content-MD5 and the category metadata.
  const client = (s: typeof f.exportStorage) => containerClient(s).getBlobClient(blobs[0]!);
  const [from, to] = await Promise.all([client(f.exportStorage).getProperties(), client(f.importStorage).getProperties()]);
  // The copy keeps what the source trigger needs (the category) and this tool's stamp of the batch.
  expect(to.metadata).toEqual(from.metadata);
  expect(to.metadata).toEqual({ category: 'acr-transfer-blob', acrtransfer_set: expect.stringMatching(/^[0-9a-f]{32}$/) });
  expect(Buffer.from(to.contentMD5 ?? []).toString('hex')).toBe(Buffer.from(from.contentMD5 ?? []).toString('hex'));
  expect(to.contentLength).toBe(from.contentLength);

  const imp = await runAction({
    inputs: only(stepInputs(f, 'import', { blobs: blobs.join('\n') }), [
      'target-registry',
      'blobs',
      'import-pipeline',
      'import-storage-uri',
      'import-sas-secret-uri',
    ]),
  });
  expectSuccess(imp);
  expect(jsonOutput<string[]>(imp, 'imported-artifacts').sort()).toEqual(images.map((i) => `${i.ref}@${i.digest}`).sort());
  for (const i of images) expect(await targetDigest(f, i.ref)).toBe(i.digest);
  const multi = images.find((i) => i.children.length > 0)!;
  for (const c of multi.children) expect(await targetDigest(f, `act${f.u}/worker@${c.digest}`)).toBe(c.digest);

  // The import step knew nothing of the source side.
  expect(imp.env['INPUT_SOURCE-REGISTRY']).toBeUndefined();
  expect(imp.env['INPUT_EXPORT-STORAGE-URI']).toBeUndefined();
  expect(containerUri(f.importStorage)).toBe(imp.env['INPUT_IMPORT-STORAGE-URI']);
  for (const r of [exp, copy, imp]) r.cleanup();
});
