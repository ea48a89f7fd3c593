/**
 * The user journey of test/e2e/support/journey.ts through the Azure DevOps task taken out of the built .vsix, with a
 * ServicePrincipal service connection, as the agent runs it (test/e2e/support/ado-runner.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Endpoint, runTask } from './support/ado-runner';
import { adoStep, spConnection, taskFromVsix, taskInputs } from './support/front-ends';
import { type JourneyFrontEnd, journeyScenario } from './support/journey';
import { loadEnv } from './support/local-azure';

jest.setTimeout(300_000);

const work = mkdtempSync(path.join(os.tmpdir(), 'ado-journey-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function adoTask(): Promise<JourneyFrontEnd> {
  const env = loadEnv();
  const taskDir = taskFromVsix(work);
  const id = randomUUID();
  const connection = (key: string): Endpoint => spConnection(env, id, key);
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
