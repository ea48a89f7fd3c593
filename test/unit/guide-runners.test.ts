/**
 * The small runner and agent that run the guide's workflow and pipeline as written (test/e2e/support/workflow-run.mts,
 * pipeline-run.ts): they refuse what they do not run, so a guide cannot silently use it; and the agent expands macros as
 * Azure Pipelines does (a variable may name another; an unknown one stays as written).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pipeline } from '../e2e/support/pipeline-run';
import { runWorkflow } from '../e2e/support/workflow';

const agent = (pipeline: string, variables: Record<string, string> = {}): Pipeline =>
  new Pipeline({ pipeline, templates: {}, variables, secrets: {}, connections: {}, sourcesDir: os.tmpdir(), taskDir: os.tmpdir(), machineEnv: {} });

describe('the pipeline agent', () => {
  it('expands $(name) macros, inside variable values too, and leaves unknown ones as written', () => {
    const a = agent('steps: []', { 'Build.SourceVersion': 'abc', IMAGES: 'team/api:$(Build.SourceVersion)' });
    expect(a.expand('$(IMAGES) $(build.sourceversion) $(Nope)')).toBe('team/api:abc abc $(Nope)');
    rmSync(a.tempDir, { recursive: true, force: true });
  });

  it.each([
    ['stages: []', 'the pipeline uses stages, which this agent does not run'],
    ['steps:\n  - powershell: echo', 'a step uses powershell, which this agent does not run'],
    ['steps:\n  - task: Docker@2', 'task Docker@2 is not one this agent runs'],
    ['steps:\n  - template: missing.yml', 'template missing.yml is not given'],
  ])('refuses %j', async (pipeline, message) => {
    const a = agent(pipeline);
    await expect(a.run()).rejects.toThrow(message);
    rmSync(a.tempDir, { recursive: true, force: true });
  });
});

describe('the workflow runner', () => {
  it.each([
    ['jobs:\n  j:\n    runs-on: x\n    strategy: { matrix: { a: [1] } }\n    steps: []', "job 'j' uses strategy, which this runner does not run"],
    [
      'jobs:\n  j:\n    runs-on: x\n    steps:\n      - run: echo\n        continue-on-error: true',
      "step 'Run' uses continue-on-error, which this runner does not run",
    ],
    [
      'jobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4',
      'action actions/checkout@v4 is not one this runner has (acr-transfer/acr-transfer)',
    ],
  ])('refuses %j', async (workflow, message) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wf-'));
    try {
      const file = path.join(dir, 'w.yml');
      writeFileSync(file, workflow);
      const req = { file, job: 'j', event: { name: 'push' }, sha: '0'.repeat(40), vars: {}, secrets: {}, actions: { 'acr-transfer/acr-transfer': dir } };
      await expect(runWorkflow(req, { PATH: process.env['PATH'] })).rejects.toThrow(message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs bash steps with GITHUB_ENV and step outputs between them, and evaluates if: with the job env', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wf-'));
    try {
      const file = path.join(dir, 'w.yml');
      writeFileSync(
        file,
        [
          'env: { A: "${{ vars.A || \'default\' }}" }',
          'jobs:',
          '  j:',
          '    runs-on: x',
          '    env: { B: job }',
          '    steps:',
          '      - id: one',
          '        run: |',
          '          echo "B=from-step" >> "$GITHUB_ENV"',
          '          echo "out=$A" >> "$GITHUB_OUTPUT"',
          "      - if: env.B == 'from-step' && steps.one.outputs.out == 'default'",
          '        run: echo "seen $B ${{ steps.one.outputs.out }}"',
          "      - if: env.B == 'job'",
          '        run: echo never',
        ].join('\n'),
      );
      const r = await runWorkflow(
        { file, job: 'j', event: { name: 'push' }, sha: '0'.repeat(40), vars: {}, secrets: {}, actions: {} },
        { PATH: process.env['PATH'] },
      );
      expect(r.steps.map((s) => s.outcome)).toEqual(['success', 'success', 'skipped']);
      expect(r.steps[1]!.log).toContain('seen from-step default');
      expect(r.env).toMatchObject({ A: 'default', B: 'from-step' });
      rmSync(path.dirname(r.workspace), { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
