/**
 * setup, check and cleanup through the Azure DevOps task taken out of the built .vsix, with a ServicePrincipal service
 * connection: the scenario of test/e2e/support/lifecycle.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from '../../ado-task/build';
import { TASK_FOLDER } from '../../ado-task/task-json';
import { camelCase, INPUTS, OUTPUTS } from '../../core/inputs';
import type { TransferReport } from '../../core/report';
import { type Endpoint, extractTaskFolder, runTask } from './support/ado-runner';
import { type FrontEnd, lifecycleScenario } from './support/lifecycle';
import { loadEnv } from './support/local-azure';

jest.setTimeout(300_000);

const work = mkdtempSync(path.join(os.tmpdir(), 'ado-lifecycle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const GITHUB_ONLY = new Set(INPUTS.filter((i) => i.githubOnly).map((i) => i.name));

async function adoTask(): Promise<FrontEnd> {
  const env = loadEnv();
  const built = build({ outDir: path.join(work, 'build'), package: true, generate: false });
  const taskDir = extractTaskFolder(built.vsixPath!, TASK_FOLDER, path.join(work, 'agent', 'tasks'));
  const id = randomUUID();
  const connection: Endpoint = {
    id,
    url: `${env.armEndpoint}/`,
    scheme: 'ServicePrincipal',
    parameters: { serviceprincipalid: env.clientId, serviceprincipalkey: env.clientSecret, tenantid: env.tenantId, authenticationType: 'spnKey' },
    data: { environment: 'AzureStack', subscriptionId: env.subscriptionId, subscriptionName: 'local', scopeLevel: 'Subscription' },
  };
  return {
    name: 'ado',
    async step(inputs) {
      const task: Record<string, string> = { azureSubscription: id };
      for (const [k, v] of Object.entries(inputs)) if (!GITHUB_ONLY.has(k) && k !== 'subscription-id') task[camelCase(k)] = v;
      const run = await runTask({ taskDir, inputs: task, endpoints: [connection] });
      try {
        const reportPath = run.outputs['reportPath'];
        if (!reportPath) throw new Error(`the task wrote no report:\n${run.stdout}\n${run.stderr}`);
        const outputs = Object.fromEntries(
          OUTPUTS.map((o) => [o.name, run.outputs[camelCase(o.name)]]).filter((e): e is [string, string] => e[1] !== undefined),
        );
        // What the agent shows, debug lines included: everything but the commands that register secrets, and task-lib's own
        // trace of the connection's parameters (the agent masks the connection's secrets; ours are registered before use).
        const visible = run.stdout
          .split('\n')
          .filter((l) => !l.startsWith('##vso[task.setsecret]') && !l.startsWith(`##vso[task.debug]${id} auth param `))
          .join('\n');
        return {
          ok: run.result === 'Succeeded' || run.result === 'SucceededWithIssues',
          report: JSON.parse(readFileSync(reportPath, 'utf8')) as TransferReport,
          outputs,
          summary: run.summaries[0] ? readFileSync(run.summaries[0], 'utf8') : '',
          visible: `${visible}\n${run.stderr}`,
          failure: run.resultMessage ?? '',
          describe: () => `${run.result}: ${run.resultMessage}\n${run.stdout.split('\n').slice(-60).join('\n')}\n${run.stderr}`,
        };
      } finally {
        rmSync(run.tempDir, { recursive: true, force: true });
      }
    },
  };
}

lifecycleScenario('az', adoTask);
