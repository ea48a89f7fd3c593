/**
 * action/main.ts with the recording stand-in for @actions/core (test/unit/fakes/actions-core.ts) and the core's runOperation/createServices replaced:
 * masking comes first, a bad input is one setFailed line, and each report outcome is rendered as outputs, the
 * report file, the summary, annotations and the step result; cancellation leaves a report within the deadline.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../action/main';
import { createServices } from '../../core/azure/services';
import { ConfigError } from '../../core/errors';
import type { TransferReport } from '../../core/report';
import { runOperation } from '../../core/run';
// The same module main.ts gets for '@actions/core' (jest.config.js moduleNameMapper).
import { type Call, fake } from './fakes/actions-core';
import { parseWorkflowCommands } from '../e2e/support/workflow-commands';

jest.mock('../../core/azure/services', () => ({ createServices: jest.fn() }));
jest.mock('../../core/run', () => ({ runOperation: jest.fn() }));

const mockedRun = jest.mocked(runOperation);
const mockedServices = jest.mocked(createServices);

const SECRET = 'very-secret-Client-Value~123';
const GUID = '00000000-0000-0000-0000-000000000001';
const REG = (name: string): string => `/subscriptions/${GUID}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/${name}`;
const baseInputs: Record<string, string> = {
  operation: 'export',
  'auth-type': 'service-principal',
  'client-id': GUID,
  'tenant-id': GUID,
  'client-secret': SECRET,
  'source-registry': REG('sourcereg'),
  artifacts: 'app:v1\nlib:v2',
};

function report(over: Partial<TransferReport> = {}): TransferReport {
  return {
    operation: 'export',
    dryRun: false,
    outcome: 'succeeded',
    startTime: '2026-11-21T10:00:00.000Z',
    finishTime: '2026-11-21T10:01:00.000Z',
    artifacts: [
      { artifact: 'app:v1', sourceDigest: `sha256:${'a'.repeat(64)}`, batch: 1, exportRun: 'expx1', blob: 'b-1', result: 'exported' },
      { artifact: 'lib:v2', sourceDigest: `sha256:${'b'.repeat(64)}`, batch: 1, exportRun: 'expx1', blob: 'b-1', result: 'exported' },
    ],
    runs: [{ name: 'expx1', pipeline: 'acrtransferexport', kind: 'export', status: 'succeeded', blob: 'b-1', artifacts: ['app:v1', 'lib:v2'] }],
    blobs: [{ name: 'b-1' }],
    checks: [],
    changes: [],
    usage: [],
    warnings: [],
    ...over,
  };
}

let tempDir: string;
const savedEnv = { ...process.env };

beforeEach(() => {
  fake.reset();
  // The step's own workflow commands (runner.ts) go to stdout: record them in the same ordered log as the fake's calls.
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    fake.calls.push(['stdout', String(chunk)]);
    return true;
  });
  mockedRun.mockReset();
  mockedServices.mockReset();
  mockedServices.mockResolvedValue({ services: {} as never, cloud: {} as never, auth: { kind: 'service-principal', reason: 'test' } });
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'action-main-'));
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k];
  Object.assign(process.env, { RUNNER_TEMP: tempDir, GITHUB_STEP_SUMMARY: path.join(tempDir, 'step-summary.txt'), GITHUB_ACTION: 'transfer-step' });
  setInputs(baseInputs);
  process.exitCode = undefined;
});

afterEach(() => {
  jest.restoreAllMocks();
  rmSync(tempDir, { recursive: true, force: true });
});

afterAll(() => {
  process.env = savedEnv;
  process.exitCode = undefined;
});

function setInputs(inputs: Record<string, string>): void {
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v;
}

const calls = (name: string): unknown[][] => fake.of(name);

/** Workflow commands the step wrote to stdout itself (before @actions/core loads), in the order of every call. */
const stdoutCommands = (name: string): string[] =>
  parseWorkflowCommands(
    fake
      .of('stdout')
      .map((c) => String(c[0]))
      .join(''),
  )
    .filter((c) => c.command === name)
    .map((c) => c.message);

describe('run: inputs and masking', () => {
  it('masks the client secret, and a creds JSON with the secret inside it, before anything else is printed', async () => {
    const creds = JSON.stringify({ clientId: GUID, clientSecret: 'json-Secret-456', tenantId: GUID }, null, 2);
    setInputs({ creds });
    mockedRun.mockResolvedValue(report());
    await run();
    const isMask = (c: Call): boolean => c[0] === 'stdout' && String(c[1]).startsWith('::add-mask::');
    const firstNonMask = fake.calls.findIndex((c) => !isMask(c));
    expect(firstNonMask).toBeGreaterThan(0);
    const masks = parseWorkflowCommands(
      fake.calls
        .slice(0, firstNonMask)
        .map((c) => String(c[1]))
        .join(''),
    ).map((c) => c.message);
    expect(masks).toEqual(expect.arrayContaining([SECRET, creds, 'json-Secret-456']));
    expect(JSON.stringify(fake.calls.slice(firstNonMask))).not.toContain('json-Secret-456');
  });

  it('masks each line of a multi-line PEM, except its BEGIN/END markers', async () => {
    // A throwaway key made here: no key material is committed.
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim();
    const [begin, ...body] = pem.split('\n');
    setInputs({ 'client-certificate': pem });
    mockedRun.mockResolvedValue(report());
    await run();
    const masked = stdoutCommands('add-mask');
    expect(masked).toEqual(expect.arrayContaining([pem, ...body.filter((l) => !l.startsWith('-----'))]));
    expect(masked).not.toContain(begin);
  });

  it('fails a bad input with one setFailed line naming it, and never reaches Azure', async () => {
    setInputs({ 'export-pipeline': 'bad-name' });
    await run();
    expect(stdoutCommands('error')).toEqual(["Input 'export-pipeline' is 'bad-name': it must be 5 to 50 letters or digits (no hyphens or underscores)"]);
    // Nothing else was printed, and @actions/core was never needed.
    expect(fake.calls.filter((c) => c[0] !== 'stdout' || !String(c[1]).startsWith('::add-mask::'))).toEqual([
      ['stdout', "::error::Input 'export-pipeline' is 'bad-name': it must be 5 to 50 letters or digits (no hyphens or underscores)\n"],
    ]);
    expect(calls('setOutput')).toEqual([]);
    expect(mockedServices).not.toHaveBeenCalled();
    expect(process.exitCode).toBe(1);
  });
});

describe('run: rendering the report', () => {
  it('sets every output, writes the JSON report to RUNNER_TEMP and the summary, and succeeds', async () => {
    mockedRun.mockResolvedValue(report());
    await run();
    const outputs = fake.outputs();
    expect(Object.keys(outputs).sort()).toEqual(['blobs', 'changes', 'checks', 'failed-artifacts', 'imported-artifacts', 'referrers', 'report-path', 'runs']);
    expect(JSON.parse(outputs['blobs']!)).toEqual(['b-1']);
    expect(JSON.parse(outputs['runs']!)[0]).toMatchObject({ name: 'expx1', status: 'succeeded' });
    expect(outputs['report-path']).toBe(path.join(tempDir, 'acr-transfer-report-transfer-step.json'));
    expect(JSON.parse(readFileSync(outputs['report-path']!, 'utf8'))).toEqual(report());
    expect(fake.summaryText).toContain('## acr-transfer: export');
    expect(calls('setFailed')).toEqual([]);
    expect(process.exitCode).toBeUndefined();
  });

  it('ContinueOnErrors (partial): warning annotations naming the failed artifact, failed-artifacts, and the step passes', async () => {
    const artifacts = [...report().artifacts.slice(0, 1), { artifact: 'lib:v2', result: 'failed' as const, reason: 'not found in the source registry' }];
    mockedRun.mockResolvedValue(report({ outcome: 'partial', artifacts }));
    await run();
    expect(JSON.parse(fake.outputs()['failed-artifacts']!)).toEqual([{ artifact: 'lib:v2', reason: 'not found in the source registry' }]);
    expect(calls('warning').map((c) => c[0])).toEqual(expect.arrayContaining(['lib:v2: not found in the source registry']));
    expect(calls('error')).toEqual([]);
    expect(calls('setFailed')).toEqual([]);
  });

  it('failed: error annotations for failed runs and artifacts, then setFailed with the report error', async () => {
    const runs = [{ ...report().runs[0]!, status: 'failed' as const, error: 'Blob already exists (service message)' }];
    const artifacts = report().artifacts.map((a) => ({ ...a, result: 'failed' as const, reason: 'run expx1 failed' }));
    mockedRun.mockResolvedValue(report({ outcome: 'failed', runs, artifacts, error: "export run 'expx1' failed: Blob already exists (service message)" }));
    await run();
    const errors = calls('error').map((c) => c[0] as string);
    expect(errors[0]).toContain('Blob already exists (service message)');
    expect(errors).toEqual(expect.arrayContaining(['app:v1: run expx1 failed', 'lib:v2: run expx1 failed']));
    expect(calls('setFailed')).toEqual([["export run 'expx1' failed: Blob already exists (service message)"]]);
  });

  it('caps annotations and points to the summary for the rest', async () => {
    const artifacts = Array.from({ length: 25 }, (_, i) => ({ artifact: `app:v${i}`, result: 'failed' as const, reason: 'nope' }));
    mockedRun.mockResolvedValue(report({ outcome: 'failed', artifacts, error: '25 artifacts failed' }));
    await run();
    expect(calls('error')).toHaveLength(11);
    expect(calls('error').at(-1)![0]).toMatch(/and 15 more failures/);
  });

  it('an error before the operation could report (e.g. sign-in) still writes a failed report and fails with its message', async () => {
    mockedServices.mockRejectedValue(new Error('invalid_client: AADSTS7000215 bad secret https://x/?sig=abc123'));
    await run();
    expect(calls('setFailed')).toEqual([['invalid_client: AADSTS7000215 bad secret https://x/?sig=REDACTED']]);
    const written = JSON.parse(readFileSync(fake.outputs()['report-path']!, 'utf8')) as TransferReport;
    expect(written).toMatchObject({
      outcome: 'failed',
      operation: 'export',
      artifacts: [
        { artifact: 'app:v1', result: 'pending' },
        { artifact: 'lib:v2', result: 'pending' },
      ],
    });
  });
});

describe('run: cancellation', () => {
  const signal: NodeJS.Signals = 'SIGUSR2';

  it('aborts the operation on the signal and renders the cancelled report it returns', async () => {
    mockedRun.mockImplementation(
      (_s, host) =>
        new Promise((resolve) => {
          host.budget.signal.addEventListener('abort', () =>
            resolve(report({ outcome: 'cancelled', error: 'the operation was cancelled; still running on the service: expx1' })),
          );
        }),
    );
    const exit = jest.fn();
    const done = run({ signals: [signal], graceMs: 2000, exit });
    await new Promise((r) => setTimeout(r, 20));
    process.emit(signal, signal);
    await done;
    expect(calls('setFailed')).toEqual([['the operation was cancelled; still running on the service: expx1']]);
    expect(fake.outputs()['report-path']).toBeDefined();
    expect(exit).not.toHaveBeenCalled();
    expect(process.listenerCount(signal)).toBe(0);
  });

  it('when the operation does not unwind, the deadline writes what is known and exits', async () => {
    mockedRun.mockImplementation(() => new Promise(() => undefined));
    const exited = new Promise<number>((resolve) => {
      void run({ signals: [signal], graceMs: 100, exit: resolve });
    });
    await new Promise((r) => setTimeout(r, 20));
    const sent = Date.now();
    process.emit(signal, signal);
    expect(await exited).toBe(1);
    expect(Date.now() - sent).toBeLessThan(1500);
    const written = JSON.parse(readFileSync(fake.outputs()['report-path']!, 'utf8')) as TransferReport;
    expect(written.outcome).toBe('cancelled');
    expect(written.error).toMatch(/Cancelled \(SIGUSR2\).*re-run/);
    expect(calls('setFailed')).toHaveLength(1);
    expect(fake.summaryText).toContain('cancelled');
  });
});

describe('run: the timeout-minutes deadline', () => {
  const timeout = { ...baseInputs, 'timeout-minutes': '0.002' }; // 120 ms

  it('aborts the operation with a time-out that names what was in flight', async () => {
    setInputs(timeout);
    let reason: unknown;
    mockedRun.mockImplementation(
      (_s, host) =>
        new Promise((resolve) => {
          host.budget.inFlight.start("GET export run 'expx1' on registry 'sourcereg'");
          host.budget.signal.addEventListener('abort', () => {
            reason = host.budget.signal.reason;
            resolve(report({ outcome: 'timed-out', error: 'timed out' }));
          });
        }),
    );
    const exit = jest.fn();
    await run({ signals: ['SIGUSR2'], graceMs: 2000, exit });
    expect(reason).toMatchObject({
      name: 'CancelledError',
      reason: 'timeout',
      message: "the operation timed out after 0.002 minutes ('timeout-minutes')",
      inFlight: ["GET export run 'expx1' on registry 'sourcereg'"],
    });
    expect(exit).not.toHaveBeenCalled();
  });

  it('when the operation does not unwind, the step writes a timed-out report of what was in flight and exits within the grace', async () => {
    setInputs(timeout);
    mockedRun.mockImplementation((_s, host) => {
      host.budget.inFlight.start("GET export run 'expx1' on registry 'sourcereg'");
      return new Promise(() => undefined);
    });
    const started = Date.now();
    const code = await new Promise<number>((resolve) => void run({ signals: ['SIGUSR2'], graceMs: 100, exit: resolve }));
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(1500);
    const written = JSON.parse(readFileSync(fake.outputs()['report-path']!, 'utf8')) as TransferReport;
    expect(written.outcome).toBe('timed-out');
    expect(written.error).toBe(
      "the operation timed out after 0.002 minutes ('timeout-minutes'); in flight: GET export run 'expx1' on registry 'sourcereg'; a re-run with the same inputs resumes",
    );
    expect(calls('setFailed')).toEqual([[written.error]]);
  });

  it('a host the cloud does not name fails the step in one line, without a report', async () => {
    mockedServices.mockRejectedValue(new ConfigError("Input 'export-sas-secret-uri' is 'https://evil.example/secrets/x': its host is not a Key Vault"));
    await run({ signals: ['SIGUSR2'], exit: jest.fn() });
    expect(stdoutCommands('error')).toEqual(["Input 'export-sas-secret-uri' is 'https://evil.example/secrets/x': its host is not a Key Vault"]);
    expect(calls('setFailed')).toEqual([]);
    expect(mockedRun).not.toHaveBeenCalled();
    expect(fake.outputs()['report-path']).toBeUndefined();
  });
});
