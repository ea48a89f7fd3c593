/**
 * The run's boundary in time and sign-in, through the bundle against the local Azure's faults:
 * - `timeout-minutes` bounds everything: an answer the service holds back, and a storm of 500s with retries, each end
 *   within 15 s of the deadline, timed out, with the report naming what was in flight;
 * - a token the service forgets mid-run (401 InvalidAuthenticationToken) costs one fresh sign-in, not the run, and
 *   no token shows in a debug run's output.
 */
import { type ActionFixture, control, createActionFixture, expectNoSecrets, requestLog, seed, stepInputs } from './support/action-fixture';
import { describeRun, runAction } from './support/action-runner';

jest.setTimeout(180_000);

let f: ActionFixture;

beforeAll(async () => {
  f = await createActionFixture('bd');
});

afterEach(async () => {
  await control(f.env, 'POST', '/reset');
});

/** The export run's name for a blob base, as core/transfer/plan.ts derives it (readable part only: the hash follows). */
const runPrefix = (blobBase: string): string => `exp${`${blobBase}-1`.replace(/[^A-Za-z0-9]/g, '')}`;

it('a held answer and a retry storm each end within 15 s of timeout-minutes, timed out, naming what was in flight', async () => {
  const TIMEOUT_S = 30;
  const [image] = await seed(f, [{ repo: `bd${f.u}/app`, tag: 'v1' }]);
  const held = `held${f.u}`;
  const storm = `storm${f.u}`;
  // Only the run GETs of each step's own run: the first (does the run exist?) is held for 2 minutes; the other's all fail.
  await control(f.env, 'POST', '/faults', {
    service: 'arm',
    method: 'GET',
    path: `/pipelineRuns/${runPrefix(held)}[0-9a-f]{10}$`,
    kind: 'delay',
    delayMs: 120_000,
    count: 1,
  });
  await control(f.env, 'POST', '/faults', { service: 'arm', method: 'GET', path: `/pipelineRuns/${runPrefix(storm)}[0-9a-f]{10}$`, kind: '500', count: 1000 });
  const step = (blobName: string) =>
    runAction({
      inputs: stepInputs(f, 'export', { artifacts: image!.ref, 'blob-name': blobName, 'timeout-minutes': String(TIMEOUT_S / 60) }),
      timeoutMs: 120_000,
    });
  const [heldRun, stormRun] = await Promise.all([step(held), step(storm)]);

  for (const [run, inFlight] of [
    [heldRun, new RegExp(`in flight: GET pipeline run '${runPrefix(held)}[0-9a-f]{10}' on registry 'sourceregistry';`)],
    [
      stormRun,
      new RegExp(
        `in flight: GET pipeline run '${runPrefix(storm)}[0-9a-f]{10}' on registry 'sourceregistry' \\(retrying after HTTP 500 InternalServerError: Injected server error`,
      ),
    ],
  ] as const) {
    const seconds = run.durationMs / 1000;
    expect({ seconds: Math.round(seconds), log: seconds <= TIMEOUT_S + 15 ? '' : describeRun(run) }).toEqual({ seconds: expect.any(Number), log: '' });
    // It waited for the deadline (no early give-up) and stopped right after it.
    expect(seconds).toBeGreaterThanOrEqual(TIMEOUT_S - 1);
    expect(run.exitCode).toBe(1);
    expect(run.report?.outcome).toBe('timed-out');
    expect(run.report?.error).toMatch(/^the operation timed out after 0\.5 minutes \('timeout-minutes'\); /);
    expect(run.report?.error).toMatch(inFlight);
    expect(run.report?.error).toMatch(/a re-run with the same inputs resumes$/);
    expect(run.report?.error?.match(/timed out/g)).toHaveLength(1);
    // The step fails with that line (after the annotation of the run that did not finish in time).
    expect(run.errors.at(-1)?.message).toBe(run.report?.error);
    run.cleanup();
  }
  // The held request was abandoned by the client, not answered: the emulator saw it go.
  const log = await requestLog(f.env);
  expect(log.some((e) => e.fault === 'delay' && e.clientGone === true && e.path.includes(runPrefix(held)))).toBe(true);
  expect(log.filter((e) => e.fault === '500' && e.path.includes(runPrefix(storm))).length).toBeGreaterThan(3);
});

it('a token the service forgets mid-run gets one fresh sign-in and the run goes on; no token in a debug run', async () => {
  const [image] = await seed(f, [{ repo: `bd${f.u}/forget`, tag: 'v1' }]);
  // Runs take 4 s, so the step is polling one when the tokens are forgotten.
  await control(f.env, 'PATCH', '/knobs', { runBaseMs: 4000 });
  const started = new Date().toISOString();
  const blobName = `forget${f.u}`;
  const running = runAction({
    inputs: stepInputs(f, 'export', { artifacts: image!.ref, 'blob-name': blobName }),
    env: { RUNNER_DEBUG: '1', ACTIONS_STEP_DEBUG: 'true' },
  });
  // Once the run exists, every token issued so far is refused.
  for (let i = 0; i < 200; i++) {
    if ((await requestLog(f.env)).some((e) => e.time >= started && e.method === 'PUT' && e.path.includes(`/pipelineRuns/${runPrefix(blobName)}`))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const forgotAt = new Date().toISOString();
  expect((await control(f.env, 'POST', '/forget-tokens')).status).toBe(200);
  const run = await running;

  expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
  expect(run.report?.outcome).toBe('succeeded');
  const renewals = run.log.split('\n').filter((l) => /Azure refused the access token .*: signing in again \(auth-type service-principal\)/.test(l));
  expect(renewals).toHaveLength(1);
  // ARM refused the old token once, a new one was issued, and ARM took it.
  const after = (await requestLog(f.env)).filter((e) => e.time >= forgotAt);
  const refused = after.findIndex((e) => e.service === 'arm' && e.status === 401);
  expect(refused).toBeGreaterThanOrEqual(0);
  expect(after.slice(refused).some((e) => e.service === 'entra' && e.method === 'POST' && /oauth2\/v2\.0\/token(\?|$)/.test(e.path) && e.status === 200)).toBe(
    true,
  );
  expect(after.slice(refused).some((e) => e.service === 'arm' && e.status === 200)).toBe(true);
  expect(after.filter((e) => e.status === 401 && e.service === 'arm')).toHaveLength(1);
  // A debug run: the SDK's log is in ::debug:: lines, and neither the old nor the new token shows anywhere.
  expect(run.commands.some((c) => c.command === 'debug')).toBe(true);
  expectNoSecrets(run, f);
  run.cleanup();
});
