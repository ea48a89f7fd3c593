/**
 * setup, check and cleanup through the bundled action (dist bundle, a runner-like environment): the scenario of
 * test/e2e/support/lifecycle.ts.
 */
import { describeRun, runAction } from './support/action-runner';
import { type FrontEnd, lifecycleScenario } from './support/lifecycle';

jest.setTimeout(300_000);

const action: FrontEnd = {
  name: 'action',
  async step(inputs) {
    const run = await runAction({ inputs });
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
      };
    } finally {
      run.cleanup();
    }
  },
};

lifecycleScenario('ga', () => Promise.resolve(action));
