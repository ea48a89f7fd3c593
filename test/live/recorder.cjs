'use strict';
// Opt-in recorder of live traffic (docs/local-azure.md#recording-and-replay), preloaded (--require) into every Node process
// of a live run (the test files and the bundles they start): each request to the settings' ARM endpoint and its answer,
// sanitised (sanitize.cjs) before anything is written, appended as one JSON line to ACR_TRANSFER_RECORD. It watches
// https.request without changing what the caller sees: the request body through write/end, the answer through the
// 'data' events the caller's own reading emits. Test harness only; the product knows nothing of it.
const https = require('node:https');
const fs = require('node:fs');
const zlib = require('node:zlib');
const { sanitizer } = require('./sanitize.cjs');

const file = process.env.ACR_TRANSFER_RECORD;
const settingsPath = process.env.ACR_TRANSFER_LIVE_SETTINGS;
const KEEP_HEADERS = ['content-type', 'location', 'azure-asyncoperation', 'retry-after'];

if (file && settingsPath && !https.request.acrTransferRecorder) {
  const settings = JSON.parse(fs.readFileSync(settingsPath, 'utf8'));
  const arm = new URL(settings.armEndpoint);
  const clean = sanitizer(settings);
  const parse = (buf, encoding) => {
    try {
      const raw = /gzip/i.test(encoding || '') ? zlib.gunzipSync(buf) : /deflate/i.test(encoding || '') ? zlib.inflateSync(buf) : buf;
      const text = raw.toString('utf8');
      if (!text) return undefined;
      try {
        return JSON.parse(clean(text));
      } catch {
        return clean(text);
      }
    } catch {
      return '(unreadable)';
    }
  };
  const original = https.request;
  const request = function recordingRequest(...args) {
    const req = original.apply(this, args);
    try {
      const host = String(req.getHeader('host') || req.host || '').toLowerCase();
      // ARM's own resources and its metadata document; not Entra's token endpoint on the same host of a local Azure.
      if (host !== arm.host.toLowerCase() || !/^\/(subscriptions|providers|metadata)\//i.test(req.path)) return req;
      const body = [];
      const write = req.write;
      const end = req.end;
      req.write = function (chunk, ...rest) {
        if (chunk && typeof chunk !== 'function') body.push(Buffer.from(chunk));
        return write.call(this, chunk, ...rest);
      };
      req.end = function (chunk, ...rest) {
        if (chunk && typeof chunk !== 'function') body.push(Buffer.from(chunk));
        return end.call(this, chunk, ...rest);
      };
      req.on('response', (res) => {
        const chunks = [];
        const emit = res.emit;
        res.emit = function (event, ...a) {
          if (event === 'data') chunks.push(Buffer.from(a[0]));
          if (event === 'end') {
            const headers = {};
            for (const h of KEEP_HEADERS) if (res.headers[h] !== undefined) headers[h] = clean(res.headers[h]);
            const line = {
              request: { method: req.method, url: clean(`${arm.origin}${req.path}`), body: parse(Buffer.concat(body), req.getHeader('content-encoding')) },
              response: { status: res.statusCode, headers, body: parse(Buffer.concat(chunks), res.headers['content-encoding']) },
            };
            fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
          }
          return emit.call(this, event, ...a);
        };
      });
    } catch {
      // Recording must never change the request.
    }
    return req;
  };
  request.acrTransferRecorder = true;
  https.request = request;
  https.get = function recordingGet(...args) {
    const req = request(...args);
    req.end();
    return req;
  };
}
