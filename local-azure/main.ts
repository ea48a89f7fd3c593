/**
 * The local Azure as one step of a user's own workflow or pipeline (local-azure/action.yml, local-azure.sh):
 * `up` starts it (test/local-azure/cli.ts), checks that its host names resolve for the steps after it, seeds the images
 * named in LOCAL_AZURE_IMAGES, stores an export and an import SAS token in its Key Vault, and hands an unchanged
 * acr-transfer step its coordinates (exports.ts): GitHub, Azure DevOps, or a shell file. `down` stops it.
 * Settings come from the environment (docs/rehearse.md#the-local-azure-step): LOCAL_AZURE_IMAGES,
 * LOCAL_AZURE_EXPORT_SECRET, LOCAL_AZURE_IMPORT_SECRET, LOCAL_AZURE_DIR, LOCAL_AZURE_PORT_OFFSET and the fixed identity
 * (LOCAL_AZURE_TENANT_ID, …_CLIENT_ID, …_CLIENT_SECRET, …_SUBSCRIPTION_ID).
 */
import { spawnSync } from 'node:child_process';
import { promises as dns } from 'node:dns';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { type LocalAzureEnv, localIdentity, SIDES } from '../test/local-azure/config';
import { parseImageSpec } from '../test/local-azure/seed';
import { exportsOf, type Prepared, toAzureDevOps, toGitHub, toShellFile } from './exports';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'test', 'local-azure', 'cli.ts');
const LOOPBACK_NAMES = path.join(ROOT, 'test', 'local-azure', 'loopback-names.cjs');
const print = (line: string): void => void process.stdout.write(`${line}\n`);

type HostKind = 'github' | 'azure-devops' | 'shell';
const hostKind = (): HostKind => (process.env['GITHUB_ENV'] ? 'github' : process.env['TF_BUILD'] ? 'azure-devops' : 'shell');

class StepError extends Error {}

/**
 * Images separated by newlines, spaces or commas (a pipeline variable is one line; `artifacts` takes commas), each with
 * its options after commas: `team/api:1.0,multi, team/web:2.0` is two images.
 */
export function imageList(text: string): string[] {
  const images: string[] = [];
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    if (/^(multi$|mb=|seed=|refs=|childrefs=)/.test(part) && images.length > 0) images[images.length - 1] += `,${part}`;
    else images.push(part);
  }
  return images;
}

/** The step's settings, each checked before anything starts. */
function settings(): { dir: string; images: string[]; exportSecret: string; importSecret: string } {
  const env = process.env;
  const temp = env['RUNNER_TEMP'] || env['AGENT_TEMPDIRECTORY'];
  const dir = path.resolve(env['LOCAL_AZURE_DIR'] || (temp ? path.join(temp, 'local-azure') : path.join(ROOT, '.local-azure')));
  const images = imageList(env['LOCAL_AZURE_IMAGES'] ?? '');
  if (images.length > 200) throw new StepError(`LOCAL_AZURE_IMAGES names ${images.length} images; at most 200`);
  for (const i of images) parseImageSpec(i);
  // Key Vault secret names: 1-127 letters, digits and dashes.
  const secret = (name: string, fallback: string): string => {
    const v = env[name]?.trim() || fallback;
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(v))
      throw new StepError(`${name} ${JSON.stringify(v.slice(0, 40))} is not a Key Vault secret name (1-127 letters, digits, dashes)`);
    return v;
  };
  const exportSecret = secret('LOCAL_AZURE_EXPORT_SECRET', 'acrexportsas');
  const importSecret = secret('LOCAL_AZURE_IMPORT_SECRET', 'acrimportsas');
  if (exportSecret === importSecret)
    throw new StepError(`LOCAL_AZURE_EXPORT_SECRET and LOCAL_AZURE_IMPORT_SECRET are both '${exportSecret}': name two secrets`);
  localIdentity(); // refuses a malformed fixed identity here, before anything starts
  return { dir, images, exportSecret, importSecret };
}

/** Runs a child Node process from the repository root (where `--import tsx` resolves); its output goes to the log. */
function node(args: readonly string[], env: NodeJS.ProcessEnv, capture = false): string {
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    stdio: ['ignore', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'],
  });
  if (r.status !== 0) throw new StepError((r.stderr ?? '').trim().split('\n').at(-1) || `${path.basename(args.at(-1) ?? 'node')} exited with ${r.status}`);
  return r.stdout ?? '';
}

/** The host names of the vault, the accounts and the registries that do not resolve to 127.0.0.1 for a process like the next steps'. */
async function unresolved(env: LocalAzureEnv): Promise<string[]> {
  const hosts = [
    new URL(env.keyVaultUrl).hostname,
    ...SIDES.map((s) => new URL(env.storage[s].blobEndpoint).hostname),
    ...SIDES.map((s) => env.registries[s].loginServer.replace(/:\d+$/, '')),
  ];
  const bad: string[] = [];
  for (const h of hosts) {
    const found = await dns.lookup(h, { all: true }).catch(() => []);
    if (!found.some((a) => a.address === '127.0.0.1')) bad.push(h);
  }
  return bad;
}

/** NODE_EXTRA_CA_CERTS for the next steps: the local CA, plus a CA the job already trusted that way. */
function caBundle(dir: string, caCertPath: string): string {
  const before = process.env['NODE_EXTRA_CA_CERTS'];
  if (!before || !existsSync(before) || path.resolve(before) === caCertPath) return caCertPath;
  const bundle = path.join(dir, 'ca-bundle.pem');
  writeFileSync(bundle, `${readFileSync(before, 'utf8').trimEnd()}\n${readFileSync(caCertPath, 'utf8')}`);
  return bundle;
}

async function up(): Promise<void> {
  const s = settings();
  const childEnv = { ...process.env, LOCAL_AZURE_DIR: s.dir };
  node(['--import', 'tsx', CLI, 'up'], childEnv);
  try {
    const envPath = path.join(s.dir, 'env.json');
    const env = JSON.parse(readFileSync(envPath, 'utf8')) as LocalAzureEnv;
    const bad = await unresolved(env);
    if (bad.length > 0)
      throw new StepError(
        `the local Azure's host names do not resolve to 127.0.0.1 here (${bad.join(', ')}): add "127.0.0.1 ${bad.join(' ')}" to /etc/hosts (systemd-resolved, as on GitHub's and Microsoft's Ubuntu runners, answers *.localhost itself)`,
      );
    const out = node(
      ['--require', LOOPBACK_NAMES, '--import', 'tsx', path.join(__dirname, 'prepare.ts'), envPath, s.exportSecret, s.importSecret, ...s.images],
      {
        ...childEnv,
        NODE_EXTRA_CA_CERTS: env.caCertPath,
      },
      true,
    );
    const prepared = JSON.parse(out) as Prepared & { images: { ref: string; digest: string }[] };
    for (const i of prepared.images) print(`seeded ${i.ref} ${i.digest} in ${env.registries.source.name}`);
    const exports = exportsOf(env, envPath, caBundle(s.dir, env.caCertPath), prepared);
    const kind = hostKind();
    if (kind === 'github') toGitHub(exports, process.env['GITHUB_ENV']!, process.env['GITHUB_OUTPUT'], print);
    if (kind === 'azure-devops') toAzureDevOps(exports, print);
    const shellFile = path.join(s.dir, 'exports.sh');
    toShellFile(exports, shellFile);
    const where = kind === 'github' ? 'GITHUB_ENV and step outputs' : kind === 'azure-devops' ? 'pipeline variables' : `. ${shellFile}`;
    print(`set for the next steps (${where}): ${exports.map((e) => e.name).join(', ')}`);
  } catch (e) {
    node(['--import', 'tsx', CLI, 'down'], childEnv);
    throw e;
  }
}

function down(): void {
  const s = settings();
  node(['--import', 'tsx', CLI, 'down'], { ...process.env, LOCAL_AZURE_DIR: s.dir });
}

async function main(): Promise<void> {
  const cmd = process.argv[2] ?? 'up';
  if (cmd === 'up') return up();
  if (cmd === 'down') return down();
  throw new StepError(`unknown command ${JSON.stringify(cmd.slice(0, 20))}: use up or down`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    const message = `local Azure: ${e instanceof Error ? e.message : String(e)}`;
    const kind = hostKind();
    print(kind === 'github' ? `::error::${message}` : kind === 'azure-devops' ? `##vso[task.logissue type=error]${message}` : message);
    process.exitCode = 1;
  });
}
