/**
 * Live mode (`npm run test:live -- <settings.json>`, docs/local-azure.md#live-mode): the e2e files marked `@live` run
 * against whatever Azure a settings file describes (the shape of .local-azure/env.json), with none of the local Azure's
 * back doors: images go in and digests come out through the registries' login servers as an ACR client does (Entra
 * token → /oauth2/exchange → refresh token, given to skopeo), and what a test file made is deleted after it (runs,
 * pipelines, containers, secrets, images), tracked here as the fixtures make it.
 */
import { SecretClient } from '@azure/keyvault-secrets';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalAzureEnv, StorageEnv } from '../../local-azure/config';
import { sha256Digest } from '../../local-azure/emulator/transfer/registry-client';
import { type ImageSpec, run, type SeededImage, seedImages } from '../../local-azure/seed';
import { API, arm, containerClient, credential, loadEnv } from './local-azure';

/** The settings file of a live run; unset in the ordinary suite. */
export const liveSettingsPath = (): string | undefined => process.env['ACR_TRANSFER_LIVE_SETTINGS'] || undefined;
export const isLive = (): boolean => liveSettingsPath() !== undefined;

type Side = 'source' | 'target';
const NULL_USER = '00000000-0000-0000-0000-000000000000';
const tokens = new Map<string, Promise<string>>();

/** An ACR refresh token for the login server, as `az acr login --expose-token` gets one (docs/azure-service.md#data-plane-tokens). */
function refreshToken(env: LocalAzureEnv, side: Side): Promise<string> {
  const ls = env.registries[side].loginServer;
  let t = tokens.get(ls);
  if (!t) {
    t = (async () => {
      const aad = await credential(env).getToken('https://management.azure.com/.default');
      const body = new URLSearchParams({ grant_type: 'access_token', service: ls, tenant: env.tenantId, access_token: aad.token });
      const res = await fetch(`https://${ls}/oauth2/exchange`, { method: 'POST', body });
      if (!res.ok) throw new Error(`POST https://${ls}/oauth2/exchange: HTTP ${res.status}`);
      return ((await res.json()) as { refresh_token: string }).refresh_token;
    })();
    tokens.set(ls, t);
  }
  return t;
}

/** skopeo's options for one registry: the refresh token as ACR's null-GUID user, and the local CA when the settings name one. */
async function skopeoAuth(env: LocalAzureEnv, side: Side, flag: 'creds' | 'dest-creds'): Promise<{ args: string[]; done: () => void }> {
  const args = [`--${flag}`, `${NULL_USER}:${await refreshToken(env, side)}`];
  if (!env.caCertPath) return { args, done: () => undefined };
  // skopeo reads CA files named *.crt from a directory.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'live-ca-'));
  copyFileSync(env.caCertPath, path.join(dir, 'ca.crt'));
  return { args: [...args, `--${flag === 'creds' ? 'cert-dir' : 'dest-cert-dir'}`, dir], done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Builds the images and pushes them through the source registry's login server (skopeo); records them for the clean-up. */
export async function pushImages(env: LocalAzureEnv, specs: readonly ImageSpec[]): Promise<SeededImage[]> {
  const auth = await skopeoAuth(env, 'source', 'dest-creds');
  try {
    const seeded = await seedImages('', specs, { via: 'skopeo', login: { host: env.registries.source.address, args: auth.args } });
    for (const i of seeded) created.images.push({ repo: i.ref.slice(0, i.ref.lastIndexOf(':')), digests: [i.digest, ...i.children.map((c) => c.digest)] });
    return seeded;
  } finally {
    auth.done();
  }
}

/** The digest of `ref` (`repo:tag` or `repo@digest`) in a registry, read through its login server; undefined when it is not there. */
export async function liveDigest(env: LocalAzureEnv, side: Side, ref: string): Promise<string | undefined> {
  const auth = await skopeoAuth(env, side, 'creds');
  try {
    return sha256Digest(await run('skopeo', ['inspect', '--raw', ...auth.args, `docker://${env.registries[side].address}/${ref}`]));
  } catch (e) {
    if (/manifest unknown|not found|404/i.test((e as Error).message)) return undefined;
    throw e;
  } finally {
    auth.done();
  }
}

// ---------- what a test file made, and deleting it ----------

interface CreatedFixture {
  readonly env: LocalAzureEnv;
  readonly pipelines: { readonly export: string; readonly import: string };
  readonly containers: readonly StorageEnv[];
  readonly secrets: readonly string[];
}

const created: { fixtures: CreatedFixture[]; images: { repo: string; digests: string[] }[] } = { fixtures: [], images: [] };

/** Records a fixture's pipelines (made by the steps under test), containers and secret names for the clean-up. */
export function trackFixture(f: CreatedFixture): void {
  if (isLive()) created.fixtures.push(f);
}

/** DELETE, waits for an asynchronous delete (202 + Location), then checks that the resource is gone. */
async function deleteResource(env: LocalAzureEnv, id: string): Promise<void> {
  const r = await arm(env, 'DELETE', `${id}?api-version=${API}`);
  if (r.status >= 300) throw new Error(`DELETE: HTTP ${r.status}`);
  let location = r.status === 202 ? (r.headers.get('location') ?? undefined) : undefined;
  for (let i = 0; location && i < 60; i++) {
    await new Promise((res) => setTimeout(res, 1000));
    if ((await arm(env, 'GET', location)).status !== 202) location = undefined;
  }
  const after = await arm(env, 'GET', `${id}?api-version=${API}`);
  if (after.status !== 404) throw new Error(`still there after DELETE (GET: HTTP ${after.status})`);
}

/** Deletes everything this test file made on the live Azure; one line per kind, failures named (they do not fail the file). */
export async function cleanupLive(): Promise<string[]> {
  const lines: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
      lines.push(`deleted ${what}`);
    } catch (e) {
      lines.push(`could not delete ${what}: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  for (const f of created.fixtures.splice(0)) {
    for (const [side, kind, name] of [
      ['source', 'exportPipelines', f.pipelines.export],
      ['target', 'importPipelines', f.pipelines.import],
    ] as const) {
      const reg = f.env.registries[side].resourceId;
      const runs = await arm<{ value: { id: string; properties: { request: { pipelineResourceId?: string } } }[] }>(
        f.env,
        'GET',
        `${reg}/pipelineRuns?api-version=${API}`,
      );
      for (const r of runs.body.value ?? []) {
        if ((r.properties.request.pipelineResourceId ?? '').toLowerCase().endsWith(`/${kind}/${name}`.toLowerCase()))
          await attempt(`pipeline run ${r.id.split('/').pop()}`, () => deleteResource(f.env, r.id));
      }
      await attempt(`${kind} ${name}`, () => deleteResource(f.env, `${reg}/${kind}/${name}`));
    }
    for (const c of f.containers) await attempt(`container ${c.container} of ${c.account}`, () => containerClient(c).deleteIfExists());
    const vault = new SecretClient(f.env.keyVaultUrl, credential(f.env));
    for (const s of f.secrets) {
      await attempt(`secret ${s}`, async () => {
        await (await vault.beginDeleteSecret(s)).pollUntilDone();
        // A vault with purge protection (or an identity without purge) keeps it soft-deleted for its retention days.
        await vault.purgeDeletedSecret(s).catch(() => lines.push(`secret ${s} stays soft-deleted (no purge permission, or purge protection)`));
      });
    }
  }
  const images = created.images.splice(0);
  const env = images.length > 0 ? loadEnv() : undefined;
  for (const img of images) {
    if (!env) break;
    for (const side of ['source', 'target'] as const) {
      for (const digest of img.digests) {
        const auth = await skopeoAuth(env, side, 'creds');
        await attempt(`${img.repo}@${digest.slice(0, 19)} in ${side}`, () =>
          run('skopeo', ['delete', ...auth.args, `docker://${env.registries[side].address}/${img.repo}@${digest}`]).catch((e: Error) => {
            if (!/manifest unknown|not found|404/i.test(e.message)) throw e;
          }),
        ).finally(auth.done);
      }
    }
  }
  return lines;
}
