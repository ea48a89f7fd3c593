/**
 * The repository stands alone: the committed tree (`git archive HEAD`), copied into an empty folder with nothing
 * beside it, installs and passes the README's demo command. Every Node process there runs under the egress guard
 * and the file-system guard (test/fs-guard.cjs): reading any file outside the copy (but for the Node installation,
 * the npm cache and the operating system's folders) fails the test, as does any connection off loopback. The
 * install comes from the npm cache (npm's offline mode), so the test itself contacts nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TIMEOUT_MS = 8 * 60_000;

/** Where a Node program on this machine has to read besides its own folder. */
function systemReads(): string[] {
  const nodePrefix = path.dirname(path.dirname(realpathSync(process.execPath)));
  const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
  return [nodePrefix, npmCache, '/usr', '/lib', '/lib64', '/etc', '/proc', '/sys', '/dev', '/bin', '/sbin', '/run'];
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), TIMEOUT_MS - 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

let work: string;

afterAll(() => {
  if (work && process.env['KEEP_LONE_COPY'] === undefined) rmSync(work, { recursive: true, force: true });
});

test(
  'a lone copy of HEAD installs and runs the demo, every digest equal, reading nothing outside itself',
  async () => {
    work = mkdtempSync(path.join(tmpdir(), 'acr-lone-'));
    const root = path.join(work, 'acr-transfer');
    mkdirSync(root);
    execFileSync('bash', ['-c', `git -C "${REPO_ROOT}" archive HEAD | tar -x -C "${root}"`]);
    // HOME and TMPDIR inside the copy, so that whatever a tool keeps there counts as inside.
    for (const d of ['.home', '.tmp']) mkdirSync(path.join(root, d));
    const logs = { fs: path.join(work, 'fs-guard.log'), egress: path.join(work, 'egress.log') };
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: path.join(root, '.home'),
      TMPDIR: path.join(root, '.tmp'),
      npm_config_cache: execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim(),
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      // Ports of its own: the suite's local Azure keeps running beside it.
      LOCAL_AZURE_PORT_OFFSET: '300',
      FS_GUARD_ROOT: root,
      FS_GUARD_ALLOW: systemReads().join(path.delimiter),
      FS_GUARD_LOG: logs.fs,
      EGRESS_GUARD_LOG: logs.egress,
      NODE_OPTIONS: `--require ${path.join(root, 'test', 'egress-guard.cjs')} --require ${path.join(root, 'test', 'fs-guard.cjs')}`,
    };

    const { code, output } = await run('bash', ['scripts/demo.sh'], root, env);
    const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    expect({ fsGuard: read(logs.fs), egressGuard: read(logs.egress) }).toEqual({ fsGuard: '', egressGuard: '' });
    const seeded = output.match(/^ {3}\S+:\S+ {2}sha256:[0-9a-f]{64}$/gm) ?? [];
    expect(seeded.length).toBeGreaterThan(0);
    expect(output).toContain(`All ${seeded.length} images are in the target registry with their digests unchanged.`);
    expect(output.match(/same digest as the source/g)).toHaveLength(seeded.length);
    expect(code).toBe(0);
  },
  TIMEOUT_MS,
);
