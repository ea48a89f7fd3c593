import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';

/** Where `azure:up` keeps its state; git-ignored. Override with LOCAL_AZURE_DIR. */
export function localAzureDir(): string {
  return path.resolve(process.env['LOCAL_AZURE_DIR'] ?? path.join(__dirname, '..', '..', '.local-azure'));
}

export type Side = 'source' | 'target';
export const SIDES: readonly Side[] = ['source', 'target'];

/**
 * The local cloud's DNS suffix: its vaults, storage accounts and registries are named under it, as a custom cloud's
 * metadata/endpoints names them (RFC 6761 makes *.localhost loopback; loopback-names.cjs resolves it for Node).
 */
export const LOCAL_DNS_SUFFIX = 'local-azure.localhost';

/** NODE_OPTIONS for a Node process that talks to the local Azure: `existing` plus the preload that resolves *.localhost. */
export function nodeOptionsForLocalAzure(existing = process.env['NODE_OPTIONS']): string {
  return [existing, '--require', path.join(__dirname, 'loopback-names.cjs')].filter(Boolean).join(' ');
}

export interface RegistryEnv {
  readonly name: string;
  readonly resourceId: string;
  /** ACR-style login server served by the emulator (HTTPS, token-protected), lower case, no scheme: <name>.azurecr.<suffix>:<port>. */
  readonly loginServer: string;
  /** The same front end as 127.0.0.1:<port>, for tools that cannot resolve *.localhost (skopeo). */
  readonly address: string;
  /** The plain distribution registry behind it, for seeding (http, no auth). */
  readonly backendUrl: string;
}

export interface StorageEnv {
  readonly account: string;
  readonly key: string;
  /** The account's blob endpoint, with a trailing slash: https://<account>.blob.<suffix>:<port>/ (the emulator's storage front). */
  readonly blobEndpoint: string;
  /** Path-style Azurite endpoint behind it, for tools that cannot resolve *.localhost: https://127.0.0.1:<port>/<account>/ */
  readonly backendUrl: string;
  /** A container `up` creates. */
  readonly container: string;
}

/** `.local-azure/env.json`: exactly the fields the issue names, so that any tool can drive the local Azure. */
export interface LocalAzureEnv {
  readonly caCertPath: string;
  /** The DNS suffix of the data-plane hosts (LOCAL_DNS_SUFFIX), as metadata/endpoints names it. */
  readonly dnsSuffix: string;
  readonly armEndpoint: string;
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly keyVaultUrl: string;
  readonly controlUrl: string;
  readonly registries: { readonly source: RegistryEnv; readonly target: RegistryEnv };
  readonly storage: { readonly source: StorageEnv; readonly target: StorageEnv };
}

export interface EmulatorRegistryConfig {
  readonly name: string;
  /** Port of this registry's ACR data plane (HTTPS) on 127.0.0.1. */
  readonly port: number;
  readonly backendUrl: string;
  /** Filesystem root of the distribution registry, for listUsages. */
  readonly rootDir: string;
}

/** What `up` hands the emulator process (`.local-azure/emulator.json`). */
export interface EmulatorConfig {
  readonly host: string;
  /** ARM, Entra, Key Vault, the OIDC issuer and the control API share this HTTPS port. */
  readonly port: number;
  /** The storage front (host-style account names, proxied to Azurite) listens here. */
  readonly storagePort: number;
  /** Azurite itself, path-style: https://127.0.0.1:<port> */
  readonly azuriteUrl: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly caCertPath: string;
  readonly stateDir: string;
  readonly requestLogPath: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  /** Name of the one Key Vault (an ARM resource whose vaultUri, env.keyVaultUrl, is <name>.vault.<suffix> on the main port). */
  readonly keyVaultName: string;
  readonly registries: { readonly source: EmulatorRegistryConfig; readonly target: EmulatorRegistryConfig };
  readonly storage: { readonly source: StorageEnv; readonly target: StorageEnv };
}

export function registryResourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${name}`;
}

/** The vault's URL: https://<name>.vault.<suffix>:<port>/ (served on the emulator's main port). */
export function keyVaultUrl(c: Pick<EmulatorConfig, 'keyVaultName' | 'port'>): string {
  return `https://${c.keyVaultName}.vault.${LOCAL_DNS_SUFFIX}:${c.port}/`;
}

/** A registry's login server: <name>.azurecr.<suffix>:<port>, lower case. */
export function loginServerOf(r: Pick<EmulatorRegistryConfig, 'name' | 'port'>): string {
  return `${r.name}.azurecr.${LOCAL_DNS_SUFFIX}:${r.port}`.toLowerCase();
}

/** An account's blob endpoint: https://<account>.blob.<suffix>:<port>/ (the emulator's storage front). */
export function blobEndpointOf(account: string, storagePort: number): string {
  return `https://${account}.blob.${LOCAL_DNS_SUFFIX}:${storagePort}/`;
}

/** The identity a local Azure is made with: its tenant, service principal and subscription. */
export interface LocalIdentity {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly subscriptionId: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Fresh random values, or the ones LOCAL_AZURE_TENANT_ID, LOCAL_AZURE_CLIENT_ID, LOCAL_AZURE_CLIENT_SECRET and
 * LOCAL_AZURE_SUBSCRIPTION_ID fix: an Azure DevOps service connection made once for the local Azure names them.
 */
export function localIdentity(env: NodeJS.ProcessEnv = process.env): LocalIdentity {
  const guid = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) return randomUUID();
    if (!GUID.test(v)) throw new Error(`${name} must be a GUID, not '${v.slice(0, 40)}'`);
    return v.toLowerCase();
  };
  const secret = env['LOCAL_AZURE_CLIENT_SECRET']?.trim();
  // The secret travels in form bodies and env files: printable ASCII without quotes, spaces or backslashes.
  if (secret && !/^[\x21\x23-\x26\x28-\x5b\x5d-\x7e]{16,200}$/.test(secret))
    throw new Error('LOCAL_AZURE_CLIENT_SECRET must be 16 to 200 printable characters without spaces, quotes or backslashes');
  return {
    tenantId: guid('LOCAL_AZURE_TENANT_ID'),
    clientId: guid('LOCAL_AZURE_CLIENT_ID'),
    clientSecret: secret || randomBytes(24).toString('base64url'),
    subscriptionId: guid('LOCAL_AZURE_SUBSCRIPTION_ID'),
  };
}
