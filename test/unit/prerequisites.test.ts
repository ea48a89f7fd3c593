/**
 * A test whose prerequisite is missing (skopeo, Node 24) skips locally, saying what is missing, but fails under CI: a CI
 * run that reports "1 skipped" and stays green hides a test that never ran. Checked on a real jest run of a fixture.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

function runFixture(ci: string | undefined): { status: number | null; result: JestJson } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['CI'];
  if (ci !== undefined) env['CI'] = ci;
  const r = spawnSync(
    process.execPath,
    [
      require.resolve('jest/bin/jest'),
      '--rootDir',
      ROOT,
      '--testMatch',
      '**/test/unit/fixtures/missing-prerequisite.fixture.ts',
      '--ci',
      '--no-cache',
      '--json',
    ],
    { cwd: ROOT, env, encoding: 'utf8' },
  );
  return { status: r.status, result: JSON.parse(r.stdout) as JestJson };
}

it('skips locally, naming what is missing and how to get it', () => {
  const { status, result } = runFixture(undefined);
  expect(status).toBe(0);
  expect([result.numPassedTests, result.numFailedTests, result.numPendingTests]).toEqual([0, 0, 1]);
  expect(result.testResults[0]?.assertionResults.map((a) => [a.status, a.title])).toEqual([
    ['pending', 'frobnicates [skipped: the frobnicator is missing; install it with apt-get install frobnicator]'],
  ]);
});

it('fails under CI=true', () => {
  const { status, result } = runFixture('true');
  expect(status).toBe(1);
  expect([result.numPassedTests, result.numFailedTests, result.numPendingTests]).toEqual([0, 1, 0]);
  expect(result.testResults[0]?.assertionResults[0]?.failureMessages.join('\n')).toContain(
    'the frobnicator is missing, and CI=true: a CI run must not skip this test; install it with apt-get install frobnicator',
  );
});
