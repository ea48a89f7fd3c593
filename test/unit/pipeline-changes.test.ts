/**
 * What an operation does to an existing pipeline, field by field: the diff (core/domain/pipeline-spec.ts), the change it
 * reports (changes, the log), an unset source-trigger keeping the pipeline's trigger, and update-pipelines: false refusing
 * any change before a run or a secret is touched. Also the one line of a cancelled transfer, which names every batch
 * still to do.
 */
import { diffText, pipelineDiff } from '../../core/domain/pipeline-spec';
import type { PipelineResource, PipelineSpec } from '../../core/ports';
import { renderOutputs, renderSummary } from '../../core/render';
import { runOperation } from '../../core/run';
import { exportRunName } from '../../core/transfer/plan';
import { EXPORT_SECRET, makeWorld, type World } from './fakes/world';

const UAI = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1';

describe('pipelineDiff', () => {
  const existing: PipelineResource = {
    id: 'p',
    name: 'p',
    kind: 'import',
    storageUri: 'https://a.blob.core.windows.net/c',
    keyVaultUri: 'https://v.vault.azure.net/secrets/s',
    storageAccessMode: 'sasToken',
    options: ['OverwriteTags'],
    sourceTriggerEnabled: true,
    identity: { type: 'systemAssigned' },
  };
  const want: PipelineSpec = {
    kind: 'import',
    storageUri: 'https://A.blob.core.windows.net/c/',
    keyVaultUri: 'https://v.vault.azure.net/secrets/s',
    storageAccessMode: 'SasToken',
    options: ['overwritetags'],
    sourceTriggerEnabled: true,
    identity: { type: 'SystemAssigned' },
  };

  it('is empty when only case, a trailing slash or the option order differ', () => {
    expect(pipelineDiff(existing, want)).toEqual([]);
  });

  it('names each field that differs, old and new', () => {
    const fields = pipelineDiff(existing, {
      ...want,
      storageUri: 'https://b.blob.core.windows.net/c',
      options: ['DeleteSourceBlobOnSuccess', 'OverwriteTags'],
      sourceTriggerEnabled: false,
      identity: { type: 'UserAssigned', resourceId: UAI },
    });
    expect(fields).toEqual([
      { name: 'container', from: 'https://a.blob.core.windows.net/c', to: 'https://b.blob.core.windows.net/c' },
      { name: 'options', from: 'OverwriteTags', to: 'DeleteSourceBlobOnSuccess, OverwriteTags' },
      { name: 'sourceTrigger', from: 'Enabled', to: 'Disabled' },
      { name: 'identity', from: 'systemAssigned', to: `UserAssigned ${UAI}` },
    ]);
    expect(diffText(fields.slice(1, 3))).toBe('options: OverwriteTags → DeleteSourceBlobOnSuccess, OverwriteTags; sourceTrigger: Enabled → Disabled');
  });

  it('reads a missing trigger as the service default (Enabled) and a missing mode as SasToken', () => {
    const bare: PipelineResource = { ...existing, storageAccessMode: undefined as never, sourceTriggerEnabled: undefined as never };
    expect(pipelineDiff(bare, want)).toEqual([]);
    expect(pipelineDiff(bare, { ...want, storageAccessMode: 'ManagedIdentity', sourceTriggerEnabled: false }).map((f) => f.name)).toEqual([
      'storageAccessMode',
      'sourceTrigger',
    ]);
  });
});

const seed = (w: World, n = 1): void => {
  for (let i = 1; i <= n; i++) w.src.push('app', `v${i}`);
};

describe('changes to a pipeline', () => {
  it('a transfer that changes the import pipeline reports each field in changes, the summary and the log', async () => {
    const w = makeWorld();
    seed(w);
    await runOperation(w.settings({ operation: 'setup', 'source-trigger': 'enabled' }), w.host, w.services);
    const report = await runOperation(
      w.settings({ operation: 'transfer', artifacts: 'app:v1', 'source-trigger': 'disabled', 'import-options': 'OverwriteTags' }),
      w.host,
      w.services,
    );
    expect(report.outcome).toBe('succeeded');
    const fields = [
      { name: 'options', from: 'none', to: 'OverwriteTags' },
      { name: 'sourceTrigger', from: 'Enabled', to: 'Disabled' },
    ];
    expect(report.changes).toEqual([
      {
        kind: 'pipeline',
        name: 'acrtransferimport',
        scope: "registry 'dstreg'",
        action: 'update',
        status: 'done',
        detail: 'options: none → OverwriteTags; sourceTrigger: Enabled → Disabled',
        fields,
      },
    ]);
    expect(JSON.parse(renderOutputs(report)['changes']!)).toEqual([expect.objectContaining({ action: 'update', status: 'done', fields })]);
    expect(renderSummary(report)).toContain('options: none → OverwriteTags; sourceTrigger: Enabled → Disabled');
    expect(w.logger.infos).toContain(
      "Updating import pipeline 'acrtransferimport' on registry 'dstreg': options: none → OverwriteTags; sourceTrigger: Enabled → Disabled",
    );
  });

  it('an unset source-trigger keeps the trigger setup enabled: nothing changes, nothing is reported', async () => {
    const w = makeWorld();
    seed(w);
    await runOperation(w.settings({ operation: 'setup', 'source-trigger': 'enabled' }), w.host, w.services);
    const puts = w.arm.pipelinePuts.length;
    const report = await runOperation(w.settings({ operation: 'transfer', artifacts: 'app:v1' }), w.host, w.services);
    expect(report.outcome).toBe('succeeded');
    expect(w.arm.pipelinePuts).toHaveLength(puts);
    expect(report.changes).toEqual([]);
    expect((await w.arm.getPipeline(w.target, 'import', 'acrtransferimport'))?.sourceTriggerEnabled).toBe(true);
    // The run is this operation's own, so the trigger may import the blob too: said once.
    expect(report.warnings.filter((m) => m.includes('source trigger enabled'))).toHaveLength(1);
  });

  it('a new import pipeline without source-trigger gets it Disabled; a dry run plans the change and makes none', async () => {
    const w = makeWorld();
    seed(w);
    const dry = await runOperation(w.settings({ operation: 'import', blobs: 'b-1', 'dry-run': 'true' }), w.host, w.services);
    expect(dry.changes).toEqual([
      expect.objectContaining({ kind: 'pipeline', action: 'create', status: 'planned', detail: expect.stringContaining('source trigger Disabled') }),
    ]);
    expect(w.arm.pipelinePuts).toEqual([]);
    await runOperation(w.settings({ operation: 'export', artifacts: 'app:v1' }), w.host, w.services);
    expect(w.arm.pipelinePuts.map((p) => p.spec.kind)).toEqual(['export']);
  });

  describe('update-pipelines: false', () => {
    it('fails a transfer before any run when the import pipeline differs, naming each field in one line', async () => {
      const w = makeWorld();
      seed(w);
      await runOperation(w.settings({ operation: 'setup', 'source-trigger': 'enabled' }), w.host, w.services);
      const puts = w.arm.pipelinePuts.length;
      const inputs = { operation: 'transfer', artifacts: 'app:v1', 'source-trigger': 'disabled', 'update-pipelines': 'false' };
      // The preflight finds it first; without the preflight the transfer itself refuses, before the export runs.
      const checked = await runOperation(w.settings(inputs), w.host, w.services);
      expect(checked.outcome).toBe('failed');
      expect(checked.error).toMatch(/^preflight failed: The import pipeline .*\(sourceTrigger: Enabled → Disabled\) and 'update-pipelines' is false/);
      const report = await runOperation(w.settings({ ...inputs, preflight: 'false' }), w.host, w.services);
      expect(report.outcome).toBe('failed');
      expect(report.error).toBe(
        "import pipeline 'acrtransferimport' on registry 'dstreg' differs from the inputs (sourceTrigger: Enabled → Disabled) and 'update-pipelines' is false: change the inputs to match it, or set 'update-pipelines' to true to update it",
      );
      expect(w.arm.runPuts).toEqual([]);
      expect(w.arm.pipelinePuts).toHaveLength(puts);
    });

    it('fails setup before it stores a new SAS version; a matching pipeline and a missing one are fine', async () => {
      const w = makeWorld();
      await runOperation(w.settings({ operation: 'setup' }), w.host, w.services);
      const secret = w.secrets.secrets.get(EXPORT_SECRET);
      const refused = await runOperation(
        w.settings({ operation: 'setup', 'export-options': 'OverwriteBlobs', 'update-pipelines': 'false' }),
        w.host,
        w.services,
      );
      expect(refused.outcome).toBe('failed');
      expect(refused.error).toMatch(/^export pipeline 'acrtransferexport' on registry 'srcreg' differs from the inputs \(options: none → OverwriteBlobs\)/);
      expect(w.secrets.secrets.get(EXPORT_SECRET)).toBe(secret);

      const same = await runOperation(w.settings({ operation: 'setup', 'update-pipelines': 'false' }), w.host, w.services);
      expect(same.outcome).toBe('succeeded');
      const fresh = makeWorld();
      const created = await runOperation(fresh.settings({ operation: 'setup', 'update-pipelines': 'false' }), fresh.host, fresh.services);
      expect(created.outcome).toBe('succeeded');
      expect(created.changes.filter((c) => c.kind === 'pipeline').map((c) => [c.action, c.status])).toEqual([
        ['create', 'done'],
        ['create', 'done'],
      ]);
    });

    it('check fails the pipeline item with the diff', async () => {
      const w = makeWorld();
      await runOperation(w.settings({ operation: 'setup' }), w.host, w.services);
      const report = await runOperation(w.settings({ operation: 'check', 'import-options': 'OverwriteTags', 'update-pipelines': 'false' }), w.host, w.services);
      expect(report.checks.find((c) => c.id === 'import-pipeline')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining("differs from the inputs (options: none → OverwriteTags) and 'update-pipelines' is false"),
      });
      const lenient = await runOperation(w.settings({ operation: 'check', 'import-options': 'OverwriteTags' }), w.host, w.services);
      expect(lenient.checks.find((c) => c.id === 'import-pipeline')).toMatchObject({
        status: 'warn',
        detail: expect.stringContaining('options: none → OverwriteTags'),
      });
    });
  });
});

describe('a cancelled transfer', () => {
  it('names, by batch, the runs still running and every export and import not started', async () => {
    const w = makeWorld();
    seed(w, 3);
    // Batch 1 exports at once; batch 2 runs long; batch 3 waits for a slot.
    w.arm.behaviour = ({ spec }) => (spec.blobName.endsWith('-1') ? { polls: 1 } : { polls: 50 });
    let gets = 0;
    w.arm.onGetRun = (name) => {
      if (name === exportRunName('cx-2') && ++gets === 3) w.controller.abort();
    };
    const report = await runOperation(
      w.settings({ operation: 'transfer', artifacts: 'app:v1,app:v2,app:v3', 'max-artifacts-per-run': '1', 'max-parallel-runs': '1', 'blob-name': 'cx' }),
      w.host,
      w.services,
    );
    expect(report.outcome).toBe('cancelled');
    const [run1, run2] = report.runs;
    expect(report.runs.map((r) => [r.blob, r.status])).toEqual([
      ['cx-1', 'succeeded'],
      ['cx-2', 'running'],
      ['cx-3', 'cancelled'],
      // Streaming: batch 1 was imported while batch 2 exported.
      ['cx-1', 'succeeded'],
    ]);
    expect(run1).toBeDefined();
    expect(report.error).toBe(
      `the operation was cancelled; still running on the service: export run ${run2!.name} (batch 2); not started: export of batch 3 and import of batch 2, batch 3; a re-run with the same inputs resumes`,
    );
  });
});
