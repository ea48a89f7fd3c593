/**
 * The user journey of test/e2e/support/journey.ts through the Azure DevOps task taken out of the built .vsix, with a
 * ServicePrincipal service connection, as the agent runs it (test/e2e/support/ado-runner.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from '../../ado-task/build';
import { TASK_FOLDER } from '../../ado-task/task-json';
import { camelCase, INPUTS, OUTPUTS } from '../../core/inputs';
import type { TransferReport } from '../../core/report';
import { type Endpoint, extractTaskFolder, runTask, type TaskRun } from './support/ado-runner';
import type { Step } from './support/lifecycle';
import { type JourneyFrontEnd, journeyScenario } from './support/journey';
import { loadEnv } from './support/local-azure';

jest.setTimeout(300_000);

const work = mkdtempSync(path.join(os.tmpdir(), 'ado-journey-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const GITHUB_ONLY = new Set(INPUTS.filter((i) => i.githubOnly).map((i) => i.name));

async function adoTask(): Promise<JourneyFrontEnd> {
  const env = loadEnv();
  const built = build({ outDir: path.join(work, 'build'), package: true, generate: false });
  const taskDir = extractTaskFolder(built.vsixPath!, TASK_FOLDER, path.join(work, 'agent', 'tasks'));
  const id = randomUUID();
  const connection = (key: string): Endpoint => ({
    id,
    url: `${env.armEndpoint}/`,
    scheme: 'ServicePrincipal',
    parameters: { serviceprincipalid: env.clientId, serviceprincipalkey: key, tenantid: env.tenantId, authenticationType: 'spnKey' },
    data: { environment: 'AzureStack', subscriptionId: env.subscriptionId, subscriptionName: 'local', scopeLevel: 'Subscription' },
  });
  /** The kebab-case inputs as the task's (camelCase, without GitHub's sign-in inputs: the connection signs in). */
  const taskInputs = (inputs: Readonly<Record<string, string>>): Record<string, string> => {
    const task: Record<string, string> = { azureSubscription: id };
    for (const [k, v] of Object.entries(inputs)) if (!GITHUB_ONLY.has(k) && k !== 'subscription-id') task[camelCase(k)] = v;
    return task;
  };
  const stepOf = (run: TaskRun): Step & { readonly exitAfterSignalMs?: number } => {
    try {
      const reportPath = run.outputs['reportPath'];
      if (!reportPath) throw new Error(`the task wrote no report:\n${run.stdout}\n${run.stderr}`);
      const outputs = Object.fromEntries(OUTPUTS.map((o) => [o.name, run.outputs[camelCase(o.name)]]).filter((e): e is [string, string] => e[1] !== undefined));
      return {
        ok: run.result === 'Succeeded' || run.result === 'SucceededWithIssues',
        report: JSON.parse(readFileSync(reportPath, 'utf8')) as TransferReport,
        outputs,
        summary: run.summaries[0] ? readFileSync(run.summaries[0], 'utf8') : '',
        // What the agent shows: everything but the commands that register secrets and task-lib's trace of the connection.
        visible: `${run.stdout
          .split('\n')
          .filter((l) => !l.startsWith('##vso[task.setsecret]') && !l.startsWith(`##vso[task.debug]${id} auth param `))
          .join('\n')}\n${run.stderr}`,
        failure: run.resultMessage ?? '',
        describe: () => `${run.result}: ${run.resultMessage}\n${run.stdout.split('\n').slice(-60).join('\n')}\n${run.stderr}`,
        ...(run.exitAfterSignalMs !== undefined ? { exitAfterSignalMs: run.exitAfterSignalMs } : {}),
      };
    } finally {
      rmSync(run.tempDir, { recursive: true, force: true });
    }
  };
  return {
    name: 'ado',
    step: async (inputs) => stepOf(await runTask({ taskDir, inputs: taskInputs(inputs), endpoints: [connection(env.clientSecret)] })),
    stepWithWrongSecret: async (inputs) => stepOf(await runTask({ taskDir, inputs: taskInputs(inputs), endpoints: [connection('not-the-secret')] })),
    interrupted: async (inputs, whenLine) =>
      stepOf(await runTask({ taskDir, inputs: taskInputs(inputs), endpoints: [connection(env.clientSecret)], interrupt: { whenLine } })),
    secretSignIn: {
      mode: new RegExp(`^Azure sign-in failed \\(service connection '${id}', service principal [0-9a-f-]{36} with a secret\\): `),
      fix: "the connection's secret may have expired or been rotated: edit the connection and Verify it (or create a new secret)",
    },
  };
}

journeyScenario('jz', adoTask);
