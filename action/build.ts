/**
 * `npm run build`: bundles the action with ncc into dist/ (or `--out <dir>`), then writes dist/licenses.txt.
 * The bundle is lean (docs/hosts.md#bundling): minified, the Azure SDKs in a chunk loaded only once the inputs are
 * good (core/step.ts imports it lazily), and what is never called left out — @azure/identity's interactive browser
 * login (the `open` package and its `xdg-open` script), which no credential this tool builds reaches.
 * ncc's own `--license` lists only packages outside its concatenated modules (1 of the 63 bundled, with ncc 0.45),
 * so the notices come from the build's module list instead: every package in the bundle, its license and its
 * license file. Deterministic: the same sources give the same files, wherever the checkout is (test/check-dist.sh).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

interface StatsModule {
  readonly name?: string;
  readonly modules?: readonly StatsModule[];
}
interface StatsChunk {
  readonly id?: number | string;
  readonly files?: readonly string[];
  readonly modules?: readonly StatsModule[];
}
interface Stats {
  readonly modules?: readonly StatsModule[];
  readonly chunks?: readonly StatsChunk[];
}

/** Packages bundled only for code this tool never calls; a chunk made of nothing else is dropped, with its assets. */
const NEVER_CALLED = new Set([
  'open',
  'define-lazy-prop',
  'default-browser',
  'default-browser-id',
  'bundle-name',
  'run-applescript',
  'is-inside-container',
  'is-docker',
  'is-wsl',
  'wsl-utils',
  'powershell-utils',
]);
const NEVER_CALLED_ASSETS = ['xdg-open'];

/** `./node_modules/a/node_modules/@s/b/lib/x.js` → `node_modules/a/node_modules/@s/b` (the innermost package). */
function packageDirOf(moduleName: string): string | undefined {
  const m = /^(?:\.\/)?((?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/]+)/.exec(moduleName.replace(/\\/g, '/').replace(/ \+ \d+ modules$/, ''));
  return m?.[1];
}

function packageDirsOf(mods: readonly StatsModule[] | undefined, into = new Set<string>()): Set<string> {
  for (const m of mods ?? []) {
    const dir = m.name === undefined ? undefined : packageDirOf(m.name);
    if (dir) into.add(dir);
    packageDirsOf(m.modules, into);
  }
  return into;
}

const packageName = (dir: string): string => dir.replace(/^.*node_modules\//, '');

/** The chunks that hold only never-called packages. */
function neverCalledChunks(stats: Stats): StatsChunk[] {
  return (stats.chunks ?? []).filter((c) => {
    const names = [...packageDirsOf(c.modules)].map(packageName);
    return names.length > 0 && names.every((n) => NEVER_CALLED.has(n));
  });
}

/** The packages left in the bundle once the never-called chunks are dropped. */
function bundledPackageDirs(stats: Stats, dropped: readonly StatsChunk[]): string[] {
  const dirs = new Set<string>();
  for (const c of stats.chunks ?? []) if (!dropped.includes(c)) packageDirsOf(c.modules, dirs);
  if (!stats.chunks) packageDirsOf(stats.modules, dirs);
  return [...dirs];
}

/** ncc minifies the entry file only; its lazily loaded chunks get the same treatment here. */
function minifyChunks(out: string): void {
  for (const f of readdirSync(out).filter((f) => f.endsWith('.js') && f !== 'index.js')) {
    const file = path.join(out, f);
    const { code } = transformSync(readFileSync(file, 'utf8'), { minify: true, format: 'esm', target: 'node20', legalComments: 'none' });
    writeFileSync(file, code);
  }
}

/** The third-party notices: one block per package (name@version, license, license text), sorted by name. */
function renderNotices(packageDirs: readonly string[], base: string): string {
  const blocks = new Map<string, string>();
  for (const dir of packageDirs) {
    const abs = path.join(base, dir);
    const pkgFile = path.join(abs, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name?: string; version?: string; license?: string | { type?: string } };
    const id = `${pkg.name ?? dir}@${pkg.version ?? '?'}`;
    const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN');
    const files = readdirSync(abs)
      .filter((f) => /^(licen[cs]e|copying|notice)(?:$|[._-])/i.test(f))
      .sort();
    const texts = files.map((f) => readFileSync(path.join(abs, f), 'utf8').replace(/\r\n/g, '\n').trim());
    blocks.set(
      id,
      [`${id}`, `License: ${license}`, '', ...(texts.length > 0 ? texts : [`(the package has no license file; its package.json says ${license})`])].join('\n'),
    );
  }
  const ids = [...blocks.keys()].sort((a, b) => a.localeCompare(b, 'en'));
  return `Third-party software bundled in this action (${ids.length} packages)\n\n${ids.map((id) => `${'-'.repeat(80)}\n${blocks.get(id)}`).join('\n\n')}\n`;
}

function main(): void {
  const outArg = process.argv.indexOf('--out');
  const out = path.resolve(outArg >= 0 && process.argv[outArg + 1] ? process.argv[outArg + 1]! : path.join(root, 'dist'));
  const work = mkdtempSync(path.join(os.tmpdir(), 'action-build-'));
  try {
    rmSync(out, { recursive: true, force: true });
    const stats = path.join(work, 'stats.json');
    execFileSync(path.join(root, 'node_modules', '.bin', 'ncc'), ['build', 'action/index.ts', '-o', out, '--minify', '--stats-out', stats, '--quiet'], {
      cwd: root,
      stdio: 'inherit',
    });
    const parsed = JSON.parse(readFileSync(stats, 'utf8')) as Stats;
    const dropped = neverCalledChunks(parsed);
    for (const f of [...dropped.flatMap((c) => c.files ?? []), ...NEVER_CALLED_ASSETS]) rmSync(path.join(out, f), { force: true });
    minifyChunks(out);
    const dirs = bundledPackageDirs(parsed, dropped);
    writeFileSync(path.join(out, 'licenses.txt'), renderNotices(dirs, root));
    process.stdout.write(`built ${path.relative(process.cwd(), out) || '.'}: ${readdirSync(out).sort().join(', ')} (${dirs.length} bundled packages)\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
