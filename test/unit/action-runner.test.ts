/**
 * The e2e harness against a stand-in action that uses the real @actions/core: the parsed outputs, commands, state,
 * env, path and summary must be what the toolkit wrote, and signals must follow the runner's schedule.
 */
import * as path from 'node:path';
import { runAction } from '../e2e/support/action-runner';

jest.setTimeout(30_000);
const entry = path.join(__dirname, 'fixtures', 'fake-action.mjs');

describe('runAction', () => {
  it('passes inputs as INPUT_ variables with hyphens, fills in action.yml defaults, and parses every file and command', async () => {
    const run = await runAction({ entry, inputs: { mode: 'outputs', 'client-secret': 'Sup3r-S3cret', 'source-registry': 'srcreg' } });
    expect(run.exitCode).toBe(1);
    expect(run.log).toContain('default dry-run=false hyphen=srcreg');
    expect(run.outputs).toEqual({ blobs: '["b-1","b-2"]', multi: 'line 1\nline 2' });
    expect(run.state).toEqual({ runs: 'r1' });
    expect(run.exportedEnv).toEqual({ FOO: 'bar' });
    expect(run.addedPath).toEqual(['/opt/tool/bin']);
    expect(run.masks).toEqual(['Sup3r-S3cret']);
    expect(run.groups).toEqual(['Export']);
    expect(run.warnings.map((w) => [w.message, w.properties])).toEqual([['careful: a:b, c', { title: 'T:1' }]]);
    expect(run.errors.map((e) => e.message)).toEqual(['boom\nsecond line', 'failed on purpose']);
    expect(run.notices.map((n) => n.message)).toEqual(['fyi']);
    expect(run.summary).toContain('<h1>Report</h1>');
    expect(run.summary).toContain('| a | b |');
    expect(run.report).toBeUndefined();
    // The harness does not mask (the runner does): the secret is in the raw log, which is what secret checks look at.
    expect(run.log).toContain('secret=Sup3r-S3cret');
    expect(run.log).not.toContain('::add-mask::');
    run.cleanup();
  });

  it('sends SIGINT when a line matches and measures the time to exit', async () => {
    const run = await runAction({ entry, inputs: { mode: 'wait-for-signal', 'exit-delay-ms': '300' }, interrupt: { whenLine: /^ready$/ } });
    expect(run.signalsSent.map((s) => s.signal)).toEqual(['SIGINT']);
    expect(run.exitCode).toBe(3);
    expect(run.log).toContain('got SIGINT');
    expect(run.exitAfterSignalMs).toBeGreaterThanOrEqual(250);
    expect(run.exitAfterSignalMs).toBeLessThan(5000);
    run.cleanup();
  });

  it('escalates like the runner: SIGTERM 7.5 s after SIGINT, then SIGKILL', async () => {
    const run = await runAction({ entry, inputs: { mode: 'ignore-signals' }, interrupt: { whenLine: (l) => l === 'ready' } });
    expect(run.signalsSent.map((s) => s.signal)).toEqual(['SIGINT', 'SIGTERM', 'SIGKILL']);
    expect(run.killedBy).toBe('SIGKILL');
    const [int, term] = run.signalsSent;
    expect(term!.atMs - int!.atMs).toBeGreaterThanOrEqual(7400);
    expect(run.log).toContain('ignoring SIGTERM');
    run.cleanup();
  });
});
