/**
 * setup, check and cleanup through the Azure DevOps task taken out of the built .vsix, with a ServicePrincipal service
 * connection: the scenario of test/e2e/support/lifecycle.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTask } from './support/ado-runner';
import { adoStep, spConnection, taskFromVsix, taskInputs } from './support/front-ends';
import { type FrontEnd, lifecycleScenario } from './support/lifecycle';
import { loadEnv } from './support/local-azure';

jest.setTimeout(300_000);

const work = mkdtempSync(path.join(os.tmpdir(), 'ado-lifecycle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function adoTask(): Promise<FrontEnd> {
  const env = loadEnv();
  const taskDir = taskFromVsix(work);
  const id = randomUUID();
  const connection = spConnection(env, id);
  return {
    name: 'ado',
    step: async (inputs) => adoStep(await runTask({ taskDir, inputs: taskInputs(inputs, id), endpoints: [connection] }), id),
  };
}

lifecycleScenario('az', adoTask);
