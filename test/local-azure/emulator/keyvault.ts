/**
 * Key Vault secrets for the local Azure: one vault, https://<name>.vault.<suffix>:<port>/ on the main port, answering at
 * its host name only. Covers what @azure/keyvault-secrets 4.11.2 calls (set/get/list/versions/update/delete/recover/purge)
 * and its challenge-based auth, whose resource passes the SDK's check (docs/local-azure.md#host-names-under-the-clouds-suffix).
 * Secrets are kept on disk (emu.disk, docs/local-azure.md#state-on-disk): a restarted emulator has them all.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { keyVaultUrl } from '../config';
import { type Emulator, type Json, KEY_VAULT_RESOURCE, type Outcome, type SecretReader } from './context';
import { bearerToken, HttpError, sendJson } from './http';
import { checkName, jsonObject, readProps, SECRET_NAME } from './keyvault-body';
import { kvError, secretNotFound } from './keyvault-errors';
import { nowSeconds } from './jwt';
import type { Request, Router } from './router';

/** 7.0–7.6 (with previews) and the SDK's current default. */
const API_VERSION = /^(7\.[0-6](-preview(\.\d+)?)?|2025-07-01)$/;
const MAX_PAGE = 25;
const MAX_VALUE_BYTES = 25 * 1024;
const RECOVERABLE_DAYS = 90;

interface SecretVersion {
  readonly version: string;
  readonly value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  nbf?: number;
  exp?: number;
  readonly created: number;
  updated: number;
}

interface SecretEntry {
  /** The name as first created; lookups are case-insensitive, as in Key Vault. */
  readonly name: string;
  readonly versions: SecretVersion[];
  deleted?: { deletedDate: number; scheduledPurgeDate: number };
}

class Vault {
  private readonly secrets: Map<string, SecretEntry>;

  constructor(private readonly emu: Emulator) {
    this.secrets = emu.disk.readAll<SecretEntry>('secrets');
  }

  /** Writes the secret (or its removal) through to disk. */
  private save(entry: SecretEntry): void {
    if (this.secrets.get(entry.name.toLowerCase()) === entry) this.emu.disk.write('secrets', entry.name, entry);
    else this.emu.disk.remove('secrets', entry.name);
  }

  get base(): string {
    return keyVaultUrl(this.emu.config).replace(/\/+$/, '');
  }

  checkHost(req: Request): void {
    if (req.url.host.toLowerCase() !== new URL(this.base).host.toLowerCase())
      throw kvError(404, 'NotFound', `'${req.url.host}' is not a Key Vault of the local Azure; its vault is ${this.base}/.`);
  }

  /** The 401 challenge keyVaultAuthenticationPolicy expects before it fetches a token. */
  authorize(req: Request): void {
    const challenge = { 'www-authenticate': `Bearer authorization="${this.emu.baseUrl}/${this.emu.config.tenantId}", resource="${KEY_VAULT_RESOURCE}"` };
    const token = bearerToken(req);
    if (!token) throw kvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', undefined, challenge);
    const checked = this.emu.tokens.verifyAccessToken(token, [KEY_VAULT_RESOURCE]);
    if (!checked.ok) throw kvError(401, 'Unauthorized', checked.message, checked.code, challenge);
  }

  checkApiVersion(req: Request): string {
    const v = req.url.searchParams.get('api-version');
    if (!v) throw kvError(400, 'BadParameter', 'The api-version query parameter is required.');
    if (!API_VERSION.test(v))
      throw kvError(400, 'BadParameter', `The specified version (${v}) is not recognized. Consider using the latest supported version (2025-07-01).`);
    return v;
  }

  /** A live (not deleted) secret, or undefined. */
  live(name: string): SecretEntry | undefined {
    const e = this.secrets.get(name.toLowerCase());
    return e && !e.deleted ? e : undefined;
  }

  find(name: string, version: string | undefined): { entry: SecretEntry; v: SecretVersion } {
    const entry = this.live(name);
    if (!entry) throw secretNotFound(name);
    const v = version ? entry.versions.find((x) => x.version === version.toLowerCase()) : entry.versions.at(-1);
    if (!v) throw secretNotFound(`${name}/${version ?? ''}`);
    return { entry, v };
  }

  attributes(v: SecretVersion): Json {
    return {
      enabled: v.enabled,
      ...(v.nbf !== undefined ? { nbf: v.nbf } : {}),
      ...(v.exp !== undefined ? { exp: v.exp } : {}),
      created: v.created,
      updated: v.updated,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: RECOVERABLE_DAYS,
    };
  }

  /** SecretItem (list entries): no value; `withVersion` for the versions list. */
  item(entry: SecretEntry, v: SecretVersion, withVersion: boolean): Json {
    return {
      id: `${this.base}/secrets/${entry.name}${withVersion ? `/${v.version}` : ''}`,
      attributes: this.attributes(v),
      ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
      ...(v.tags ? { tags: v.tags } : {}),
    };
  }

  /** SecretBundle; a disabled version is listed but never read (403, as Key Vault does). */
  bundle(entry: SecretEntry, v: SecretVersion, withValue: boolean): Json {
    const { id: _id, ...rest } = this.item(entry, v, true);
    return { ...(withValue ? { value: v.value } : {}), id: `${this.base}/secrets/${entry.name}/${v.version}`, ...rest };
  }

  deletedBundle(entry: SecretEntry): Json {
    const latest = entry.versions.at(-1)!;
    return {
      recoveryId: `${this.base}/deletedsecrets/${entry.name}`,
      deletedDate: entry.deleted?.deletedDate,
      scheduledPurgeDate: entry.deleted?.scheduledPurgeDate,
      ...this.bundle(entry, latest, false),
    };
  }

  set(name: string, body: Json): Json {
    checkName(name);
    const value = body['value'];
    if (typeof value !== 'string') throw kvError(400, 'BadParameter', 'The request body must contain a string property "value".');
    if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw kvError(400, 'BadParameter', `The secret value is larger than ${MAX_VALUE_BYTES} bytes.`);
    const existing = this.secrets.get(name.toLowerCase());
    if (existing?.deleted) {
      throw kvError(
        409,
        'Conflict',
        `Secret ${existing.name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
        'ObjectIsDeletedButRecoverable',
      );
    }
    const entry = existing ?? { name, versions: [] };
    const now = nowSeconds();
    const v: SecretVersion = { version: randomBytes(16).toString('hex'), value, enabled: true, created: now, updated: now, ...readProps(body) };
    entry.versions.push(v);
    this.secrets.set(name.toLowerCase(), entry);
    this.save(entry);
    return this.bundle(entry, v, true);
  }

  get(name: string, version: string | undefined): Json {
    checkName(name);
    const { entry, v } = this.find(name, version);
    if (!v.enabled) throw kvError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    return this.bundle(entry, v, true);
  }

  update(name: string, version: string | undefined, body: Json): Json {
    checkName(name);
    const { entry, v } = this.find(name, version);
    Object.assign(v, readProps(body), { updated: nowSeconds() });
    this.save(entry);
    return this.bundle(entry, v, false);
  }

  remove(name: string): Json {
    checkName(name);
    const entry = this.live(name);
    if (!entry) throw secretNotFound(name);
    const now = nowSeconds();
    entry.deleted = { deletedDate: now, scheduledPurgeDate: now + RECOVERABLE_DAYS * 86400 };
    this.save(entry);
    return this.deletedBundle(entry);
  }

  deleted(name: string): SecretEntry {
    checkName(name);
    const entry = this.secrets.get(name.toLowerCase());
    if (!entry?.deleted) throw kvError(404, 'SecretNotFound', `Deleted Secret ${name} not found`);
    return entry;
  }

  purge(name: string): void {
    const entry = this.deleted(name);
    this.secrets.delete(entry.name.toLowerCase());
    this.save(entry);
  }

  recover(name: string): Json {
    const entry = this.deleted(name);
    delete entry.deleted;
    this.save(entry);
    return this.bundle(entry, entry.versions.at(-1)!, false);
  }

  liveEntries(): SecretEntry[] {
    return [...this.secrets.values()].filter((e) => !e.deleted).sort((a, b) => a.name.localeCompare(b.name));
  }

  deletedEntries(): SecretEntry[] {
    return [...this.secrets.values()].filter((e) => e.deleted).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One page of a list, Key Vault style: `maxresults` (≤ 25) and a nextLink carrying our own $skiptoken. */
  page(req: Request, apiVersion: string, items: Json[]): Json {
    const max = Math.min(Number(req.url.searchParams.get('maxresults') ?? MAX_PAGE) || MAX_PAGE, MAX_PAGE);
    const skip = Number(req.url.searchParams.get('$skiptoken') ?? 0) || 0;
    const value = items.slice(skip, skip + max);
    let nextLink: string | null = null;
    if (skip + max < items.length) {
      const next = new URL(req.url.pathname, this.base);
      next.searchParams.set('api-version', apiVersion);
      next.searchParams.set('$skiptoken', String(skip + max));
      next.searchParams.set('maxresults', String(max));
      nextLink = next.toString();
    }
    return { value, nextLink };
  }

  /** SecretReader: what the transfer service does with a pipeline's keyVaultUri. */
  readSecret(secretUri: string): Outcome<{ value: string; version: string }> {
    let u: URL;
    try {
      u = new URL(secretUri);
    } catch {
      return { ok: false, status: 400, code: 'BadParameter', message: `'${secretUri}' is not a valid Key Vault secret URI.` };
    }
    const vault = new URL(this.base);
    if (u.protocol !== 'https:' || u.host.toLowerCase() !== vault.host.toLowerCase()) {
      return {
        ok: false,
        status: 404,
        code: 'VaultNotFound',
        message: `The Key Vault '${u.host}' of secret URI '${secretUri}' does not exist: this local Azure has one vault, ${this.base}/.`,
      };
    }
    const m = /^\/secrets\/([^/]+)(?:\/([^/]*))?\/?$/.exec(u.pathname);
    if (!m || !SECRET_NAME.test(m[1]!)) {
      return {
        ok: false,
        status: 400,
        code: 'BadParameter',
        message: `'${secretUri}' is not a Key Vault secret URI (https://{vault}/secrets/{name}[/{version}]).`,
      };
    }
    try {
      const { v } = this.find(m[1]!, m[2] || undefined);
      if (!v.enabled) return { ok: false, status: 403, code: 'Forbidden', message: 'Operation get is not allowed on a disabled secret.' };
      return { ok: true, value: v.value, version: v.version };
    } catch (e) {
      const body = e instanceof HttpError ? (e.body as { error: { code: string; message: string } }) : undefined;
      return {
        ok: false,
        status: e instanceof HttpError ? e.status : 500,
        code: body?.error.code ?? 'InternalError',
        message: body?.error.message ?? String(e),
      };
    }
  }
}

export function registerKeyVault(router: Router, emu: Emulator): void {
  const vault = new Vault(emu);
  emu.secrets = { readSecret: (uri) => vault.readSecret(uri) } satisfies SecretReader;

  /** Auth first (the SDK's first request is a bare probe for the challenge), then api-version. */
  const route = (method: string, pattern: RegExp, handle: (req: Request, apiVersion: string) => Promise<Json | undefined> | Json | undefined): void => {
    router.add('keyvault', method, pattern, async (req: Request, res: ServerResponse) => {
      vault.checkHost(req);
      vault.authorize(req);
      const apiVersion = vault.checkApiVersion(req);
      const body = await handle(req, apiVersion);
      sendJson(res, body === undefined ? 204 : 200, body, { 'x-ms-keyvault-service-version': '1.9.0.0' });
    });
  };
  const name = (req: Request): string => req.params['name'] ?? '';
  const version = (req: Request): string | undefined => req.params['version'] || undefined;

  route('GET', /^\/secrets\/?$/, (req, v) =>
    vault.page(
      req,
      v,
      vault.liveEntries().map((e) => vault.item(e, e.versions.at(-1)!, false)),
    ),
  );
  route('GET', /^\/secrets\/(?<name>[^/]+)\/versions\/?$/, (req, v) => {
    checkName(name(req));
    const entry = vault.live(name(req));
    if (!entry) throw secretNotFound(name(req));
    return vault.page(
      req,
      v,
      entry.versions.map((x) => vault.item(entry, x, true)),
    );
  });
  route('PUT', /^\/secrets\/(?<name>[^/]+)\/?$/, async (req) => vault.set(name(req), await jsonObject(req)));
  route('DELETE', /^\/secrets\/(?<name>[^/]+)\/?$/, (req) => vault.remove(name(req)));
  // getSecret always sends a version segment, empty for the latest: /secrets/{name}/ (docs/local-azure.md#key-vaults-empty-version-segment).
  route('GET', /^\/secrets\/(?<name>[^/]+)(?:\/(?<version>[^/]*))?\/?$/, (req) => vault.get(name(req), version(req)));
  route('PATCH', /^\/secrets\/(?<name>[^/]+)(?:\/(?<version>[^/]*))?\/?$/, async (req) => vault.update(name(req), version(req), await jsonObject(req)));
  route('GET', /^\/deletedsecrets\/?$/, (req, v) =>
    vault.page(
      req,
      v,
      vault.deletedEntries().map((e) => vault.deletedBundle(e)),
    ),
  );
  route('GET', /^\/deletedsecrets\/(?<name>[^/]+)\/?$/, (req) => vault.deletedBundle(vault.deleted(name(req))));
  route('DELETE', /^\/deletedsecrets\/(?<name>[^/]+)\/?$/, (req) => {
    vault.purge(name(req));
    return undefined;
  });
  route('POST', /^\/deletedsecrets\/(?<name>[^/]+)\/recover\/?$/, (req) => vault.recover(name(req)));
}
