/**
 * The emulator held against recorded ARM traffic (docs/local-azure.md#recording-and-replay): each recording in
 * test/e2e/recordings/ replayed by test/live/replay.ts against a fresh local Azure of this file's own (port offset 3700),
 * every answer's status and body shape compared with the recorded one. A recording made against real Azure goes in the
 * same folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalAzureEnv } from '../local-azure/config';
import type { Recording } from '../live/recording';
import { type ReplayReport, shapeDifferences } from '../live/replay';
import { REPO_ROOT } from './support/action-runner';

jest.setTimeout(300_000);

const RECORDINGS = path.join(__dirname, 'recordings');
const files = readdirSync(RECORDINGS).filter((f) => f.endsWith('.json'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'replay-azure-'));
const cli = (cmd: string): void =>
  void execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'local-azure', 'cli.ts'), cmd], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOCAL_AZURE_DIR: dir, LOCAL_AZURE_PORT_OFFSET: '3700' },
    stdio: 'ignore',
  });

beforeAll(() => cli('up'));
afterAll(() => {
  cli('down');
  rmSync(dir, { recursive: true, force: true });
});

it('has a recording to hold the emulator against, with ARM traffic of a whole transfer', () => {
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const rec = JSON.parse(readFileSync(path.join(RECORDINGS, f), 'utf8')) as Recording;
    const kinds = rec.interactions.map((i) => `${i.request.method} ${/\/(exportPipelines|importPipelines|pipelineRuns)\//.exec(i.request.url)?.[1] ?? ''}`);
    expect(kinds).toEqual(expect.arrayContaining(['PUT exportPipelines', 'PUT importPipelines', 'PUT pipelineRuns', 'GET pipelineRuns']));
  }
});

describe.each(files)('%s', (file) => {
  it('is answered by the emulator with every recorded status and body shape', () => {
    const env = JSON.parse(readFileSync(path.join(dir, 'env.json'), 'utf8')) as LocalAzureEnv;
    const r = spawnSync(
      process.execPath,
      [
        '--require',
        path.join(REPO_ROOT, 'test', 'local-azure', 'loopback-names.cjs'),
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'test', 'live', 'replay.ts'),
        path.join(RECORDINGS, file),
        path.join(dir, 'env.json'),
      ],
      { cwd: REPO_ROOT, env: { ...process.env, NODE_EXTRA_CA_CERTS: env.caCertPath }, encoding: 'utf8' },
    );
    expect({ exit: r.status, stderr: r.stderr.trim() }).toEqual({ exit: 0, stderr: '' });
    const report = JSON.parse(r.stdout) as ReplayReport;
    expect(report.mismatches).toEqual([]);
    expect(report.replayed).toBeGreaterThanOrEqual(10);
  });
});

it('the shape check sees a key missing, a key added and a value of another type, at any depth', () => {
  const recorded = { id: 'x', properties: { provisioningState: 'Succeeded', response: { importedArtifacts: ['a'] }, options: [] } };
  expect(shapeDifferences(recorded, { id: 'y', properties: { provisioningState: 'Running', response: { importedArtifacts: ['b'] }, options: [] } })).toEqual(
    [],
  );
  expect(shapeDifferences(recorded, { id: 'x', extra: 1, properties: { provisioningState: 5, response: { importedArtifacts: [{}] }, options: [] } })).toEqual([
    '$.extra: not recorded, present now',
    '$.properties.provisioningState: string recorded, number now',
    '$.properties.response.importedArtifacts[]: string recorded, object now',
  ]);
  expect(shapeDifferences(recorded, { id: 'x', properties: { provisioningState: 'Succeeded', options: [] } })).toEqual([
    '$.properties.response: recorded, missing now',
  ]);
});
