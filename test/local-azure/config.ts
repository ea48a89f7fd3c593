import * as path from 'node:path';

/** Where `azure:up` keeps its state; git-ignored. Override with LOCAL_AZURE_DIR. */
export function localAzureDir(): string {
  return path.resolve(process.env['LOCAL_AZURE_DIR'] ?? path.join(__dirname, '..', '..', '.local-azure'));
}

export type Side = 'source' | 'target';
export const SIDES: readonly Side[] = ['source', 'target'];

export interface RegistryEnv {
  readonly name: string;
  readonly resourceId: string;
  /** ACR-style login server served by the emulator (HTTPS, token-protected), lower case, no scheme. */
  readonly loginServer: string;
  /** The plain distribution registry behind it, for seeding (http, no auth). */
  readonly backendUrl: string;
}

export interface StorageEnv {
  readonly account: string;
  readonly key: string;
  /** Path-style Azurite endpoint with a trailing slash, e.g. https://127.0.0.1:10001/srcstore/ */
  readonly blobEndpoint: string;
  /** A container `up` creates. */
  readonly container: string;
}

/** `.local-azure/env.json`: exactly the fields the issue names, so that any tool can drive the local Azure. */
export interface LocalAzureEnv {
  readonly caCertPath: string;
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
  /** Name of the one Key Vault (an ARM resource whose vaultUri is the main port, i.e. env.keyVaultUrl). */
  readonly keyVaultName: string;
  readonly registries: { readonly source: EmulatorRegistryConfig; readonly target: EmulatorRegistryConfig };
  readonly storage: { readonly source: StorageEnv; readonly target: StorageEnv };
}

export function registryResourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${name}`;
}
