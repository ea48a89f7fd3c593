/**
 * The user journey of test/e2e/support/journey.ts through the bundled action (a runner-like environment), and what only
 * the action has: auth-type azure-cli on a runner without the Azure CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runAction } from './support/action-runner';
import { actionStep } from './support/front-ends';
import { type JourneyFrontEnd, journeyScenario } from './support/journey';
import { loadEnv } from './support/local-azure';

jest.setTimeout(300_000);

const action: JourneyFrontEnd = {
  name: 'action',
  step: async (inputs) => actionStep(await runAction({ inputs })),
  stepWithWrongSecret: async (inputs) => actionStep(await runAction({ inputs: { ...inputs, 'client-secret': 'not-the-secret' } })),
  interrupted: async (inputs, whenLine) => actionStep(await runAction({ inputs, interrupt: { whenLine } })),
  secretSignIn: {
    mode: /^Azure sign-in failed \(service principal with a client secret \(client-id [0-9a-f-]{36}, tenant-id [0-9a-f-]{36}\)\): /,
    fix: "check 'client-secret' (it may have expired or been rotated), 'client-id' and 'tenant-id'",
  },
};

journeyScenario('jg', () => Promise.resolve(action));

it("auth-type azure-cli on a runner without 'az' says so in one line, instead of 'run az login'", async () => {
  const env = loadEnv();
  const empty = mkdtempSync(path.join(os.tmpdir(), 'no-az-'));
  try {
    const run = await runAction({
      inputs: { operation: 'check', 'auth-type': 'azure-cli', 'resource-manager-endpoint': env.armEndpoint, 'subscription-id': env.subscriptionId },
      env: { PATH: empty },
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors.map((e) => e.message)).toEqual([
      "auth-type 'azure-cli' needs the Azure CLI, and 'az' is not on PATH: install it and sign in (an azure/login step), or choose another auth-type",
    ]);
    expect(run.log).not.toMatch(/az login'|Please run 'az login'/);
    run.cleanup();
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
