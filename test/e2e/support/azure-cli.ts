/**
 * The az CLI (Debian's azure-cli, which `scripts/setup.sh --tests` installs) against the local Azure, set up as a user would:
 * its own config dir (AZURE_CONFIG_DIR, a temp dir per session), the local CA (REQUESTS_CA_BUNDLE), the local cloud
 * registered from its ARM endpoint (`az cloud register`; az reads `{arm}/metadata/endpoints` for the sign-in
 * endpoints), and test/local-azure/az/sitecustomize.py on PYTHONPATH, which resolves *.localhost, refuses anything not
 * loopback and turns MSAL's instance discovery off (docs/local-azure.md#the-az-cli). Nothing of this touches the machine.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type LocalAzureEnv, LOCAL_DNS_SUFFIX } from '../../local-azure/config';

/** The `az` executable on PATH, or undefined. */
export function azPath(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, 'az');
    if (existsSync(p)) return p;
  }
  return undefined;
}

export const AZ_INSTALL = "run scripts/setup.sh --tests (it installs Debian's azure-cli package)";
const PRELOAD_DIR = path.resolve(__dirname, '..', '..', 'local-azure', 'az');

export interface AzResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AzSession {
  /** The environment every az process of this session runs with (also what a step with auth-type azure-cli needs). */
  readonly env: Readonly<Record<string, string>>;
  readonly configDir: string;
  /** Runs `az <args>`; never throws for a non-zero exit. */
  run(args: readonly string[]): Promise<AzResult>;
  /** Runs `az <args> -o json` and parses stdout; throws with stderr when az fails. */
  json<T>(args: readonly string[]): Promise<T>;
  /** Runs `az <args>`; throws with stderr when az fails. */
  ok(args: readonly string[]): Promise<AzResult>;
  cleanup(): void;
}

/**
 * az's first start asks https://azure.microsoft.com whether a newer az exists (azure-cli's util.handle_version_update)
 * unless its config dir says it checked today; the egress guard would refuse it and fail the run. So the session's
 * config dir starts as one az has already checked in: the installed versions (read with az's own Python), today.
 */
function seedVersionCheck(az: string, configDir: string): Promise<void> {
  const python = /^#!\s*(\S+)/.exec(readFileSync(az, 'utf8').split('\n')[0] ?? '')?.[1] ?? 'python3';
  const script =
    'import importlib.metadata as m, json, datetime;' +
    "v={k: {'local': m.version(p)} for k, p in (('azure-cli','azure-cli'),('core','azure-cli-core'),('telemetry','azure-cli-telemetry'))};" +
    "print(json.dumps({'versions': v, 'update_time': str(datetime.datetime.now())}))";
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', script], (err, stdout, stderr) => {
      if (err) return reject(new Error(`reading the installed az versions with ${python}: ${stderr || err.message}`));
      writeFileSync(path.join(configDir, 'versionCheck.json'), stdout);
      resolve();
    });
  });
}

/** A fresh az config dir with the local cloud registered and active (not signed in yet). */
export async function azSession(env: LocalAzureEnv): Promise<AzSession> {
  const az = azPath();
  if (!az) throw new Error(`az is not on PATH: ${AZ_INSTALL}`);
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'az-config-'));
  const azEnv: Record<string, string> = {
    AZURE_CONFIG_DIR: configDir,
    PYTHONPATH: PRELOAD_DIR,
    REQUESTS_CA_BUNDLE: env.caCertPath,
    AZURE_CORE_INSTANCE_DISCOVERY: 'false',
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_NO_COLOR: 'true',
    // The preload is imported from the clone: no __pycache__ is written into it.
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const run = (args: readonly string[]): Promise<AzResult> =>
    new Promise((resolve) => {
      execFile(az, [...args], { env: { ...process.env, ...azEnv }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const ok = async (args: readonly string[]): Promise<AzResult> => {
    const r = await run(args);
    // Arguments are not echoed: a login's secret is among them.
    if (r.code !== 0) throw new Error(`az ${args.slice(0, 2).join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  };
  const json = async <T>(args: readonly string[]): Promise<T> => JSON.parse((await ok([...args, '-o', 'json'])).stdout) as T;
  await seedVersionCheck(az, configDir);
  const arm = `${env.armEndpoint.replace(/\/+$/, '')}/`;
  await ok([
    'cloud',
    'register',
    '--name',
    'LocalAzure',
    '--endpoint-resource-manager',
    arm,
    '--suffix-storage-endpoint',
    LOCAL_DNS_SUFFIX,
    '--suffix-keyvault-dns',
    `.vault.${LOCAL_DNS_SUFFIX}`,
    '--suffix-acr-login-server-endpoint',
    `.azurecr.${LOCAL_DNS_SUFFIX}`,
  ]);
  await ok(['cloud', 'set', '--name', 'LocalAzure']);
  return { env: azEnv, configDir, run, json, ok, cleanup: () => rmSync(configDir, { recursive: true, force: true }) };
}
