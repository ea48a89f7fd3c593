/**
 * A small Azure Pipelines agent for the subset of pipeline YAML the guide uses (docs/rehearse.md#azure-devops), so that a
 * test runs the guide's pipeline as written: one job's `steps:` in order; `variables:` and `$(name)` macros (unknown ones
 * stay as they are, as the agent leaves them); `template:` steps with `${{ parameters.x }}`; `checkout:` (the folders are
 * laid out beforehand); `bash:`/`script:` steps with their `env:`, the job's non-secret variables as environment variables,
 * and `##vso[task.setvariable]` read back (secret ones kept out of environments, output ones as `<step>.<name>`); and
 * `task: AcrTransfer@1`, run from the task folder as the agent runs it (ado-runner.ts), with the service connection the
 * pipeline names. Anything else is refused.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { type Endpoint, parseTaskLog, runTask } from './ado-runner';

export interface PipelineRequest {
  readonly pipeline: string;
  /** Template file name → its YAML. */
  readonly templates: Readonly<Record<string, string>>;
  /** Predefined and queue-time variables (Build.SourceVersion, …). */
  readonly variables: Readonly<Record<string, string>>;
  /** Secret pipeline variables. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Service connections by the name a pipeline gives. */
  readonly connections: Readonly<Record<string, Endpoint>>;
  /** Build.SourcesDirectory, with each checked-out repository in its folder. */
  readonly sourcesDir: string;
  readonly taskDir: string;
  /** What every step inherits from the agent machine. */
  readonly machineEnv: NodeJS.ProcessEnv;
}

export interface PipelineStepResult {
  readonly name: string;
  readonly result: 'Succeeded' | 'Failed';
  /** stdout and stderr, logging commands included. */
  readonly log: string;
  readonly inputs?: Readonly<Record<string, string>>;
}

interface Step {
  readonly checkout?: string;
  readonly bash?: string;
  readonly script?: string;
  readonly task?: string;
  readonly template?: string;
  readonly parameters?: Record<string, string>;
  readonly inputs?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly name?: string;
  readonly displayName?: string;
}

const STEP_KEYS = new Set(['checkout', 'bash', 'script', 'task', 'template', 'parameters', 'inputs', 'env', 'name', 'displayName']);
const PIPELINE_KEYS = new Set(['trigger', 'pr', 'pool', 'resources', 'variables', 'steps']);

export class Pipeline {
  readonly results: PipelineStepResult[] = [];
  /** Variables by lower-case name (names are case-insensitive). */
  readonly vars = new Map<string, { name: string; value: string; secret: boolean }>();
  private readonly agentTemp = mkdtempSync(path.join(os.tmpdir(), 'ado-agent-'));

  constructor(private readonly req: PipelineRequest) {
    for (const [k, v] of Object.entries(req.variables)) this.set(k, v, false);
    for (const [k, v] of Object.entries(req.secrets)) this.set(k, v, true);
  }

  get tempDir(): string {
    return this.agentTemp;
  }

  private set(name: string, value: string, secret: boolean): void {
    this.vars.set(name.toLowerCase(), { name, value, secret });
  }

  /** `$(name)` macros of known variables replaced, also inside their values (a variable may name another); unknown ones left as written. */
  expand(text: string, depth = 0): string {
    if (depth > 10) throw new Error(`variables refer to each other in a loop: ${text.slice(0, 80)}`);
    return text.replace(/\$\(([\w.-]+)\)/g, (whole, name: string) => {
      const v = this.vars.get(name.toLowerCase());
      return v === undefined ? whole : this.expand(v.value, depth + 1);
    });
  }

  async run(): Promise<PipelineStepResult[]> {
    const doc = parse(this.req.pipeline) as Record<string, unknown>;
    const unknown = Object.keys(doc).filter((k) => !PIPELINE_KEYS.has(k));
    if (unknown.length > 0) throw new Error(`the pipeline uses ${unknown.join(', ')}, which this agent does not run`);
    for (const [k, v] of Object.entries((doc['variables'] as Record<string, string>) ?? {})) this.set(k, String(v), false);
    for (const step of this.steps(doc['steps'] as Step[])) {
      const r = await this.step(step);
      this.results.push(r);
      if (r.result === 'Failed') break;
    }
    return this.results;
  }

  /** Template steps spliced in, their parameters substituted (compile time, before any macro). */
  private steps(steps: readonly Step[]): Step[] {
    return steps.flatMap((s) => {
      const bad = Object.keys(s).filter((k) => !STEP_KEYS.has(k));
      if (bad.length > 0) throw new Error(`a step uses ${bad.join(', ')}, which this agent does not run`);
      if (!s.template) return [s];
      const text = this.req.templates[s.template];
      if (text === undefined) throw new Error(`template ${s.template} is not given`);
      const declared = ((parse(text) as { parameters?: { name: string }[] }).parameters ?? []).map((p) => p.name);
      const extra = Object.keys(s.parameters ?? {}).filter((p) => !declared.includes(p));
      if (extra.length > 0) throw new Error(`template ${s.template} declares no parameter ${extra.join(', ')}`);
      const substituted = text.replace(/\$\{\{\s*parameters\.([\w-]+)\s*\}\}/g, (_, p: string) => s.parameters?.[p] ?? '');
      return this.steps((parse(substituted) as { steps: Step[] }).steps);
    });
  }

  /** The non-secret variables as the agent maps them into a step's environment: upper case, `.` as `_`. */
  private variableEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const v of this.vars.values()) if (!v.secret) env[v.name.replace(/\./g, '_').toUpperCase()] = this.expand(v.value);
    return env;
  }

  private agentEnv(): Record<string, string> {
    return {
      TF_BUILD: 'True',
      AGENT_TEMPDIRECTORY: this.agentTemp,
      BUILD_SOURCESDIRECTORY: this.req.sourcesDir,
      SYSTEM_DEFAULTWORKINGDIRECTORY: this.req.sourcesDir,
    };
  }

  private async step(s: Step): Promise<PipelineStepResult> {
    const name = s.displayName ?? s.name ?? s.task ?? (s.checkout ? `Checkout ${s.checkout}` : 'Script');
    if (s.checkout !== undefined) return { name, result: 'Succeeded', log: '' };
    if (s.bash !== undefined || s.script !== undefined) {
      const file = path.join(this.agentTemp, `step-${this.results.length}.sh`);
      writeFileSync(file, this.expand(s.bash ?? s.script ?? ''));
      const env = { ...this.req.machineEnv, ...this.variableEnv(), ...this.agentEnv() };
      for (const [k, v] of Object.entries(s.env ?? {})) env[k] = this.expand(String(v));
      const r = spawnSync('bash', ['--noprofile', '--norc', file], { cwd: this.req.sourcesDir, env, encoding: 'utf8', timeout: 600_000 });
      const log = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
      this.readCommands(r.stdout ?? '', s.name);
      return { name, result: r.status === 0 ? 'Succeeded' : 'Failed', log };
    }
    if (s.task !== 'AcrTransfer@1') throw new Error(`task ${s.task} is not one this agent runs`);
    const inputs = Object.fromEntries(Object.entries(s.inputs ?? {}).map(([k, v]) => [k, this.expand(String(v))]));
    const connection = this.req.connections[inputs['azureSubscription'] ?? ''];
    if (!connection) throw new Error(`the pipeline names service connection '${inputs['azureSubscription']}', which this project does not have`);
    const run = await runTask({
      taskDir: this.req.taskDir,
      inputs: { ...inputs, azureSubscription: connection.id },
      endpoints: [connection],
      env: { ...this.variableEnv(), ...this.agentEnv() },
    });
    rmSync(run.tempDir, { recursive: true, force: true });
    this.readCommands(run.stdout, s.name);
    const ok = run.result === 'Succeeded' || run.result === 'SucceededWithIssues';
    return { name, result: ok ? 'Succeeded' : 'Failed', log: `${run.stdout}\n${run.stderr}`, inputs };
  }

  /** `task.setvariable` lines: later steps see the value; an output variable as `<step name>.<variable>`. */
  private readCommands(stdout: string, stepName: string | undefined): void {
    for (const c of parseTaskLog(stdout).commands) {
      if (c.command !== 'task.setvariable') continue;
      const name = c.properties['variable'] ?? '';
      const secret = c.properties['issecret'] === 'true';
      if (c.properties['isOutput'] === 'true' && stepName) this.set(`${stepName}.${name}`, c.message, secret);
      else this.set(name, c.message, secret);
    }
  }
}
