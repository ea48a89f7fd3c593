/**
 * What every action e2e test needs on the local Azure: its own export and import containers, SAS tokens for them in
 * Key Vault (put there with SecretClient, as a user or `setup` would), unique pipeline names, seeded images, the
 * inputs a workflow would pass, and the checks that read the emulator's side (runs, blobs, request log, digests).
 */
import { randomBytes } from 'node:crypto';
import type { LocalAzureEnv, StorageEnv } from '../../local-azure/config';
import { type ImageSpec, seedImages, type SeededImage, skopeoDigest } from '../../local-azure/seed';
import type { ActionRun } from './action-runner';
import { secretLeaks } from './action-runner';
import { isLive, liveDigest, pushImages, trackFixture } from './live';
import { API, arm, containerClient, containerSas, containerUri, control, loadEnv, putSasSecret, secretClient, secretUri } from './local-azure';

export { containerUri, control };

export interface RequestLogEntry {
  readonly time: string;
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly fault?: string;
  /** The client went away before the whole answer reached it (e.g. it gave up on a held answer). */
  readonly clientGone?: true;
}

export interface ArmRun {
  readonly name: string;
  readonly properties: {
    readonly provisioningState: string;
    readonly request: {
      readonly pipelineResourceId?: string;
      readonly artifacts?: string[];
      readonly target?: { name?: string };
      readonly source?: { name?: string };
    };
    readonly response?: { readonly importedArtifacts?: string[]; readonly pipelineRunErrorMessage?: string; readonly status?: string };
  };
}

/** What a test of one front-end owns on the local Azure: its containers, and the names of its pipelines and SAS secrets. */
export interface TransferFixture {
  readonly env: LocalAzureEnv;
  /** The tag and lower-case hex, unique per fixture: in repository, pipeline, container and blob names. */
  readonly u: string;
  readonly exportStorage: StorageEnv;
  readonly importStorage: StorageEnv;
  readonly exportPipeline: string;
  readonly importPipeline: string;
  readonly exportSecretUri: string;
  readonly importSecretUri: string;
}

/**
 * Creates (if missing) an export and an import container of the fixture's own, and names its pipelines and secrets
 * (the secrets are not made): `${prefix}ex${u}`, `${prefix}exp${u}`, `${prefix}exportsas${u}` and the same for import.
 */
export async function createTransferFixture(tag: string, prefix = ''): Promise<TransferFixture> {
  const env = loadEnv();
  const u = `${tag}${randomBytes(3).toString('hex')}`;
  const exportStorage: StorageEnv = { ...env.storage.source, container: `${prefix}ex${u}` };
  const importStorage: StorageEnv = { ...env.storage.target, container: `${prefix}im${u}` };
  for (const s of [exportStorage, importStorage]) await containerClient(s).createIfNotExists();
  // Live mode deletes them after the file, with the pipelines the steps make and the secrets (live.ts).
  trackFixture({
    env,
    pipelines: { export: `${prefix}exp${u}`, import: `${prefix}imp${u}` },
    containers: [exportStorage, importStorage],
    secrets: [`${prefix}exportsas${u}`, `${prefix}importsas${u}`],
  });
  return {
    env,
    u,
    exportStorage,
    importStorage,
    exportPipeline: `${prefix}exp${u}`,
    importPipeline: `${prefix}imp${u}`,
    exportSecretUri: secretUri(env, `${prefix}exportsas${u}`),
    importSecretUri: secretUri(env, `${prefix}importsas${u}`),
  };
}

export interface ActionFixture extends TransferFixture {
  /** Every secret the action could leak: the client secret and the SAS tokens (whole and their signatures). */
  readonly secrets: readonly string[];
}

/** The sign-in inputs for the local Azure's service principal (with its secret). */
export function servicePrincipalInputs(env: LocalAzureEnv): Record<string, string> {
  return { 'auth-type': 'service-principal', 'client-id': env.clientId, 'tenant-id': env.tenantId, 'client-secret': env.clientSecret };
}

/** The inputs that name the local Azure's cloud, subscription and both registries (by resource ID). */
export function registryInputs(env: LocalAzureEnv): Record<string, string> {
  return {
    // A custom cloud: authority host and audiences come from its metadata/endpoints document.
    'resource-manager-endpoint': env.armEndpoint,
    'subscription-id': env.subscriptionId,
    'source-registry': env.registries.source.resourceId,
    'target-registry': env.registries.target.resourceId,
  };
}

/**
 * Creates containers, SAS secrets and names for one test file. `tag` keeps names readable in the emulator's logs.
 * SAS permissions follow the ACR transfer docs: export writes (a, c, w) and lists; import reads, lists and deletes
 * (DeleteSourceBlobOnSuccess); both also read, which the copy step uses on the source side.
 */
export async function createActionFixture(tag: string): Promise<ActionFixture> {
  const base = await createTransferFixture(tag);
  const { env, u } = base;
  const vault = secretClient(env);
  const expiresOn = (): Date => new Date(Date.now() + 4 * 3600_000);
  const exportSas = containerSas(base.exportStorage, 'racwl', { expiresOn: expiresOn() });
  const importSas = containerSas(base.importStorage, 'racwdl', { expiresOn: expiresOn() });
  const sig = (sas: string): string => new URLSearchParams(sas).get('sig') ?? sas;
  return {
    ...base,
    exportSecretUri: await putSasSecret(vault, `exportsas${u}`, exportSas),
    importSecretUri: await putSasSecret(vault, `importsas${u}`, importSas),
    secrets: [env.clientSecret, exportSas, importSas, sig(exportSas), sig(importSas), encodeURIComponent(sig(exportSas)), encodeURIComponent(sig(importSas))],
  };
}

export type AuthMode = 'service-principal' | 'oidc' | 'creds';

/** The inputs of a workflow step for `operation`, authenticated as `auth`, with this fixture's registries, pipelines and storage. */
export function stepInputs(
  f: ActionFixture,
  operation: string,
  extra: Record<string, string> = {},
  auth: AuthMode = 'service-principal',
): Record<string, string> {
  const { env } = f;
  const authInputs: Record<string, string> =
    auth === 'oidc'
      ? { 'auth-type': 'oidc', 'client-id': env.clientId, 'tenant-id': env.tenantId }
      : auth === 'creds'
        ? {
            'auth-type': 'service-principal',
            creds: JSON.stringify(
              { clientId: env.clientId, clientSecret: env.clientSecret, tenantId: env.tenantId, subscriptionId: env.subscriptionId },
              null,
              2,
            ),
          }
        : servicePrincipalInputs(env);
  return {
    operation,
    ...authInputs,
    ...registryInputs(env),
    'export-pipeline': f.exportPipeline,
    'export-storage-uri': containerUri(f.exportStorage),
    'export-sas-secret-uri': f.exportSecretUri,
    'import-pipeline': f.importPipeline,
    'import-storage-uri': containerUri(f.importStorage),
    'import-sas-secret-uri': f.importSecretUri,
    'timeout-minutes': '10',
    ...extra,
  };
}

/** Images in the source registry: straight into the plain registry behind it, or in live mode through its login server. */
export function seed(f: ActionFixture, specs: readonly ImageSpec[]): Promise<SeededImage[]> {
  return isLive() ? pushImages(f.env, specs) : seedImages(f.env.registries.source.backendUrl, specs);
}

const hostOf = (backendUrl: string): string => backendUrl.replace(/^https?:\/\//, '').replace(/\/+$/, '');

/** The digest skopeo sees for `repo:tag` (or `repo@digest`) in the target registry; undefined when it is not there. */
export async function targetDigest(f: ActionFixture, ref: string): Promise<string | undefined> {
  if (isLive()) return liveDigest(f.env, 'target', ref);
  try {
    return await skopeoDigest(`${hostOf(f.env.registries.target.backendUrl)}/${ref}`);
  } catch (e) {
    if (/manifest unknown|not found|404/i.test((e as Error).message)) return undefined;
    throw e;
  }
}

/** Runs at most `limit` promises at once (skopeo processes for 120 images). */
export async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  return out;
}

/** Pipeline runs on a registry that belong to one of this fixture's pipelines. */
export async function runsOf(f: ActionFixture, side: 'source' | 'target'): Promise<ArmRun[]> {
  const reg = f.env.registries[side];
  const pipeline = side === 'source' ? `/exportPipelines/${f.exportPipeline}` : `/importPipelines/${f.importPipeline}`;
  const all: ArmRun[] = [];
  let next: string | undefined = `${reg.resourceId}/pipelineRuns?api-version=${API}`;
  while (next) {
    const r: { status: number; body: { value: ArmRun[]; nextLink?: string } } = await arm<{ value: ArmRun[]; nextLink?: string }>(f.env, 'GET', next);
    if (r.status !== 200) throw new Error(`listing runs on ${reg.name}: HTTP ${r.status}`);
    all.push(...r.body.value);
    next = r.body.nextLink;
  }
  return all.filter((r) => (r.properties.request.pipelineResourceId ?? '').toLowerCase().endsWith(pipeline.toLowerCase()));
}

/** Blob names in one of this fixture's containers. */
export async function blobsIn(s: StorageEnv): Promise<string[]> {
  const names: string[] = [];
  const container = containerClient(s);
  for await (const b of container.listBlobsFlat()) names.push(b.name);
  return names.sort();
}

export async function requestLog(env: LocalAzureEnv): Promise<RequestLogEntry[]> {
  // Raw text: the JSON-lines log is not one JSON document.
  const res = await fetch(`${env.controlUrl.replace(/\/+$/, '')}/requests`);
  if (!res.ok) throw new Error(`GET ${env.controlUrl}/requests: HTTP ${res.status}`);
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RequestLogEntry);
}

/** Requests since `since` (ms epoch) whose path mentions any of `needles` (case-insensitive). */
export async function requestsSince(env: LocalAzureEnv, since: number, needles: readonly string[]): Promise<RequestLogEntry[]> {
  const lower = needles.map((n) => n.toLowerCase());
  return (await requestLog(env)).filter((e) => Date.parse(e.time) >= since && lower.some((n) => e.path.toLowerCase().includes(n)));
}

const JWT = /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}/;

/** No client secret, SAS token or signature, and no JWT, anywhere a user could see it (log, stderr, outputs, summary, report). */
export function expectNoSecrets(run: ActionRun, f: ActionFixture, extra: readonly string[] = []): void {
  expect(secretLeaks(run, [...f.secrets, ...extra])).toEqual([]);
  for (const [place, text] of Object.entries({
    log: run.log,
    stderr: run.stderr,
    outputs: JSON.stringify(run.outputs),
    summary: run.summary,
    report: JSON.stringify(run.report ?? {}),
  })) {
    expect({ place, jwt: JWT.exec(text)?.[0] }).toEqual({ place, jwt: undefined });
  }
  // Whatever the action registered as secrets must also be absent from the visible log and the files.
  expect(secretLeaks(run, run.masks)).toEqual([]);
}

/** A JSON output as its parsed value. */
export function jsonOutput<T>(run: ActionRun, name: string): T {
  const text = run.outputs[name];
  if (text === undefined) throw new Error(`output '${name}' is not set; outputs: ${Object.keys(run.outputs).join(', ')}`);
  return JSON.parse(text) as T;
}
