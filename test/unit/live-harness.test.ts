/**
 * The live-mode harness (test/live/): the settings check and its cost note, the sanitiser a recording goes through and
 * its inverse a replay fills placeholders with, and which files jest.live.config.js runs.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { costNote, settingsProblems } from '../live/settings';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { sanitizer, filler } = require('../live/sanitize.cjs') as {
  sanitizer: (s: object) => (text: string) => string;
  filler: (s: object) => (text: string) => string;
};

const ROOT = path.join(__dirname, '..', '..');
const side = (n: string) => ({
  registry: {
    name: `${n}reg`,
    resourceId: `/subscriptions/1a2b3c4d-0000-4000-8000-000000000001/resourceGroups/rg-live/providers/Microsoft.ContainerRegistry/registries/${n}reg`,
    loginServer: `${n}reg.azurecr.io`,
    address: `${n}reg.azurecr.io`,
  },
  storage: { account: `${n}store`, key: `${n}-account-key==`, blobEndpoint: `https://${n}store.blob.core.windows.net/`, container: 'transfer' },
});
const settings = {
  armEndpoint: 'https://management.azure.com',
  authorityHost: 'https://login.microsoftonline.com',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '9f2b7c1e-3d4a-4b5c-8d6e-7f8091a2b3c4',
  clientSecret: 'the-client-secret-value',
  subscriptionId: '1a2b3c4d-0000-4000-8000-000000000001',
  resourceGroup: 'rg-live',
  keyVaultUrl: 'https://livekv.vault.azure.net/',
  registries: { source: side('src').registry, target: side('dst').registry },
  storage: { source: side('src').storage, target: side('dst').storage },
};

describe('the settings check', () => {
  it('passes a complete settings file and names each missing or malformed field in one line', () => {
    expect(settingsProblems(JSON.stringify(settings))).toEqual([]);
    const broken = {
      ...settings,
      clientSecret: '',
      keyVaultUrl: 'http://livekv',
      caCertPath: '/nowhere/ca.pem',
      registries: { source: settings.registries.source },
    };
    expect(settingsProblems(JSON.stringify(broken))).toEqual([
      "'clientSecret' is missing: a non-empty string",
      "'registries.target.name' is missing: a non-empty string",
      "'registries.target.resourceId' is missing: a non-empty string",
      "'registries.target.loginServer' is missing: a non-empty string",
      "'registries.target.address' is missing: a non-empty string",
      `'keyVaultUrl' must be an https URL, not "http://livekv"`,
      `'caCertPath' names no file ("/nowhere/ca.pem")`,
    ]);
    expect(settingsProblems('{not json')).toEqual(['the settings file is not JSON (it has the shape of .local-azure/env.json)']);
  });

  it('says what a live run costs, and that a local Azure costs nothing', () => {
    expect(costNote(settings)).toContain('https://azure.microsoft.com/pricing/details/container-registry/');
    expect(costNote(settings)).not.toContain('nothing is charged');
    expect(costNote({ armEndpoint: 'https://127.0.0.1:8443' })).toContain('(a local Azure: nothing is charged)');
  });
});

describe('the sanitiser', () => {
  const clean = sanitizer(settings);
  const url = `https://management.azure.com/subscriptions/${settings.subscriptionId}/resourceGroups/rg-live/providers/Microsoft.ContainerRegistry/registries/srcreg/pipelineRuns/run1?api-version=2025-06-01-preview`;

  it('turns the settings into placeholders and drops every secret', () => {
    expect(clean(url)).toBe(
      '{armEndpoint}/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.ContainerRegistry/registries/{sourceRegistry}/pipelineRuns/run1?api-version=2025-06-01-preview',
    );
    const body = JSON.stringify({
      uri: 'https://dststore.blob.core.windows.net/transfer?sv=2025-05-05&sp=rl&sig=abc%2Bdef%3D',
      keyVaultUri: 'https://livekv.vault.azure.net/secrets/acrimportsas',
      token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
      auth: 'Bearer abc.def',
      secret: 'the-client-secret-value',
      key: 'dst-account-key==',
      identity: { principalId: '0f0e0d0c-0b0a-4909-8807-060504030201', tenantId: settings.tenantId },
      again: '0f0e0d0c-0b0a-4909-8807-060504030201',
      server: 'srcreg.azurecr.io',
    });
    expect(JSON.parse(clean(body))).toEqual({
      uri: '{targetBlobEndpoint}/transfer?sv=2025-05-05&sp=rl&sig=REDACTED',
      keyVaultUri: '{keyVaultUrl}/secrets/acrimportsas',
      token: 'REDACTED-JWT',
      auth: 'Bearer REDACTED',
      secret: 'REDACTED',
      key: 'REDACTED',
      identity: { principalId: '00000000-0000-0000-0000-000000000001', tenantId: '{tenantId}' },
      again: '00000000-0000-0000-0000-000000000001',
      server: '{sourceLoginServer}',
    });
  });

  it('is undone by the filler of another Azure, placeholder for placeholder', () => {
    const other = {
      ...settings,
      armEndpoint: 'https://127.0.0.1:12143',
      subscriptionId: '22222222-2222-4222-8222-222222222222',
      resourceGroup: 'acr-transfer-local',
      registries: { source: { ...settings.registries.source, name: 'sourceregistry' }, target: { ...settings.registries.target, name: 'targetregistry' } },
    };
    expect(filler(other)(clean(url))).toBe(
      'https://127.0.0.1:12143/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/acr-transfer-local/providers/Microsoft.ContainerRegistry/registries/sourceregistry/pipelineRuns/run1?api-version=2025-06-01-preview',
    );
  });
});

it('jest.live.config.js runs exactly the e2e files marked @live', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require(path.join(ROOT, 'jest.live.config.js')) as { testMatch: string[]; setupFilesAfterEnv: string[] };
  expect(config.testMatch.map((f) => path.basename(f)).sort()).toEqual(['action-disconnected.test.ts', 'guide-workflow.test.ts']);
  for (const f of config.testMatch) expect(readFileSync(f.replace('<rootDir>', ROOT), 'utf8')).toMatch(/^ \* @live$/m);
  expect(config.setupFilesAfterEnv).toEqual(['<rootDir>/test/live/after-file.ts']);
});
