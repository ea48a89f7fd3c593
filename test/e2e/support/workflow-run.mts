/**
 * A small GitHub Actions runner for the subset of the workflow language the guides use, so that a test runs a guide's
 * workflow as written (docs/rehearse.md): one job's `env:` and `steps:` in order; `if:`, `env:`, `with:` and `${{ }}`
 * evaluated by GitHub's expression implementation; `run:` steps in bash; JavaScript actions through action-runner.ts (as
 * the runner starts them: the bundle, INPUT_*, the ID-token variables stomping the job's); composite actions step by
 * step; GITHUB_ENV, GITHUB_OUTPUT and step outputs between steps, NODE_OPTIONS refused from GITHUB_ENV as the runner
 * refuses it. Actions of this repository (`acr-transfer/acr-transfer[/path]@ref`) resolve to the working tree.
 * Anything else in the workflow is refused, so a guide cannot silently use what this does not run.
 * CLI (ESM, for @actions/expressions): node --import tsx workflow-run.mts <request.json> → a WorkflowResult on stdout.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { condition, type Contexts, interpolate, interpolateAll } from './workflow-expressions.mjs';
import type { StepResult, WorkflowRequest, WorkflowResult } from './workflow';

// The CommonJS helpers through require: imported from ESM, tsx would give them a wrong __dirname (and so a wrong repository root).
const require = createRequire(import.meta.url);
const { actionBundle, node24, REPO_ROOT, runAction } = require('./action-runner') as typeof import('./action-runner');
const { parseFileCommand } = require('./workflow-commands') as typeof import('./workflow-commands');
const { markdownBlock } = require('./workflow') as typeof import('./workflow');

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
  readonly run?: string;
  readonly env?: Record<string, unknown>;
  readonly shell?: string;
}

/** How the runner names a step in its log: its name, else its id, else what it runs. */
const stepName = (s: Step): string => s.name ?? s.id ?? (s.uses ? `Run ${s.uses}` : 'Run');

const STEP_KEYS = new Set(['id', 'name', 'if', 'uses', 'with', 'run', 'env', 'shell']);
const JOB_KEYS = new Set(['runs-on', 'env', 'steps', 'permissions', 'timeout-minutes']);
const ID_TOKEN = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'];

class Job {
  readonly env: Record<string, string> = {};
  readonly results: StepResult[] = [];
  readonly steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
  private failed = false;
  private readonly temp = mkdtempSync(path.join(os.tmpdir(), 'workflow-'));
  private readonly workspace = path.join(this.temp, 'workspace');
  private readonly runnerTemp = path.join(this.temp, 'runner-temp');
  private idToken: Record<string, string> = {};
  private n = 0;

  constructor(
    private readonly req: WorkflowRequest,
    private readonly workflow: Record<string, unknown>,
  ) {
    mkdirSync(this.workspace, { recursive: true });
    mkdirSync(this.runnerTemp, { recursive: true });
  }

  private github(): Record<string, unknown> {
    return {
      event_name: this.req.event.name,
      event: { inputs: this.req.event.inputs ?? {} },
      sha: this.req.sha,
      repository: 'local/promote',
      workspace: this.workspace,
    };
  }

  contexts(extra: Contexts = {}): Contexts {
    return {
      github: this.github(),
      env: { ...this.env },
      vars: this.req.vars,
      secrets: this.req.secrets,
      inputs: this.req.event.inputs ?? {},
      steps: this.steps,
      runner: { os: 'Linux', temp: this.runnerTemp },
      ...extra,
    };
  }

  /** The job's directories, when it ends without a result (with one, its caller removes them: endJob). */
  removeDirectories(): void {
    rmSync(this.temp, { recursive: true, force: true });
  }

  async run(jobName: string): Promise<WorkflowResult> {
    const job = (this.workflow['jobs'] as Record<string, Record<string, unknown>> | undefined)?.[jobName];
    if (!job) throw new Error(`the workflow has no job '${jobName}'`);
    const unknown = Object.keys(job).filter((k) => !JOB_KEYS.has(k));
    if (unknown.length > 0) throw new Error(`job '${jobName}' uses ${unknown.join(', ')}, which this runner does not run`);
    const permissions = job['permissions'] ?? this.workflow['permissions'];
    // With `id-token: write` the runner gives actions an OIDC request URL; here the issuer of the given local Azure stands in for GitHub's.
    if (this.req.oidc && JSON.stringify(permissions ?? {}).includes('"id-token":"write"')) this.idToken = await oidcVariables(this.req.oidc);
    Object.assign(this.env, interpolateAll(this.workflow['env'] as Record<string, unknown>, this.contexts()));
    Object.assign(this.env, interpolateAll(job['env'] as Record<string, unknown>, this.contexts()));
    for (const step of job['steps'] as Step[]) {
      const bad = Object.keys(step).filter((k) => !STEP_KEYS.has(k));
      if (bad.length > 0) throw new Error(`step '${stepName(step)}' uses ${bad.join(', ')}, which this runner does not run`);
      const result = await this.step(step, this.contexts());
      this.results.push(result);
      if (step.id) this.steps[step.id] = { outputs: result.outputs, outcome: result.outcome, conclusion: result.outcome };
      if (result.outcome === 'failure') this.failed = true;
    }
    return { steps: this.results, env: this.env, conclusion: this.failed ? 'failure' : 'success', workspace: this.workspace };
  }

  /** One step, in the contexts of its scope (the job's, or a composite action's: its path, and the env of the step that used it). */
  private async step(step: Step, ctx: Contexts, composite?: { path: string; env: Record<string, string> }): Promise<StepResult> {
    const name = stepName(step);
    if (!condition(step.if, ctx, this.failed)) return { id: step.id, name, outcome: 'skipped', outputs: {}, log: '' };
    const stepEnv = { ...composite?.env, ...interpolateAll(step.env, ctx) };
    if (step.run !== undefined) {
      if (step.shell && step.shell !== 'bash') throw new Error(`step '${name}': shell ${step.shell} is not run here (bash only)`);
      return this.script(step, name, interpolate(step.run, { ...ctx, env: { ...this.env, ...stepEnv } }), stepEnv, composite?.path);
    }
    if (!step.uses) throw new Error(`step '${name}' has neither run nor uses`);
    const dir = this.resolve(step.uses);
    const action = parse(readFileSync(path.join(dir, 'action.yml'), 'utf8')) as {
      inputs?: Record<string, { default?: string }>;
      outputs?: Record<string, { value?: string }>;
      runs: { using: string; main?: string; steps?: Step[] };
    };
    const withValues = interpolateAll(step.with, { ...ctx, env: { ...this.env, ...stepEnv } });
    if (action.runs.using === 'composite') return this.composite(step, name, dir, action, withValues, stepEnv);
    if (!/^node\d+$/.test(action.runs.using)) throw new Error(`action ${step.uses} runs ${action.runs.using}, which is not run here`);
    if (path.resolve(dir) !== REPO_ROOT) throw new Error(`action ${step.uses}: only this repository's own JavaScript action is run here`);
    const env = Object.fromEntries(Object.entries({ ...this.env, ...stepEnv }).filter(([k]) => !ID_TOKEN.includes(k)));
    const run = await runAction({
      inputs: withValues,
      env: { ...env, ...this.idToken, GITHUB_EVENT_NAME: this.req.event.name, GITHUB_SHA: this.req.sha },
      entry: actionBundle(),
      ...(action.runs.using === 'node24' ? { node: node24() ?? process.execPath } : {}),
      stepId: step.id ?? `step${++this.n}`,
    });
    this.applyEnv(run.exportedEnv);
    run.cleanup();
    return {
      id: step.id,
      name,
      outcome: run.exitCode === 0 ? 'success' : 'failure',
      outputs: { ...run.outputs },
      log: `${run.log}\n${run.stderr}`,
      inputs: withValues,
    };
  }

  private async composite(
    step: Step,
    name: string,
    dir: string,
    action: { inputs?: Record<string, { default?: string }>; outputs?: Record<string, { value?: string }>; runs: { steps?: Step[] } },
    withValues: Record<string, string>,
    stepEnv: Record<string, string>,
  ): Promise<StepResult> {
    const inputs: Record<string, string> = {};
    for (const [k, spec] of Object.entries(action.inputs ?? {})) inputs[k] = withValues[k] ?? spec.default ?? '';
    const unknown = Object.keys(withValues).filter((k) => !(k in inputs));
    if (unknown.length > 0) throw new Error(`step '${name}': ${step.uses} has no input ${unknown.join(', ')}`);
    const inner: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {};
    const logs: string[] = [];
    let outcome: StepResult['outcome'] = 'success';
    for (const s of action.runs.steps ?? []) {
      const ctx = { ...this.contexts({ inputs, steps: inner }), env: { ...this.env, ...stepEnv } };
      const r = await this.step(s, ctx, { path: dir, env: stepEnv });
      logs.push(r.log);
      if (s.id) inner[s.id] = { outputs: r.outputs, outcome: r.outcome, conclusion: r.outcome };
      if (r.outcome === 'failure') {
        outcome = 'failure';
        break;
      }
    }
    const outputs = interpolateAll(
      Object.fromEntries(Object.entries(action.outputs ?? {}).map(([k, o]) => [k, o.value ?? ''])),
      this.contexts({ inputs, steps: inner }),
    );
    return { id: step.id, name, outcome, outputs, log: logs.join('\n'), inputs };
  }

  private script(step: Step, name: string, script: string, stepEnv: Record<string, string>, actionPath: string | undefined): StepResult {
    const files = Object.fromEntries(
      ['GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY'].map((f) => [f, path.join(this.temp, `${f}-${++this.n}`)]),
    );
    for (const f of Object.values(files)) writeFileSync(f, '');
    const scriptFile = path.join(this.temp, `step-${this.n}.sh`);
    writeFileSync(scriptFile, script);
    const env = {
      ...process.env,
      ...this.env,
      ...stepEnv,
      ...this.idToken,
      ...files,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: this.req.event.name,
      GITHUB_SHA: this.req.sha,
      GITHUB_WORKSPACE: this.workspace,
      RUNNER_TEMP: this.runnerTemp,
      ...(actionPath ? { GITHUB_ACTION_PATH: actionPath } : {}),
    };
    // The runner's default shell: bash --noprofile --norc -eo pipefail {0}
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', scriptFile], { cwd: this.workspace, env, encoding: 'utf8', timeout: 600_000 });
    this.applyEnv(parseFileCommand(readFileSync(files['GITHUB_ENV']!, 'utf8')));
    const outputs = parseFileCommand(readFileSync(files['GITHUB_OUTPUT']!, 'utf8'));
    return { id: step.id, name, outcome: r.status === 0 ? 'success' : 'failure', outputs, log: `${r.stdout ?? ''}\n${r.stderr ?? ''}` };
  }

  /** GITHUB_ENV into the job's environment; NODE_OPTIONS is refused, as the runner refuses it. */
  private applyEnv(values: Readonly<Record<string, string>>): void {
    for (const [k, v] of Object.entries(values)) {
      if (k.toUpperCase() === 'NODE_OPTIONS') throw new Error("Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.");
      this.env[k] = v;
    }
  }

  private resolve(uses: string): string {
    const [ref = ''] = uses.split('@');
    for (const [prefix, dir] of Object.entries(this.req.actions)) {
      if (ref === prefix) return dir;
      if (ref.startsWith(`${prefix}/`)) return path.join(dir, ref.slice(prefix.length + 1));
    }
    throw new Error(`action ${uses} is not one this runner has (${Object.keys(this.req.actions).join(', ')})`);
  }
}

/** What GET {controlUrl}/oidc of a local Azure answers: an ID-token request URL and token, as a runner gets from GitHub. */
async function oidcVariables(envJson: string): Promise<Record<string, string>> {
  const env = JSON.parse(readFileSync(envJson, 'utf8')) as { controlUrl: string };
  const res = await fetch(`${env.controlUrl.replace(/\/+$/, '')}/oidc`);
  if (!res.ok) throw new Error(`GET ${env.controlUrl}/oidc: HTTP ${res.status}`);
  const body = (await res.json()) as { requestUrl: string; requestToken: string };
  return { ACTIONS_ID_TOKEN_REQUEST_URL: body.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: body.requestToken };
}

export async function runWorkflowJob(req: WorkflowRequest): Promise<WorkflowResult> {
  const workflow = parse(req.block ? markdownBlock(req.file, req.block) : readFileSync(req.file, 'utf8')) as Record<string, unknown>;
  const job = new Job(req, workflow);
  try {
    return await job.run(req.job);
  } catch (e) {
    job.removeDirectories();
    throw e;
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const req = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as WorkflowRequest;
  runWorkflowJob(req).then(
    (r) => process.stdout.write(JSON.stringify(r)),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
