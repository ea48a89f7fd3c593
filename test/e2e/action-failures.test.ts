/**
 * How failures reach the workflow: a missing artifact with and without ContinueOnErrors, throttling and
 * unavailability from Azure (retried to success), and a pipeline run that fails with the service's message.
 */
import type { SeededImage } from '../local-azure/seed';
import {
  type ActionFixture,
  control,
  createActionFixture,
  expectNoSecrets,
  jsonOutput,
  requestsSince,
  seed,
  stepInputs,
  targetDigest,
} from './support/action-fixture';
import { describeRun, runAction } from './support/action-runner';

jest.setTimeout(300_000);

let f: ActionFixture;
let app: SeededImage;

beforeAll(async () => {
  f = await createActionFixture('fl');
  [app] = (await seed(f, [{ repo: `act${f.u}/app`, tag: 'v1' }])) as [SeededImage];
});

const missing = (): string => `act${f.u}/app:missing`;

describe('a missing artifact', () => {
  it('with ContinueOnErrors: the step succeeds with a warning, and failed-artifacts names it', async () => {
    const run = await runAction({
      inputs: stepInputs(f, 'transfer', {
        artifacts: `${app.ref}\n${missing()}`,
        'export-options': 'ContinueOnErrors',
        'import-options': 'ContinueOnErrors',
        'export-pipeline': `exp${f.u}coe`,
        'import-pipeline': `imp${f.u}coe`,
      }),
    });
    expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
    expect(run.report?.outcome).toBe('partial');
    expect(jsonOutput<{ artifact: string; reason: string }[]>(run, 'failed-artifacts')).toEqual([{ artifact: missing(), reason: expect.any(String) }]);
    expect(jsonOutput<string[]>(run, 'imported-artifacts')).toEqual([`${app.ref}@${app.digest}`]);
    expect(run.warnings.some((w) => w.message.includes(missing()))).toBe(true);
    expect(run.errors).toEqual([]);
    expect(await targetDigest(f, app.ref)).toBe(app.digest);
    expectNoSecrets(run, f);
    run.cleanup();
  });

  it('without: the step fails, naming it', async () => {
    const run = await runAction({
      inputs: stepInputs(f, 'transfer', { artifacts: `${app.ref}\n${missing()}`, 'export-pipeline': `exp${f.u}strict`, 'import-pipeline': `imp${f.u}strict` }),
    });
    expect(run.exitCode).toBe(1);
    expect(run.report?.outcome).toBe('failed');
    expect(run.errors.length).toBeGreaterThan(0);
    expect(run.errors.some((e) => e.message.includes(missing()))).toBe(true);
    expect(run.report?.error).toContain(missing());
    expectNoSecrets(run, f);
    run.cleanup();
  });
});

it('retries injected 429 (with Retry-After) and 503 answers from ARM and succeeds', async () => {
  const exp = `exp${f.u}flt`;
  const imp = `imp${f.u}flt`;
  const faults = [
    { service: 'arm', method: 'PUT', path: `/exportPipelines/${exp}$`, kind: '429', retryAfterSeconds: 1, count: 1 },
    { service: 'arm', method: 'GET', path: `/exportPipelines/${exp}$`, kind: '503', count: 1 },
    { service: 'arm', method: 'PUT', path: `/importPipelines/${imp}$`, kind: '503', retryAfterSeconds: 1, count: 1 },
    { service: 'arm', method: 'GET', path: `/pipelineRuns/impfaults${f.u}`, kind: '429', retryAfterSeconds: 1, count: 1 },
  ];
  // Every fault names this test's own pipelines or runs: faults are global to the local Azure.
  for (const fault of faults) expect((await control(f.env, 'POST', '/faults', fault)).status).toBe(200);
  const started = Date.now();
  const run = await runAction({
    inputs: stepInputs(f, 'transfer', { artifacts: app.ref, 'export-pipeline': exp, 'import-pipeline': imp, 'blob-name': `faults${f.u}` }),
  });
  expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
  expect(run.report?.outcome).toBe('succeeded');
  const log = await requestsSince(f.env, started, [exp, imp, `faults${f.u}`]);
  const faulted = log.filter((e) => e.fault !== undefined).map((e) => `${e.method} ${e.status}`);
  expect(faulted.sort()).toEqual(['GET 429', 'GET 503', 'PUT 429', 'PUT 503']);
  // Each faulted request was retried: the same request again, answered by the service (a GET of a run not made yet is a 404).
  for (const e of log.filter((x) => x.fault !== undefined)) {
    const retried = log.find((x) => x !== e && x.path === e.path && x.method === e.method && x.fault === undefined && Date.parse(x.time) >= Date.parse(e.time));
    expect({ faulted: `${e.method} ${e.path}`, retriedWith: retried && [200, 201, 404].includes(retried.status) }).toEqual({
      faulted: `${e.method} ${e.path}`,
      retriedWith: true,
    });
  }
  expectNoSecrets(run, f);
  run.cleanup();
});

it("fails with the run's pipelineRunErrorMessage word for word", async () => {
  const exp = `exp${f.u}rf`;
  const message = `Injected: the storage account behind ${exp} is locked by a policy (local Azure)`;
  expect((await control(f.env, 'POST', '/run-failures', { match: `^${exp}$`, message, count: 1 })).status).toBe(200);
  const run = await runAction({ inputs: stepInputs(f, 'export', { artifacts: app.ref, 'export-pipeline': exp, 'blob-name': `runfail${f.u}` }) });
  expect(run.exitCode).toBe(1);
  expect(run.report?.outcome).toBe('failed');
  expect(run.errors.some((e) => e.message.includes(message))).toBe(true);
  const runs = jsonOutput<{ status: string; error: string | null }[]>(run, 'runs');
  expect(runs).toEqual([expect.objectContaining({ status: 'failed', error: message })]);
  expect(run.summary).toContain(message);
  expectNoSecrets(run, f);
  run.cleanup();
});
