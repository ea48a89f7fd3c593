/**
 * parseSettings, a row per rule: every input-only rule refuses a bad value in one ConfigError line naming the input,
 * the value and what is allowed — before any Azure call, since parsing is the first thing a step does — and a good
 * value parses into the settings of its operation with what that operation needs present.
 */
import { ConfigError } from '../../core/errors';
import { INPUTS } from '../../core/inputs';
import { OPERATIONS } from '../../core/vocabulary';
import { parseSettings, registriesOf, type TransferSettings } from '../../core/settings';
import { DST_ID, SRC_ID } from './fakes/world';

const GUID = '00000000-0000-0000-0000-00000000000a';
const EXPORT_URI = 'https://srcacct.blob.core.windows.net/transfer';
const IMPORT_URI = 'https://dstacct.blob.core.windows.net/transfer';
const SECRET = 'https://kv.vault.azure.net/secrets/acrsas';
const UAI = `/subscriptions/${GUID}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1`;

/** Inputs with which each operation parses. */
const VALID: Readonly<Record<string, Record<string, string>>> = {
  export: { operation: 'export', 'source-registry': SRC_ID, artifacts: 'app:v1' },
  import: { operation: 'import', 'target-registry': DST_ID, blobs: 'b-1' },
  copy: {
    operation: 'copy',
    'export-storage-uri': EXPORT_URI,
    'export-sas-secret-uri': SECRET,
    'import-storage-uri': IMPORT_URI,
    'import-sas-secret-uri': SECRET,
    blobs: 'b-1',
  },
  transfer: { operation: 'transfer', 'source-registry': SRC_ID, 'target-registry': DST_ID, artifacts: 'app:v1' },
  setup: { operation: 'setup', 'source-registry': SRC_ID, 'export-storage-uri': EXPORT_URI, 'export-sas-secret-uri': SECRET },
  check: { operation: 'check' },
  cleanup: { operation: 'cleanup', 'target-registry': DST_ID },
};

function parse(base: keyof typeof VALID, over: Record<string, string> = {}): TransferSettings {
  const inputs: Record<string, string> = { ...VALID[base], ...over };
  return parseSettings({ get: (name) => inputs[name] || undefined });
}

type Row = readonly [rule: string, base: keyof typeof VALID, inputs: Record<string, string>, error: string | RegExp];

const REFUSED: readonly Row[] = [
  ['operation is required', 'check', { operation: '' }, "Input 'operation' is required: one of export, import, copy, transfer, setup, check, cleanup"],
  [
    'operation is one of the seven',
    'check',
    { operation: 'teleport' },
    "Input 'operation' is 'teleport': it must be one of export, import, copy, transfer, setup, check, cleanup",
  ],
  ['auth-type is one of its choices', 'check', { 'auth-type': 'password' }, /^Input 'auth-type' is 'password': it must be one of auto, oidc/],
  ['environment is a known cloud', 'check', { environment: 'Mars' }, /^Input 'environment' is 'Mars': it must be one of AzureCloud/],
  ['creds is JSON', 'check', { creds: '{nope' }, /^Input 'creds' is not valid JSON/],
  ['creds is a JSON object', 'check', { creds: '[1]' }, /^Input 'creds' is not a JSON object/],
  ['client-id is a GUID', 'check', { 'client-id': 'abc' }, "Input 'client-id' is 'abc': it must be a GUID"],
  [
    'AzureStack needs its ARM endpoint',
    'check',
    { environment: 'AzureStack' },
    "Input 'resource-manager-endpoint' is required when 'environment' is AzureStack",
  ],
  ['oidc needs client-id', 'check', { 'auth-type': 'oidc', 'tenant-id': GUID }, "Input 'client-id' is required when 'auth-type' is oidc"],
  ['oidc needs tenant-id', 'check', { 'auth-type': 'oidc', 'client-id': GUID }, "Input 'tenant-id' is required when 'auth-type' is oidc"],
  [
    'a service principal needs a secret or certificate',
    'check',
    { 'auth-type': 'service-principal', 'client-id': GUID, 'tenant-id': GUID },
    "Input 'client-secret' (or 'client-certificate', or 'creds') is required when 'auth-type' is service-principal",
  ],
  [
    'authority-host is https',
    'check',
    { 'authority-host': 'http://login.example' },
    /^Input 'authority-host' is 'http:\/\/login.example': it must be an https URL/,
  ],
  ['subscription-id is a GUID', 'check', { 'subscription-id': 'sub1' }, "Input 'subscription-id' is 'sub1': it must be a subscription id (a GUID)"],
  [
    'a registry id has the ARM shape',
    'check',
    { 'source-registry': '/subscriptions/x/registries/y' },
    /^Input 'source-registry' is '.*': a resource id must look like/,
  ],
  ['a registry name is 5-50 letters or digits', 'check', { 'source-registry': 'my-reg' }, /^Input 'source-registry' is 'my-reg': it must be a registry name/],
  [
    'a registry name needs its group',
    'check',
    { 'source-registry': 'myregistry' },
    /^Input 'source-resource-group' is required when 'source-registry' is a name/,
  ],
  [
    'a registry name needs the subscription',
    'check',
    { 'source-registry': 'myregistry', 'source-resource-group': 'rg' },
    /^Input 'subscription-id' is required when 'source-registry' is a name/,
  ],
  ['a resource group has its grammar', 'check', { 'source-registry': 'myregistry', 'source-resource-group': 'r g' }, /^Input 'source-resource-group' is 'r g'/],
  ['export needs the source registry', 'export', { 'source-registry': '' }, "Input 'source-registry' is required for operation 'export'"],
  ['transfer needs the target registry', 'transfer', { 'target-registry': '' }, "Input 'target-registry' is required for operation 'transfer'"],
  ['import needs the target registry', 'import', { 'target-registry': '' }, "Input 'target-registry' is required for operation 'import'"],
  [
    'storage-access-mode is one of two',
    'check',
    { 'storage-access-mode': 'key' },
    /^Input 'storage-access-mode' is 'key': it must be one of sas-token, managed-identity/,
  ],
  [
    'a pipeline name has no hyphen',
    'check',
    { 'export-pipeline': 'bad-pipeline' },
    /^Input 'export-pipeline' is 'bad-pipeline': it must be 5 to 50 letters or digits/,
  ],
  [
    'export options are known',
    'check',
    { 'export-options': 'OverwriteBlobs,KeepEverything' },
    "Input 'export-options' is 'KeepEverything': each option must be one of OverwriteBlobs, ContinueOnErrors",
  ],
  [
    'import options are known',
    'check',
    { 'import-options': 'OverwriteBlobs' },
    /^Input 'import-options' is 'OverwriteBlobs': each option must be one of OverwriteTags/,
  ],
  ['a storage URI is a URL', 'check', { 'export-storage-uri': 'nope' }, /^Input 'export-storage-uri' is 'nope': it must be an https URL/],
  [
    'a storage URI is https',
    'check',
    { 'export-storage-uri': 'http://a.blob.core.windows.net/c' },
    /^Input 'export-storage-uri' is 'http:.*': it must be an https URL .*refuses http/,
  ],
  [
    'a storage URI carries no SAS, and the error does not repeat its signature',
    'check',
    { 'export-storage-uri': `${EXPORT_URI}?sv=1&sig=SuperSecretSig123%3D` },
    /^Input 'export-storage-uri' is '.*sig=REDACTED': it must be the URL of .* without a query string/,
  ],
  [
    'a storage URI names one container',
    'check',
    { 'export-storage-uri': 'https://a.blob.core.windows.net/' },
    /^Input 'export-storage-uri' is .*: it must be the URL of one blob container/,
  ],
  [
    'a secret URI names a secret',
    'check',
    { 'export-sas-secret-uri': 'https://kv.vault.azure.net/keys/k' },
    /^Input 'export-sas-secret-uri' is .*: it must be a Key Vault secret URI/,
  ],
  [
    'sas-token mode needs the secret with the container',
    'check',
    { 'export-storage-uri': EXPORT_URI },
    "Input 'export-sas-secret-uri' is required with 'export-storage-uri' when 'storage-access-mode' is sas-token",
  ],
  [
    'managed-identity mode has no secret',
    'check',
    { 'storage-access-mode': 'managed-identity', 'import-sas-secret-uri': SECRET },
    /^Input 'import-sas-secret-uri' is '.*': it must not be set when 'storage-access-mode' is managed-identity/,
  ],
  [
    'pipeline-identity is system or an identity id',
    'check',
    { 'pipeline-identity': 'me' },
    /^Input 'pipeline-identity' is 'me': it must be system or the resource id/,
  ],
  [
    'api-version has the date form',
    'check',
    { 'api-version': 'latest' },
    "Input 'api-version' is 'latest': it must be a date that exists, optionally with -preview, like 2025-06-01-preview",
  ],
  ['api-version is a date that exists', 'check', { 'api-version': '2025-13-45-preview' }, /^Input 'api-version' is '2025-13-45-preview': it must be a date/],
  ['api-version has no 30 February', 'check', { 'api-version': '2025-02-30' }, /^Input 'api-version' is '2025-02-30': it must be a date/],
  [
    'an artifact follows the reference grammar',
    'export',
    { artifacts: 'app:v1\nApp Server:latest' },
    /^Input 'artifacts' is 'App Server:latest': each artifact must be repo, repo:tag/,
  ],
  ['a digest is sha256 and 64 hex', 'export', { artifacts: 'app@sha256:abc' }, /^Input 'artifacts' is 'app@sha256:abc'/],
  [
    'export needs artifacts',
    'export',
    { artifacts: '' },
    "Input 'artifacts' is required for operation 'export': at least one repo, repo:tag or repo@sha256:<digest>",
  ],
  ['transfer needs artifacts', 'transfer', { artifacts: ' , ' }, /^Input 'artifacts' is required for operation 'transfer'/],
  ['blob-name has its grammar', 'export', { 'blob-name': '-x' }, /^Input 'blob-name' is '-x': it must be 1 to 200 letters/],
  ['blobs have their grammar', 'import', { blobs: 'a b' }, /^Input 'blobs' is 'a b': each blob name must follow the blob naming rules: .*letters/],
  [
    'a blob name has no .. segment',
    'import',
    { blobs: 'a/../../../etc/passwd' },
    /^Input 'blobs' is 'a\/\.\.\/\.\.\/\.\.\/etc\/passwd': .*no empty, '\.' or '\.\.' path segment/,
  ],
  ['a blob name has no empty segment', 'import', { blobs: 'a//b' }, /^Input 'blobs' is 'a\/\/b': .*no empty/],
  ['a blob name does not end in a dot', 'import', { blobs: 'blob.' }, /^Input 'blobs' is 'blob\.': .*does not end in a dot or a slash/],
  ['a blob name has at most 1024 characters', 'import', { blobs: 'b'.repeat(1025) }, /^Input 'blobs' is 'b{200}… \(1025 characters\)': .*1 to 1024 characters/],
  [
    'a list starting with [ is a JSON array of strings',
    'import',
    { blobs: '["b-1", 2]' },
    `Input 'blobs' is '["b-1", 2]': a value starting with [ must be a JSON array of strings, e.g. ["a","b"] (or give a comma- or newline-separated list)`,
  ],
  ['a JSON array that does not parse', 'import', { blobs: '["b-1"' }, /^Input 'blobs' is '\["b-1"': a value starting with \[ must be a JSON array/],
  ['update-pipelines is a boolean', 'transfer', { 'update-pipelines': 'maybe' }, "Input 'update-pipelines' is 'maybe': it must be true or false"],
  [
    'source-trigger is enabled or disabled',
    'import',
    { 'source-trigger': 'sometimes' },
    /^Input 'source-trigger' is 'sometimes': it must be one of disabled, enabled/,
  ],
  ['copy needs blobs', 'copy', { blobs: '' }, "Input 'blobs' is required for operation 'copy': the blob names the export wrote"],
  [
    'copy needs an export container or the source registry',
    'copy',
    { 'export-storage-uri': '', 'export-sas-secret-uri': '' },
    "Input 'export-storage-uri' is required for operation 'copy' (or 'source-registry' with an existing export pipeline)",
  ],
  [
    'copy needs an import container or the target registry',
    'copy',
    { 'import-storage-uri': '', 'import-sas-secret-uri': '' },
    "Input 'import-storage-uri' is required for operation 'copy' (or 'target-registry' with an existing import pipeline)",
  ],
  [
    'import needs blobs unless the source trigger imports them',
    'import',
    { blobs: '' },
    "Input 'blobs' is required for operation 'import' (the blob names the export wrote), unless 'source-trigger' is enabled",
  ],
  ['source-trigger is enabled or disabled', 'import', { 'source-trigger': 'on' }, /^Input 'source-trigger' is 'on': it must be one of disabled, enabled/],
  [
    'at most 50 artifacts per run',
    'export',
    { 'max-artifacts-per-run': '51' },
    /^Input 'max-artifacts-per-run' is '51': .*at most 50 artifacts per pipeline run/,
  ],
  ['max-parallel-runs is 1 to 50', 'export', { 'max-parallel-runs': '0' }, "Input 'max-parallel-runs' is '0': it must be a whole number from 1 to 50"],
  ['timeout-minutes is positive', 'export', { 'timeout-minutes': '0' }, "Input 'timeout-minutes' is '0': it must be a number greater than 0 and at most 10080"],
  ['a boolean is true or false', 'export', { 'dry-run': 'yes' }, "Input 'dry-run' is 'yes': it must be true or false"],
  [
    'skip-existing needs the target registry',
    'export',
    { 'skip-existing': 'true' },
    "Input 'target-registry' is required with 'skip-existing': its digests decide what to leave out",
  ],
  ['referrers is include or skip', 'transfer', { referrers: 'all' }, "Input 'referrers' is 'all': it must be one of include, skip"],
  [
    'require-referrers holds artifact types (media types without parameters)',
    'export',
    { 'require-referrers': 'application/vnd.cncf.notary.signature\nsignature' },
    "Input 'require-referrers' is 'signature': each entry must be an artifact type: a media type such as application/vnd.cncf.notary.signature, without parameters",
  ],
  [
    'require-referrers refuses parameters and spaces',
    'transfer',
    { 'require-referrers': 'application/spdx+json; charset=utf-8' },
    /^Input 'require-referrers' is 'application\/spdx\+json; charset=utf-8': each entry must be an artifact type/,
  ],
  [
    'setup needs a side with a container',
    'setup',
    { 'export-storage-uri': '', 'export-sas-secret-uri': '' },
    /^Operation 'setup' needs 'source-registry' with 'export-storage-uri'/,
  ],
  [
    'setup refuses a secret pinned to a version',
    'setup',
    { 'export-sas-secret-uri': `${SECRET}/${'a'.repeat(32)}` },
    /^Input 'export-sas-secret-uri' is '.*': setup stores a new version of the secret, .*without the version$/,
  ],
  [
    'a user-delegation SAS lives at most 7 days',
    'setup',
    { 'sas-expiry-days': '30' },
    /^Input 'sas-expiry-days' is '30': a SAS signed with a user-delegation key/,
  ],
  ['sas-signing is one of two', 'setup', { 'sas-signing': 'shared' }, /^Input 'sas-signing' is 'shared': it must be one of user-delegation, account-key/],
  ['cleanup needs a registry', 'cleanup', { 'target-registry': '' }, /^Operation 'cleanup' needs 'source-registry' .* or 'target-registry'/],
  [
    'purge-untagged needs the target registry',
    'cleanup',
    { 'target-registry': '', 'source-registry': SRC_ID, 'purge-untagged': 'true', artifacts: 'app' },
    /^Input 'target-registry' is required with 'purge-untagged'/,
  ],
  ['purge-untagged needs artifacts', 'cleanup', { 'purge-untagged': 'true' }, /^Input 'artifacts' is required with 'purge-untagged'/],
  ['older-than-days is 0 to 3650', 'cleanup', { 'older-than-days': '-1' }, "Input 'older-than-days' is '-1': it must be a whole number from 0 to 3650"],
  // Hostile values: anything that would move a request to another path or host, or confuse a log.
  [
    'a registry id has no .. resource group',
    'check',
    { 'source-registry': `/subscriptions/${GUID}/resourceGroups/../providers/Microsoft.ContainerRegistry/registries/srcreg` },
    /^Input 'source-registry' is '.*': the resource group in a resource id must be .*not '\.' or '\.\.'/,
  ],
  [
    'a registry id names its subscription by GUID',
    'check',
    { 'source-registry': '/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/srcreg' },
    /^Input 'source-registry' is '.*': the subscription in a resource id must be a subscription id \(a GUID\)/,
  ],
  [
    'a registry id has no extra segments',
    'check',
    { 'source-registry': `/subscriptions/${GUID}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/srcreg/../other` },
    /^Input 'source-registry' is '.*': a resource id must look like/,
  ],
  [
    'a resource group next to a full id must not contradict it',
    'check',
    { 'source-registry': SRC_ID, 'source-resource-group': 'other' },
    /^Input 'source-resource-group' is 'other': it contradicts the resource group 'rg' of 'source-registry'/,
  ],
  [
    'a resource group is not ..',
    'check',
    { 'source-registry': 'myregistry', 'source-resource-group': '..' },
    /^Input 'source-resource-group' is '\.\.': it must be/,
  ],
  [
    'a user-assigned identity id has valid segments',
    'check',
    { 'pipeline-identity': `/subscriptions/${GUID}/resourceGroups/../providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1` },
    /^Input 'pipeline-identity' is '.*': the resource group in a resource id must be/,
  ],
  [
    'tenant-id is a GUID or a domain, not ..',
    'check',
    { 'tenant-id': '..' },
    /^Input 'tenant-id' is '\.\.': it must be the tenant's GUID or one of its domain names/,
  ],
  ['tenant-id is no path', 'check', { 'tenant-id': 'contoso.com/../x' }, /^Input 'tenant-id' is 'contoso\.com\/\.\.\/x': it must be the tenant's GUID/],
  [
    'a 10,000-character repository is refused in one short line',
    'export',
    { artifacts: `${'a'.repeat(10_000)}:v1` },
    /^Input 'artifacts' is 'a{200}… \(10003 characters\)': each artifact must be .*at most 255 characters/,
  ],
  [
    'control characters in an artifact are echoed escaped',
    'export',
    { artifacts: 'app:v1\u001b[31mred' },
    /^Input 'artifacts' is 'app:v1\\u001b\[31mred': each artifact must be/,
  ],
  [
    'a storage URI has no fragment',
    'check',
    { 'export-storage-uri': `${EXPORT_URI}#frag` },
    /^Input 'export-storage-uri' is '.*#frag': it must be the URL of .* without a fragment/,
  ],
  [
    'a storage URI has no user name or password, and the error does not repeat it',
    'check',
    { 'export-storage-uri': 'https://user:hunter2@srcacct.blob.core.windows.net/transfer' },
    /^Input 'export-storage-uri' is 'https:\/\/REDACTED@srcacct\.blob\.core\.windows\.net\/transfer': it must be the URL of .* without a user name or password/,
  ],
  [
    'a storage URI has no .. segment (before URL resolution removes it)',
    'check',
    { 'export-storage-uri': 'https://srcacct.blob.core.windows.net/other/../transfer' },
    /^Input 'export-storage-uri' is '.*': it must be the URL of .* without '\.' or '\.\.' path segments/,
  ],
  [
    'a storage URI has no backslash',
    'check',
    { 'export-storage-uri': 'https://srcacct.blob.core.windows.net\\transfer' },
    /^Input 'export-storage-uri' is '.*': it must be the URL of .* without '\.' or '\.\.' path segments or backslashes/,
  ],
  [
    'a storage URI has at most 2048 characters',
    'check',
    { 'export-storage-uri': `https://srcacct.blob.core.windows.net/${'c'.repeat(2100)}` },
    /^Input 'export-storage-uri' is '.{200}… \(2138 characters\)': it must be an https URL .* at most 2048 characters/,
  ],
  [
    'a secret URI has no user name or password',
    'check',
    { 'export-sas-secret-uri': 'https://me:hunter2@kv.vault.azure.net/secrets/acrsas' },
    /^Input 'export-sas-secret-uri' is 'https:\/\/REDACTED@kv.*without a user name or password/,
  ],
  [
    'a secret URI has no query',
    'check',
    { 'export-sas-secret-uri': `${SECRET}?x=1` },
    /^Input 'export-sas-secret-uri' is '.*': it must be the URL of .* without a query string/,
  ],
  [
    'resource-manager-endpoint has no query or fragment',
    'check',
    { 'resource-manager-endpoint': 'https://management.example/#x' },
    /^Input 'resource-manager-endpoint' is '.*': it must be the URL of .* without a fragment/,
  ],
  [
    "creds' resourceManagerEndpointUrl follows the URL grammar",
    'check',
    { creds: JSON.stringify({ clientId: GUID, clientSecret: 's3cret', tenantId: GUID, resourceManagerEndpointUrl: 'http://management.example' }) },
    /^Input 'creds' is 'http:\/\/management\.example': it must be an https URL/,
  ],
  [
    'client-secret and client-certificate are not both given',
    'check',
    { 'client-secret': 's3cret', 'client-certificate': '/tmp/cert.pem' },
    "Inputs 'client-secret' and 'client-certificate' are both given: a service principal signs in with one of them; remove the other",
  ],
  [
    'managed-identity does not take a secret',
    'check',
    { 'auth-type': 'managed-identity', 'client-secret': 's3cret' },
    "Input 'client-secret' is given but 'auth-type' is managed-identity, which does not use it: remove it, or set 'auth-type' to service-principal",
  ],
  [
    'oidc does not take creds with a secret',
    'check',
    { 'auth-type': 'oidc', creds: JSON.stringify({ clientId: GUID, clientSecret: 's3cret', tenantId: GUID }) },
    /^Input 'creds' with a clientSecret is given but 'auth-type' is oidc/,
  ],
  [
    'environment and resource-manager-endpoint do not contradict each other',
    'check',
    { environment: 'AzureUSGovernment', 'resource-manager-endpoint': 'https://management.azure.com' },
    /^Input 'resource-manager-endpoint' is 'https:\/\/management\.azure\.com': it contradicts 'environment' AzureUSGovernment/,
  ],
  ['audience is a URI', 'check', { audience: 'api://x y' }, /^Input 'audience' is 'api:\/\/x y': it must be a URI/],
];

describe('parseSettings refuses, in one line, before any Azure call', () => {
  it.each(REFUSED)('%s', (_rule, base, inputs, error) => {
    const run = (): unknown => parse(base, inputs);
    expect(run).toThrow(ConfigError);
    if (typeof error === 'string') expect(run).toThrow(new ConfigError(error));
    else expect(run).toThrow(error);
    let message = '';
    try {
      run();
    } catch (e) {
      message = (e as Error).message;
    }
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    expect(message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(message.length).toBeLessThan(700);
    expect(message).not.toContain('SuperSecretSig123');
    expect(message).not.toContain('hunter2');
  });

  it('has a row for every input whose value is checked (the table has no unchecked choice)', () => {
    const withChoices = INPUTS.filter((i) => i.choices !== undefined && !['operation'].includes(i.name)).map((i) => i.name);
    const covered = new Set(REFUSED.flatMap(([, , inputs]) => Object.keys(inputs)));
    expect(withChoices.filter((n) => !covered.has(n))).toEqual([]);
  });
});

describe('parseSettings proves what each operation needs', () => {
  it.each(OPERATIONS)('%s parses with its minimal inputs', (op) => {
    expect(parse(op).operation).toBe(op);
  });

  it('export and transfer carry the source registry and at least one artifact; skip-existing names the registry that decides', () => {
    const s = parse('transfer', { 'skip-existing': 'true', artifacts: 'app:v1,app:v1,lib@sha256:' + 'a'.repeat(64) });
    if (s.operation !== 'transfer') throw new Error('not transfer');
    expect(s.source.name).toBe('srcreg');
    expect(s.artifacts.map((a) => a.kind)).toEqual(['tag', 'digest']);
    expect(s.skipExistingIn?.resourceId).toBe(DST_ID);
    const e = parse('export');
    expect(e.operation === 'export' && e.skipExistingIn).toBeUndefined();
  });

  it('export and transfer carry referrers by default, and the artifact types each artifact must have, each once', () => {
    const e = parse('export');
    expect(e.operation === 'export' && [e.referrers, e.requireReferrers]).toEqual(['include', []]);
    const t = parse('transfer', {
      referrers: 'SKIP',
      'require-referrers': 'application/vnd.cncf.notary.signature, application/spdx+json\napplication/vnd.cncf.notary.signature',
    });
    expect(t.operation === 'transfer' && [t.referrers, t.requireReferrers]).toEqual([
      'skip',
      ['application/vnd.cncf.notary.signature', 'application/spdx+json'],
    ]);
  });

  it('setup carries each side with its container and what its identity must reach', () => {
    const sas = parse('setup');
    expect(sas.operation === 'setup' && sas.sides).toEqual([
      { kind: 'export', reg: expect.objectContaining({ resourceId: SRC_ID }), container: EXPORT_URI, accessTarget: SECRET },
    ]);
    const mi = parse('setup', {
      'storage-access-mode': 'managed-identity',
      'export-sas-secret-uri': '',
      'target-registry': DST_ID,
      'import-storage-uri': IMPORT_URI,
    });
    expect(mi.operation === 'setup' && mi.sides.map((s) => [s.kind, s.accessTarget])).toEqual([
      ['export', EXPORT_URI],
      ['import', IMPORT_URI],
    ]);
    expect(mi.operation === 'setup' && mi.sasExpiryDays).toBe(7);
    expect(parse('setup', { 'sas-signing': 'account-key' })).toMatchObject({ sasExpiryDays: 30 });
  });

  it('cleanup carries the sides given and, with purge-untagged, the registry purged', () => {
    const s = parse('cleanup', { 'source-registry': SRC_ID, 'purge-untagged': 'true', artifacts: 'app' });
    expect(s.operation === 'cleanup' && s.sides.map((x) => x.kind)).toEqual(['export', 'import']);
    expect(s.operation === 'cleanup' && s.purgeUntaggedIn?.resourceId).toBe(DST_ID);
  });

  it("takes the list outputs as they are: a JSON array (the export's blobs, imported-artifacts) is a list input", () => {
    // What the export step's `blobs` output holds, passed on unchanged (GitHub `${{ steps.x.outputs.blobs }}`, ADO `$(x.blobs)`).
    expect(parse('import', { blobs: '["acrtransfer-0123456789abcdef-1","acrtransfer-0123456789abcdef-2"]' }).blobs).toEqual([
      'acrtransfer-0123456789abcdef-1',
      'acrtransfer-0123456789abcdef-2',
    ]);
    expect(parse('import', { blobs: '[\n  "b-1",\n  "b-2"\n]' }).blobs).toEqual(['b-1', 'b-2']);
    expect(parse('export', { artifacts: '["app:v1", "lib:v2"]' }).artifacts.map((a) => a.kind)).toEqual(['tag', 'tag']);
    expect(parse('transfer', { 'import-options': '["OverwriteTags"]' }).importPipeline.options).toEqual(['OverwriteTags']);
  });

  it('source-trigger: set is what the pipeline must have, unset keeps what it has; update-pipelines defaults to true', () => {
    expect(parse('import', { 'source-trigger': 'Enabled' })).toMatchObject({ sourceTrigger: true, sourceTriggerWanted: true, updatePipelines: true });
    expect(parse('import', { 'source-trigger': 'disabled' })).toMatchObject({ sourceTrigger: false, sourceTriggerWanted: false });
    const unset = parse('import');
    expect(unset.sourceTrigger).toBe(false);
    expect('sourceTriggerWanted' in unset).toBe(false);
    expect(parse('transfer', { 'update-pipelines': 'False' }).updatePipelines).toBe(false);
  });

  it('accepts what the stricter grammar must still let through', () => {
    expect(parse('check', { 'tenant-id': 'contoso.onmicrosoft.com' }).auth.tenantId).toBe('contoso.onmicrosoft.com');
    expect(parse('check', { 'source-registry': SRC_ID, 'source-resource-group': 'RG' }).source?.resourceGroup).toBe('rg');
    expect(parse('check', { 'source-registry': 'myregistry', 'source-resource-group': 'my.group(1)', 'subscription-id': GUID }).source?.resourceGroup).toBe(
      'my.group(1)',
    );
    expect(parse('check', { 'api-version': '2024-02-29-preview' }).apiVersion).toBe('2024-02-29-preview');
    expect(parse('import', { blobs: 'dir/sub/acrtransfer-1a2b-1,a.b..c' }).blobs).toEqual(['dir/sub/acrtransfer-1a2b-1', 'a.b..c']);
    expect(parse('export', { artifacts: `${'a'.repeat(255)}:v1` }).artifacts).toHaveLength(1);
    expect(parse('check', { 'export-storage-uri': 'https://127.0.0.1:10001/acct1/transfer', 'export-sas-secret-uri': SECRET }).exportPipeline.storageUri).toBe(
      'https://127.0.0.1:10001/acct1/transfer',
    );
  });

  it('import without blobs is fine with the source trigger on, and in a dry run', () => {
    expect(parse('import', { blobs: '', 'source-trigger': 'enabled' }).operation).toBe('import');
    expect(parse('import', { blobs: '', 'dry-run': 'true' }).operation).toBe('import');
  });

  it('merges azure/login creds under explicit inputs, and takes a user-assigned pipeline identity', () => {
    const s = parse('check', {
      creds: JSON.stringify({ clientId: GUID, clientSecret: 's3cret', tenantId: GUID, resourceManagerEndpointUrl: 'https://management.example/' }),
      'client-id': '00000000-0000-0000-0000-00000000000b',
      'pipeline-identity': UAI,
    });
    expect(s.auth).toMatchObject({
      clientId: '00000000-0000-0000-0000-00000000000b',
      tenantId: GUID,
      clientSecret: 's3cret',
      resourceManagerEndpoint: 'https://management.example',
    });
    expect(s.pipelineIdentity).toEqual({ type: 'user', resourceId: UAI });
  });

  it('registriesOf follows the table: each operation touches the registries whose input it reads', () => {
    const both = { 'source-registry': SRC_ID, 'target-registry': DST_ID };
    const sides = (s: TransferSettings): string[] => registriesOf(s).map((r) => r.side);
    expect(sides(parse('export', both))).toEqual(['source']);
    expect(sides(parse('import', both))).toEqual(['target']);
    expect(sides(parse('copy', both))).toEqual([]);
    expect(sides(parse('transfer', both))).toEqual(['source', 'target']);
    expect(sides(parse('check', both))).toEqual(['source', 'target']);
  });
});
