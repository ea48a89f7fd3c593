'use strict';
// Preloaded into every Node process of the test run (NODE_OPTIONS=--require): any connection or DNS
// lookup that is not for loopback fails at once with code EGRESS_BLOCKED, is printed on stderr and,
// when EGRESS_GUARD_LOG is set, appended there so that the test run can fail on it afterwards.
// localhost and *.localhost (the local Azure's host names) resolve to 127.0.0.1 (local-azure/loopback-names.cjs).
require('./local-azure/loopback-names.cjs');
const net = require('node:net');
const dns = require('node:dns');
const fs = require('node:fs');

function isLoopback(host) {
  if (host === undefined || host === null || host === '') return true; // Node's default host is localhost
  const h = String(host)
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return net.isIPv4(v4) && v4.split('.')[0] === '127';
}

function report(what) {
  const line = `egress-guard: blocked ${what} (pid ${process.pid}: ${process.argv.slice(1, 3).join(' ')})`;
  process.stderr.write(`${line}\n`);
  if (process.env.EGRESS_GUARD_LOG) {
    try {
      fs.appendFileSync(process.env.EGRESS_GUARD_LOG, `${line}\n`);
    } catch {
      /* the log is best effort; stderr already has it */
    }
  }
}

function blockedError(what) {
  const err = new Error(`egress-guard: ${what} is not loopback; tests may reach 127.0.0.1 only`);
  err.code = 'EGRESS_BLOCKED';
  return err;
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const first = args[0];
  let host;
  let port;
  let ipc = false;
  if (Array.isArray(first)) return originalConnect.apply(this, args); // internal normalized form
  if (first !== null && typeof first === 'object') {
    ipc = typeof first.path === 'string';
    host = first.host;
    port = first.port;
  } else if (typeof first === 'string' && !/^\d+$/.test(first)) {
    ipc = true;
  } else {
    port = first;
    host = typeof args[1] === 'string' ? args[1] : undefined;
  }
  if (!ipc && !isLoopback(host)) {
    const what = `connection to ${host}:${port}`;
    report(what);
    const err = blockedError(what);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return originalConnect.apply(this, args);
};
net.Socket.prototype.connect.egressGuard = true;

const originalLookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  if (!isLoopback(hostname)) {
    const what = `DNS lookup of ${hostname}`;
    report(what);
    const err = blockedError(what);
    process.nextTick(() => cb(err));
    return {};
  }
  return originalLookup.call(this, hostname, options, callback);
};
const originalPromiseLookup = dns.promises.lookup;
dns.promises.lookup = async function guardedPromiseLookup(hostname, options) {
  if (!isLoopback(hostname)) {
    const what = `DNS lookup of ${hostname}`;
    report(what);
    throw blockedError(what);
  }
  return originalPromiseLookup.call(this, hostname, options);
};

module.exports = { isLoopback };
