/**
 * The rows of the streaming issue, each measured in this run against the local Azure with the emulator's `runBaseMs`
 * (the simulated service time of a pipeline run): the critical path, parallel against one run at a time, how soon a
 * run's end is noticed, ARM reads per run-minute, and this action against the az CLI extension's way.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LocalAzureEnv } from '../local-azure/config';
import { seedImages } from '../local-azure/seed';
import { control, createActionFixture, jsonOutput, stepInputs } from '../e2e/support/action-fixture';
import { azCliWay, CLI_POLL_MS } from './az-cli-way';
import { measure, median, noticeDelaysMs, readsPerRunMinute } from './measure';
import { seedTags } from './seed-tags';
import { timelineSvg } from './timeline-svg';

export type Row = [measure: string, value: string, goal: string, notes: string];

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const DEFAULT_RUN_MS = 200;

/** 400 artifacts in 8 batches, 4 runs in flight a registry, 30 s runs: wall time against (waves + 1) × run time. */
async function criticalPath(env: LocalAzureEnv, outDir: string): Promise<Row> {
  const f = await createActionFixture('crit');
  const repos = Array.from({ length: 8 }, (_, i) => `${f.u}/c${i}`);
  await seedTags(f.env.registries.source.backendUrl, repos, 50);
  const runMs = 30_000;
  const inputs = stepInputs(f, 'transfer', { artifacts: repos.map((r) => `${r}:*`).join('\n'), 'max-parallel-runs': '4', 'timeout-minutes': '30' });
  const m = await measure('critical path', inputs, env, { runBaseMs: runMs });
  const report = m.run.report!;
  const waves = Math.ceil(8 / 4);
  const limit = (waves + 1) * runMs;
  const file = path.join(outDir, 'bench-timeline.svg');
  writeFileSync(file, timelineSvg(report.timeline ?? [], report.startTime, `400 artifacts, 8 batches, 4 runs in flight a registry, ${runMs / 1000} s runs`));
  process.stdout.write(`timeline chart: ${file}\n`);
  return [
    '400 artifacts (8 batches), 4 runs in flight, 30 s runs: wall time ÷ critical-path limit ((waves+1) × run time)',
    `${(m.run.durationMs / limit).toFixed(2)}`,
    '≤ 1.15',
    `${secs(m.run.durationMs)} vs ${secs(limit)} (${waves} waves + 1); ${report.runs.length} runs, ${report.artifacts.filter((a) => a.result === 'verified').length} verified; chart ${file}`,
  ];
}

/**
 * 200 artifacts, 4 batches, 10 s runs: a transfer with 4 runs in flight a registry against the same work one run at a
 * time. In one transfer step `max-parallel-runs: 1` still overlaps an export with an import (two registries), so one
 * run at a time is export, copy and import as three steps, each with `max-parallel-runs: 1`; the single step with
 * `max-parallel-runs: 1` is measured too. Each set of images is new to the target (else its imports would be reused).
 */
async function parallelVsOne(env: LocalAzureEnv): Promise<Row[]> {
  const f = await createActionFixture('par');
  const runMs = 10_000;
  const images = async (set: string): Promise<string> => {
    const repos = Array.from({ length: 4 }, (_, i) => `${f.u}/${set}${i}`);
    await seedTags(f.env.registries.source.backendUrl, repos, 50);
    return repos.map((r) => `${r}:*`).join('\n');
  };
  const step = (op: string, extra: Record<string, string>, parallel: number): Record<string, string> =>
    stepInputs(f, op, { ...extra, 'max-parallel-runs': String(parallel) });
  const par = await measure('parallel', step('transfer', { artifacts: await images('p'), 'blob-name': `p${f.u}` }, 4), env, { runBaseMs: runMs });
  const single = await measure('max-parallel-runs 1', step('transfer', { artifacts: await images('s'), 'blob-name': `s${f.u}` }, 1), env);
  const ex = await measure('export, one at a time', step('export', { artifacts: await images('o'), 'blob-name': `o${f.u}` }, 1), env);
  const blobs = jsonOutput<string[]>(ex.run, 'blobs').join('\n');
  const cp = await measure('copy', step('copy', { blobs }, 1), env);
  const im = await measure('import, one at a time', step('import', { blobs }, 1), env);
  const serial = ex.run.durationMs + cp.run.durationMs + im.run.durationMs;
  const p = par.run.durationMs;
  return [
    [
      '200 artifacts, 4 batches, 10 s runs: parallel (4 in flight a registry) ÷ one run at a time',
      (p / serial).toFixed(2),
      '≤ 0.28 (limit 0.25)',
      `${secs(p)} vs ${secs(serial)}: export ${secs(ex.run.durationMs)} + copy ${secs(cp.run.durationMs)} + import ${secs(im.run.durationMs)}, three steps with max-parallel-runs 1 (each step's start-up counted)`,
    ],
    [
      '… ÷ one transfer step with max-parallel-runs 1 (an export and an import overlap)',
      (p / single.run.durationMs).toFixed(2),
      '— (limit 2 ÷ 5 = 0.40)',
      `${secs(p)} vs ${secs(single.run.durationMs)}`,
    ],
  ];
}

/** Five runs in flight a registry (5 batches, 5 exports then 5 imports) at 10, 30 and 90 s a run: notice delay and ARM reads. */
async function noticeAndReads(env: LocalAzureEnv): Promise<Row[]> {
  const f = await createActionFixture('poll');
  const registryOf = (kind: string): string => (kind === 'export' ? env.registries.source.name : env.registries.target.name);
  const per: { runMs: number; delays: number[]; perRunMinute: number; reads: number }[] = [];
  for (const runMs of [10_000, 30_000, 90_000]) {
    // Images of its own: the target must not have them already (that import would be reused without a run).
    const images = await seedImages(
      f.env.registries.source.backendUrl,
      Array.from({ length: 5 }, (_, i) => ({ repo: `${f.u}/n${runMs / 1000}`, tag: `v${i}` })),
    );
    const inputs = stepInputs(f, 'transfer', {
      artifacts: images.map((i) => i.ref).join('\n'),
      'blob-name': `n${runMs / 1000}${f.u}`,
      'max-artifacts-per-run': '1',
      'max-parallel-runs': '5',
    });
    const m = await measure(`${runMs / 1000} s runs`, inputs, env, { runBaseMs: runMs });
    const reads = readsPerRunMinute(m);
    per.push({ runMs, delays: noticeDelaysMs(m, (r) => registryOf(r.kind)), perRunMinute: reads.perRunMinute, reads: reads.reads });
  }
  const at90 = per.find((p) => p.runMs === 90_000)!;
  return [
    [
      'run finished → noticed, median, 90 s runs',
      secs(median(at90.delays)),
      '≤ 3 s',
      `${at90.delays.length} runs (service finishTime → end of the first GET that could see it); ${per.map((p) => `${p.runMs / 1000} s runs: median ${secs(median(p.delays))}, max ${secs(Math.max(...p.delays))}`).join('; ')}`,
    ],
    [
      'ARM reads per run-minute, 5 runs in flight (worst of 10, 30, 90 s runs)',
      Math.max(...per.map((p) => p.perRunMinute)).toFixed(1),
      '≤ 20',
      `every ARM GET of the step ÷ Σ run durations: ${per.map((p) => `${p.runMs / 1000} s runs ${p.perRunMinute.toFixed(1)} (${p.reads} reads)`).join(', ')}`,
    ],
  ];
}

/** The same 3 images: this action against the extension's export run, copy, import run, polled every 30 s. */
async function againstCli(env: LocalAzureEnv): Promise<Row> {
  const f = await createActionFixture('cli');
  const images = await seedImages(
    f.env.registries.source.backendUrl,
    Array.from({ length: 9 }, (_, i) => ({ repo: `${f.u}/cli`, tag: `v${i}` })),
  );
  const refs = images.map((i) => i.ref);
  const transfer = (set: readonly string[], blob: string): Record<string, string> =>
    stepInputs(f, 'transfer', { artifacts: set.join('\n'), 'blob-name': blob });
  // The pipelines exist for both ways: a first transfer makes them (not timed), as a user's setup would.
  await measure('pipelines', transfer(refs.slice(0, 3), `w${f.u}`), env, { runBaseMs: DEFAULT_RUN_MS });
  const action = await measure('this action', transfer(refs.slice(3, 6), `a${f.u}`), env);
  const cli = await azCliWay(f, refs.slice(6, 9), `c${f.u}`);
  return [
    'the same 3 images: this action ÷ the az CLI extension’s way (export run, copy, import run, 30 s poll)',
    `${(action.run.durationMs / cli).toFixed(3)}×`,
    '≤ 0.1×',
    `${secs(action.run.durationMs)} vs ${secs(cli)} (runs of ${DEFAULT_RUN_MS} ms; the CLI's poller looks every ${CLI_POLL_MS / 1000} s)`,
  ];
}

export async function streamingRows(env: LocalAzureEnv): Promise<Row[]> {
  const outDir = process.env['BENCH_OUT_DIR'] ?? path.join(tmpdir(), 'acr-transfer-bench');
  mkdirSync(outDir, { recursive: true });
  const rows: Row[] = [];
  // Each row as soon as it is measured too: a later failure keeps the earlier figures.
  const add = (...more: Row[]): void => {
    rows.push(...more);
    for (const r of more) process.stdout.write(`measured: ${r.join(' | ')}\n`);
  };
  try {
    add(...(await noticeAndReads(env)));
    add(await criticalPath(env, outDir));
    add(...(await parallelVsOne(env)));
    add(await againstCli(env));
  } finally {
    await control(env, 'PATCH', '/knobs', { runBaseMs: DEFAULT_RUN_MS });
  }
  return rows;
}
