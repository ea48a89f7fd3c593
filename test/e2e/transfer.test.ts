/**
 * ACR transfer end to end on the local Azure, driven only through the official SDKs (@azure/storage-blob,
 * @azure/keyvault-secrets), plain ARM REST and skopeo: seed images, export them through a SAS from Key Vault,
 * copy the blob between storage accounts, import it (by hand and through the source trigger), compare digests.
 */
import { BlockBlobClient } from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import type { StorageEnv } from '../local-azure/config';
import { seedImages, type SeededImage, skopeoDigest } from '../local-azure/seed';
import {
  API,
  arm,
  containerClient,
  containerSas,
  containerUri,
  control,
  digestOf,
  loadEnv,
  putSasSecret,
  secretClient,
  secretUri,
} from './support/local-azure';

jest.setTimeout(90_000);

const env = loadEnv();
const u = randomBytes(3).toString('hex');
const src = env.registries.source;
const dst = env.registries.target;
const host = (backendUrl: string): string => backendUrl.replace(/^https?:\/\//, '');
const storageOpts = { retryOptions: { maxTries: 1 } };
// This file's own import container: import pipelines of other suites (source trigger on by default) watch the shared one.
const inbox: StorageEnv = { ...env.storage.target, container: `inbox${u}` };
const timings: Record<string, number> = {};

type Json = Record<string, unknown>;
interface RunResponse {
  status?: string;
  pipelineRunErrorMessage?: string;
  catalogDigest?: string;
  importedArtifacts?: string[];
  progress?: { percentage?: string };
  startTime?: string;
  finishTime?: string;
  source?: Json;
  target?: Json;
  trigger?: { sourceTrigger?: { timestamp?: string } };
}
interface Run {
  name: string;
  properties: { provisioningState: string; request: Json; response?: RunResponse };
}

// ---------- storage and Key Vault helpers (SDK only) ----------

const secrets = secretClient(env);

function blobClient(s: StorageEnv, name: string, container = s.container): BlockBlobClient {
  return containerClient(s, container, storageOpts).getBlockBlobClient(name);
}

/**
 * Server-side copy from the source account to the target account; the source is authorised by a read SAS in its URL,
 * the target by a write SAS (an account-key signature cannot name a copy source on another account's host in the
 * local Azure: docs/local-azure.md#one-azurite-for-both-accounts).
 */
async function copyBlob(name: string, targetContainer = inbox.container): Promise<void> {
  const source = `${containerUri(env.storage.source)}/${name}?${containerSas(env.storage.source, 'r')}`;
  const target = new BlockBlobClient(
    `${containerUri(inbox, targetContainer)}/${name}?${containerSas(inbox, 'cw', { container: targetContainer })}`,
    undefined,
    storageOpts,
  );
  const res = await target.syncCopyFromURL(source);
  expect(res.copyStatus).toBe('success');
}

// ---------- ARM helpers (plain REST) ----------

async function putExportPipeline(name: string, secretUri: string, options: string[] = []): Promise<void> {
  const r = await arm(env, 'PUT', `${src.resourceId}/exportPipelines/${name}?api-version=${API}`, {
    identity: { type: 'SystemAssigned' },
    properties: {
      target: { type: 'AzureStorageBlobContainer', uri: containerUri(env.storage.source), keyVaultUri: secretUri, storageAccessMode: 'SasToken' },
      options,
    },
  });
  expect([200, 201]).toContain(r.status);
}

async function putImportPipeline(
  name: string,
  secretUri: string,
  opts: { options?: string[]; trigger?: 'Enabled' | 'Disabled'; container?: string } = {},
): Promise<void> {
  const r = await arm(env, 'PUT', `${dst.resourceId}/importPipelines/${name}?api-version=${API}`, {
    identity: { type: 'SystemAssigned' },
    properties: {
      source: {
        type: 'AzureStorageBlobContainer',
        uri: containerUri(inbox, opts.container),
        keyVaultUri: secretUri,
        storageAccessMode: 'SasToken',
      },
      trigger: { sourceTrigger: { status: opts.trigger ?? 'Disabled' } },
      options: opts.options ?? [],
    },
  });
  expect([200, 201]).toContain(r.status);
}

async function putRun(registryId: string, name: string, request: Json): Promise<{ status: number; body: unknown }> {
  return arm(env, 'PUT', `${registryId}/pipelineRuns/${name}?api-version=${API}`, { properties: { request } });
}

async function getRun(registryId: string, name: string): Promise<Run> {
  const r = await arm<Run>(env, 'GET', `${registryId}/pipelineRuns/${name}?api-version=${API}`);
  expect(r.status).toBe(200);
  return r.body;
}

async function waitForRun(registryId: string, name: string, timeoutMs = 60_000): Promise<Run> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(registryId, name);
    if (['Succeeded', 'Failed', 'Canceled'].includes(run.properties.provisioningState)) return run;
    if (Date.now() > end) throw new Error(`run ${name} still ${run.properties.provisioningState} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function exportRun(pipeline: string, runName: string, blob: string, artifacts: string[]): Promise<Run> {
  const put = await putRun(src.resourceId, runName, {
    pipelineResourceId: `${src.resourceId}/exportPipelines/${pipeline}`,
    target: { type: 'AzureStorageBlob', name: blob },
    artifacts,
  });
  expect([200, 201]).toContain(put.status);
  return waitForRun(src.resourceId, runName);
}

async function importRun(pipeline: string, runName: string, blob: string, catalogDigest?: string): Promise<Run> {
  const put = await putRun(dst.resourceId, runName, {
    pipelineResourceId: `${dst.resourceId}/importPipelines/${pipeline}`,
    source: { type: 'AzureStorageBlob', name: blob },
    ...(catalogDigest ? { catalogDigest } : {}),
  });
  expect([200, 201]).toContain(put.status);
  return waitForRun(dst.resourceId, runName);
}

// ---------- fixtures ----------

let exportSecret: string;
let importSecret: string;
let images: { app: SeededImage; multi: SeededImage; pinned: SeededImage; trig: SeededImage; clash: SeededImage };

beforeAll(async () => {
  await containerClient(inbox).create();
  const seeded = await seedImages(src.backendUrl, [
    { repo: `e2e${u}/app`, tag: 'v1', payloadBytes: 2 * 1024 * 1024 },
    { repo: `e2e${u}/multi`, tag: 'v1', multiArch: true },
    { repo: `e2e${u}/pinned`, tag: 'build7' },
    { repo: `e2e${u}/trig`, tag: 'v1' },
    { repo: `e2e${u}/clash`, tag: 'v1' },
  ]);
  const [app, multi, pinned, trig, clash] = seeded as [SeededImage, SeededImage, SeededImage, SeededImage, SeededImage];
  images = { app, multi, pinned, trig, clash };
  exportSecret = await putSasSecret(secrets, `exportsas${u}`, containerSas(env.storage.source, 'alrw'));
  importSecret = await putSasSecret(secrets, `importsas${u}`, containerSas(inbox, 'dlr'));
});

// Knobs are shared with suites running in parallel: this file changes only triggerIntervalMs, and puts it back.
afterAll(() => {
  process.stdout.write(`transfer timings (ms): ${JSON.stringify(timings)}\n`);
});

describe('export, copy, import', () => {
  it('moves a tagged image, an image by digest and a multi-arch index with identical digests', async () => {
    const artifacts = [images.app.ref, `e2e${u}/pinned@${images.pinned.digest}`, images.multi.ref];
    const blob = `full-${u}.tar`;
    await putExportPipeline(`exp${u}full`, exportSecret);
    let t = Date.now();
    const exp = await exportRun(`exp${u}full`, `run${u}expfull`, blob, artifacts);
    timings['export'] = Date.now() - t;
    expect(exp.properties.response?.pipelineRunErrorMessage).toBeUndefined();
    expect(exp.properties.provisioningState).toBe('Succeeded');
    const response = exp.properties.response!;
    expect(response.status).toBe('Succeeded');
    expect(response.progress?.percentage).toBe('100');
    expect(Date.parse(response.finishTime ?? '')).toBeGreaterThanOrEqual(Date.parse(response.startTime ?? ''));
    expect(response.target).toEqual({
      type: 'AzureStorageBlob',
      uri: `${containerUri(env.storage.source)}/${blob}`,
      keyVaultUri: exportSecret,
      storageAccessMode: 'SasToken',
    });

    // The blob: Content-MD5 and metadata the source trigger needs, and the catalog digest is the tar's.
    const exported = blobClient(env.storage.source, blob);
    const props = await exported.getProperties();
    expect(props.metadata).toEqual({ category: 'acr-transfer-blob' });
    const bytes = await exported.downloadToBuffer();
    expect(Buffer.from(props.contentMD5 ?? []).equals(createHash('md5').update(bytes).digest())).toBe(true);
    expect(response.catalogDigest).toBe(digestOf(bytes));

    t = Date.now();
    await copyBlob(blob);
    timings['copy'] = Date.now() - t;
    const copied = await blobClient(inbox, blob).getProperties();
    expect(copied.metadata).toEqual({ category: 'acr-transfer-blob' });

    await putImportPipeline(`imp${u}full`, importSecret);
    t = Date.now();
    const imp = await importRun(`imp${u}full`, `run${u}impfull`, blob, response.catalogDigest);
    timings['import'] = Date.now() - t;
    expect(imp.properties.response?.pipelineRunErrorMessage).toBeUndefined();
    expect(imp.properties.provisioningState).toBe('Succeeded');
    expect(imp.properties.response?.importedArtifacts).toEqual(artifacts);
    expect(imp.properties.response?.catalogDigest).toBe(response.catalogDigest);
    expect(imp.properties.response?.source).toEqual({
      type: 'AzureStorageBlob',
      uri: `${containerUri(inbox)}/${blob}`,
      keyVaultUri: importSecret,
      storageAccessMode: 'SasToken',
    });

    const target = host(dst.backendUrl);
    expect(await skopeoDigest(`${target}/${images.app.ref}`)).toBe(images.app.digest);
    expect(await skopeoDigest(`${target}/e2e${u}/pinned@${images.pinned.digest}`)).toBe(images.pinned.digest);
    expect(await skopeoDigest(`${target}/${images.multi.ref}`)).toBe(images.multi.digest);
    for (const child of images.multi.children) expect(await skopeoDigest(`${target}/e2e${u}/multi@${child.digest}`)).toBe(child.digest);
    expect(images.multi.children.map((c) => c.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    // Exported by digest: the digest arrives, the tag does not.
    await expect(skopeoDigest(`${target}/e2e${u}/pinned:build7`)).rejects.toThrow(/manifest unknown|not found/i);

    // A second export to the same blob name is refused without OverwriteBlobs.
    const again = await exportRun(`exp${u}full`, `run${u}expagain`, blob, [images.app.ref]);
    expect(again.properties.provisioningState).toBe('Failed');
    expect(again.properties.response?.pipelineRunErrorMessage).toMatch(new RegExp(`blob '${blob}' already exists.*OverwriteBlobs`));
  });

  it('refuses an import whose catalogDigest does not match, and a tag that exists with another digest without OverwriteTags', async () => {
    const blob = `clash-${u}.tar`;
    await putExportPipeline(`exp${u}clash`, exportSecret);
    const exp = await exportRun(`exp${u}clash`, `run${u}expclash`, blob, [images.clash.ref]);
    expect(exp.properties.provisioningState).toBe('Succeeded');
    await copyBlob(blob);
    // The target already has clash:v1, from other content.
    const [other] = await seedImages(dst.backendUrl, [{ repo: `e2e${u}/clash`, tag: 'v1', seed: 'something else' }]);
    expect(other!.digest).not.toBe(images.clash.digest);

    await putImportPipeline(`imp${u}clash`, importSecret);
    const wrong = await importRun(`imp${u}clash`, `run${u}impwrong`, blob, `sha256:${'0'.repeat(64)}`);
    expect(wrong.properties.provisioningState).toBe('Failed');
    expect(wrong.properties.response?.pipelineRunErrorMessage).toContain(`not the catalogDigest sha256:${'0'.repeat(64)}`);

    const refused = await importRun(`imp${u}clash`, `run${u}impclash`, blob);
    expect(refused.properties.provisioningState).toBe('Failed');
    expect(refused.properties.response?.pipelineRunErrorMessage).toMatch(/tag exists in the target registry.*OverwriteTags option is not set/);
    expect(await skopeoDigest(`${host(dst.backendUrl)}/${images.clash.ref}`)).toBe(other!.digest);

    await putImportPipeline(`imp${u}over`, importSecret, { options: ['OverwriteTags', 'DeleteSourceBlobOnSuccess'] });
    const over = await importRun(`imp${u}over`, `run${u}impover`, blob);
    expect(over.properties.response?.pipelineRunErrorMessage).toBeUndefined();
    expect(await skopeoDigest(`${host(dst.backendUrl)}/${images.clash.ref}`)).toBe(images.clash.digest);
    expect(await blobClient(inbox, blob).exists()).toBe(false);
  });
});

describe('SAS problems surface as run errors', () => {
  it('a read-only export SAS (sp=rl) fails the run naming the missing permission', async () => {
    const secret = await putSasSecret(secrets, `readonly${u}`, containerSas(env.storage.source, 'rl'));
    await putExportPipeline(`exp${u}ro`, secret);
    const run = await exportRun(`exp${u}ro`, `run${u}ro`, `ro-${u}.tar`, [images.app.ref]);
    expect(run.properties.provisioningState).toBe('Failed');
    expect(run.properties.response?.status).toBe('Failed');
    expect(run.properties.response?.pipelineRunErrorMessage).toBe(
      `The export SAS token in secret '${secret}' does not allow write (sp=rl); export SAS tokens need add, list, read and write (sp=alrw).`,
    );
    expect(await blobClient(env.storage.source, `ro-${u}.tar`).exists()).toBe(false);
  });

  it('an expired export SAS fails the run saying when it expired', async () => {
    const expiresOn = new Date(Date.now() - 3600_000);
    const sas = containerSas(env.storage.source, 'alrw', { startsOn: new Date(Date.now() - 7200_000), expiresOn });
    const secret = await putSasSecret(secrets, `expired${u}`, sas);
    await putExportPipeline(`exp${u}old`, secret);
    const run = await exportRun(`exp${u}old`, `run${u}old`, `old-${u}.tar`, [images.app.ref]);
    expect(run.properties.provisioningState).toBe('Failed');
    const se = new URLSearchParams(sas).get('se');
    expect(run.properties.response?.pipelineRunErrorMessage).toContain(`The export SAS token in secret '${secret}' expired at ${se}`);
  });

  it("a missing Key Vault secret fails the run naming the secret and Key Vault's code", async () => {
    const secret = secretUri(env, `nosuch${u}`);
    await putExportPipeline(`exp${u}nokv`, secret);
    const run = await exportRun(`exp${u}nokv`, `run${u}nokv`, `nokv-${u}.tar`, [images.app.ref]);
    expect(run.properties.provisioningState).toBe('Failed');
    expect(run.properties.response?.pipelineRunErrorMessage).toMatch(new RegExp(`secret '${secret}'.*SecretNotFound`));
  });
  it('an import SAS without delete fails DeleteSourceBlobOnSuccess after importing; a missing blob is named', async () => {
    const blob = `nodel-${u}.tar`;
    await putExportPipeline(`exp${u}nodel`, exportSecret);
    expect((await exportRun(`exp${u}nodel`, `run${u}expnodel`, blob, [images.pinned.ref])).properties.provisioningState).toBe('Succeeded');
    await copyBlob(blob);
    const secret = await putSasSecret(secrets, `nodelete${u}`, containerSas(inbox, 'rl'));
    await putImportPipeline(`imp${u}nodel`, secret, { options: ['DeleteSourceBlobOnSuccess'] });
    const run = await importRun(`imp${u}nodel`, `run${u}impnodel`, blob);
    expect(run.properties.provisioningState).toBe('Failed');
    expect(run.properties.response?.pipelineRunErrorMessage).toBe(
      `The import SAS token in secret '${secret}' does not allow delete (sp=rl); import SAS tokens need read and list (sp=lr), and delete for DeleteSourceBlobOnSuccess (sp=dlr).`,
    );
    expect(run.properties.response?.importedArtifacts).toEqual([images.pinned.ref]);
    expect(await blobClient(inbox, blob).exists()).toBe(true);

    const missing = await importRun(`imp${u}nodel`, `run${u}impmissing`, `nosuch-${u}.tar`);
    expect(missing.properties.provisioningState).toBe('Failed');
    expect(missing.properties.response?.pipelineRunErrorMessage).toBe(
      `The blob 'nosuch-${u}.tar' does not exist in the storage container '${containerUri(inbox)}'.`,
    );
  });
});

/** With the trigger interval knob at `interval`: the copied blob is imported once, the ineligible one never. */
async function checkTriggeredImport(container: string, blob: string, interval: number): Promise<void> {
  const secret = await putSasSecret(secrets, `trigsas${u}`, containerSas(inbox, 'dlr', { container }));
  await putImportPipeline(`imp${u}trig`, secret, { trigger: 'Enabled', container });

  // A blob without the metadata is not eligible (docs/azure-service.md#source-trigger).
  await blobClient(inbox, 'not-an-export.txt', container).upload('x', 1, {
    blobHTTPHeaders: { blobContentMD5: createHash('md5').update('x').digest() },
  });
  const t = Date.now();
  await copyBlob(blob, container);
  const runsOf = async (): Promise<Run[]> => {
    const all: Run[] = [];
    // The list is paged (nextLink), as in ARM.
    for (let next: string | undefined = `${dst.resourceId}/pipelineRuns?api-version=${API}`; next;) {
      const r: { body: { value: Run[]; nextLink?: string } } = await arm(env, 'GET', next);
      all.push(...r.body.value);
      next = r.body.nextLink;
    }
    return all.filter((x) => String(x.properties.request['pipelineResourceId']).toLowerCase().endsWith(`/importpipelines/imp${u}trig`));
  };
  let done: Run | undefined;
  while (!done && Date.now() - t < 30_000) {
    done = (await runsOf()).find((x) => x.properties.provisioningState === 'Succeeded' || x.properties.provisioningState === 'Failed');
    if (!done) await new Promise((r) => setTimeout(r, 50));
  }
  timings['triggerToSucceeded'] = Date.now() - t;
  expect(done?.properties.response?.pipelineRunErrorMessage).toBeUndefined();
  expect(done?.properties.provisioningState).toBe('Succeeded');
  expect(done?.properties.request['source']).toEqual({ type: 'AzureStorageBlob', name: blob });
  expect(done?.properties.response?.trigger?.sourceTrigger?.timestamp).toBeDefined();
  expect(done?.properties.response?.importedArtifacts).toEqual([images.trig.ref]);
  expect(await skopeoDigest(`${host(dst.backendUrl)}/${images.trig.ref}`)).toBe(images.trig.digest);

  // Unchanged blob, several more intervals: no second run; the ineligible blob never ran.
  await new Promise((r) => setTimeout(r, interval * 4));
  expect(await runsOf()).toHaveLength(1);

  // Touching the blob (new etag and Last-Modified) makes it eligible again (docs/azure-service.md#source-trigger).
  await blobClient(inbox, blob, container).setMetadata({ category: 'acr-transfer-blob' });
  const end = Date.now() + 30_000;
  while ((await runsOf()).length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  expect(await runsOf()).toHaveLength(2);
}

describe('source trigger', () => {
  it('imports a blob that lands in the import container without a manual run, once', async () => {
    const container = `trig${u}`;
    await containerClient(inbox, container).create();
    const blob = `trig-${u}.tar`;
    await putExportPipeline(`exp${u}trig`, exportSecret);
    expect((await exportRun(`exp${u}trig`, `run${u}exptrig`, blob, [images.trig.ref])).properties.provisioningState).toBe('Succeeded');
    const interval = 200;
    const before = (await control<{ triggerIntervalMs: number }>(env, 'GET', '/knobs')).body.triggerIntervalMs;
    await control(env, 'PATCH', '/knobs', { triggerIntervalMs: interval });
    try {
      await checkTriggeredImport(container, blob, interval);
    } finally {
      await control(env, 'PATCH', '/knobs', { triggerIntervalMs: before });
    }
  });
});

describe('artifact lists', () => {
  it('refuses 51 artifacts at PUT with 400', async () => {
    await putExportPipeline(`exp${u}many`, exportSecret);
    const artifacts = Array.from({ length: 51 }, (_, i) => `e2e${u}/many:t${i}`);
    const r = await putRun(src.resourceId, `run${u}many`, {
      pipelineResourceId: `${src.resourceId}/exportPipelines/exp${u}many`,
      target: { type: 'AzureStorageBlob', name: 'many.tar' },
      artifacts,
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('50');
  });

  it('a missing artifact fails the run and writes no blob; with ContinueOnErrors the rest is exported', async () => {
    const missing = `e2e${u}/nosuch:v9`;
    await putExportPipeline(`exp${u}strict`, exportSecret);
    const strict = await exportRun(`exp${u}strict`, `run${u}strict`, `strict-${u}.tar`, [images.app.ref, missing]);
    expect(strict.properties.provisioningState).toBe('Failed');
    expect(strict.properties.response?.pipelineRunErrorMessage).toBe(`Artifact '${missing}' was not found in the source registry.`);
    expect(await blobClient(env.storage.source, `strict-${u}.tar`).exists()).toBe(false);

    await putExportPipeline(`exp${u}lax`, exportSecret, ['ContinueOnErrors']);
    const lax = await exportRun(`exp${u}lax`, `run${u}lax`, `lax-${u}.tar`, [images.app.ref, missing]);
    expect(lax.properties.provisioningState).toBe('Succeeded');
    expect(lax.properties.response?.pipelineRunErrorMessage).toContain(`Artifact '${missing}' was not found`);
    expect(lax.properties.response?.pipelineRunErrorMessage).not.toContain(images.app.ref);
    expect(await blobClient(env.storage.source, `lax-${u}.tar`).exists()).toBe(true);
  });
});

describe('injected failures', () => {
  it('a runFailures knob fails the matching run with exactly its message, once', async () => {
    const message = `Injected failure ${u}: the storage account is being failed over.`;
    await control(env, 'POST', '/run-failures', { match: `^run${u}inj1$`, message, count: 1 });
    await putExportPipeline(`exp${u}inj`, exportSecret);
    const failed = await exportRun(`exp${u}inj`, `run${u}inj1`, `inj-${u}.tar`, [images.app.ref]);
    expect(failed.properties.provisioningState).toBe('Failed');
    expect(failed.properties.response?.pipelineRunErrorMessage).toBe(message);
    // Used up: the same run, forced to re-execute, now succeeds.
    const put = await arm(env, 'PUT', `${src.resourceId}/pipelineRuns/run${u}inj1?api-version=${API}`, {
      properties: {
        request: {
          pipelineResourceId: `${src.resourceId}/exportPipelines/exp${u}inj`,
          target: { type: 'AzureStorageBlob', name: `inj-${u}.tar` },
          artifacts: [images.app.ref],
        },
        forceUpdateTag: 'again',
      },
    });
    expect(put.status).toBe(200);
    expect((await waitForRun(src.resourceId, `run${u}inj1`)).properties.provisioningState).toBe('Succeeded');
  });
});
