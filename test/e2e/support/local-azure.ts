import { ClientSecretCredential } from '@azure/identity';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type LocalAzureEnv, localAzureDir } from '../../local-azure/config';

/** The running local Azure's env.json (`npm run azure:up` writes it). */
export function loadEnv(): LocalAzureEnv {
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
