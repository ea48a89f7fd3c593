/**
 * The GitHub Action: describes the runner to the core's step skeleton (core/step.ts). Reading the inputs, masking and
 * failing a bad input need nothing heavy (runner.ts); the rest (github-host.ts, over @actions/core) loads only after.
 */
import type { CancellationOptions } from '../core/cancellation';
import { type Frontend, runStep } from '../core/step';
import { failStep, maskSecret, runnerInputs, say } from './runner';

export function githubFrontend(): Frontend {
  return {
    say,
    mask: maskSecret,
    fail: failStep,
    prepare: () => ({ inputs: runnerInputs, secrets: [] }),
    open: async () => (await import('./github-host')).opened(),
  };
}

export function run(opts: CancellationOptions = {}): Promise<void> {
  return runStep(githubFrontend(), opts);
}
