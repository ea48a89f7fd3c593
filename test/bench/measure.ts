/**
 * What the bench reads off one action run and the emulator's request log: the run's requests, ARM reads per run-minute,
 * and how long after each run ended (the service's finishTime) the action first looked and could see it.
 */
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LocalAzureEnv } from '../local-azure/config';
import { nodeOptionsForLocalAzure } from '../local-azure/config';
import type { RunReport } from '../../core/report';
import { control, requestLog, type RequestLogEntry } from '../e2e/support/action-fixture';
import { type ActionRun, actionBundle, node24, runAction } from '../e2e/support/action-runner';

export interface Measured {
  readonly run: ActionRun;
  /** The emulator's log of this run's requests. */
  readonly log: readonly RequestLogEntry[];
  readonly peakRssBytes: number;
}

let bundle: string | undefined;

/**
 * The bundle built from the sources: the one in BENCH_BUNDLE_DIR (scripts/run-bench.sh builds it first), else the e2e
 * tests' build copied once to a directory of the bench's own (that cache keeps one bundle, and a build of other sources
 * must not take it away mid-run).
 */
export function benchBundle(): string {
  if (bundle !== undefined) return bundle;
  const given = process.env['BENCH_BUNDLE_DIR'];
  if (given) return (bundle = path.join(given, 'index.js'));
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-bundle-'));
  cpSync(path.dirname(actionBundle()), dir, { recursive: true });
  return (bundle = path.join(dir, 'index.js'));
}

/** Runs the bundle once, with the local Azure's knobs as given. */
export async function measure(label: string, inputs: Record<string, string>, env: LocalAzureEnv, knobs: Record<string, unknown> = {}): Promise<Measured> {
  if (Object.keys(knobs).length > 0 && (await control(env, 'PATCH', '/knobs', knobs)).status !== 200) throw new Error(`${label}: the knobs were refused`);
  const rssFile = path.join(mkdtempSync(path.join(tmpdir(), 'bench-rss-')), 'rss');
  const before = (await requestLog(env)).length;
  const run = await runAction({
    inputs,
    entry: benchBundle(),
    node: node24() ?? process.execPath,
    timeoutMs: 40 * 60_000,
    env: { NODE_OPTIONS: `${nodeOptionsForLocalAzure()} --require ${path.join(__dirname, 'maxrss.cjs')}`, BENCH_RSS_FILE: rssFile },
  });
  if (run.exitCode !== 0) throw new Error(`${label}: the action failed (exit ${run.exitCode}):\n${run.log.slice(-3000)}`);
  const log = (await requestLog(env)).slice(before);
  return { run, log, peakRssBytes: Number(readFileSync(rssFile, 'utf8')) };
}

const at = (e: RequestLogEntry): number => Date.parse(e.time) + ((e as { ms?: number }).ms ?? 0);

/** ARM reads (GETs) per minute of run time: the sum over the runs of finishTime − startTime. */
export function readsPerRunMinute(m: Measured): { perRunMinute: number; reads: number; runMinutes: number } {
  const reads = m.log.filter((e) => e.service === 'arm' && e.method === 'GET').length;
  // Runs reused without running (no times) take no run time.
  const timed = (m.run.report?.runs ?? []).filter((r) => r.startTime !== undefined && r.finishTime !== undefined);
  const runMinutes = timed.reduce((s, r) => s + (Date.parse(r.finishTime!) - Date.parse(r.startTime!)) / 60_000, 0);
  return { perRunMinute: reads / runMinutes, reads, runMinutes };
}

/**
 * For each run: its finishTime on the service, to the end of the action's first request after it that could show it
 * (a GET of that run, or of its registry's run list): the time the action took to notice, a tick's wait at most.
 */
export function noticeDelaysMs(m: Measured, registryOf: (r: RunReport) => string): number[] {
  const runs: readonly RunReport[] = m.run.report?.runs ?? [];
  return runs.flatMap((r) => {
    if (r.finishTime === undefined) return [];
    const finished = Date.parse(r.finishTime);
    const list = `/registries/${registryOf(r)}/pipelineRuns?`.toLowerCase();
    const looks = m.log.filter(
      (e) =>
        e.service === 'arm' &&
        e.method === 'GET' &&
        (e.path.includes(`/pipelineRuns/${r.name}?`) || e.path.toLowerCase().includes(list)) &&
        Date.parse(e.time) >= finished,
    );
    const first = looks.map(at).sort((a, b) => a - b)[0];
    return first === undefined ? [] : [first - finished];
  });
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
