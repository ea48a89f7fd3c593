/**
 * Which hosts get a token: only the storage accounts, Key Vaults and registries of the cloud we signed in to, by the DNS
 * suffixes the cloud names (the well-known clouds' tables, a custom cloud's metadata/endpoints). A URL from an input is
 * checked before sign-in; one the service returns (a pipeline's container, a registry's login server) before it is
 * used. See docs/azure-service.md#hosts-that-get-a-token.
 */
import { AzureRequestError, ConfigError, sanitize } from '../errors';
import type { TransferSettings } from '../settings';

/** The DNS suffixes of a cloud's data-plane hosts, without a leading dot. */
export interface CloudSuffixes {
  /** Storage endpoint suffixes: blob hosts are `<account>.blob.<suffix>` (also `<account>.z<nn>.blob.<suffix>`). */
  readonly storage: readonly string[];
  /** Key Vault DNS suffixes: vault hosts are `<vault>.<suffix>`. */
  readonly keyVault: readonly string[];
  /** Registry login-server suffixes: `<registry>.<suffix>`. */
  readonly registry: readonly string[];
}

export type HostKind = keyof CloudSuffixes;

const WHAT: Readonly<Record<HostKind, { readonly noun: string; readonly pattern: (s: string) => string }>> = {
  storage: { noun: 'a blob endpoint', pattern: (s) => `<account>.blob.${s}` },
  keyVault: { noun: 'a Key Vault', pattern: (s) => `<vault>.${s}` },
  registry: { noun: 'a container registry', pattern: (s) => `<registry>.${s}` },
};

/** `.vault.azure.net` or `vault.azure.net` → `vault.azure.net`. */
export function suffix(text: string): string {
  return text.trim().toLowerCase().replace(/^\.+/, '').replace(/\.+$/, '');
}

/** Whether `hostname` is a host of that kind under one of the cloud's suffixes. */
export function isCloudHost(kind: HostKind, hostname: string, suffixes: CloudSuffixes): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return suffixes[kind].some((s) => {
    const tail = kind === 'storage' ? `.blob.${suffix(s)}` : `.${suffix(s)}`;
    return h.length > tail.length && h.endsWith(tail);
  });
}

/** What the cloud allows, for messages: "<vault>.vault.azure.net". */
export function allowedHosts(kind: HostKind, suffixes: CloudSuffixes): string {
  const list = suffixes[kind].map((s) => WHAT[kind].pattern(suffix(s)));
  return list.length > 0 ? list.join(' or ') : `(none: the cloud names no ${kind} suffix)`;
}

function hostnameOf(url: string): string | undefined {
  try {
    return new URL(url.includes('://') ? url : `https://${url}`).hostname;
  } catch {
    return undefined;
  }
}

/** The check for a URL the service returned (or the code built): an error the report carries, before any request. */
export function checkHost(kind: HostKind, url: string, suffixes: CloudSuffixes, cloudName: string): void {
  const host = hostnameOf(url);
  if (host !== undefined && isCloudHost(kind, host, suffixes)) return;
  throw new AzureRequestError(
    `use ${WHAT[kind].noun} at ${sanitize(url)}`,
    0,
    'UntrustedHost',
    `'${sanitize(host ?? url)}' is not ${WHAT[kind].noun} of the cloud ${cloudName}, so it gets no token`,
    undefined,
    `In this cloud ${WHAT[kind].noun} host looks like ${allowedHosts(kind, suffixes)}`,
  );
}

/** The inputs that name hosts: each must be a host of the cloud, checked before sign-in. */
export function checkInputHosts(settings: TransferSettings, suffixes: CloudSuffixes, cloudName: string): void {
  const inputs: readonly [string, string | undefined, HostKind][] = [
    ['export-storage-uri', settings.exportPipeline.storageUri, 'storage'],
    ['import-storage-uri', settings.importPipeline.storageUri, 'storage'],
    ['export-sas-secret-uri', settings.exportPipeline.sasSecretUri, 'keyVault'],
    ['import-sas-secret-uri', settings.importPipeline.sasSecretUri, 'keyVault'],
  ];
  for (const [name, value, kind] of inputs) {
    if (value === undefined) continue;
    const host = hostnameOf(value);
    if (host !== undefined && isCloudHost(kind, host, suffixes)) continue;
    throw new ConfigError(
      `Input '${name}' is '${sanitize(value)}': its host is not ${WHAT[kind].noun} of the cloud ${cloudName} (${allowedHosts(kind, suffixes)}), and it gets no request or token`,
    );
  }
}
