'use strict';
// What a recording of live traffic may hold (docs/local-azure.md#recording-and-replay): the settings' own values become
// placeholders ({subscriptionId}, {sourceRegistry}, {keyVaultUrl}, …) that a replay fills with another Azure's, every other
// GUID a stable stand-in, and secrets go: SAS signatures, bearer tokens and JWTs, the client secret. CommonJS: the
// recorder (a --require preload) and the replay test both load it.

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const trim = (u) => String(u || '').replace(/\/+$/, '');

/** [settings value, placeholder] pairs, longest value first so that an endpoint goes before a name inside it. */
function placeholders(s) {
  const pairs = [
    [trim(s.armEndpoint), '{armEndpoint}'],
    [trim(s.authorityHost), '{authorityHost}'],
    [trim(s.keyVaultUrl), '{keyVaultUrl}'],
    [trim(s.storage && s.storage.source && s.storage.source.blobEndpoint), '{sourceBlobEndpoint}'],
    [trim(s.storage && s.storage.target && s.storage.target.blobEndpoint), '{targetBlobEndpoint}'],
    [s.registries && s.registries.source && s.registries.source.loginServer, '{sourceLoginServer}'],
    [s.registries && s.registries.target && s.registries.target.loginServer, '{targetLoginServer}'],
    [s.subscriptionId, '{subscriptionId}'],
    [s.tenantId, '{tenantId}'],
    [s.clientId, '{clientId}'],
  ];
  return pairs.filter(([v]) => typeof v === 'string' && v.length > 0).sort((a, b) => b[0].length - a[0].length);
}

/** A sanitizer for strings, made from one settings file; GUIDs it does not know map to stable stand-ins (…0001, …0002). */
function sanitizer(settings) {
  const pairs = placeholders(settings).map(([v, p]) => [new RegExp(escape(v), 'gi'), p]);
  const names = [
    [settings.resourceGroup, 'resourceGroups', '{resourceGroup}'],
    [settings.registries && settings.registries.source && settings.registries.source.name, 'registries', '{sourceRegistry}'],
    [settings.registries && settings.registries.target && settings.registries.target.name, 'registries', '{targetRegistry}'],
  ].filter(([v]) => v);
  const guids = new Map();
  const secrets = [
    settings.clientSecret,
    settings.storage && settings.storage.source && settings.storage.source.key,
    settings.storage && settings.storage.target && settings.storage.target.key,
  ].filter(Boolean);
  return function clean(text) {
    let t = String(text);
    for (const secret of secrets) t = t.split(secret).join('REDACTED');
    for (const [re, p] of pairs) t = t.replace(re, p);
    // Names as ARM path segments: /resourceGroups/<rg>/, /registries/<name>
    for (const [v, seg, p] of names) t = t.replace(new RegExp(`/${seg}/${escape(v)}(?=[/?"'\\s]|$)`, 'gi'), `/${seg}/${p}`);
    t = t.replace(/([?&]sig=)[^&"'\s]+/gi, '$1REDACTED');
    t = t.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, 'REDACTED-JWT');
    t = t.replace(/(bearer\s+)[\w.~+/=-]+/gi, '$1REDACTED');
    t = t.replace(GUID, (g) => {
      const k = g.toLowerCase();
      if (!guids.has(k)) guids.set(k, `00000000-0000-0000-0000-${String(guids.size + 1).padStart(12, '0')}`);
      return guids.get(k);
    });
    return t;
  };
}

/** The inverse for a replay: placeholders filled with another settings file's values. */
function filler(settings) {
  const values = new Map(placeholders(settings).map(([v, p]) => [p, trim(v)]));
  values.set('{resourceGroup}', settings.resourceGroup);
  values.set('{sourceRegistry}', settings.registries.source.name);
  values.set('{targetRegistry}', settings.registries.target.name);
  return (text) => String(text).replace(/\{[a-zA-Z]+\}/g, (p) => (values.has(p) ? values.get(p) : p));
}

module.exports = { sanitizer, filler };
