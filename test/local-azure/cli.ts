/**
 * `npm run azure:up` / `azure:down` / `azure:status` (and `cli.ts restart-emulator`): the local Azure on 127.0.0.1.
 * State lives in LOCAL_AZURE_DIR (default .local-azure/); LOCAL_AZURE_PORT_OFFSET shifts every port, so
 * that several copies can run side by side.
 */
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { makeCerts } from './certs';
import {
  blobEndpointOf,
  type EmulatorConfig,
  keyVaultUrl,
  LOCAL_DNS_SUFFIX,
  type LocalAzureEnv,
  localAzureDir,
  localIdentity,
  loginServerOf,
  registryResourceId,
  SIDES,
  type StorageEnv,
} from './config';
import { type Managed, portInUse, runningProcesses, startProcess, stopProcesses, waitReady } from './processes';

const HOST = '127.0.0.1';
const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Node processes of the local Azure resolve *.localhost (its host names) through this preload. */
const LOOPBACK_NAMES = path.join(__dirname, 'loopback-names.cjs');
const START_TIMEOUT_MS = 20_000;

function ports() {
  const o = Number(process.env['LOCAL_AZURE_PORT_OFFSET'] ?? 0);
  if (!Number.isInteger(o) || o < 0 || o > 20000)
    throw new Error(`LOCAL_AZURE_PORT_OFFSET must be a whole number from 0 to 20000, not ${process.env['LOCAL_AZURE_PORT_OFFSET']}`);
  return {
    emulator: 8443 + o,
    acrSource: 8444 + o,
    acrTarget: 8445 + o,
    storage: 8446 + o,
    azurite: 10001 + o,
    registrySource: 5001 + o,
    registryTarget: 5002 + o,
  };
}

interface Runtime {
  /** Temp dir holding registry and Azurite data; removed by `down`. */
  readonly dataDir: string;
}

function registryConfig(rootDir: string, port: number, secret: string): string {
  // relativeurls: upload Locations stay relative, so the emulator's ACR front end can proxy them unchanged.
  return [
    'version: 0.1',
    'log: { level: warn }',
    'storage:',
    `  filesystem: { rootdirectory: ${rootDir} }`,
    '  delete: { enabled: true }',
    '  maintenance: { uploadpurging: { enabled: false } }',
    'http:',
    `  addr: ${HOST}:${port}`,
    `  secret: ${secret}`,
    '  relativeurls: true',
    '',
  ].join('\n');
}

async function up(): Promise<void> {
  const started = Date.now();
  // Random unless fixed by LOCAL_AZURE_TENANT_ID, …_CLIENT_ID, …_CLIENT_SECRET, …_SUBSCRIPTION_ID (a saved service connection's).
  const identity = localIdentity();
  const dir = localAzureDir();
  const live = runningProcesses(dir);
  if (live.length > 0) {
    throw new Error(
      `the local Azure is already running from ${dir} (${live.map((m) => `${m.name} pid ${m.pid}`).join(', ')}); stop it with \`npm run azure:down\` first`,
    );
  }
  const p = ports();
  const busy = (await Promise.all(Object.entries(p).map(async ([k, port]) => ((await portInUse(port)) ? `${k} ${port}` : '')))).filter(Boolean);
  if (busy.length > 0) throw new Error(`ports already in use on ${HOST}: ${busy.join(', ')} (set LOCAL_AZURE_PORT_OFFSET to move them)`);

  for (const sub of ['logs', 'pids', 'certs']) mkdirSync(path.join(dir, sub), { recursive: true });
  rmSync(path.join(dir, 'env.json'), { force: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'local-azure-'));
  writeFileSync(path.join(dir, 'runtime.json'), JSON.stringify({ dataDir } satisfies Runtime));
  // The vaults, storage accounts and registries are named under the local cloud's suffix, like a custom cloud's.
  const certs = makeCerts(
    path.join(dir, 'certs'),
    ['vault', 'blob', 'azurecr'].map((kind) => `*.${kind}.${LOCAL_DNS_SUFFIX}`),
  );
  const caCertPath = path.join(dir, 'ca.pem');
  writeFileSync(caCertPath, readFileSync(certs.caCertPath));

  const subscriptionId = identity.subscriptionId;
  const resourceGroup = 'acr-transfer-local';
  const account = (name: string): StorageEnv => ({
    account: name,
    key: randomBytes(64).toString('base64'),
    blobEndpoint: blobEndpointOf(name, p.storage),
    backendUrl: `https://${HOST}:${p.azurite}/${name}/`,
    container: 'transfer',
  });
  const storage: Record<'source' | 'target', StorageEnv> = { source: account('sourcestore'), target: account('targetstore') };
  const registryPorts = { source: { acr: p.acrSource, backend: p.registrySource }, target: { acr: p.acrTarget, backend: p.registryTarget } };
  const registryNames = { source: 'sourceregistry', target: 'targetregistry' };

  const emulatorConfig: EmulatorConfig = {
    host: HOST,
    port: p.emulator,
    storagePort: p.storage,
    azuriteUrl: `https://${HOST}:${p.azurite}`,
    certPath: certs.certPath,
    keyPath: certs.keyPath,
    caCertPath,
    stateDir: path.join(dataDir, 'emulator'),
    requestLogPath: path.join(dir, 'logs', 'requests.jsonl'),
    tenantId: identity.tenantId,
    clientId: identity.clientId,
    clientSecret: identity.clientSecret,
    subscriptionId,
    resourceGroup,
    location: 'eastus',
    keyVaultName: 'acrtransferkv',
    registries: {
      source: {
        name: registryNames.source,
        port: p.acrSource,
        backendUrl: `http://${HOST}:${p.registrySource}`,
        rootDir: path.join(dataDir, 'registry-source'),
      },
      target: {
        name: registryNames.target,
        port: p.acrTarget,
        backendUrl: `http://${HOST}:${p.registryTarget}`,
        rootDir: path.join(dataDir, 'registry-target'),
      },
    },
    storage,
  };
  mkdirSync(emulatorConfig.stateDir, { recursive: true });
  writeFileSync(path.join(dir, 'emulator.json'), JSON.stringify(emulatorConfig, null, 2), { mode: 0o600 });

  const baseEnv = { ...process.env, NODE_EXTRA_CA_CERTS: caCertPath };
  const targets: Array<{ managed: Managed; url: string }> = [];
  // Both "accounts" live in one Azurite: Azurite copies only within one instance (docs/local-azure.md#one-azurite-for-both-accounts).
  targets.push({
    managed: startProcess(
      dir,
      'azurite',
      process.execPath,
      [
        '--require',
        LOOPBACK_NAMES,
        path.join(REPO_ROOT, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js'),
        '--blobHost',
        HOST,
        '--blobPort',
        String(p.azurite),
        '--location',
        path.join(dataDir, 'azurite'),
        '--skipApiVersionCheck',
        '--loose',
        '--disableTelemetry',
        '--silent',
        '--cert',
        certs.certPath,
        '--key',
        certs.keyPath,
        // Entra bearer tokens too (JWTs from the emulator's Entra), for user-delegation SAS and OAuth copies.
        '--oauth',
        'basic',
      ],
      { ...baseEnv, AZURITE_ACCOUNTS: SIDES.map((s) => `${storage[s].account}:${storage[s].key}`).join(';') },
    ),
    url: `https://${HOST}:${p.azurite}/`,
  });
  for (const side of SIDES) {
    const cfgPath = path.join(dir, `registry-${side}.yml`);
    writeFileSync(cfgPath, registryConfig(emulatorConfig.registries[side].rootDir, registryPorts[side].backend, randomBytes(16).toString('hex')));
    targets.push({
      managed: startProcess(dir, `registry-${side}`, 'docker-registry', ['serve', cfgPath], baseEnv),
      url: `http://${HOST}:${registryPorts[side].backend}/v2/`,
    });
  }
  targets.push(...startEmulator(dir, emulatorConfig));

  try {
    await waitReady(dir, targets, readFileSync(caCertPath), START_TIMEOUT_MS);
  } catch (e) {
    await stopProcesses(dir);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(path.join(dir, 'runtime.json'), { force: true });
    throw e;
  }

  const env: LocalAzureEnv = {
    caCertPath,
    dnsSuffix: LOCAL_DNS_SUFFIX,
    armEndpoint: `https://${HOST}:${p.emulator}`,
    authorityHost: `https://${HOST}:${p.emulator}`,
    tenantId: emulatorConfig.tenantId,
    clientId: emulatorConfig.clientId,
    clientSecret: emulatorConfig.clientSecret,
    subscriptionId,
    resourceGroup,
    keyVaultUrl: keyVaultUrl(emulatorConfig),
    controlUrl: `https://${HOST}:${p.emulator}/_control`,
    registries: {
      source: {
        name: registryNames.source,
        resourceId: registryResourceId(subscriptionId, resourceGroup, registryNames.source),
        loginServer: loginServerOf(emulatorConfig.registries.source),
        address: `${HOST}:${p.acrSource}`,
        backendUrl: emulatorConfig.registries.source.backendUrl,
      },
      target: {
        name: registryNames.target,
        resourceId: registryResourceId(subscriptionId, resourceGroup, registryNames.target),
        loginServer: loginServerOf(emulatorConfig.registries.target),
        address: `${HOST}:${p.acrTarget}`,
        backendUrl: emulatorConfig.registries.target.backendUrl,
      },
    },
    storage,
  };
  // The containers are made through the storage SDK, which must trust the throwaway CA: NODE_EXTRA_CA_CERTS
  // is read only at process start, so a child process does it (docs/local-azure.md#node_extra_ca_certs-at-process-start).
  try {
    execFileSync(process.execPath, ['--import', 'tsx', __filename, 'init-storage', JSON.stringify(storage)], { env: baseEnv, stdio: 'inherit' });
  } catch (e) {
    await stopProcesses(dir);
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`creating the storage containers failed: ${(e as Error).message}`, { cause: e });
  }
  writeFileSync(path.join(dir, 'env.json'), JSON.stringify(env, null, 2), { mode: 0o600 });
  const seconds = ((Date.now() - started) / 1000).toFixed(2);
  process.stdout.write(
    `local Azure is up in ${seconds} s: ARM/Entra/Key Vault ${env.armEndpoint}, registries ${env.registries.source.loginServer} and ${env.registries.target.loginServer}, storage ${storage.source.blobEndpoint} and ${storage.target.blobEndpoint}\n`,
  );
  process.stdout.write(`env: ${path.join(dir, 'env.json')}; clients must run with NODE_EXTRA_CA_CERTS=${caCertPath}\n`);
}

/** Starts the emulator from `dir`/emulator.json; the URLs that answer once it is up. */
function startEmulator(dir: string, config: EmulatorConfig): Array<{ managed: Managed; url: string }> {
  const managed = startProcess(
    dir,
    'emulator',
    process.execPath,
    ['--require', LOOPBACK_NAMES, '--import', 'tsx', path.join(__dirname, 'emulator', 'main.ts'), path.join(dir, 'emulator.json')],
    { ...process.env, NODE_EXTRA_CA_CERTS: config.caCertPath },
  );
  return [
    { managed, url: `https://${config.host}:${config.port}/_control/knobs` },
    { managed, url: `https://${config.host}:${config.storagePort}/` },
    ...SIDES.map((side) => ({ managed, url: `https://${config.host}:${config.registries[side].port}/v2/` })),
  ];
}

/**
 * Stops the emulator alone (SIGTERM, as a service restart would) and starts it again on the same ports and state:
 * what it had accepted is on disk and runs in progress carry on (docs/local-azure.md#state-on-disk).
 */
async function restartEmulator(): Promise<void> {
  const dir = localAzureDir();
  const file = path.join(dir, 'emulator.json');
  if (!existsSync(file) || !runningProcesses(dir).some((m) => m.name === 'emulator')) throw new Error(`the local Azure's emulator is not running from ${dir}`);
  const config = JSON.parse(readFileSync(file, 'utf8')) as EmulatorConfig;
  const started = Date.now();
  await stopProcesses(dir, 10_000, 'emulator');
  await waitReady(dir, startEmulator(dir, config), readFileSync(config.caCertPath), START_TIMEOUT_MS);
  process.stdout.write(`emulator restarted in ${((Date.now() - started) / 1000).toFixed(2)} s\n`);
}

async function initStorage(storageJson: string): Promise<void> {
  const storage = JSON.parse(storageJson) as Record<'source' | 'target', StorageEnv>;
  for (const side of SIDES) {
    const s = storage[side];
    // Straight to Azurite: this child runs before anything resolves *.localhost for it.
    const svc = new BlobServiceClient(s.backendUrl.replace(/\/$/, ''), new StorageSharedKeyCredential(s.account, s.key));
    await svc.getContainerClient(s.container).createIfNotExists();
  }
}

async function down(): Promise<void> {
  const dir = localAzureDir();
  const stopped = await stopProcesses(dir);
  const runtimeFile = path.join(dir, 'runtime.json');
  if (existsSync(runtimeFile)) {
    const { dataDir } = JSON.parse(readFileSync(runtimeFile, 'utf8')) as Runtime;
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(runtimeFile, { force: true });
  }
  rmSync(path.join(dir, 'env.json'), { force: true });
  process.stdout.write(stopped.length > 0 ? `local Azure stopped (${stopped.map((m) => m.name).join(', ')})\n` : 'local Azure was not running\n');
}

function status(): void {
  const live = runningProcesses(localAzureDir());
  process.stdout.write(live.length > 0 ? `running: ${live.map((m) => `${m.name} (pid ${m.pid})`).join(', ')}\n` : 'not running\n');
  process.exitCode = live.length > 0 ? 0 : 1;
}

async function main(): Promise<void> {
  const [cmd, arg] = process.argv.slice(2);
  switch (cmd) {
    case 'up':
      return up();
    case 'down':
      return down();
    case 'status':
      return status();
    case 'restart-emulator':
      return restartEmulator();
    case 'init-storage':
      return initStorage(arg ?? '{}');
    default:
      throw new Error('usage: cli.ts up|down|status|restart-emulator');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`local Azure: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
