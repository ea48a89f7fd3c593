/**
 * `npm run build`: bundles the action with ncc into dist/ (or `--out <dir>`), then writes dist/licenses.txt.
 * ncc's own `--license` lists only packages outside its concatenated modules (1 of the 63 bundled, with ncc 0.45),
 * so the notices come from the build's module list instead: every package in the bundle, its license and its
 * license file. Deterministic: the same sources give the same files, wherever the checkout is (test/check-dist.sh).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

interface StatsModule {
  readonly name?: string;
  readonly modules?: readonly StatsModule[];
}
interface Stats {
  readonly modules?: readonly StatsModule[];
  readonly chunks?: readonly { readonly modules?: readonly StatsModule[] }[];
}

/** `./node_modules/a/node_modules/@s/b/lib/x.js` → `node_modules/a/node_modules/@s/b` (the innermost package). */
function packageDirOf(moduleName: string): string | undefined {
  const m = /^(?:\.\/)?((?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/]+)/.exec(moduleName.replace(/\\/g, '/').replace(/ \+ \d+ modules$/, ''));
  return m?.[1];
}

function bundledPackageDirs(stats: Stats): string[] {
  const dirs = new Set<string>();
  const walk = (mods: readonly StatsModule[] | undefined): void => {
    for (const m of mods ?? []) {
      const dir = m.name === undefined ? undefined : packageDirOf(m.name);
      if (dir) dirs.add(dir);
      walk(m.modules);
    }
  };
  walk(stats.modules);
  for (const c of stats.chunks ?? []) walk(c.modules);
  return [...dirs];
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
    execFileSync(path.join(root, 'node_modules', '.bin', 'ncc'), ['build', 'action/index.ts', '-o', out, '--stats-out', stats, '--quiet'], {
      cwd: root,
      stdio: 'inherit',
    });
    const dirs = bundledPackageDirs(JSON.parse(readFileSync(stats, 'utf8')) as Stats);
    writeFileSync(path.join(out, 'licenses.txt'), renderNotices(dirs, root));
    process.stdout.write(`built ${path.relative(process.cwd(), out) || '.'}: ${readdirSync(out).sort().join(', ')} (${dirs.length} bundled packages)\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
