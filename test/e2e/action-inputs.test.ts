/**
 * A bad input fails the step with one line naming the input, the value and what is allowed, before anything talks to
 * Azure. Every rule has its row in test/unit/settings.test.ts; these few prove the path through the bundle: the local
 * Azure's request log must show no request at all (no token, no ARM read, no PUT) from the step. Test files run one at
 * a time (jest maxWorkers 1), so any request in the window would be the step's.
 */
import { type ActionFixture, createActionFixture, expectNoSecrets, requestLog, stepInputs } from './support/action-fixture';
import { runAction } from './support/action-runner';

jest.setTimeout(120_000);

let f: ActionFixture;

beforeAll(async () => {
  f = await createActionFixture('in');
});

const cases: readonly { name: string; inputs: () => Record<string, string>; error: RegExp }[] = [
  {
    name: 'a pipeline name with a hyphen',
    inputs: () => ({ 'export-pipeline': 'bad-pipeline' }),
    error: /^Input 'export-pipeline' is 'bad-pipeline': it must be 5 to 50 letters or digits/,
  },
  {
    name: 'a malformed artifact',
    inputs: () => ({ artifacts: `act${f.u}/app:v1\nApp Server:latest` }),
    error: /^Input 'artifacts' is 'App Server:latest': each artifact must be repo, repo:tag, repo@sha256:/,
  },
  {
    name: 'an unknown operation',
    inputs: () => ({ operation: 'teleport' }),
    error: /^Input 'operation' is 'teleport': it must be one of export, import, copy, transfer, setup, check, cleanup$/,
  },
];

it.each(cases)('$name: one error line, no request to Azure', async ({ inputs, error }) => {
  const since = new Date().toISOString();
  const run = await runAction({ inputs: stepInputs(f, 'transfer', { artifacts: `act${f.u}/app:v1`, ...inputs() }) });
  expect(run.exitCode).toBe(1);
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]!.message).toMatch(error);
  // Nothing else in the log: no stack trace, no half-started work.
  expect(run.log.split('\n').filter((l) => l.trim() !== '')).toEqual([`::error::${run.errors[0]!.message}`]);
  expect(run.stderr).toBe('');
  expect(run.outputs).toEqual({});
  expect(run.summary).toBe('');
  expectNoSecrets(run, f);
  // The step's window in the request log: nothing but the control API (which this test itself calls). The emulator
  // appends log lines asynchronously; a short pause lets any late line land.
  await new Promise((r) => setTimeout(r, 200));
  const during = (await requestLog(f.env)).filter((e) => e.time >= since && e.service !== 'control');
  expect(during).toEqual([]);
  run.cleanup();
});
