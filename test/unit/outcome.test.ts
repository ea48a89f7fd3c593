import { conclude, problems } from '../../core/outcome';
import type { TransferReport } from '../../core/report';

const base: TransferReport = {
  operation: 'import',
  dryRun: false,
  outcome: 'partial',
  startTime: '2026-01-01T00:00:00Z',
  finishTime: '2026-01-01T00:01:00Z',
  artifacts: [],
  runs: [],
  blobs: [],
  checks: [],
  changes: [],
  usage: [],
  warnings: [],
};

describe('conclude', () => {
  it('counts failed artifacts in a partial result', () => {
    const c = conclude({ ...base, artifacts: [{ artifact: 'a:1', result: 'failed', reason: 'missing' }] }, 'failed-artifacts');
    expect(c).toEqual({ result: 'warning', message: expect.stringContaining('1 failed artifact(s)') });
  });

  it('counts and annotates a failed referrer under a verified artifact', () => {
    const report: TransferReport = {
      ...base,
      artifacts: [
        {
          artifact: 'app:v1',
          result: 'verified',
          referrers: [{ artifact: 'app@sha256:1', artifactType: 'application/spdx+json', subject: 'sha256:0', result: 'failed', reason: 'not listed' }],
        },
      ],
    };
    expect(conclude(report, 'failed-artifacts').message).toContain('1 failed artifact(s)');
    expect(problems(report).items).toEqual([{ title: 'Referrer app@sha256:1', text: 'app@sha256:1 (application/spdx+json of app:v1): not listed' }]);
  });

  it('names the failed runs when no artifact carries the failure (a blob whose artifacts are unknown)', () => {
    const c = conclude(
      { ...base, runs: [{ name: 'imp1', pipeline: 'p', kind: 'import', status: 'failed', blob: 'b', artifacts: [], error: 'x' }] },
      'failedArtifacts',
    );
    expect(c.message).toContain('1 failed run(s)');
    expect(c.message).toContain('see failedArtifacts and the report');
  });

  it('fails the step for failed, cancelled and timed-out, keeping the error', () => {
    for (const outcome of ['failed', 'cancelled', 'timed-out'] as const) {
      expect(conclude({ ...base, outcome, error: `boom ${outcome}` }, 'failed-artifacts')).toEqual({ result: 'failure', message: `boom ${outcome}` });
    }
  });
});
