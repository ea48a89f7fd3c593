'use strict';
// The egress guard's idea for the file system: preloaded (NODE_OPTIONS=--require) into every Node process of the
// lone-copy test, it records any file a process opens or reads outside FS_GUARD_ROOT (the copy of the repository)
// and the few places a Node program on this machine must read (FS_GUARD_ALLOW: the Node installation, the npm
// cache, the operating system's folders). The test fails when FS_GUARD_LOG is not empty afterwards. Reads are not
// blocked, only recorded: a blocked read would fail somewhere less clear than the log does.
const fs = require('node:fs');
const path = require('node:path');

const root = process.env.FS_GUARD_ROOT;
const allowed = [root, ...(process.env.FS_GUARD_ALLOW || '').split(path.delimiter)].filter(Boolean).map((p) => path.resolve(p));

function inside(file) {
  return allowed.some((dir) => file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep));
}

const appendFileSync = fs.appendFileSync;
const seen = new Set();

function check(target) {
  // File descriptors, and URLs or buffers that do not name a plain path, say nothing about where a read goes.
  if (typeof target !== 'string' && !(target instanceof URL)) return;
  let file;
  try {
    file = target instanceof URL ? require('node:url').fileURLToPath(target) : path.resolve(target);
  } catch {
    return;
  }
  if (inside(file) || seen.has(file)) return;
  seen.add(file);
  const line = `fs-guard: read outside the repository: ${file} (pid ${process.pid}: ${process.argv.slice(1, 3).join(' ')})`;
  process.stderr.write(`${line}\n`);
  if (process.env.FS_GUARD_LOG) {
    try {
      appendFileSync(process.env.FS_GUARD_LOG, `${line}\n`);
    } catch {
      /* stderr already has it */
    }
  }
}

function wrap(owner, name) {
  const original = owner[name];
  if (typeof original !== 'function') return;
  owner[name] = function guarded(target, ...rest) {
    check(target);
    return original.call(this, target, ...rest);
  };
}

if (root) {
  // open* covers createReadStream; readFile* have fast paths of their own that bypass open; copyFile reads its source.
  for (const name of ['open', 'openSync', 'readFile', 'readFileSync', 'copyFile', 'copyFileSync', 'cp', 'cpSync', 'openAsBlob']) wrap(fs, name);
  for (const name of ['open', 'readFile', 'copyFile', 'cp']) wrap(fs.promises, name);
}

module.exports = { inside };
