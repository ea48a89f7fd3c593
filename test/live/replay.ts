/**
 * Holds the emulator against a recording of live ARM traffic (recorder.cjs, docs/local-azure.md#recording-and-replay):
 * sends each recorded request, placeholders filled with a running local Azure's values, and compares the answer's status
 * and the shape of its body (every key and the type of every value) with the recorded one. What a recording does not
 * hold is made first, as the test around it did: the containers and SAS secrets its pipelines name, the images its export
 * runs name; and before an import run, the blob it names is copied from where its export run wrote it (the copy step is
 * storage traffic, not ARM). Polls of a run or pipeline collapse to the last of a streak, sent until the resource reaches
 * the recorded provisioningState (a fresh local Azure may be quicker or slower than the recorded service).
 * CLI (run with NODE_EXTRA_CA_CERTS of that local Azure): replay.ts <recording.json> <env.json> → {replayed, collapsed, mismatches}
 */
import { readFileSync } from 'node:fs';
import type { LocalAzureEnv, StorageEnv } from '../local-azure/config';
import { seedImages } from '../local-azure/seed';
import { containerClient, containerSas, credential, putSasSecret, secretClient } from '../e2e/support/local-azure';
import type { Interaction, Recording } from './recording';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { filler } = require('./sanitize.cjs') as { filler: (env: LocalAzureEnv) => (text: string) => string };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Where two bodies differ in shape: a key only one has, or a value of another type (arrays by the shapes of their items). */
export function shapeDifferences(recorded: unknown, replayed: unknown, at = '$'): string[] {
  const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(recorded) !== kind(replayed)) return [`${at}: ${kind(recorded)} recorded, ${kind(replayed)} now`];
  if (Array.isArray(recorded) && Array.isArray(replayed)) {
    const [a, b] = [recorded[0], replayed[0]];
    return a === undefined || b === undefined ? [] : shapeDifferences(a, b, `${at}[]`);
  }
  if (kind(recorded) !== 'object') return [];
  const [r, n] = [recorded as Record<string, unknown>, replayed as Record<string, unknown>];
  const keys = [...new Set([...Object.keys(r), ...Object.keys(n)])].sort();
  return keys.flatMap((k) =>
    !(k in n) ? [`${at}.${k}: recorded, missing now`] : !(k in r) ? [`${at}.${k}: not recorded, present now`] : shapeDifferences(r[k], n[k], `${at}.${k}`),
  );
}

const TERMINAL = /^(Succeeded|Failed|Canceled)$/;
const stateOf = (body: unknown): string | undefined => (body as { properties?: { provisioningState?: string } } | undefined)?.properties?.provisioningState;

export interface ReplayReport {
  readonly replayed: number;
  readonly collapsed: number;
  readonly mismatches: string[];
}

export async function replay(rec: Recording, env: LocalAzureEnv): Promise<ReplayReport> {
  const fill = filler(env);
  const fillJson = (v: unknown): unknown => (v === undefined ? undefined : (JSON.parse(fill(JSON.stringify(v))) as unknown));
  const token = async (): Promise<string> => (await credential(env).getToken('https://management.azure.com/.default')).token;
  await prepare(rec, env, fillJson);
  const pipelines = new Map<string, string>(); // pipeline resource id → its container URI
  const blobs = new Map<string, string>(); // export blob name → the container it was written to
  const urls = new Map<string, string>(); // recorded operation URLs → this Azure's
  const mismatches: string[] = [];
  let replayed = 0;
  let collapsed = 0;
  const list = rec.interactions;
  for (let i = 0; i < list.length; i++) {
    const it = list[i]!;
    const next = list[i + 1];
    if (it.request.method === 'GET' && next?.request.method === 'GET' && next.request.url === it.request.url && stateOf(it.response.body) !== undefined) {
      collapsed++;
      continue;
    }
    const url = urls.get(it.request.url) ?? fill(it.request.url);
    const body = fillJson(it.request.body) as Json | undefined;
    await beforeRequest(it, url, body, env, pipelines, blobs);
    const send = async (): Promise<{ status: number; headers: Headers; body: unknown }> => {
      const res = await fetch(url, {
        method: it.request.method,
        headers: { authorization: `Bearer ${await token()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
    };
    let got = await send();
    const want = stateOf(it.response.body);
    for (let n = 0; it.request.method === 'GET' && want && stateOf(got.body) !== want && !TERMINAL.test(stateOf(got.body) ?? '') && n < 120; n++) {
      await new Promise((r) => setTimeout(r, 500));
      got = await send();
    }
    replayed++;
    const where = `${it.request.method} ${it.request.url.replace(/^\{armEndpoint\}/, '').split('?')[0]}`;
    if (got.status !== it.response.status) mismatches.push(`${where}: HTTP ${it.response.status} recorded, ${got.status} now`);
    else mismatches.push(...shapeDifferences(it.response.body, got.body).map((d) => `${where}: ${d}`));
    for (const h of ['azure-asyncoperation', 'location']) {
      const recorded = it.response.headers[h];
      const now = got.headers.get(h);
      if ((recorded === undefined) !== (now === null))
        mismatches.push(`${where}: header ${h} ${recorded === undefined ? 'not recorded' : 'recorded'}, ${now === null ? 'absent' : 'present'} now`);
      else if (recorded !== undefined && now !== null) urls.set(recorded, now);
    }
  }
  return { replayed, collapsed, mismatches };
}

/** `{sourceBlobEndpoint}/<container>` (filled) as the storage of this Azure it names. */
function storageOf(env: LocalAzureEnv, uri: string): StorageEnv {
  for (const side of ['source', 'target'] as const) {
    const s = env.storage[side];
    if (uri.startsWith(s.blobEndpoint)) return { ...s, container: uri.slice(s.blobEndpoint.length).split('/')[0]! };
  }
  throw new Error(`the recording names storage outside the local Azure: ${uri}`);
}

interface PipelineBody {
  properties?: {
    target?: { uri?: string; keyVaultUri?: string };
    source?: { uri?: string; keyVaultUri?: string };
    request?: { artifacts?: string[]; pipelineResourceId?: string; target?: { name?: string }; source?: { name?: string } };
  };
}

/** Containers, SAS secrets and images the recording's pipelines and runs name. */
async function prepare(rec: Recording, env: LocalAzureEnv, fillJson: (v: unknown) => unknown): Promise<void> {
  const vault = secretClient(env);
  const images = new Set<string>();
  for (const it of rec.interactions) {
    if (it.request.method !== 'PUT') continue;
    const p = (fillJson(it.request.body) as PipelineBody | undefined)?.properties;
    for (const end of [p?.target, p?.source]) {
      if (!end?.uri || !end.keyVaultUri) continue;
      const s = storageOf(env, end.uri);
      await containerClient(s).createIfNotExists();
      const name = new URL(end.keyVaultUri).pathname.split('/')[2]!;
      await putSasSecret(vault, name, containerSas(s, 'racwdl', { expiresOn: new Date(Date.now() + 3600_000) }));
    }
    for (const a of p?.request?.artifacts ?? []) {
      if (a.includes('@')) throw new Error(`the recording exports ${a} by digest, which a replay cannot seed`);
      images.add(a);
    }
  }
  const specs = [...images].map((a) => ({ repo: a.slice(0, a.lastIndexOf(':')), tag: a.slice(a.lastIndexOf(':') + 1) }));
  if (specs.length > 0) await seedImages(env.registries.source.backendUrl, specs);
}

/** Remembers pipelines' containers and export blobs; before an import run, copies its blob into the import container. */
async function beforeRequest(
  it: Interaction,
  url: string,
  body: Json | undefined,
  env: LocalAzureEnv,
  pipelines: Map<string, string>,
  blobs: Map<string, string>,
): Promise<void> {
  if (it.request.method !== 'PUT' || body === undefined) return;
  const p = (body as PipelineBody).properties;
  const id = new URL(url).pathname.toLowerCase();
  if (/\/(export|import)pipelines\//.test(id)) pipelines.set(id, (p?.target?.uri ?? p?.source?.uri)!);
  const pipeline = pipelines.get(p?.request?.pipelineResourceId?.toLowerCase() ?? '');
  if (!pipeline) return;
  if (p?.request?.target?.name) blobs.set(p.request.target.name, pipeline);
  const blob = p?.request?.source?.name;
  const from = blob ? blobs.get(blob) : undefined;
  if (!blob || !from) return;
  const source = containerClient(storageOf(env, from)).getBlockBlobClient(blob);
  const props = await source.getProperties();
  const bytes = await source.downloadToBuffer();
  await containerClient(storageOf(env, pipeline))
    .getBlockBlobClient(blob)
    .uploadData(bytes, { metadata: props.metadata ?? {}, ...(props.contentMD5 ? { blobHTTPHeaders: { blobContentMD5: props.contentMD5 } } : {}) });
}

if (require.main === module) {
  const [recording = '', envPath = ''] = process.argv.slice(2);
  const rec = JSON.parse(readFileSync(recording, 'utf8')) as Recording;
  const env = JSON.parse(readFileSync(envPath, 'utf8')) as LocalAzureEnv;
  replay(rec, env).then(
    (r) => process.stdout.write(JSON.stringify(r)),
    (e: unknown) => {
      process.stderr.write(`replay: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
