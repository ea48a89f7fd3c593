/**
 * The two front-ends as the scenarios see them (lifecycle.ts, journey.ts): what one step of the bundled action or of the
 * ADO task left behind, in front-end-neutral terms (a Step), and the task's inputs from the action's.
 */
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { build } from '../../../ado-task/build';
import { TASK_FOLDER } from '../../../ado-task/task-json';
import { camelCase, INPUTS } from '../../../core/inputs';
import { OUTPUTS } from '../../../core/outputs';
import type { TransferReport } from '../../../core/report';
import { type ActionRun, describeRun } from './action-runner';
import type { LocalAzureEnv } from '../../local-azure/config';
import { type Endpoint, extractTaskFolder, type TaskRun } from './ado-runner';
import type { Step } from './lifecycle';

export type TimedStep = Step & { readonly exitAfterSignalMs?: number };

/** One step of the action (its temp directories removed). */
export function actionStep(run: ActionRun): TimedStep {
  try {
    if (!run.report) throw new Error(`the step wrote no report:\n${describeRun(run)}`);
    const text = describeRun(run);
    return {
      ok: run.exitCode === 0,
      report: run.report,
      outputs: run.outputs,
      summary: run.summary,
      visible: `${run.log}\n${run.stderr}`,
      failure: run.errors.map((e) => e.message).join('\n'),
      describe: () => text,
      ...(run.exitAfterSignalMs !== undefined ? { exitAfterSignalMs: run.exitAfterSignalMs } : {}),
    };
  } finally {
    run.cleanup();
  }
}

const GITHUB_ONLY = new Set(INPUTS.filter((i) => i.githubOnly).map((i) => i.name));

/** The action's kebab-case inputs as the task's: camelCase, without GitHub's sign-in inputs (the connection signs in). */
export function taskInputs(inputs: Readonly<Record<string, string>>, connectionId: string): Record<string, string> {
  const task: Record<string, string> = { azureSubscription: connectionId };
  for (const [k, v] of Object.entries(inputs)) if (!GITHUB_ONLY.has(k) && k !== 'subscription-id') task[camelCase(k)] = v;
  return task;
}

/** One step of the task (its agent temp directory removed). */
export function adoStep(run: TaskRun, connectionId: string): TimedStep {
  try {
    const reportPath = run.outputs['reportPath'];
    if (!reportPath) throw new Error(`the task wrote no report:\n${run.stdout}\n${run.stderr}`);
    const outputs = Object.fromEntries(OUTPUTS.map((o) => [o.name, run.outputs[camelCase(o.name)]]).filter((e): e is [string, string] => e[1] !== undefined));
    // What the agent shows, debug lines included: everything but the commands that register secrets, and task-lib's own
    // trace of the connection's parameters (the agent masks the connection's secrets; ours are registered before use).
    const visible = run.stdout
      .split('\n')
      .filter((l) => !l.startsWith('##vso[task.setsecret]') && !l.startsWith(`##vso[task.debug]${connectionId} auth param `))
      .join('\n');
    return {
      ok: run.result === 'Succeeded' || run.result === 'SucceededWithIssues',
      report: JSON.parse(readFileSync(reportPath, 'utf8')) as TransferReport,
      outputs,
      summary: run.summaries[0] ? readFileSync(run.summaries[0], 'utf8') : '',
      visible: `${visible}\n${run.stderr}`,
      failure: run.resultMessage ?? '',
      describe: () => `${run.result}: ${run.resultMessage}\n${run.stdout.split('\n').slice(-60).join('\n')}\n${run.stderr}`,
      ...(run.exitAfterSignalMs !== undefined ? { exitAfterSignalMs: run.exitAfterSignalMs } : {}),
    };
  } finally {
    rmSync(run.tempDir, { recursive: true, force: true });
  }
}

/** The task folder taken out of a freshly built .vsix (tfx-validated), under `work`: what the agent runs. */
export function taskFromVsix(work: string): string {
  const built = build({ outDir: path.join(work, 'build'), package: true, generate: false });
  return extractTaskFolder(built.vsixPath!, TASK_FOLDER, path.join(work, 'agent', 'tasks'));
}

/** A ServicePrincipal connection to the local Azure as an Azure Stack cloud (authority and audience from metadata/endpoints). */
export function spConnection(env: LocalAzureEnv, id: string, key = env.clientSecret): Endpoint {
  return {
    id,
    url: `${env.armEndpoint}/`,
    scheme: 'ServicePrincipal',
    parameters: { serviceprincipalid: env.clientId, serviceprincipalkey: key, tenantid: env.tenantId, authenticationType: 'spnKey' },
    data: { environment: 'AzureStack', subscriptionId: env.subscriptionId, subscriptionName: 'local', scopeLevel: 'Subscription' },
  };
}
