/**
 * What the local-azure step hands the steps after it: one variable per coordinate an acr-transfer step (or a script)
 * needs, written the way each host takes variables from a step. GitHub: GITHUB_ENV (so a job's `env:` is replaced,
 * docs/rehearse.md#github-actions) and GITHUB_OUTPUT, secrets masked first; Azure DevOps:
 * `task.setvariable`, secrets with `issecret=true`; anywhere: a file a shell can source.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import type { LocalAzureEnv } from '../test/local-azure/config';

export interface Export {
  /** The environment variable (GitHub) or pipeline variable (Azure DevOps). */
  readonly name: string;
  /** The GitHub step output: the acr-transfer input it feeds, where there is one. */
  readonly output: string;
  readonly value: string;
  readonly secret?: true;
}

export interface Prepared {
  readonly exportSecretUri: string;
  readonly importSecretUri: string;
}

/** Every variable the step sets, from the running local Azure's env.json and the SAS secrets it stored. */
export function exportsOf(env: LocalAzureEnv, envJsonPath: string, caBundle: string, prepared: Prepared): Export[] {
  const container = (side: 'source' | 'target'): string => `${env.storage[side].blobEndpoint}${env.storage[side].container}`;
  return [
    { name: 'AZURE_AUTH_TYPE', output: 'auth-type', value: 'service-principal' },
    { name: 'AZURE_CLIENT_ID', output: 'client-id', value: env.clientId },
    { name: 'AZURE_TENANT_ID', output: 'tenant-id', value: env.tenantId },
    { name: 'AZURE_CLIENT_SECRET', output: 'client-secret', value: env.clientSecret, secret: true },
    { name: 'AZURE_SUBSCRIPTION_ID', output: 'subscription-id', value: env.subscriptionId },
    { name: 'AZURE_RESOURCE_MANAGER_ENDPOINT', output: 'resource-manager-endpoint', value: env.armEndpoint },
    { name: 'AZURE_AUTHORITY_HOST', output: 'authority-host', value: env.authorityHost },
    { name: 'ACR_SOURCE_REGISTRY', output: 'source-registry', value: env.registries.source.resourceId },
    { name: 'ACR_TARGET_REGISTRY', output: 'target-registry', value: env.registries.target.resourceId },
    { name: 'ACR_EXPORT_STORAGE_URI', output: 'export-storage-uri', value: container('source') },
    { name: 'ACR_EXPORT_SAS_SECRET_URI', output: 'export-sas-secret-uri', value: prepared.exportSecretUri },
    { name: 'ACR_IMPORT_STORAGE_URI', output: 'import-storage-uri', value: container('target') },
    { name: 'ACR_IMPORT_SAS_SECRET_URI', output: 'import-sas-secret-uri', value: prepared.importSecretUri },
    // Node reads it at process start: every later step's Node process trusts the local Azure's CA.
    { name: 'NODE_EXTRA_CA_CERTS', output: 'ca-cert', value: caBundle },
    { name: 'LOCAL_AZURE_ENV', output: 'env-json', value: envJsonPath },
    // Plain http registries behind the ACR front ends, for `docker push` / skopeo of the user's own images.
    { name: 'LOCAL_AZURE_SOURCE_PUSH', output: 'source-push', value: hostOf(env.registries.source.backendUrl) },
    { name: 'LOCAL_AZURE_TARGET_PULL', output: 'target-pull', value: hostOf(env.registries.target.backendUrl) },
  ];
}

const hostOf = (url: string): string => url.replace(/^https?:\/\//, '').replace(/\/+$/, '');

/** GitHub's file commands, with a random heredoc delimiter (a value cannot end the block early). */
function fileCommand(name: string, value: string): string {
  const delimiter = `ghadelimiter_${randomBytes(12).toString('hex')}`;
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

/** GitHub: masks the secrets, then GITHUB_ENV and GITHUB_OUTPUT. */
export function toGitHub(exports: readonly Export[], envFile: string, outputFile: string | undefined, print: (line: string) => void): void {
  for (const e of exports) if (e.secret) print(`::add-mask::${e.value}`);
  appendFileSync(envFile, exports.map((e) => fileCommand(e.name, e.value)).join(''));
  if (outputFile) appendFileSync(outputFile, exports.map((e) => fileCommand(e.output, e.value)).join(''));
}

/** Azure DevOps logging-command escaping (property values and messages). */
const adoEscape = (s: string): string => s.replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

/** Azure DevOps: one `task.setvariable` per variable; the agent keeps secret ones out of logs and environments. */
export function toAzureDevOps(exports: readonly Export[], print: (line: string) => void): void {
  for (const e of exports) print(`##vso[task.setvariable variable=${e.name}${e.secret ? ';issecret=true' : ''}]${adoEscape(e.value)}`);
}

/** A file a shell sources (`. <file>`), for a terminal or any other CI; mode 600 (it holds the secret). */
export function toShellFile(exports: readonly Export[], file: string): void {
  const quote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;
  writeFileSync(file, exports.map((e) => `export ${e.name}=${quote(e.value)}\n`).join(''), { mode: 0o600 });
}
