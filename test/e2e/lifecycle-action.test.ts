/**
 * setup, check and cleanup through the bundled action (dist bundle, a runner-like environment): the scenario of
 * test/e2e/support/lifecycle.ts.
 */
import { runAction } from './support/action-runner';
import { actionStep } from './support/front-ends';
import { type FrontEnd, lifecycleScenario } from './support/lifecycle';

jest.setTimeout(300_000);

const action: FrontEnd = {
  name: 'action',
  step: async (inputs) => actionStep(await runAction({ inputs })),
};

lifecycleScenario('ga', () => Promise.resolve(action));
