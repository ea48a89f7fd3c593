/**
 * `npm run bench`: speed and memory, measured (not asserted) against the local Azure.
 * - the action bundle: size, and cold start against a bare `node -e 0` (bundle.ts);
 * - local Azure start-up and shut-down (the issue asks for start-up within 5 s);
 * - the bundled action: a 120-artifact transfer (3 export runs in flight), the same again (resume: nothing to do),
 *   one 64 MiB image, and 10,000 artifacts (500 tags on each of 20 images: 200 batches a side); wall time, the action's
 *   peak RSS, ARM requests, registry token requests and all requests made (the emulator's request log);
 * - the emulator's own peak RSS after all of it.
 * Needs a running local Azure and NODE_EXTRA_CA_CERTS (scripts/run-bench.sh does both).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type LocalAzureEnv, localAzureDir, nodeOptionsForLocalAzure } from '../local-azure/config';
import { seedImages } from '../local-azure/seed';
import { createActionFixture, requestLog, stepInputs } from '../e2e/support/action-fixture';
import { DIST_ENTRY, node24, runAction } from '../e2e/support/action-runner';
import { bundleRows } from './bundle';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', 'local-azure', 'cli.ts');
const rows: string[][] = [];
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function startup(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-la-'));
  const env = { ...process.env, LOCAL_AZURE_DIR: dir, LOCAL_AZURE_PORT_OFFSET: '2100' };
  const ups: number[] = [];
  const downs: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      await run(process.execPath, ['--import', 'tsx', CLI, 'up'], { env });
      ups.push(performance.now() - t);
      t = performance.now();
      await run(process.execPath, ['--import', 'tsx', CLI, 'down'], { env });
      downs.push(performance.now() - t);
    }
  } finally {
    await run(process.execPath, ['--import', 'tsx', CLI, 'down'], { env }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!;
  rows.push(['local Azure up (median of 3, incl. tsx start)', secs(median(ups)), `min ${secs(Math.min(...ups))}, max ${secs(Math.max(...ups))}`]);
  rows.push(['local Azure down (median of 3)', secs(median(downs)), 'no process left']);
}

async function action(label: string, inputs: Record<string, string>, env: LocalAzureEnv, artifacts?: number): Promise<void> {
  const rssFile = path.join(mkdtempSync(path.join(tmpdir(), 'bench-rss-')), 'rss');
  const before = (await requestLog(env)).length;
  const r = await runAction({
    inputs,
    entry: DIST_ENTRY,
    node: node24() ?? process.execPath,
    timeoutMs: 40 * 60_000,
    env: { NODE_OPTIONS: `${nodeOptionsForLocalAzure()} --require ${path.join(__dirname, 'maxrss.cjs')}`, BENCH_RSS_FILE: rssFile },
  });
  if (r.exitCode !== 0) throw new Error(`${label}: the action failed (exit ${r.exitCode}):\n${r.log.slice(-3000)}`);
  const log = (await requestLog(env)).slice(before);
  const armCalls = log.filter((e) => e.service === 'arm').length;
  const tokens = log.filter((e) => e.service === 'acr' && /^\/oauth2\/(exchange|token)/.test(e.path)).length;
  const perArtifact = artifacts ? `, ${(log.length / artifacts).toFixed(2)} requests per artifact` : '';
  const verified = r.report?.artifacts.filter((a) => a.result === 'verified').length ?? 0;
  rows.push([
    label,
    secs(r.durationMs),
    `action peak RSS ${mib(Number(readFileSync(rssFile, 'utf8')))}, ${armCalls} ARM requests, ${tokens} registry token requests, ${log.length} requests in all${perArtifact}; ${r.report?.runs.length ?? 0} runs, ${verified} artifacts verified`,
  ]);
  r.cleanup();
}

const MANY = { images: 20, tags: 500 };

/** 10,000 tags cheaply: one small image per repository, then its manifest PUT under 500 tags (the backend registry, no auth). */
async function seedTags(backendUrl: string, u: string): Promise<void> {
  const images = await seedImages(
    backendUrl,
    Array.from({ length: MANY.images }, (_, i) => ({ repo: `${u}/k${i}`, tag: 't0' })),
  );
  const puts = images.flatMap((img, i) => Array.from({ length: MANY.tags - 1 }, (_, t) => ({ repo: `${u}/k${i}`, digest: img.digest, tag: `t${t + 1}` })));
  const manifests = new Map<string, { body: Buffer; type: string }>();
  for (const img of images) {
    const res = await fetch(`${backendUrl}/v2/${img.ref.replace(':', '/manifests/')}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    manifests.set(img.digest, { body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' });
  }
  for (let i = 0; i < puts.length; i += 32) {
    await Promise.all(
      puts.slice(i, i + 32).map(async (p) => {
        const m = manifests.get(p.digest)!;
        const res = await fetch(`${backendUrl}/v2/${p.repo}/manifests/${p.tag}`, { method: 'PUT', body: m.body, headers: { 'content-type': m.type } });
        if (res.status !== 201) throw new Error(`tagging ${p.repo}:${p.tag}: HTTP ${res.status}`);
      }),
    );
  }
}

function emulatorRss(): string {
  const pid = readFileSync(path.join(localAzureDir(), 'pids', 'emulator.pid'), 'utf8').trim();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return hwm ? mib(Number(hwm) * 1024) : '?';
}

async function main(): Promise<void> {
  rows.push(
    ...bundleRows(path.dirname(DIST_ENTRY), [
      { label: 'Node 24', bin: node24() ?? process.execPath },
      { label: `Node ${process.versions.node.split('.')[0]}`, bin: process.execPath },
    ]),
  );
  await startup();
  const f = await createActionFixture('bench');
  const tags = Array.from({ length: 40 }, (_, i) => `v${i + 1}`);
  await seedImages(
    f.env.registries.source.backendUrl,
    ['a', 'b', 'c'].flatMap((r) => tags.map((tag) => ({ repo: `${f.u}/${r}`, tag }))),
  );
  await seedImages(f.env.registries.source.backendUrl, [{ repo: `${f.u}/big`, tag: '1', payloadBytes: 64 * 1024 * 1024 }]);
  const many = stepInputs(f, 'transfer', { artifacts: ['a', 'b', 'c'].map((r) => `${f.u}/${r}:*`).join('\n') });
  await action('transfer, 120 artifacts (3 batches)', many, f.env);
  await action('the same again (resume: reuses every run)', many, f.env);
  await action('transfer, one 64 MiB image', stepInputs(f, 'transfer', { artifacts: `${f.u}/big:1`, 'blob-name': `big${f.u}` }), f.env);
  await seedTags(f.env.registries.source.backendUrl, f.u);
  const tenThousand = stepInputs(f, 'transfer', {
    artifacts: Array.from({ length: MANY.images }, (_, i) => `${f.u}/k${i}:*`).join('\n'),
    'max-parallel-runs': '10',
    'timeout-minutes': '40',
  });
  await action(
    `transfer, ${MANY.images * MANY.tags} artifacts (${(MANY.images * MANY.tags) / 50} batches a side, 10 runs in flight)`,
    tenThousand,
    f.env,
    MANY.images * MANY.tags,
  );
  rows.push(['emulator peak RSS after all of the above', emulatorRss(), 'ARM, Entra, Key Vault, ACR front ends and the transfer runner']);

  process.stdout.write(`\n| measure | value | notes |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
