/**
 * The Azure DevOps task end to end, as the agent runs it: the task folder taken out of the built .vsix (tfx-validated),
 * `node dist/index.js` with INPUT_* and ENDPOINT_* variables, against the local Azure. A ServicePrincipal connection
 * whose tokens come from the local Entra (cloud discovered from ARM's metadata/endpoints, as for Azure Stack), and a
 * WorkloadIdentityFederation connection whose OIDC token comes from the local ADO-style endpoint.
 */
import { SecretClient } from '@azure/keyvault-secrets';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build, MAX_VSIX_BYTES } from '../../ado-task/build';
import { TASK_FOLDER } from '../../ado-task/task-json';
import type { TransferReport } from '../../core/report';
import type { StorageEnv } from '../local-azure/config';
import { seedImages, type SeededImage } from '../local-azure/seed';
import { itWith } from '../prerequisites';
import { type Endpoint, extractTaskFolder, node24, readZip, runTask, systemVssConnectionEnv, type TaskRun } from './support/ado-runner';
import { containerClient, containerSas, containerUri, control, credential, loadEnv, putSasSecret } from './support/local-azure';

jest.setTimeout(240_000);

const env = loadEnv();
const u = randomBytes(3).toString('hex');
const src = env.registries.source;
const dst = env.registries.target;
const CONN = randomUUID();
const work = mkdtempSync(path.join(os.tmpdir(), 'ado-e2e-'));
let vsixPath: string;
let taskDir: string;
let images: SeededImage[];

// This file's own containers: other suites' import pipelines (source trigger on) watch the shared ones.
const exportStore: StorageEnv = { ...env.storage.source, container: `adoexp${u}` };
const importStore: StorageEnv = { ...env.storage.target, container: `adoimp${u}` };
let exportSecretUri: string;
let importSecretUri: string;

/** A ServicePrincipal connection to the local Azure as an Azure Stack cloud: authority and audience from metadata/endpoints. */
function spConnection(): Endpoint {
  return {
    id: CONN,
    url: `${env.armEndpoint}/`,
    scheme: 'ServicePrincipal',
    parameters: { serviceprincipalid: env.clientId, serviceprincipalkey: env.clientSecret, tenantid: env.tenantId, authenticationType: 'spnKey' },
    data: { environment: 'AzureStack', subscriptionId: env.subscriptionId, subscriptionName: 'local', scopeLevel: 'Subscription' },
  };
}

/** A WorkloadIdentityFederation connection naming its authority and audience, as connections in the public clouds do. */
function wifConnection(): Endpoint {
  return {
    id: CONN,
    url: `${env.armEndpoint}/`,
    scheme: 'WorkloadIdentityFederation',
    parameters: { serviceprincipalid: env.clientId, tenantid: env.tenantId, workloadIdentityFederationSubject: `sc://local/acr-transfer/${CONN}` },
    data: {
      environment: 'AzureStack',
      activeDirectoryAuthority: `${env.authorityHost}/`,
      activeDirectoryServiceEndpointResourceId: 'https://management.azure.com/',
      subscriptionId: env.subscriptionId,
    },
  };
}

function transferInputs(artifacts: string[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    azureSubscription: CONN,
    operation: 'transfer',
    sourceRegistry: src.name,
    sourceResourceGroup: env.resourceGroup,
    targetRegistry: dst.resourceId,
    exportPipeline: `adoexp${u}`,
    exportStorageUri: containerUri(exportStore),
    exportSasSecretUri: exportSecretUri,
    importPipeline: `adoimp${u}`,
    importStorageUri: containerUri(importStore),
    importSasSecretUri: importSecretUri,
    artifacts: artifacts.join('\n'),
    timeoutMinutes: '3',
    ...extra,
  };
}

function expectNoSecretInLog(run: TaskRun, secrets: readonly string[]): void {
  // The agent masks what task.setsecret registered and the connection's own secrets; task-lib's debug lines print
  // endpoint parameters before anyone can mask them (the agent knows those), so they are left out here.
  const visible = run.stdout.split('\n').filter((l) => !l.startsWith('##vso[task.debug]') && !l.startsWith('##vso[task.setsecret]'));
  for (const s of secrets) expect(visible.join('\n')).not.toContain(s);
}

beforeAll(async () => {
  const out = path.join(work, 'build');
  const built = build({ outDir: out, package: true, generate: false });
  vsixPath = built.vsixPath!;
  taskDir = extractTaskFolder(vsixPath, TASK_FOLDER, path.join(work, 'agent', 'tasks'));
  // Nothing else of the build is used: the task runs only from what the .vsix holds.
  rmSync(built.stageDir, { recursive: true, force: true });

  for (const s of [exportStore, importStore]) await containerClient(s).create();
  const vault = new SecretClient(env.keyVaultUrl, credential(env), { disableChallengeResourceVerification: true }); // the SDK's default retries
  exportSecretUri = await putSasSecret(vault, `adoexpsas${u}`, containerSas(exportStore, 'alrw'));
  importSecretUri = await putSasSecret(vault, `adoimpsas${u}`, containerSas(importStore, 'dlr'));
  images = await seedImages(src.backendUrl, [
    { repo: `ado${u}/app`, tag: 'v1' },
    { repo: `ado${u}/multi`, tag: 'v2', multiArch: true },
    { repo: `ado${u}/wif`, tag: 'v1' },
    { repo: `ado${u}/part`, tag: 'ok' },
    { repo: `ado${u}/part`, tag: 'bad' },
    { repo: `ado${u}/node24`, tag: 'v1' },
  ]);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the .vsix', () => {
  it('holds the task folder with task.json, the icon and the ncc bundle, no node_modules, within the size budget', () => {
    const names = [...readZip(readFileSync(vsixPath)).keys()];
    expect(names).toEqual(
      expect.arrayContaining([
        'extension.vsixmanifest',
        'overview.md',
        'images/icon.png',
        `${TASK_FOLDER}/task.json`,
        `${TASK_FOLDER}/icon.png`,
        `${TASK_FOLDER}/dist/index.js`,
      ]),
    );
    expect(names.filter((n) => n.includes('node_modules'))).toEqual([]);
    expect(names.filter((n) => n.endsWith('.ts'))).toEqual([]);
    expect(statSync(vsixPath).size).toBeLessThanOrEqual(MAX_VSIX_BYTES);
    expect(existsSync(path.join(taskDir, 'dist', 'package.json'))).toBe(false);
  });
});

describe('AcrTransfer@1 on the local Azure', () => {
  it('transfers images with a ServicePrincipal connection: output variables, summary, Succeeded', async () => {
    const [app, multi] = images as [SeededImage, SeededImage];
    const run = await runTask({ taskDir, inputs: transferInputs([app.ref, multi.ref]), endpoints: [spConnection()] });
    if (run.result !== 'Succeeded' || process.env['ADO_E2E_TRACE']) process.stderr.write(`${run.stdout}\n${run.stderr}\n`);
    expect(run.result).toBe('Succeeded');
    expect(run.commands.filter((c) => c.command === 'task.complete')).toHaveLength(1);
    expect(run.stdout).toContain(`##vso[task.complete result=Succeeded;]`);

    // Output variables, isOutput=true.
    for (const name of ['runs', 'blobs', 'importedArtifacts', 'failedArtifacts', 'reportPath']) {
      expect(run.stdout).toMatch(new RegExp(`##vso\\[task\\.setvariable variable=${name};isOutput=true;issecret=false;\\]`));
    }
    const imported = JSON.parse(run.outputs['importedArtifacts']!) as string[];
    expect(imported.sort()).toEqual([`${app.ref}@${app.digest}`, `${multi.ref}@${multi.digest}`].sort());
    expect(JSON.parse(run.outputs['failedArtifacts']!)).toEqual([]);
    const blobs = JSON.parse(run.outputs['blobs']!) as string[];
    expect(blobs.length).toBeGreaterThan(0);
    const runs = JSON.parse(run.outputs['runs']!) as { kind: string; status: string }[];
    expect(runs.map((r) => r.kind).sort()).toEqual(expect.arrayContaining(['export', 'import']));
    expect(runs.every((r) => r.status === 'succeeded' || r.status === 'reused')).toBe(true);
    const report = JSON.parse(readFileSync(run.outputs['reportPath']!, 'utf8')) as TransferReport;
    expect(report.outcome).toBe('succeeded');
    expect(path.dirname(run.outputs['reportPath']!)).toBe(run.tempDir);

    // The summary: the same Markdown as GitHub's, uploaded with task.uploadsummary.
    expect(run.summaries).toHaveLength(1);
    const summary = readFileSync(run.summaries[0]!, 'utf8');
    expect(summary).toContain(app.ref);
    expect(summary).toContain(multi.ref);

    expect(run.progress.length).toBeGreaterThan(0);
    expect(run.errors).toEqual([]);
    expect(run.secrets).toContain(env.clientSecret);
    expectNoSecretInLog(run, [env.clientSecret]);
  });

  // The agent prefers the Node24 handler; agents that cannot run Node 24 fall back to Node20_1 (the test runner's Node).
  itWith(
    node24() !== undefined,
    'Node 24',
    'run npm run node24 (scripts/setup.sh does)',
  )('runs the same bundle under Node 24', async () => {
    const img = images[5]!;
    const run = await runTask({ taskDir, node: node24()!, inputs: transferInputs([img.ref], { blobName: `adon24${u}` }), endpoints: [spConnection()] });
    if (run.result !== 'Succeeded') process.stderr.write(`${run.stdout}\n${run.stderr}\n`);
    expect(run.result).toBe('Succeeded');
    expect(JSON.parse(run.outputs['importedArtifacts']!)).toEqual([`${img.ref}@${img.digest}`]);
  });

  it('authenticates a WorkloadIdentityFederation connection through the job OIDC endpoint', async () => {
    const oidc = (await control<{ adoRequestUri: string; adoAccessToken: string }>(env, 'GET', '/oidc')).body;
    const wif = images[2]!;
    const run = await runTask({
      taskDir,
      inputs: transferInputs([wif.ref], { blobName: `adowif${u}` }),
      endpoints: [wifConnection()],
      env: { ...systemVssConnectionEnv(oidc.adoAccessToken), SYSTEM_OIDCREQUESTURI: oidc.adoRequestUri },
    });
    if (run.result !== 'Succeeded') process.stderr.write(`${run.stdout}\n${run.stderr}\n`);
    expect(run.result).toBe('Succeeded');
    expect(JSON.parse(run.outputs['importedArtifacts']!)).toEqual([`${wif.ref}@${wif.digest}`]);
    expect(run.secrets).toContain(oidc.adoAccessToken);
    expectNoSecretInLog(run, [oidc.adoAccessToken]);
  });

  it('says how to map System.AccessToken when a WorkloadIdentityFederation job lacks it, in one line', async () => {
    const run = await runTask({ taskDir, inputs: transferInputs([images[2]!.ref]), endpoints: [wifConnection()] });
    expect(run.result).toBe('Failed');
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/^Service connection '.+' uses workload identity federation, which needs System\.AccessToken and System\.OidcRequestUri/);
    expect(run.errors[0]).toContain('SYSTEM_ACCESSTOKEN: $(System.AccessToken)');
  });

  it('ends SucceededWithIssues when ContinueOnErrors leaves a failed artifact', async () => {
    const [ok, bad] = [images[3]!, images[4]!];
    // The first export run of this pipeline fails (one artifact per run, so the other batch still goes through).
    await control(env, 'POST', '/run-failures', { match: `^adopart${u}$`, message: 'Simulated export failure for the partial test.', count: 1 });
    const run = await runTask({
      taskDir,
      inputs: transferInputs([bad.ref, ok.ref], {
        exportPipeline: `adopart${u}`,
        importPipeline: `adoparti${u}`,
        exportOptions: 'ContinueOnErrors,OverwriteBlobs',
        importOptions: 'ContinueOnErrors',
        maxArtifactsPerRun: '1',
        maxParallelRuns: '1',
        blobName: `adopart${u}`,
      }),
      endpoints: [spConnection()],
    });
    if (run.result !== 'SucceededWithIssues') process.stderr.write(`${run.stdout}\n${run.stderr}\n`);
    expect(run.result).toBe('SucceededWithIssues');
    const failed = JSON.parse(run.outputs['failedArtifacts']!) as { artifact: string; reason: string }[];
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toContain('Simulated export failure');
    expect(JSON.parse(run.outputs['importedArtifacts']!)).toHaveLength(1);
    expect(run.warnings.length).toBeGreaterThan(0);
    expect(run.errors).toEqual([]);
  });

  it('fails a bad input with one line naming the camelCase input, before anything reaches Azure', async () => {
    const run = await runTask({ taskDir, inputs: transferInputs([images[0]!.ref], { maxArtifactsPerRun: '51' }), endpoints: [spConnection()] });
    expect(run.result).toBe('Failed');
    expect(run.errors).toEqual([
      "Input 'maxArtifactsPerRun' is '51': it must be a whole number from 1 to 50 (the service allows at most 50 artifacts per pipeline run)",
    ]);
    expect(run.resultMessage).toBe(run.errors[0]);
    expect(run.plain).toEqual([]);
    expect(run.outputs).toEqual({});
  });

  it('stops within 5 s of SIGINT, with a report of what was done', async () => {
    // Hold this test's pipeline PUT for 30 s: the signal arrives mid-operation, with an ARM request in flight.
    await control(env, 'POST', '/faults', { service: 'arm', method: 'PUT', path: `exportPipelines/adosig${u}`, kind: 'delay', delayMs: 30_000, count: 1 });
    const run = await runTask({
      taskDir,
      inputs: transferInputs([images[0]!.ref], { exportPipeline: `adosig${u}`, importPipeline: `adosigi${u}`, blobName: `adosig${u}` }),
      endpoints: [spConnection()],
      interrupt: { whenLine: new RegExp(`Creating export pipeline 'adosig${u}'`) },
    });
    expect(run.stdout).toContain('Received SIGINT');
    expect(run.exitAfterSignalMs).toBeLessThan(5000);
    expect(run.killedBy).toBeNull();
    expect(run.result).toBe('Failed');
    expect(run.resultMessage).toMatch(/cancel/i);
    const report = JSON.parse(readFileSync(run.outputs['reportPath']!, 'utf8')) as TransferReport;
    expect(report.outcome).toBe('cancelled');
    expect(report.error).toMatch(/cancel/i);
    expect(run.summaries).toHaveLength(1);
  });
});
