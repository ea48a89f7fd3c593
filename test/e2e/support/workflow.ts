/**
 * Runs one job of a workflow as written, through workflow-run.mts in a child process (GitHub's expression implementation
 * is ESM-only, which jest's CommonJS runtime cannot load). The child is the runner machine: its environment is
 * `machineEnv` (what every step inherits, e.g. PATH, the preload that resolves *.localhost where systemd-resolved would).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface WorkflowRequest {
  /** A workflow file, or a Markdown file with the workflow in a ```yaml block after `<!-- <block> -->`. */
  readonly file: string;
  readonly block?: string;
  readonly job: string;
  /** The event that started the run; `inputs` are workflow_dispatch's. */
  readonly event: { readonly name: string; readonly inputs?: Readonly<Record<string, unknown>> };
  /** The commit (github.sha). */
  readonly sha: string;
  readonly vars: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  /** `uses:` prefixes (owner/repo) and the folders they resolve to. */
  readonly actions: Readonly<Record<string, string>>;
  /** env.json of a local Azure whose OIDC issuer stands in for GitHub's (jobs with `id-token: write`). */
  readonly oidc?: string;
}

export interface StepResult {
  readonly id?: string | undefined;
  readonly name: string;
  readonly outcome: 'success' | 'failure' | 'skipped';
  readonly outputs: Readonly<Record<string, string>>;
  /** stdout and stderr of the step (a JavaScript action's without its ::add-mask:: lines). */
  readonly log: string;
  /** The inputs an action step got, after evaluation. */
  readonly inputs?: Readonly<Record<string, string>>;
}

export interface WorkflowResult {
  readonly steps: readonly StepResult[];
  /** The job's environment at its end (its `env:` and what steps wrote to GITHUB_ENV). */
  readonly env: Readonly<Record<string, string>>;
  readonly conclusion: 'success' | 'failure';
  readonly workspace: string;
}

const RUNNER = path.join(__dirname, 'workflow-run.mts');

/** The ```yaml block after `<!-- <marker> -->` in a Markdown file (a guide's workflow, as the reader sees it). */
export function markdownBlock(file: string, marker: string): string {
  const m = new RegExp(`<!-- ${marker} -->\\s*\`\`\`yaml\\n([\\s\\S]*?)\\n\`\`\``).exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file} has no \`\`\`yaml block after <!-- ${marker} -->`);
  return m[1]!;
}

export async function runWorkflow(req: WorkflowRequest, machineEnv: NodeJS.ProcessEnv): Promise<WorkflowResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'workflow-req-'));
  try {
    const file = path.join(dir, 'request.json');
    writeFileSync(file, JSON.stringify(req));
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, file], { cwd: path.resolve(__dirname, '..', '..', '..'), env: machineEnv });
    const out: string[] = [];
    const err: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (c: string) => out.push(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => err.push(c));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`the workflow runner failed (exit ${code}): ${err.join('').trim()}`);
    return JSON.parse(out.join('')) as WorkflowResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A failing step's log end, for a test's message. */
export function describeSteps(r: WorkflowResult): string {
  return r.steps.map((s) => `--- ${s.name}: ${s.outcome}\n${s.outcome === 'failure' ? s.log.split('\n').slice(-40).join('\n') : ''}`).join('\n');
}
