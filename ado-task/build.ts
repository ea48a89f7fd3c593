/**
 * Builds the Azure DevOps task and extension.
 *   npm run build:ado     task.json (and the inputs tables) from core/inputs.ts, then the ncc bundle (CommonJS) of ado-task/index.ts in
 *                         out/ado/stage/AcrTransferV1/dist, next to task.json and the icon: the task folder as it ships.
 *   npm run package:ado   also out/ado/acr-transfer-<version>.vsix, made and validated by tfx (every task.json, every
 *                         execution target present), holding the bundle and no node_modules; at most 5 MB.
 * `--out <dir>` builds elsewhere (tests build into a temporary directory).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generate, TASK_FOLDER, TASK_JSON_PATH, TASK_TARGET } from './task-json';

const ROOT = path.join(__dirname, '..');
/** The on-prem ceiling is 25 MiB (Azure DevOps Server 2019); a bundled task is far below, and should stay there. */
export const MAX_VSIX_BYTES = 5 * 1024 * 1024;

export interface BuildResult {
  /** The extension's root as tfx packs it. */
  readonly stageDir: string;
  /** The task folder inside it (task.json, icon.png, dist/). */
  readonly taskDir: string;
  readonly vsixPath?: string;
  readonly vsixBytes?: number;
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${path.basename(args[0] ?? cmd)} ${args.slice(1).join(' ')} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Bundles the task entry with ncc into `taskDir/dist`, and checks the bundle is what the agent can run. */
function bundle(taskDir: string): void {
  const dist = path.join(taskDir, path.dirname(TASK_TARGET));
  run(process.execPath, [
    require.resolve('@vercel/ncc/dist/ncc/cli.js'),
    'build',
    path.join(ROOT, 'ado-task', 'index.ts'),
    '-o',
    dist,
    '--license',
    'licenses.txt',
    '--quiet',
  ]);
  // The agent runs the target with `node`; an ESM bundle (a "type":"module" package.json next to it) would not load as the task expects.
  if (existsSync(path.join(dist, 'package.json'))) throw new Error(`ncc emitted ${dist}/package.json: the task bundle must be CommonJS (no "type":"module")`);
  // ncc reports success for a module it could not resolve and the bundle throws at run time (docs/hosts.md#bundling).
  const code = readFileSync(path.join(taskDir, TASK_TARGET), 'utf8');
  if (code.includes('webpackMissingModule')) throw new Error(`${TASK_TARGET} has unresolved modules (webpackMissingModule): fix the imports`);
}

function stage(outDir: string): BuildResult {
  const stageDir = path.join(outDir, 'stage');
  const taskDir = path.join(stageDir, TASK_FOLDER);
  rmSync(stageDir, { recursive: true, force: true });
  mkdirSync(path.join(stageDir, 'images'), { recursive: true });
  mkdirSync(taskDir, { recursive: true });
  bundle(taskDir);
  const src = (f: string): string => path.join(ROOT, 'ado-task', f);
  copyFileSync(TASK_JSON_PATH, path.join(taskDir, 'task.json'));
  copyFileSync(src('icon.png'), path.join(taskDir, 'icon.png'));
  copyFileSync(src('icon.png'), path.join(stageDir, 'images', 'icon.png'));
  copyFileSync(src('vss-extension.json'), path.join(stageDir, 'vss-extension.json'));
  copyFileSync(src('overview.md'), path.join(stageDir, 'overview.md'));
  // The manifest's content.license: the Marketplace shows it on the extension's page.
  copyFileSync(path.join(ROOT, 'LICENSE.md'), path.join(stageDir, 'LICENSE.md'));
  return { stageDir, taskDir };
}

/** Packs the staged extension with tfx (which validates it); tfx keeps a cache in $HOME/.tfx, so HOME is a throwaway directory. */
function packageVsix(outDir: string, staged: BuildResult): BuildResult {
  const manifest = JSON.parse(readFileSync(path.join(staged.stageDir, 'vss-extension.json'), 'utf8')) as { id: string; version: string };
  const vsixPath = path.join(outDir, `${manifest.id}-${manifest.version}.vsix`);
  rmSync(vsixPath, { force: true });
  const home = mkdtempSync(path.join(os.tmpdir(), 'tfx-home-'));
  try {
    const tfx = require.resolve('tfx-cli/_build/tfx-cli.js');
    const out = run(
      process.execPath,
      [tfx, 'extension', 'create', '--root', staged.stageDir, '--manifest-globs', 'vss-extension.json', '--output-path', vsixPath, '--no-prompt', '--no-color'],
      { ...process.env, HOME: home, USERPROFILE: home },
    );
    if (!existsSync(vsixPath)) throw new Error(`tfx did not write ${vsixPath}:\n${out}`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const vsixBytes = statSync(vsixPath).size;
  if (vsixBytes > MAX_VSIX_BYTES) throw new Error(`${vsixPath} is ${vsixBytes} bytes, over the ${MAX_VSIX_BYTES}-byte budget`);
  return { ...staged, vsixPath, vsixBytes };
}

/** `generate: false` packs the committed task.json as it is (tests; a unit test keeps it in step with core/inputs.ts). */
export function build(opts: { outDir?: string; package?: boolean; generate?: boolean } = {}): BuildResult {
  const outDir = path.resolve(opts.outDir ?? path.join(ROOT, 'out', 'ado'));
  mkdirSync(outDir, { recursive: true });
  if (opts.generate !== false) generate();
  const staged = stage(outDir);
  return opts.package ? packageVsix(outDir, staged) : staged;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const result = build({ package: args.includes('--package'), ...(outAt >= 0 && args[outAt + 1] ? { outDir: args[outAt + 1] } : {}) });
  const bundleBytes = filesUnder(path.join(result.taskDir, 'dist')).reduce((n, f) => n + statSync(f).size, 0);
  process.stdout.write(`task folder ${path.relative(process.cwd(), result.taskDir)} (bundle ${(bundleBytes / 1024).toFixed(0)} KiB)\n`);
  if (result.vsixPath) process.stdout.write(`extension ${path.relative(process.cwd(), result.vsixPath)} (${(result.vsixBytes! / 1024).toFixed(0)} KiB)\n`);
}
