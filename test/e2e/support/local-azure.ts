import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  BlobServiceClient,
  type ContainerClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type LocalAzureEnv, localAzureDir, type StorageEnv } from '../../local-azure/config';

/**
 * The running local Azure's env.json (`npm run azure:up` writes it) or, in live mode, the settings file of the same shape
 * that `npm run test:live` names (ACR_TRANSFER_LIVE_SETTINGS; live.ts).
 */
export function loadEnv(): LocalAzureEnv {
  const live = process.env['ACR_TRANSFER_LIVE_SETTINGS'];
  if (live) return JSON.parse(readFileSync(live, 'utf8')) as LocalAzureEnv;
  const file = path.join(localAzureDir(), 'env.json');
  if (!existsSync(file))
    throw new Error(`${file} not found: start the local Azure with \`npm run azure:up\` (tests run through \`npm test\` do it themselves)`);
  if (!process.env['NODE_EXTRA_CA_CERTS']) throw new Error('NODE_EXTRA_CA_CERTS is not set: run the tests through `npm test` or set it to env.json caCertPath');
  return JSON.parse(readFileSync(file, 'utf8')) as LocalAzureEnv;
}

/** The local Azure's service principal, the way any SDK user would build it. */
export function credential(env: LocalAzureEnv): ClientSecretCredential {
  return new ClientSecretCredential(env.tenantId, env.clientId, env.clientSecret, { authorityHost: env.authorityHost, disableInstanceDiscovery: true });
}

/** A Key Vault client as the service principal, without retries: a failure shows at once. The SDK's challenge check stays on. */
export function secretClient(env: LocalAzureEnv): SecretClient {
  return new SecretClient(env.keyVaultUrl, credential(env), { retryOptions: { maxRetries: 0 } });
}

/** The URI of the secret `name` in the local Key Vault, as a pipeline or an input names it. */
export const secretUri = (env: LocalAzureEnv, name: string): string => `${env.keyVaultUrl.replace(/\/+$/, '')}/secrets/${name}`;

/** Stores `sas` with the leading '?' the docs use as the secret `name` in `vault`; returns the secret's URI. */
export async function putSasSecret(vault: SecretClient, name: string, sas: string): Promise<string> {
  await vault.setSecret(name, `?${sas}`);
  return `${vault.vaultUrl.replace(/\/+$/, '')}/secrets/${name}`;
}

/** The URL of a container (no SAS), as a workflow passes it: `s.container` unless another `container` is named. */
export const containerUri = (s: StorageEnv, container = s.container): string => `${s.blobEndpoint}${container}`;

/** A client for a container of `s` (`s.container` unless another is named), signed with the account key. */
export function containerClient(s: StorageEnv, container = s.container, options?: StoragePipelineOptions): ContainerClient {
  return new BlobServiceClient(s.blobEndpoint, new StorageSharedKeyCredential(s.account, s.key), options).getContainerClient(container);
}

/**
 * A container SAS signed with the account key, https only, as a user makes one by hand: valid from 5 minutes ago for
 * an hour unless `opts` says otherwise; for `s.container` unless another `container` is named.
 */
export function containerSas(
  s: StorageEnv,
  permissions: string,
  opts: { container?: string; startsOn?: Date; expiresOn?: Date; version?: string } = {},
): string {
  return generateBlobSASQueryParameters(
    {
      containerName: opts.container ?? s.container,
      permissions: ContainerSASPermissions.parse(permissions),
      protocol: SASProtocol.Https,
      startsOn: opts.startsOn ?? new Date(Date.now() - 5 * 60_000),
      expiresOn: opts.expiresOn ?? new Date(Date.now() + 3600_000),
      ...(opts.version ? { version: opts.version } : {}),
    },
    new StorageSharedKeyCredential(s.account, s.key),
  ).toString();
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** The sha256 digest of `bytes`, as a registry names content. */
export const digestOf = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * Pushes a config blob (its `seed` makes the digest unique) and one OCI manifest without layers straight to a registry
 * backend (no auth), tagged with each of `tags` in order; returns the manifest's digest.
 */
export async function pushManifest(backendUrl: string, repo: string, tags: readonly string[], seed: string): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, seed }));
  const start = await fetch(`${backendUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  expect(start.status).toBe(202);
  const upload = new URL(start.headers.get('location') ?? '', backendUrl);
  upload.searchParams.set('digest', digestOf(config));
  expect((await fetch(upload, { method: 'PUT', body: config, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: [],
    }),
  );
  for (const tag of tags) {
    const r = await fetch(`${backendUrl}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
    expect(r.status).toBe(201);
  }
  return digestOf(manifest);
}

export interface HttpResult<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

async function call<T>(url: string, method: string, body: unknown, headers: Record<string, string>): Promise<HttpResult<T>> {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Plain-REST ARM call with a bearer token from the service principal. `pathAndQuery` starts with /subscriptions or is a full URL. */
export async function arm<T = unknown>(env: LocalAzureEnv, method: string, pathAndQuery: string, body?: unknown): Promise<HttpResult<T>> {
  const token = await credential(env).getToken('https://management.azure.com/.default');
  const url = pathAndQuery.startsWith('https://') ? pathAndQuery : `${env.armEndpoint.replace(/\/$/, '')}${pathAndQuery}`;
  return call<T>(url, method, body, { authorization: `Bearer ${token.token}` });
}

/** The control API: knobs, faults, the request log. */
export async function control<T = unknown>(env: LocalAzureEnv, method: string, subPath: string, body?: unknown): Promise<HttpResult<T>> {
  return call<T>(`${env.controlUrl.replace(/\/$/, '')}${subPath}`, method, body, {});
}

export const API = '2025-06-01-preview';

/** One entry of a registry's referrers list (OCI image index descriptor). */
export interface ReferrerEntry {
  readonly digest: string;
  readonly artifactType?: string;
  readonly mediaType: string;
  readonly size: number;
}

/**
 * The referrers of `repo@digest` as the registry's front end answers them (all pages), signed in as the service principal
 * the way docker and oras do: Entra token → /oauth2/exchange → /oauth2/token → GET /v2/{repo}/referrers/{digest}.
 */
export async function referrersOf(env: LocalAzureEnv, side: 'source' | 'target', repo: string, digest: string): Promise<ReferrerEntry[]> {
  const ls = env.registries[side].loginServer;
  const post = (p: string, fields: Record<string, string>): Promise<Response> =>
    fetch(`https://${ls}${p}`, { method: 'POST', body: new URLSearchParams(fields) });
  const aad = await credential(env).getToken('https://management.azure.com/.default');
  const ex = await post('/oauth2/exchange', { grant_type: 'access_token', service: ls, tenant: env.tenantId, access_token: aad.token });
  const { refresh_token } = (await ex.json()) as { refresh_token: string };
  const tok = await post('/oauth2/token', { grant_type: 'refresh_token', service: ls, scope: `repository:${repo}:pull`, refresh_token });
  const { access_token } = (await tok.json()) as { access_token: string };
  const out: ReferrerEntry[] = [];
  let next: string | undefined = `/v2/${repo}/referrers/${digest}`;
  while (next) {
    const r: Response = await fetch(`https://${ls}${next}`, { headers: { authorization: `Bearer ${access_token}` } });
    if (r.status !== 200) throw new Error(`GET ${next} on ${ls}: HTTP ${r.status} ${await r.text()}`);
    out.push(...((await r.json()) as { manifests: ReferrerEntry[] }).manifests);
    next = /<([^>]+)>;\s*rel="next"/.exec(r.headers.get('link') ?? '')?.[1];
  }
  return out;
}
