/**
 * Nothing in the repository reads or cites what lies outside it: no path into a sibling folder, no Markdown document
 * that is not tracked here, no issue numbers. And the file-system guard the lone-copy test relies on does see a read
 * outside its root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const tracked = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
const textFiles = tracked.filter((f) => !f.startsWith('dist/') && f !== 'package-lock.json' && !/\.(png|ico|vsix)$/.test(f));
const trackedNames = new Set(tracked.map((f) => path.basename(f)));

function lines(): { where: string; text: string }[] {
  return textFiles.flatMap((f) =>
    readFileSync(path.join(REPO_ROOT, f), 'utf8')
      .split('\n')
      .map((text, i) => ({ where: `${f}:${i + 1}`, text })),
  );
}

describe('the repository stands alone', () => {
  const all = lines();

  it('has no path into a folder beside it', () => {
    expect(all.filter((l) => /\.\.\/shared|shared\/(docs|reference|seeds)/.test(l.text)).map((l) => l.where)).toEqual([]);
  });

  it('cites only Markdown documents it holds (URLs aside)', () => {
    const missing = all.flatMap((l) => {
      const withoutUrls = l.text.replace(/https?:\/\/[^\s)"'>]+/g, '');
      const names = [...withoutUrls.matchAll(/(?:^|[^A-Za-z0-9_$}{-])([A-Za-z][A-Za-z0-9_-]*\.md)\b/g)].map((m) => m[1]!);
      return names.filter((n) => !trackedNames.has(n)).map((n) => `${l.where} (${n})`);
    });
    expect(missing).toEqual([]);
  });

  it('points at no issue numbers or private section marks', () => {
    expect(all.filter((l) => /\bissue #?\d+|\(Q\d\)|\u00a7/i.test(l.text)).map((l) => l.where)).toEqual([]);
  });
});

describe('the file-system guard', () => {
  it('records a read outside its root and nothing inside it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-guard-'));
    try {
      const root = path.join(dir, 'root');
      const log = path.join(dir, 'guard.log');
      execFileSync('mkdir', ['-p', root]);
      writeFileSync(path.join(root, 'inside.txt'), 'in');
      writeFileSync(path.join(dir, 'outside.txt'), 'out');
      const script = `const fs = require('fs'); fs.readFileSync('inside.txt'); fs.readFileSync('../outside.txt', 'utf8'); fs.promises.readFile('../outside.txt');`;
      const r = spawnSync(process.execPath, ['--require', path.join(REPO_ROOT, 'test', 'fs-guard.cjs'), '-e', script], {
        cwd: root,
        env: { PATH: process.env['PATH'], FS_GUARD_ROOT: root, FS_GUARD_ALLOW: path.dirname(process.execPath), FS_GUARD_LOG: log },
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      const recorded = readFileSync(log, 'utf8').trim().split('\n');
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toContain(`read outside the repository: ${path.join(dir, 'outside.txt')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
