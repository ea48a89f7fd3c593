import { runOperation } from '../../core/run';
import { EXPORT_CONTAINER, makeWorld, type World } from './fakes/world';

function seed(w: World, n: number): void {
  for (let i = 0; i < n; i++) w.src.push('app', `v${String(i).padStart(3, '0')}`);
}

const exportOf = (w: World, extra: Record<string, string> = {}) => w.settings({ operation: 'export', artifacts: 'app:*', ...extra });

describe('export runs', () => {
  it('batches 120 artifacts into 3 runs with at most max-parallel-runs in flight', async () => {
    const w = makeWorld();
    seed(w, 120);
    w.arm.behaviour = () => ({ polls: 3 });
    const report = await runOperation(exportOf(w, { 'max-parallel-runs': '2' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(report.runs.map((r) => r.artifacts.length)).toEqual([50, 50, 20]);
    expect(report.runs.every((r) => r.status === 'succeeded')).toBe(true);
    // Bounded, and really parallel.
    expect(w.arm.maxInFlight).toBe(2);
    expect(w.arm.runPuts).toHaveLength(3);
    expect(w.blobs.container(EXPORT_CONTAINER).size).toBe(3);
    expect(report.blobs.map((b) => b.name)).toEqual(report.runs.map((r) => r.blob));
    expect(report.artifacts.filter((a) => a.result === 'exported')).toHaveLength(120);
    expect(w.logger.progresses.at(-1)?.percent).toBe(100);
    expect(w.logger.progresses.some((p) => p.percent > 0 && p.percent < 100)).toBe(true);
  });

  it('runs all batches at once when max-parallel-runs allows it', async () => {
    const w = makeWorld();
    seed(w, 120);
    w.arm.behaviour = () => ({ polls: 3 });
    await runOperation(exportOf(w, { 'max-parallel-runs': '5' }), w.host, w.services);
    expect(w.arm.maxInFlight).toBe(3);
  });

  it('resumes: the same settings again create no runs and no blobs', async () => {
    const w = makeWorld();
    seed(w, 60);
    const settings = exportOf(w);
    const first = await runOperation(settings, w.host, w.services);
    const puts = w.arm.runPuts.length;
    const blobs = [...w.blobs.container(EXPORT_CONTAINER).values()];
    const second = await runOperation(settings, w.host, w.services);
    expect(second.outcome).toBe('succeeded');
    expect(w.arm.runPuts).toHaveLength(puts);
    expect(w.arm.pipelinePuts).toHaveLength(1);
    expect(second.runs.map((r) => r.status)).toEqual(['reused', 'reused']);
    expect(second.runs.map((r) => r.name)).toEqual(first.runs.map((r) => r.name));
    expect([...w.blobs.container(EXPORT_CONTAINER).values()]).toEqual(blobs);
  });

  it('runs a succeeded run again when its blob is gone', async () => {
    const w = makeWorld();
    seed(w, 3);
    const settings = exportOf(w);
    const first = await runOperation(settings, w.host, w.services);
    await w.blobs.deleteBlob(EXPORT_CONTAINER, first.runs[0]!.blob);
    const second = await runOperation(settings, w.host, w.services);
    expect(second.runs[0]?.status).toBe('succeeded');
    expect(w.arm.runPuts).toHaveLength(2);
    expect(w.arm.runPuts[1]?.spec.forceUpdateTag).toBeDefined();
    expect(w.blobs.get(EXPORT_CONTAINER, first.runs[0]!.blob)).toBeDefined();
  });

  it("fails with the run's pipelineRunErrorMessage word for word, and re-runs only the failed run with a new forceUpdateTag", async () => {
    const w = makeWorld();
    seed(w, 120);
    const message =
      'Failed to access storage account srcacct: 403 (AuthorizationPermissionMismatch). The SAS token may have expired; see https://aka.ms/acr/transfer.';
    let failing = '';
    w.arm.behaviour = ({ name, execution }) => {
      if (failing === '' && name.startsWith('exp')) failing = name;
      return name === failing && execution === 1 ? { polls: 2, fail: message } : { polls: 2 };
    };
    const settings = exportOf(w);
    const first = await runOperation(settings, w.host, w.services);
    expect(first.outcome).toBe('failed');
    const failed = first.runs.find((r) => r.status === 'failed')!;
    expect(failed.name).toBe(failing);
    expect(failed.error).toBe(message);
    const failedArtifacts = first.artifacts.filter((a) => a.result === 'failed');
    expect(failedArtifacts).toHaveLength(50);
    expect(failedArtifacts.every((a) => a.reason === message)).toBe(true);
    expect(first.error).toContain(failedArtifacts[0]!.artifact);
    expect(first.error).toContain(message);

    const puts = w.arm.runPuts.length;
    const second = await runOperation(settings, w.host, w.services);
    expect(second.outcome).toBe('succeeded');
    const reruns = w.arm.runPuts.slice(puts);
    expect(reruns.map((p) => p.name)).toEqual([failing]);
    expect(reruns[0]?.spec.forceUpdateTag).toEqual(expect.any(String));
    expect(w.arm.executions(w.source, failing)).toBe(2);
    expect(second.runs.filter((r) => r.status === 'reused')).toHaveLength(2);
  });

  it('keeps SAS signatures out of run errors', async () => {
    const w = makeWorld();
    seed(w, 1);
    w.arm.behaviour = () => ({ fail: 'GET https://srcacct.blob.core.windows.net/transfer?sv=2024&sig=s3cr3tSig%3D failed with 403' });
    const report = await runOperation(exportOf(w), w.host, w.services);
    expect(JSON.stringify(report)).not.toContain('s3cr3tSig');
    expect(report.runs[0]?.error).toContain('sig=REDACTED');
  });

  it('on time-out reports the runs still running and those not started; a re-run waits for them without a new PUT', async () => {
    const w = makeWorld();
    seed(w, 120);
    w.arm.behaviour = () => ({ polls: 40 });
    const settings = exportOf(w, { 'max-parallel-runs': '2', 'timeout-minutes': '1' });
    const first = await runOperation(settings, w.hostFor(1), w.services);
    expect(first.outcome).toBe('timed-out');
    expect(first.runs.map((r) => r.status)).toEqual(['running', 'running', 'timed-out']);
    expect(first.error).toContain('still running on the service');
    expect(first.error).toContain(first.runs[0]!.name);
    expect(first.artifacts.filter((a) => a.result === 'pending')).toHaveLength(120);
    expect(w.arm.runPuts).toHaveLength(2);

    const second = await runOperation(exportOf(w, { 'max-parallel-runs': '2' }), w.host, w.services);
    expect(second.outcome).toBe('succeeded');
    // The two runs in progress were waited for, only the third was created.
    expect(w.arm.runPuts).toHaveLength(3);
    expect(w.arm.executions(w.source, first.runs[0]!.name)).toBe(1);
  });

  it('on cancel stops waiting and reports what is still running', async () => {
    const w = makeWorld();
    seed(w, 120);
    w.arm.behaviour = () => ({ polls: 40 });
    let reads = 0;
    w.arm.onRead = () => {
      if (++reads === 6) w.controller.abort();
    };
    const report = await runOperation(exportOf(w, { 'max-parallel-runs': '2' }), w.host, w.services);
    expect(report.outcome).toBe('cancelled');
    expect(report.runs.filter((r) => r.status === 'running')).toHaveLength(2);
    expect(report.runs.filter((r) => r.status === 'cancelled')).toHaveLength(1);
    expect(report.error).toContain('cancelled');
    expect(w.arm.runPuts).toHaveLength(2);
  });

  it('treats provisioningState as authoritative although response.status still says Running', async () => {
    const w = makeWorld();
    seed(w, 2);
    const report = await runOperation(exportOf(w), w.host, w.services);
    const run = await w.arm.getRun(w.source, report.runs[0]!.name);
    expect(run?.status).toBe('Running');
    expect(run?.provisioningState).toBe('Succeeded');
    expect(report.runs[0]?.status).toBe('succeeded');
  });
});
