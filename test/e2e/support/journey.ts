/**
 * What a new user of either front-end trips over, end to end, through one front-end at a time (the bundled action, or
 * the task from the .vsix), as the README tells them to work:
 * - the air-gap recipe: the export step's `blobs` output, as it is, is the copy and import steps' `blobs` input;
 * - a pipeline setup made (source trigger on): a later step without `source-trigger` keeps it; one that changes it
 *   reports the field (old → new) in `changes`, the summary and the log; `update-pipelines: false` fails instead, before
 *   any run;
 * - a refused sign-in is one line naming the mode and the fix;
 * - Key Vault's Retry-After is waited for;
 * - a cancel names every batch still running or not started, the imports of exported batches included.
 */
import type { SeededImage } from '../../local-azure/seed';
import { type ActionFixture, createActionFixture, requestsSince, seed, stepInputs } from './action-fixture';
import { API, arm, control } from './local-azure';
import { type FrontEnd, jsonOf, type Step } from './lifecycle';

export interface JourneyFrontEnd extends FrontEnd {
  /** One step signing in with a wrong client secret (GitHub: `client-secret`; ADO: the service connection's key). */
  stepWithWrongSecret(inputs: Readonly<Record<string, string>>): Promise<Step>;
  /** One step that gets SIGINT as soon as a line of its log matches `whenLine`. */
  interrupted(inputs: Readonly<Record<string, string>>, whenLine: RegExp): Promise<Step & { readonly exitAfterSignalMs?: number }>;
  /** How this front-end names the service-principal-with-a-secret sign-in, and the start of its fix. */
  readonly secretSignIn: { readonly mode: RegExp; readonly fix: string };
}

interface ChangeOut {
  readonly kind: string;
  readonly name: string;
  readonly action: string;
  readonly status: string;
  readonly fields: readonly { name: string; from: string; to: string }[];
}

/** The scenarios as jest tests; `make` gives the front-end once, before the first. */
export function journeyScenario(tag: string, make: () => Promise<JourneyFrontEnd>): void {
  let fe: JourneyFrontEnd;
  let f: ActionFixture;
  let app: SeededImage;
  let batches: SeededImage[];
  const expectOk = (s: Step): void => expect({ ok: s.ok, log: s.ok ? '' : s.describe() }).toEqual({ ok: true, log: '' });

  beforeAll(async () => {
    f = await createActionFixture(tag);
    const images = await seed(f, [{ repo: `jr${f.u}/app`, tag: 'v1' }, ...['a', 'b', 'c'].map((t) => ({ repo: `jr${f.u}/batch`, tag: t }))]);
    app = images[0]!;
    batches = images.slice(1);
    fe = await make();
  }, 300_000);

  it("the air-gap recipe: the export's blobs output is the copy and import steps' blobs input, as it is", async () => {
    const exported = await fe.step(stepInputs(f, 'export', { artifacts: app.ref, 'blob-name': `rt${f.u}` }));
    expectOk(exported);
    const blobs = exported.outputs['blobs']!;
    expect(JSON.parse(blobs)).toEqual([`rt${f.u}-1`]);
    // The blobs cross the gap (here: copy), then the disconnected side imports them by the names the export published.
    expectOk(await fe.step(stepInputs(f, 'copy', { blobs })));
    const imported = await fe.step(stepInputs(f, 'import', { blobs }));
    expectOk(imported);
    expect(jsonOf<string[]>(imported, 'imported-artifacts')).toEqual([`${app.ref}@${app.digest}`]);
  });

  describe('a pipeline setup made with its source trigger on', () => {
    const pipeline = (): string => `imc${f.u}`;
    const inputs = (operation: string, extra: Record<string, string> = {}): Record<string, string> =>
      stepInputs(f, operation, { 'import-pipeline': pipeline(), 'export-storage-uri': '', 'export-sas-secret-uri': '', ...extra });
    const trigger = async (): Promise<string | undefined> => {
      const r = await arm<{ properties: { trigger?: { sourceTrigger?: { status?: string } } } }>(
        f.env,
        'GET',
        `${f.env.registries.target.resourceId}/importPipelines/${pipeline()}?api-version=${API}`,
      );
      return r.body.properties.trigger?.sourceTrigger?.status;
    };
    const blobs = (): string => JSON.stringify([`rt${f.u}-1`]);

    it('setup turns it on; an import that does not name source-trigger keeps it and changes nothing', async () => {
      const setup = await fe.step(inputs('setup', { 'source-trigger': 'enabled' }));
      expectOk(setup);
      expect(await trigger()).toBe('Enabled');
      const kept = await fe.step(inputs('import', { blobs: blobs() }));
      expectOk(kept);
      expect(jsonOf<ChangeOut[]>(kept, 'changes')).toEqual([]);
      expect(await trigger()).toBe('Enabled');
    });

    it('with update-pipelines: false a step that would change it fails in one line naming the field, before any run', async () => {
      const started = Date.now();
      const refused = await fe.step(inputs('import', { blobs: blobs(), 'source-trigger': 'disabled', 'update-pipelines': 'false' }));
      expect(refused.ok).toBe(false);
      // The step's error: one line (the preflight finds it first), also what the step fails with.
      expect(refused.report.error).toMatch(/differs from the inputs \(sourceTrigger: Enabled → Disabled\) and 'update-pipelines' is false/);
      expect(refused.report.error).not.toMatch(/[\r\n]/);
      // The step fails with it (on Azure DevOps the input names read in camelCase).
      expect(refused.failure).toMatch(/differs from the inputs \(sourceTrigger: Enabled → Disabled\) and '(update-pipelines|updatePipelines)' is false/);
      const writes = (await requestsSince(f.env, started, [`/importPipelines/${pipeline()}`, '/pipelineRuns/'])).filter(
        (e) => e.method === 'PUT' && e.path.includes(f.env.registries.target.name),
      );
      expect(writes).toEqual([]);
      expect(await trigger()).toBe('Enabled');
    });

    it('a step that changes it reports the field, old and new, in changes, the summary and the log', async () => {
      const changed = await fe.step(inputs('import', { blobs: blobs(), 'source-trigger': 'disabled' }));
      expectOk(changed);
      expect(jsonOf<ChangeOut[]>(changed, 'changes')).toEqual([
        expect.objectContaining({
          kind: 'pipeline',
          name: pipeline(),
          action: 'update',
          status: 'done',
          fields: [{ name: 'sourceTrigger', from: 'Enabled', to: 'Disabled' }],
        }),
      ]);
      expect(changed.summary).toContain('sourceTrigger: Enabled → Disabled');
      expect(changed.visible).toContain(
        `Updating import pipeline '${pipeline()}' on registry '${f.env.registries.target.name}': sourceTrigger: Enabled → Disabled`,
      );
      expect(await trigger()).toBe('Disabled');
    });
  });

  it('a wrong client secret fails in one line naming the sign-in mode and the fix, with one sign-in attempt', async () => {
    const started = Date.now();
    const s = await fe.stepWithWrongSecret(stepInputs(f, 'export', { artifacts: app.ref, 'dry-run': 'true' }));
    expect(s.ok).toBe(false);
    expect(s.failure).toMatch(fe.secretSignIn.mode);
    expect(s.failure).toContain('AADSTS7000215');
    expect(s.failure).toContain(`. Fix: ${fe.secretSignIn.fix}`);
    expect(s.failure).not.toMatch(/[\r\n]|Trace ID|To troubleshoot/);
    // Said once: not once per service that would have called Azure.
    // (Debug lines aside, and the task's result, which the agent shows as the issue it also logs.)
    const shown = s.visible.split('\n').filter((l) => !/^::debug::|^##vso\[task\.(debug|complete)\b/.test(l));
    expect(shown.filter((l) => l.includes('AADSTS7000215'))).toHaveLength(1);
    const tokens = (await requestsSince(f.env, started, ['/oauth2/v2.0/token'])).filter((e) => e.method === 'POST');
    expect(tokens).toHaveLength(1);
    // Nothing reached ARM's resources: the step stopped at the sign-in.
    expect((await requestsSince(f.env, started, ['/subscriptions/'])).map((e) => `${e.method} ${e.path}`)).toEqual([]);
  });

  it("Key Vault's Retry-After is waited for (a 503 with Retry-After: 6 is retried 6 s later, not 1 s)", async () => {
    const secret = new URL(f.exportSecretUri).pathname;
    const fault = { service: 'keyvault', path: `${secret}(/|$)`, kind: '503', retryAfterSeconds: 6, count: 1 };
    expect((await control(f.env, 'POST', '/faults', fault)).status).toBe(200);
    const started = Date.now();
    // A dry-run export reads the export SAS in its preflight (the SAS check).
    const s = await fe.step(stepInputs(f, 'export', { artifacts: app.ref, 'dry-run': 'true' }));
    expectOk(s);
    const reads = (await requestsSince(f.env, started, [secret])).filter((e) => e.service === 'keyvault');
    const failed = reads.findIndex((e) => e.fault === '503');
    expect(failed).toBeGreaterThanOrEqual(0);
    const next = reads[failed + 1];
    expect(next).toBeDefined();
    expect(Date.parse(next!.time) - Date.parse(reads[failed]!.time)).toBeGreaterThanOrEqual(6000);
  });

  it('a cancel names the batch still running and every export and import not started, batch by batch', async () => {
    const base = `cx${f.u}`;
    const s = await fe.interrupted(
      stepInputs(f, 'transfer', {
        artifacts: batches.map((b) => b.ref).join('\n'),
        'blob-name': base,
        'max-artifacts-per-run': '1',
        'max-parallel-runs': '1',
        'export-pipeline': `cxe${f.u}`,
        'import-pipeline': `cxi${f.u}`,
      }),
      // Batch 1 has exported; batch 2's export run was just created; batch 3 waits for its turn.
      new RegExp(`^export run '[^']+' \\(blob ${base}-2\\): `),
    );
    expect(s.ok).toBe(false);
    expect(s.exitAfterSignalMs).toBeLessThan(5000);
    expect(s.report.outcome).toBe('cancelled');
    const run2 = s.report.runs.find((r) => r.blob === `${base}-2`);
    expect(s.report.runs.map((r) => [r.kind, r.blob, r.status])).toEqual([
      ['export', `${base}-1`, 'succeeded'],
      ['export', `${base}-2`, 'running'],
      ['export', `${base}-3`, 'cancelled'],
    ]);
    expect(s.report.error).toBe(
      `the operation was cancelled; still running on the service: export run ${run2!.name} (batch 2); not started: export of batch 3 and import of batch 1, batch 2, batch 3; a re-run with the same inputs resumes`,
    );
    expect(s.failure).toContain(s.report.error!);
  });
}
