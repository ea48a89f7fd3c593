/**
 * The az CLI acrtransfer extension's way of moving images, replayed over plain HTTPS against the local Azure: what
 * `az acrtransfer pipeline-run create` does for the export (GET the pipeline, PUT the run, then its LRO poller's GET of
 * the run every 30 s, azure-core's default polling interval, until a terminal provisioningState), the blob copied
 * between the containers server-side as `az storage blob copy start` does, then the same for the import run.
 */
import type { LocalAzureEnv } from '../local-azure/config';
import { type ActionFixture, containerUri } from '../e2e/support/action-fixture';
import { BlobClient } from '@azure/storage-blob';
import { API, arm, containerSas } from '../e2e/support/local-azure';

/** The extension's poller (azure-core Configuration.polling_interval). */
export const CLI_POLL_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function createAndWait(env: LocalAzureEnv, registryId: string, run: string, body: unknown): Promise<void> {
  const url = `${registryId}/pipelineRuns/${run}?api-version=${API}`;
  const put = await arm(env, 'PUT', url, body);
  if (put.status < 200 || put.status > 201) throw new Error(`PUT ${run}: HTTP ${put.status}`);
  for (;;) {
    await sleep(CLI_POLL_MS);
    const got = await arm<{ properties?: { provisioningState?: string } }>(env, 'GET', url);
    const state = got.body.properties?.provisioningState;
    if (state === 'Succeeded') return;
    if (state === 'Failed' || state === 'Canceled') throw new Error(`run ${run} ended ${state}`);
  }
}

/** Export, copy, import of `artifacts` in one blob, the extension's way; returns the wall time in ms. */
export async function azCliWay(f: ActionFixture, artifacts: readonly string[], blob: string): Promise<number> {
  const { env } = f;
  const src = env.registries.source.resourceId;
  const dst = env.registries.target.resourceId;
  const started = performance.now();
  const exportPipeline = await arm<{ id: string }>(env, 'GET', `${src}/exportPipelines/${f.exportPipeline}?api-version=${API}`);
  await createAndWait(env, src, `cliexp${blob}`, {
    properties: { request: { pipelineResourceId: exportPipeline.body.id, target: { type: 'AzureStorageBlob', name: blob }, artifacts } },
  });
  // `az storage blob copy start --source-uri <url?sas> --sas-token <sas>`: Copy Blob, polled to its end.
  const source = `${containerUri(f.exportStorage)}/${blob}?${containerSas(f.exportStorage, 'r')}`;
  const target = new BlobClient(`${containerUri(f.importStorage)}/${blob}?${containerSas(f.importStorage, 'racwl')}`);
  await (await target.beginCopyFromURL(source)).pollUntilDone();
  const importPipeline = await arm<{ id: string }>(env, 'GET', `${dst}/importPipelines/${f.importPipeline}?api-version=${API}`);
  await createAndWait(env, dst, `cliimp${blob}`, {
    properties: { request: { pipelineResourceId: importPipeline.body.id, source: { type: 'AzureStorageBlob', name: blob } } },
  });
  return performance.now() - started;
}
