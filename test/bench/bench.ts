/**
 * `npm run bench`: speed and memory, measured (not asserted) against the local Azure, all in one run.
 * - the action bundle: size, and cold start against a bare `node -e 0` (bundle.ts);
 * - local Azure start-up and shut-down;
 * - streaming (streaming.ts), with the emulator's simulated run time: wall time against the critical path, parallel
 *   against one run at a time, how soon a run's end is noticed, ARM reads per run-minute, and this action against the
 *   az CLI extension's way; plus a chart of one transfer's timeline (an SVG file);
 * - the bundled action at the emulator's default run time: a 120-artifact transfer, the same again (resume), one 64 MiB
 *   image, and with BENCH_10K=1 10,000 artifacts (500 tags on each of 20 images: 200 batches a side); wall time, the
 *   action's peak RSS, ARM requests, registry token requests and all requests made (the emulator's request log);
 * - the emulator's own peak RSS after all of it.
 * Needs a running local Azure and NODE_EXTRA_CA_CERTS (scripts/run-bench.sh does both).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type LocalAzureEnv, localAzureDir } from '../local-azure/config';
import { seedImages } from '../local-azure/seed';
import { createActionFixture, stepInputs } from '../e2e/support/action-fixture';
import { node24 } from '../e2e/support/action-runner';
import { bundleRows } from './bundle';
import { benchBundle, measure } from './measure';
import { seedTags } from './seed-tags';
import { type Row, streamingRows } from './streaming';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', 'local-azure', 'cli.ts');
const rows: Row[] = [];
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const GOALS: Record<string, string> = { 'action dist/ size': '≤ 2.5 MB, nothing unused' };

async function startup(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-la-'));
  const env = { ...process.env, LOCAL_AZURE_DIR: dir, LOCAL_AZURE_PORT_OFFSET: process.env['BENCH_STARTUP_PORT_OFFSET'] ?? '2100' };
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
  rows.push(['local Azure up (median of 3, incl. tsx start)', secs(median(ups)), '≤ 5 s', `min ${secs(Math.min(...ups))}, max ${secs(Math.max(...ups))}`]);
  rows.push(['local Azure down (median of 3)', secs(median(downs)), '—', 'no process left']);
}

async function action(label: string, inputs: Record<string, string>, env: LocalAzureEnv, artifacts?: number): Promise<void> {
  const { run: r, log, peakRssBytes } = await measure(label, inputs, env);
  const armCalls = log.filter((e) => e.service === 'arm').length;
  const tokens = log.filter((e) => e.service === 'acr' && /^\/oauth2\/(exchange|token)/.test(e.path)).length;
  const perArtifact = artifacts ? `, ${(log.length / artifacts).toFixed(2)} requests per artifact` : '';
  const verified = r.report?.artifacts.filter((a) => a.result === 'verified').length ?? 0;
  rows.push([
    label,
    secs(r.durationMs),
    '—',
    `action peak RSS ${mib(peakRssBytes)}, ${armCalls} ARM requests, ${tokens} registry token requests, ${log.length} requests in all${perArtifact}; ${r.report?.runs.length ?? 0} runs, ${verified} artifacts verified`,
  ]);
  r.cleanup();
}

const MANY = { images: 20, tags: 500 };

function emulatorRss(): string {
  const pid = readFileSync(path.join(localAzureDir(), 'pids', 'emulator.pid'), 'utf8').trim();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return hwm ? mib(Number(hwm) * 1024) : '?';
}

async function main(): Promise<void> {
  const started = performance.now();
  for (const [measure, value, notes] of bundleRows(path.dirname(benchBundle()), [
    { label: 'Node 24', bin: node24() ?? process.execPath },
    { label: `Node ${process.versions.node.split('.')[0]}`, bin: process.execPath },
  ]))
    // The goal is for the Node the action runs on (action.yml: node24); other Nodes are shown for comparison.
    rows.push([
      measure!,
      value!,
      GOALS[measure!] ?? (measure!.startsWith('cold start') ? (measure!.includes('Node 24') ? '≤ 1.5×' : '— (action runs on node24)') : '—'),
      notes!,
    ]);
  await startup();
  const f = await createActionFixture('bench');
  rows.push(...(await streamingRows(f.env)));

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
  if (process.env['BENCH_10K'] === '1') {
    const repos = Array.from({ length: MANY.images }, (_, i) => `${f.u}/k${i}`);
    await seedTags(f.env.registries.source.backendUrl, repos, MANY.tags);
    const tenThousand = stepInputs(f, 'transfer', {
      artifacts: repos.map((r) => `${r}:*`).join('\n'),
      'max-parallel-runs': '10',
      'timeout-minutes': '40',
    });
    await action(
      `transfer, ${MANY.images * MANY.tags} artifacts (${(MANY.images * MANY.tags) / 50} batches a side, 10 runs in flight)`,
      tenThousand,
      f.env,
      MANY.images * MANY.tags,
    );
  }
  rows.push(['emulator peak RSS after all of the above', emulatorRss(), '—', 'ARM, Entra, Key Vault, ACR front ends and the transfer runner']);

  process.stdout.write(
    `\n| measure | value | goal | notes |\n|---|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n\nbench took ${secs(performance.now() - started)}${process.env['BENCH_10K'] === '1' ? '' : ' (BENCH_10K=1 adds the 10,000-artifact row)'}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
