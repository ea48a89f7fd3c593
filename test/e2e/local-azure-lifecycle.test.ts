import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { isAlive } from '../local-azure/processes';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', 'local-azure', 'cli.ts');

/** A second, private local Azure (own dir, ports shifted) so the suite's shared one is not disturbed. */
const dir = mkdtempSync(path.join(tmpdir(), 'la-lifecycle-'));
const env = { ...process.env, LOCAL_AZURE_DIR: dir, LOCAL_AZURE_PORT_OFFSET: '1000' };
const cli = (cmd: string) => run(process.execPath, ['--import', 'tsx', CLI, cmd], { env, timeout: 60_000 });

function pids(): number[] {
  const p = path.join(dir, 'pids');
  return existsSync(p) ? readdirSync(p).map((f) => Number(readFileSync(path.join(p, f), 'utf8'))) : [];
}

afterAll(async () => {
  await cli('down').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test('up writes env.json with exactly the documented fields, refuses a second up, and down leaves no process', async () => {
  const upOut = await cli('up');
  expect(upOut.stdout).toMatch(/local Azure is up in [\d.]+ s/);
  const envJson = JSON.parse(readFileSync(path.join(dir, 'env.json'), 'utf8')) as Record<string, unknown>;
  expect(Object.keys(envJson).sort()).toEqual(
    [
      'caCertPath',
      'dnsSuffix',
      'armEndpoint',
      'authorityHost',
      'tenantId',
      'clientId',
      'clientSecret',
      'subscriptionId',
      'resourceGroup',
      'keyVaultUrl',
      'controlUrl',
      'registries',
      'storage',
    ].sort(),
  );
  const registries = envJson['registries'] as Record<string, Record<string, unknown>>;
  const storage = envJson['storage'] as Record<string, Record<string, unknown>>;
  const suffix = String(envJson['dnsSuffix']);
  expect(suffix).toMatch(/\.localhost$/);
  for (const side of ['source', 'target']) {
    expect(Object.keys(registries[side]!).sort()).toEqual(['address', 'backendUrl', 'loginServer', 'name', 'resourceId']);
    expect(Object.keys(storage[side]!).sort()).toEqual(['account', 'backendUrl', 'blobEndpoint', 'container', 'key']);
    expect(String(registries[side]!['loginServer'])).toBe(String(registries[side]!['loginServer']).toLowerCase());
    // Data-plane hosts are named under the cloud's suffix, as metadata/endpoints declares; non-Node tools get 127.0.0.1.
    expect(String(registries[side]!['loginServer'])).toMatch(new RegExp(`^[a-z0-9]+\\.azurecr\\.${suffix.replace(/\./g, '\\.')}:\\d+$`));
    expect(String(registries[side]!['address'])).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(String(storage[side]!['blobEndpoint'])).toBe(
      `https://${String(storage[side]!['account'])}.blob.${suffix}:${new URL(String(storage[side]!['blobEndpoint'])).port}/`,
    );
    expect(String(storage[side]!['backendUrl'])).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/[a-z0-9]+\/$/);
  }
  expect(String(envJson['keyVaultUrl'])).toMatch(new RegExp(`^https://[a-z0-9-]+\\.vault\\.${suffix.replace(/\./g, '\\.')}:\\d+/$`));
  for (const url of [envJson['armEndpoint'], envJson['authorityHost'], envJson['controlUrl']]) expect(String(url)).toMatch(/^https:\/\/127\.0\.0\.1:/);

  const running = pids();
  expect(running.length).toBe(4); // azurite, two registries, emulator
  expect(running.every(isAlive)).toBe(true);

  const second = await cli('up').then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  expect(second?.code).not.toBe(0);
  expect(second?.stderr).toMatch(/already running/);
  expect(pids().every(isAlive)).toBe(true); // the refused start did not disturb the running one

  await cli('down');
  expect(running.some(isAlive)).toBe(false);
  expect(existsSync(path.join(dir, 'env.json'))).toBe(false);
}, 90_000);
