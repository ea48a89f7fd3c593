/**
 * The user journey of test/e2e/support/journey.ts through the Azure DevOps task taken out of the built .vsix, with a
 * ServicePrincipal service connection, as the agent runs it (test/e2e/support/ado-runner.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from '../../ado-task/build';
import { TASK_FOLDER } from '../../ado-task/task-json';
import { type Endpoint, extractTaskFolder, runTask } from './support/ado-runner';
import { adoStep, taskInputs } from './support/front-ends';
import { type JourneyFrontEnd, journeyScenario } from './support/journey';
import { loadEnv } from './support/local-azure';

jest.setTimeout(300_000);

const work = mkdtempSync(path.join(os.tmpdir(), 'ado-journey-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

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
  return {
    name: 'ado',
    step: async (inputs) => adoStep(await runTask({ taskDir, inputs: taskInputs(inputs, id), endpoints: [connection(env.clientSecret)] }), id),
    stepWithWrongSecret: async (inputs) => adoStep(await runTask({ taskDir, inputs: taskInputs(inputs, id), endpoints: [connection('not-the-secret')] }), id),
    interrupted: async (inputs, whenLine) =>
      adoStep(await runTask({ taskDir, inputs: taskInputs(inputs, id), endpoints: [connection(env.clientSecret)], interrupt: { whenLine } }), id),
    secretSignIn: {
      mode: new RegExp(`^Azure sign-in failed \\(service connection '${id}', service principal [0-9a-f-]{36} with a secret\\): `),
      fix: "the connection's secret may have expired or been rotated: edit the connection and Verify it (or create a new secret)",
    },
  };
}

journeyScenario('jz', adoTask);
