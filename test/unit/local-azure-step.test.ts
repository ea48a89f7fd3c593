/**
 * The local-azure step's pieces (local-azure/): how it reads the images a user names, and how it hands its variables to
 * each host: GitHub's file commands (read back with the runner's format), Azure DevOps' logging commands, a shell file
 * (sourced by bash); and action.yml declares an output for every variable it sets.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { type Export, exportsOf, toAzureDevOps, toGitHub, toShellFile } from '../../local-azure/exports';
import { imageList } from '../../local-azure/main';
import type { LocalAzureEnv } from '../local-azure/config';
import { parseFileCommand } from '../e2e/support/workflow-commands';
import { parseTaskLog } from '../e2e/support/ado-runner';

const ROOT = path.join(__dirname, '..', '..');
const storage = (account: string) => ({ account, key: 'k', blobEndpoint: `https://${account}.blob.x.localhost:8446/`, backendUrl: '', container: 'transfer' });
const registry = (name: string, port: number) => ({
  name,
  resourceId: `/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/${name}`,
  loginServer: `${name}.azurecr.x.localhost:${port}`,
  address: `127.0.0.1:${port}`,
  backendUrl: `http://127.0.0.1:${port + 1000}`,
});
const env: LocalAzureEnv = {
  caCertPath: '/tmp/ca.pem',
  dnsSuffix: 'x.localhost',
  armEndpoint: 'https://127.0.0.1:8443',
  authorityHost: 'https://127.0.0.1:8443',
  tenantId: 't',
  clientId: 'c',
  clientSecret: "se%cr'et\nline",
  subscriptionId: 's',
  resourceGroup: 'g',
  keyVaultUrl: 'https://kv.vault.x.localhost:8443/',
  controlUrl: 'https://127.0.0.1:8443/_control',
  registries: { source: registry('src', 8444), target: registry('dst', 8445) },
  storage: { source: storage('srcstore'), target: storage('dststore') },
};
const vars: Export[] = exportsOf(env, '/tmp/env.json', '/tmp/ca.pem', { exportSecretUri: 'https://kv/secrets/e', importSecretUri: 'https://kv/secrets/i' });

describe('imageList', () => {
  it('takes images on lines, after spaces or after commas, each with its options', () => {
    expect(imageList('team/api:1.0,multi, team/web:2.0\n  tools/x:1,mb=2,seed=a:b team/y:3')).toEqual([
      'team/api:1.0,multi',
      'team/web:2.0',
      'tools/x:1,mb=2,seed=a:b',
      'team/y:3',
    ]);
    expect(imageList('  \n ')).toEqual([]);
  });
});

describe('what the step sets', () => {
  it('names the acr-transfer inputs as outputs, and action.yml declares every one of them', () => {
    const action = parse(readFileSync(path.join(ROOT, 'local-azure', 'action.yml'), 'utf8')) as { outputs: Record<string, { value: string }> };
    expect(Object.keys(action.outputs).sort()).toEqual(vars.map((e) => e.output).sort());
    for (const e of vars) expect(action.outputs[e.output]!.value).toBe(`\${{ steps.up.outputs.${e.output} }}`);
    expect(vars.filter((e) => e.secret).map((e) => e.name)).toEqual(['AZURE_CLIENT_SECRET']);
    expect(Object.fromEntries(vars.map((e) => [e.name, e.value]))).toMatchObject({
      AZURE_AUTH_TYPE: 'service-principal',
      ACR_EXPORT_STORAGE_URI: 'https://srcstore.blob.x.localhost:8446/transfer',
      ACR_IMPORT_STORAGE_URI: 'https://dststore.blob.x.localhost:8446/transfer',
      LOCAL_AZURE_SOURCE_PUSH: '127.0.0.1:9444',
    });
  });

  it('on GitHub: the secret masked first, then GITHUB_ENV and GITHUB_OUTPUT the runner reads back value for value', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'la-gh-'));
    try {
      const [envFile, outFile] = [path.join(dir, 'env'), path.join(dir, 'out')];
      writeFileSync(envFile, 'BEFORE=1\n');
      const printed: string[] = [];
      toGitHub(vars, envFile, outFile, (l) => printed.push(l));
      expect(printed).toEqual([`::add-mask::${env.clientSecret}`]);
      expect(parseFileCommand(readFileSync(envFile, 'utf8'))).toEqual({ BEFORE: '1', ...Object.fromEntries(vars.map((e) => [e.name, e.value])) });
      expect(parseFileCommand(readFileSync(outFile, 'utf8'))).toEqual(Object.fromEntries(vars.map((e) => [e.output, e.value])));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on Azure DevOps: one task.setvariable each, the secret with issecret, values escaped as the agent unescapes them', () => {
    const printed: string[] = [];
    toAzureDevOps(vars, (l) => printed.push(l));
    const log = parseTaskLog(printed.join('\n'));
    expect(log.commands.map((c) => [c.properties['variable'], c.message, c.properties['issecret'] ?? ''])).toEqual(
      vars.map((e) => [e.name, e.value, e.secret ? 'true' : '']),
    );
  });

  it('in a shell file that bash sources to the same values', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'la-sh-'));
    try {
      const file = path.join(dir, 'vars.sh');
      toShellFile(vars, file);
      const out = execFileSync('bash', ['-c', `. '${file}' && printf '%s\\0' "$AZURE_CLIENT_SECRET" "$ACR_SOURCE_REGISTRY"`], { encoding: 'utf8' });
      expect(out.split('\0').slice(0, 2)).toEqual([env.clientSecret, env.registries.source.resourceId]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
