'use strict';
// The local Azure names its vaults, storage accounts and registries under *.localhost, which RFC 6761 reserves for
// loopback; this machine's resolver does not answer for them. Preloaded (--require) into the Node processes that
// talk to the local Azure (the test run through the egress guard, the action's bundle, the local Azure's own
// processes, the demo and the benchmark), it answers dns.lookup for localhost and *.localhost with 127.0.0.1, as
// systemd-resolved does. Non-Node tools (skopeo, the registries) use the 127.0.0.1 addresses in env.json instead.
const dns = require('node:dns');

if (!dns.lookup.loopbackNames) {
  const isLocal = (host) => {
    const h = String(host || '')
      .toLowerCase()
      .replace(/\.$/, '');
    return h === 'localhost' || h.endsWith('.localhost');
  };
  const answer = (options) => {
    const all = typeof options === 'object' && options !== null && options.all === true;
    return all ? [[{ address: '127.0.0.1', family: 4 }]] : ['127.0.0.1', 4];
  };
  const originalLookup = dns.lookup;
  const lookup = function loopbackLookup(hostname, options, callback) {
    const cb = typeof options === 'function' ? options : callback;
    if (isLocal(hostname)) {
      const args = answer(typeof options === 'function' ? undefined : options);
      process.nextTick(() => cb(null, ...args));
      return {};
    }
    return originalLookup.call(this, hostname, options, callback);
  };
  lookup.loopbackNames = true;
  dns.lookup = lookup;
  const originalPromiseLookup = dns.promises.lookup;
  dns.promises.lookup = async function loopbackPromiseLookup(hostname, options) {
    if (!isLocal(hostname)) return originalPromiseLookup.call(this, hostname, options);
    const [address, family] = answer(options);
    return family === undefined ? address : { address, family };
  };
}

module.exports = {};
