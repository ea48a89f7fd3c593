/**
 * The ADO task under azure-pipelines-task-lib's mock framework (MockTestRunner / TaskMockRunner), offline: the un-bundled
 * CommonJS build of the task (tsc -p ado-task), with the core's operation and @azure/identity replaced by recorders. Checks
 * what the task makes of inputs and service connections (settings, credential class and arguments, cloud), and how it
 * renders a report (output variables, summary, progress, issues, result).
 */
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { parseTaskLog, type TaskLog } from '../e2e/support/ado-runner';
import type { MockCall, MockScenario } from './ado-task/mock-scenario';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..');
const TASK_JSON = path.join(ROOT, 'ado-task', 'task.json');
const CONN = '6b1e5c1a-0f3e-4c55-9a57-6f1f2b8d9e01';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const SUB = '11111111-2222-4333-8444-555555555555';
const KEY = 'spn-Secret~Value.123';
const ACCESS_TOKEN = 'job-access-token-abcdef0123456789';
// A certificate-shaped block and a throwaway private key made at test time: no key material is committed.
const PEM = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBszCCAVmgAwIBAgIUcertificatebodyline0000000000000000000000000',
  '-----END CERTIFICATE-----',
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim(),
].join('\n');

let outDir: string;
let taskPath: string;
let scenarioPath: string;

beforeAll(() => {
  // Under the repository so that the compiled files resolve node_modules; out/ is git-ignored.
  mkdirSync(path.join(ROOT, 'out'), { recursive: true });
  outDir = mkdtempSync(path.join(ROOT, 'out', 'ado-mock-'));
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'ado-task'), '--noEmit', 'false', '--noCheck', '--outDir', outDir],
    { stdio: 'pipe' },
  );
  taskPath = path.join(outDir, 'ado-task', 'index.js');
  const source = readFileSync(path.join(__dirname, 'ado-task', 'mock-scenario.ts'), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  scenarioPath = path.join(outDir, 'test', 'unit', 'ado-task', 'mock-scenario.js');
  mkdirSync(path.dirname(scenarioPath), { recursive: true });
  writeFileSync(scenarioPath, js);
});

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

interface Ran extends TaskLog {
  readonly call?: MockCall;
  readonly runner: MockTestRunner;
}

function endpoint(scheme: string, parameters: Record<string, string>, data: Record<string, string>, url?: string): Record<string, string> {
  const env: Record<string, string> = {
    [`ENDPOINT_AUTH_${CONN}`]: JSON.stringify({ scheme, parameters }),
    [`ENDPOINT_AUTH_SCHEME_${CONN}`]: scheme,
  };
  if (url) env[`ENDPOINT_URL_${CONN}`] = url;
  for (const [k, v] of Object.entries(parameters)) env[`ENDPOINT_AUTH_PARAMETER_${CONN}_${k.toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(data)) env[`ENDPOINT_DATA_${CONN}_${k.toUpperCase()}`] = v;
  return env;
}

const azureCloudData = {
  environment: 'AzureCloud',
  activeDirectoryAuthority: 'https://login.microsoftonline.com/',
  activeDirectoryServiceEndpointResourceId: 'https://management.core.windows.net/',
  subscriptionId: SUB,
};
const spnKey = (): Record<string, string> =>
  endpoint(
    'ServicePrincipal',
    { serviceprincipalid: CLIENT, serviceprincipalkey: KEY, tenantid: TENANT, authenticationType: 'spnKey' },
    azureCloudData,
    'https://management.azure.com/',
  );

const exportInputs = {
  azureSubscription: CONN,
  operation: 'export',
  sourceRegistry: 'srcregistry',
  sourceResourceGroup: 'rg-src',
  artifacts: 'app:v1\nteam/api:2.0',
  exportOptions: 'OverwriteBlobs,ContinueOnErrors',
};

async function runScenario(s: Omit<MockScenario, 'taskPath'>): Promise<Ran> {
  const tempDir = mkdtempSync(path.join(outDir, 'agent-temp-'));
  const scenario: MockScenario = { ...s, taskPath, env: { AGENT_TEMPDIRECTORY: tempDir, SYSTEM_TASKINSTANCEID: 'mock', ...s.env } };
  writeFileSync(`${scenarioPath}.json`, JSON.stringify(scenario));
  const runner = new MockTestRunner(scenarioPath, TASK_JSON);
  // Otherwise it downloads the Node of task.json's highest handler from nodejs.org.
  runner.nodePath = process.execPath;
  await runner.runAsync();
  const log = parseTaskLog(runner.stdout);
  const callLine = runner.stdout.split('\n').find((l) => l.startsWith('ADO_MOCK_CALL '));
  if (process.env['ADO_MOCK_TRACE']) process.stderr.write(`${runner.stdout}\n${runner.stderr}\n`);
  return { ...log, runner, ...(callLine ? { call: JSON.parse(callLine.slice('ADO_MOCK_CALL '.length)) as MockCall } : {}) };
}

describe('ADO task under the mock runner', () => {
  it('passes referrers and requireReferrers (a multi-line box) to the core', async () => {
    const r = await runScenario({
      inputs: { ...exportInputs, referrers: 'skip', requireReferrers: 'application/vnd.cncf.notary.signature\napplication/spdx+json' },
      env: spnKey(),
    });
    expect(r.result).toBe('Succeeded');
    const { settings } = r.call!;
    expect(settings.operation === 'export' && [settings.referrers, settings.requireReferrers]).toEqual([
      'skip',
      ['application/vnd.cncf.notary.signature', 'application/spdx+json'],
    ]);
  });

  it('maps camelCase inputs and a ServicePrincipal (secret) connection in Azure Cloud, and renders the report', async () => {
    const r = await runScenario({ inputs: exportInputs, env: spnKey() });
    expect(r.result).toBe('Succeeded');
    expect(r.runner.succeeded).toBe(true);
    const { settings, credential } = r.call!;
    expect(settings.operation).toBe('export');
    // subscriptionId left empty: the connection's subscription.
    expect(settings.source).toEqual({
      subscriptionId: SUB,
      resourceGroup: 'rg-src',
      name: 'srcregistry',
      resourceId: `/subscriptions/${SUB}/resourceGroups/rg-src/providers/Microsoft.ContainerRegistry/registries/srcregistry`,
    });
    expect(settings.artifacts).toEqual([
      { kind: 'tag', repository: 'app', tag: 'v1' },
      { kind: 'tag', repository: 'team/api', tag: '2.0' },
    ]);
    expect(settings.exportPipeline.options).toEqual(['OverwriteBlobs', 'ContinueOnErrors']);
    // task.json defaults arrive as inputs, the way the agent passes them.
    expect(settings.exportPipeline.name).toBe('acrtransferexport');
    expect(settings.maxParallelRuns).toBe(5);
    expect(settings.operation === 'export' && [settings.referrers, settings.requireReferrers]).toEqual(['include', []]);
    expect(settings.auth.type).toBe('auto');
    expect(credential.type).toBe('ClientSecretCredential');
    expect(credential.args).toEqual([TENANT, CLIENT, KEY, { authorityHost: 'https://login.microsoftonline.com', disableInstanceDiscovery: false }]);
    expect(credential.armEndpoint).toBe('https://management.azure.com');
    expect(credential.armAudience).toBe('https://management.core.windows.net/');
    expect(r.call!.signal).toBe(true);
    expect(r.secrets).toContain(KEY);
    // Output variables, isOutput=true, named in camelCase.
    expect(Object.keys(r.outputs).sort()).toEqual(['blobs', 'changes', 'checks', 'failedArtifacts', 'importedArtifacts', 'referrers', 'reportPath', 'runs']);
    expect(JSON.parse(r.outputs['blobs']!)).toEqual(['blob-1']);
    expect(JSON.parse(readFileSync(r.outputs['reportPath']!, 'utf8'))).toMatchObject({ operation: 'export', outcome: 'succeeded' });
    expect(r.summaries).toHaveLength(1);
    expect(readFileSync(r.summaries[0]!, 'utf8')).toContain('app:v1');
    expect(r.progress).toEqual([{ value: 50, message: 'half way' }]);
    // Warnings are task.logissue, with input names as ADO users write them.
    expect(r.commands.filter((c) => c.command === 'task.logissue').map((c) => [c.properties['type'], c.message])).toContainEqual([
      'warning',
      "careful with 'maxParallelRuns'",
    ]);
  });

  it('uses the certificate of a spnCertificate connection and the cloud of AzureUSGovernment, masking the PEM line by line', async () => {
    const env = endpoint(
      'ServicePrincipal',
      { serviceprincipalid: CLIENT, servicePrincipalCertificate: PEM, tenantid: TENANT, authenticationType: 'spnCertificate' },
      { environment: 'AzureUSGovernment' },
      'https://management.usgovcloudapi.net/',
    );
    const r = await runScenario({ inputs: { ...exportInputs, subscriptionId: SUB }, env });
    expect(r.result).toBe('Succeeded');
    expect(r.call!.credential.type).toBe('ClientCertificateCredential');
    expect(r.call!.credential.args).toEqual([
      TENANT,
      CLIENT,
      { certificate: PEM },
      { authorityHost: 'https://login.microsoftonline.us', disableInstanceDiscovery: true },
    ]);
    expect(r.call!.credential.armEndpoint).toBe('https://management.usgovcloudapi.net');
    expect(r.secrets).toEqual(expect.arrayContaining(PEM.split('\n').filter((l) => !l.startsWith('-----'))));
  });

  it('uses the agent identity of a ManagedServiceIdentity connection', async () => {
    const env = endpoint('ManagedServiceIdentity', { tenantid: TENANT }, { ...azureCloudData, msiclientId: CLIENT }, 'https://management.azure.com/');
    const r = await runScenario({ inputs: exportInputs, env });
    expect(r.result).toBe('Succeeded');
    expect(r.call!.credential.type).toBe('ManagedIdentityCredential');
    expect(r.call!.credential.args).toEqual([{ clientId: CLIENT }]);
  });

  it('uses AzurePipelinesCredential for a WorkloadIdentityFederation connection, with the SystemVssConnection token', async () => {
    const env = {
      ...endpoint(
        'WorkloadIdentityFederation',
        { serviceprincipalid: CLIENT, tenantid: TENANT, workloadIdentityFederationSubject: 'sc://org/proj/conn' },
        azureCloudData,
        'https://management.azure.com/',
      ),
      ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: ACCESS_TOKEN,
      SYSTEM_OIDCREQUESTURI: 'https://dev.azure.com/org/proj-id/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken',
    };
    const r = await runScenario({ inputs: exportInputs, env });
    expect(r.result).toBe('Succeeded');
    expect(r.call!.credential.type).toBe('AzurePipelinesCredential');
    expect(r.call!.credential.args).toEqual([
      TENANT,
      CLIENT,
      CONN,
      ACCESS_TOKEN,
      { authorityHost: 'https://login.microsoftonline.com', disableInstanceDiscovery: false },
    ]);
    expect(r.secrets).toContain(ACCESS_TOKEN);
  });

  it('fails with one line saying how to map System.AccessToken and System.OidcRequestUri when a WIF job lacks them', async () => {
    const env = endpoint('WorkloadIdentityFederation', { serviceprincipalid: CLIENT, tenantid: TENANT }, azureCloudData, 'https://management.azure.com/');
    const r = await runScenario({ inputs: exportInputs, env });
    expect(r.result).toBe('Failed');
    expect(r.call).toBeUndefined();
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).not.toContain('\n');
    expect(r.errors[0]).toContain('System.AccessToken and System.OidcRequestUri');
    expect(r.errors[0]).toContain('SYSTEM_ACCESSTOKEN: $(System.AccessToken)');
    expect(r.errors[0]).toContain('SYSTEM_OIDCREQUESTURI: $(System.OidcRequestUri)');
  });

  it('finds the authority and audience of an Azure Stack (ADFS) connection in its metadata/endpoints document', async () => {
    const arm = 'https://management.local.azurestack.external';
    const env = endpoint(
      'ServicePrincipal',
      { serviceprincipalid: CLIENT, serviceprincipalkey: KEY, tenantid: TENANT, authenticationType: 'spnKey' },
      { environment: 'AzureStack' },
      `${arm}/`,
    );
    const http = {
      '/metadata/endpoints?api-version=2015-01-01': {
        authentication: { loginEndpoint: 'https://adfs.local.azurestack.external/adfs/', audiences: ['https://management.adfs.azurestack.local/1234'] },
      },
    };
    const r = await runScenario({ inputs: { ...exportInputs, subscriptionId: SUB }, env, http });
    expect(r.result).toBe('Succeeded');
    expect(r.call!.credential.args).toEqual(['adfs', CLIENT, KEY, { authorityHost: 'https://adfs.local.azurestack.external', disableInstanceDiscovery: true }]);
    expect(r.call!.credential.armEndpoint).toBe(arm);
    expect(r.call!.credential.armAudience).toBe('https://management.adfs.azurestack.local/1234');
  });

  it('fails a bad input with one line naming the camelCase input, the value and what is allowed; nothing runs', async () => {
    const r = await runScenario({ inputs: { ...exportInputs, maxParallelRuns: 'many' }, env: spnKey() });
    expect(r.result).toBe('Failed');
    expect(r.call).toBeUndefined();
    expect(r.errors).toEqual(["Input 'maxParallelRuns' is 'many': it must be a whole number from 1 to 50"]);
    expect(r.resultMessage).toBe(r.errors[0]);
  });

  it('refuses a PublishProfile connection and a connection the job does not have, in one line each', async () => {
    const publish = await runScenario({
      inputs: exportInputs,
      env: endpoint('PublishProfile', { tenantid: TENANT }, azureCloudData, 'https://management.azure.com/'),
    });
    expect(publish.result).toBe('Failed');
    expect(publish.errors).toEqual([expect.stringContaining('uses the PublishProfile scheme, which cannot call Azure Resource Manager')]);
    const missing = await runScenario({ inputs: exportInputs, env: {} });
    expect(missing.result).toBe('Failed');
    expect(missing.errors).toEqual([expect.stringContaining(`Input 'azureSubscription' is '${CONN}': the job has no such service connection`)]);
  });

  it('ends SucceededWithIssues when ContinueOnErrors left failures, with the failures as warnings', async () => {
    const r = await runScenario({ inputs: exportInputs, env: spnKey(), outcome: 'partial' });
    expect(r.result).toBe('SucceededWithIssues');
    expect(r.runner.succeeded).toBe(true);
    expect(r.warnings).toContainEqual('app:v2: manifest unknown');
    expect(JSON.parse(r.outputs['failedArtifacts']!)).toEqual([{ artifact: 'app:v2', reason: 'manifest unknown' }]);
    expect(r.errors).toEqual([]);
  });
});
