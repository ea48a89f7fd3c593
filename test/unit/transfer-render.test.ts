import { cell, duration, renderOutputs, renderSummary, shortDigest } from '../../core/render';
import type { TransferReport } from '../../core/report';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const sample: TransferReport = {
  operation: 'transfer',
  dryRun: false,
  outcome: 'partial',
  startTime: '2026-03-01T10:00:00.000Z',
  finishTime: '2026-03-01T10:12:03.000Z',
  artifacts: [
    { artifact: 'app:v1', sourceDigest: D1, batch: 1, exportRun: 'expa1', importRun: 'impa1', blob: 'b-1', result: 'verified', targetDigest: D1 },
    { artifact: `app@${D2}`, sourceDigest: D2, batch: 1, exportRun: 'expa1', importRun: 'impa1', blob: 'b-1', result: 'verified', targetDigest: D2 },
    { artifact: 'web:v2', sourceDigest: D2, batch: 2, exportRun: 'expa2', blob: 'b-2', result: 'failed', reason: 'Blob upload failed | code 403\nsecond line' },
  ],
  runs: [
    {
      name: 'expa1',
      pipeline: 'acrtransferexport',
      kind: 'export',
      status: 'succeeded',
      blob: 'b-1',
      artifacts: ['app:v1', `app@${D2}`],
      startTime: '2026-03-01T10:00:05Z',
      finishTime: '2026-03-01T10:04:17Z',
    },
    {
      name: 'expa2',
      pipeline: 'acrtransferexport',
      kind: 'export',
      status: 'failed',
      blob: 'b-2',
      artifacts: ['web:v2'],
      error: 'Blob upload failed | code 403\nsecond line',
    },
    { name: 'impa1', pipeline: 'acrtransferimport', kind: 'import', status: 'reused', blob: 'b-1', artifacts: ['app:v1', `app@${D2}`] },
  ],
  blobs: [
    { name: 'b-1', copied: true, size: 2048 },
    { name: 'b-2', error: 'not written' },
  ],
  checks: [{ id: 'source-premium', title: 'Source is Premium', status: 'pass', detail: 'SKU Premium' }],
  changes: [],
  usage: [
    {
      registry: 'dstreg',
      before: [{ name: 'Size', limit: 536870912000, currentValue: 1073741824, unit: 'Bytes' }],
      after: [{ name: 'Size', limit: 536870912000, currentValue: 1610612736, unit: 'Bytes' }],
    },
  ],
  warnings: ['blob <b-2> lacks metadata'],
};

describe('renderOutputs', () => {
  const out = renderOutputs(sample);

  it('gives runs with every field of the contract, null where unknown', () => {
    const runs = JSON.parse(out['runs']!) as Record<string, unknown>[];
    expect(runs).toHaveLength(3);
    expect(Object.keys(runs[0]!)).toEqual(['name', 'pipeline', 'kind', 'status', 'blob', 'artifacts', 'startTime', 'finishTime', 'error']);
    expect(runs[1]).toMatchObject({ name: 'expa2', status: 'failed', error: 'Blob upload failed | code 403\nsecond line', startTime: null });
  });

  it('lists written blobs, digest-pinned imported artifacts and failed artifacts with reasons', () => {
    expect(JSON.parse(out['blobs']!)).toEqual(['b-1']);
    expect(JSON.parse(out['imported-artifacts']!)).toEqual([`app:v1@${D1}`, `app@${D2}`]);
    expect(JSON.parse(out['failed-artifacts']!)).toEqual([{ artifact: 'web:v2', reason: 'Blob upload failed | code 403\nsecond line' }]);
  });
});

describe('renderSummary', () => {
  const md = renderSummary(sample);
  const lines = md.split('\n');

  it('has a heading and an outcome line with counts and duration', () => {
    expect(lines[0]).toBe('## acr-transfer: transfer');
    expect(md).toContain('**Outcome:** ⚠️ partial (ContinueOnErrors). 3 artifacts, 2 verified, 1 failed, 3 runs, 12m 3s.');
  });

  it('has one artifact row per artifact with short digests, runs and results', () => {
    expect(md).toContain('| artifact | source digest | batch | run | blob | result | target digest |');
    expect(lines).toContain('| app:v1 | sha256:111111111111 | 1 | expa1, impa1 | b-1 | verified | sha256:111111111111 |');
  });

  it('escapes pipes and newlines so that a cell cannot break the table', () => {
    const failedRow = lines.find((l) => l.startsWith('| web:v2 '))!;
    expect(failedRow).toContain('failed: Blob upload failed \\| code 403<br>second line');
    // Same column count as the header: 7 cells, 8 unescaped pipes.
    expect(failedRow.replace(/\\\|/g, '').split('|')).toHaveLength(9);
  });

  it('has a runs table with durations and errors, the warnings and the usage before and after', () => {
    expect(lines).toContain('| expa1 | export | succeeded | 4m 12s |  |');
    expect(lines).toContain('| impa1 | import | reused |  |  |');
    expect(md).toContain('- blob &lt;b-2&gt; lacks metadata');
    expect(lines).toContain('| dstreg | Size | 1.0 GiB | 1.5 GiB | 500.0 GiB |');
  });

  it('leaves out passing checks, says dry run, and shows the error', () => {
    expect(md).not.toContain('### Checks');
    const dry = renderSummary({
      ...sample,
      dryRun: true,
      outcome: 'failed',
      error: 'preflight failed: x',
      checks: [{ id: 'k', title: 'KV', status: 'fail', detail: '403' }],
    });
    expect(dry).toContain('## acr-transfer: transfer (dry run: nothing was changed)');
    expect(dry).toContain('**Error:** preflight failed: x');
    expect(dry).toContain('| KV | fail | 403 |  |');
  });
});

describe('timeline', () => {
  const at = (s: number): string => new Date(Date.parse(sample.startTime) + s * 1000).toISOString();
  const stage = (batch: number, st: 'export' | 'copy' | 'import' | 'verify', from: number, to: number) => ({
    batch,
    stage: st,
    startTime: at(from),
    finishTime: at(to),
  });

  it('shows each batch a row, each stage its start–end from the start, in batch order', () => {
    const md = renderSummary({
      ...sample,
      timeline: [stage(2, 'export', 0, 31), stage(1, 'export', 0, 30), stage(1, 'copy', 30, 31), stage(1, 'import', 31, 62), stage(1, 'verify', 62, 63)],
    });
    const lines = md.split('\n');
    const head = lines.indexOf('### Timeline');
    expect(head).toBeGreaterThan(lines.indexOf('### Pipeline runs'));
    expect(lines.slice(head + 4, head + 8)).toEqual([
      '| batch | export | copy | import | verify |',
      '|---|---|---|---|---|',
      '| 1 | 0:00–0:30 | 0:30–0:31 | 0:31–1:02 | 1:02–1:03 |',
      '| 2 | 0:00–0:31 |  |  |  |',
    ]);
  });

  it('stays compact: the first 20 batches, and where the rest are', () => {
    const md = renderSummary({ ...sample, timeline: Array.from({ length: 200 }, (_, i) => stage(i + 1, 'export', i, i + 30)) });
    expect(md.match(/^\| \d+ \| /gm)).toHaveLength(20);
    expect(md).toContain('…and 180 more batches: see the JSON report (report-path).');
  });

  it('is left out without one (other operations, a dry run)', () => {
    expect(renderSummary(sample)).not.toContain('### Timeline');
  });
});

describe('helpers', () => {
  it('shortens digests, formats durations and escapes cells', () => {
    expect(shortDigest(D1)).toBe('sha256:111111111111');
    expect(shortDigest(undefined)).toBe('');
    expect(duration('2026-03-01T10:00:00Z', '2026-03-01T11:05:00Z')).toBe('1h 5m');
    expect(duration('2026-03-01T10:00:00Z', undefined)).toBe('');
    expect(cell('a|b\r\nc')).toBe('a\\|b<br>c');
  });
});
