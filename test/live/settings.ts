/**
 * `npm run test:live` checks its settings file here before anything runs: every field the live-capable tests read, in one
 * line each, and then the cost note (docs/local-azure.md#live-mode). Usage: settings.ts <settings.json>; exit 1 on a problem.
 */
import { existsSync, readFileSync } from 'node:fs';

/** The fields live mode reads: env.json's, less the local Azure's own (controlUrl, the plain registries behind the ACRs). */
const REQUIRED = [
  ...'armEndpoint authorityHost tenantId clientId clientSecret subscriptionId resourceGroup keyVaultUrl'.split(' '),
  ...['source', 'target'].flatMap((s) => ['name', 'resourceId', 'loginServer', 'address'].map((f) => `registries.${s}.${f}`)),
  ...['source', 'target'].flatMap((s) => ['account', 'key', 'blobEndpoint'].map((f) => `storage.${s}.${f}`)),
];

function field(o: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}

/** One line per problem; empty when the settings can drive a live run. */
export function settingsProblems(text: string): string[] {
  let s: unknown;
  try {
    s = JSON.parse(text);
  } catch {
    return ['the settings file is not JSON (it has the shape of .local-azure/env.json)'];
  }
  const problems = REQUIRED.filter((k) => typeof field(s, k) !== 'string' || !field(s, k)).map((k) => `'${k}' is missing: a non-empty string`);
  for (const k of ['armEndpoint', 'authorityHost', 'keyVaultUrl', 'storage.source.blobEndpoint', 'storage.target.blobEndpoint']) {
    const v = field(s, k);
    if (typeof v === 'string' && !/^https:\/\/[^\s/]+/.test(v)) problems.push(`'${k}' must be an https URL, not ${JSON.stringify(v.slice(0, 60))}`);
  }
  const ca = field(s, 'caCertPath');
  if (ca !== undefined && (typeof ca !== 'string' || !existsSync(ca))) problems.push(`'caCertPath' names no file (${JSON.stringify(String(ca).slice(0, 80))})`);
  return problems;
}

/** What a live run makes and what it costs (list prices; the settings' resources exist already). */
export function costNote(s: { armEndpoint: string }): string {
  const local = /^https:\/\/(127\.0\.0\.1|localhost)[:/]/.test(s.armEndpoint);
  return [
    `Live run against ${s.armEndpoint}${local ? ' (a local Azure: nothing is charged)' : ''}.`,
    'Per @live test file it creates, and deletes afterwards: two blob containers, two Key Vault secrets (purged where allowed),',
    'an export and an import pipeline with their runs, and a few small test images (well under 1 MB) in both registries.',
    'It creates no registry, account or vault: the settings name existing ones, and those cost while they exist. ACR transfer',
    'needs Premium registries: about USD 1.67 a day each (https://azure.microsoft.com/pricing/details/container-registry/);',
    'storage and Key Vault operations of a run cost well under a cent (https://azure.microsoft.com/pricing/details/storage/blobs/,',
    'https://azure.microsoft.com/pricing/details/key-vault/). Delete the registries, or move them to Basic, when you are done.',
  ].join('\n');
}

if (require.main === module) {
  const file = process.argv[2] ?? '';
  const problems = existsSync(file) ? settingsProblems(readFileSync(file, 'utf8')) : [`no settings file at ${JSON.stringify(file)}`];
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(`test:live: ${p}\n`);
    process.exitCode = 1;
  } else {
    const s = JSON.parse(readFileSync(file, 'utf8')) as { armEndpoint: string; caCertPath?: string };
    process.stderr.write(`${costNote(s)}\n`);
    // For the caller: the CA to trust (NODE_EXTRA_CA_CERTS), if the settings name one.
    process.stdout.write(s.caCertPath ?? '');
  }
}
