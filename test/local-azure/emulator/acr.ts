/**
 * The ACR data plane of one registry, on its own HTTPS port: the token service (/oauth2/exchange, /oauth2/token)
 * a token-checking, streaming proxy of /v2/ to a plain distribution registry, and ACR's manifest list
 * (`GET /acr/v1/{repo}/_manifests`, which distribution lacks; see acr-manifests.ts).
 * Flow and shapes: docs/azure-service.md#data-plane-tokens; the token-auth challenge: docs/local-azure.md#registry-token-challenge.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, type OutgoingHttpHeaders, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { EmulatorRegistryConfig } from '../config';
import { listStoredManifests, type ManifestEntry } from './acr-manifests';
import { ACR_RESOURCE, ARM_AUDIENCES, type Emulator } from './context';
import { bearerToken, headerValue, HttpError, readForm, sendJson } from './http';
import type { Request, Router } from './router';
import { type Claims, nowSeconds, SigningKey, verifyJwt } from './jwt';

/** `docker login` with an ACR refresh token uses this user name (docs/azure-service.md#data-plane-tokens). */
export const ACR_TOKEN_USER = '00000000-0000-0000-0000-000000000000';
const ISSUER = 'Azure Container Registry';
const REFRESH_LIFETIME_SECONDS = 3 * 3600;
const ACCESS_LIFETIME_SECONDS = 75 * 60;
/** ACR never returns more than 100 tags or repositories per page. */
const PAGE_MAX = 100;
/** Page size when reading the backend's full list. */
const BACKEND_PAGE = 1000;
const REPOSITORY_ACTIONS = new Set(['pull', 'push', 'delete', 'metadata_read', 'metadata_write', 'deleted_read', 'deleted_restore', '*']);
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);
const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' };

/** One resource access as in ACR (and distribution) tokens: `repository:name:pull,push`. */
export interface Access {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

interface Principal {
  readonly sub: string;
  readonly appid: string;
  readonly tenant: string;
}

function registryError(status: number, code: string, message: string, detail: unknown = null, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { errors: [{ code, message, detail }] }, { ...API_VERSION_HEADER, ...headers });
}

/** `type:name:actions`; names may hold slashes (and, for plugins, colons), so split at the first and last colon. */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first + 1) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

export function formatScope(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(',')}`;
}

/** The access a service principal with full rights gets for the scopes it asked for; unknown ones are dropped. */
function grant(scopes: readonly string[]): Access[] {
  const merged = new Map<string, Set<string>>();
  for (const a of scopes.flatMap((s) => s.split(' ')).map(parseScope)) {
    if (!a) continue;
    const allowed =
      a.type === 'repository'
        ? a.actions.filter((x) => REPOSITORY_ACTIONS.has(x))
        : a.type === 'registry' && a.name === 'catalog'
          ? a.actions.filter((x) => x === '*')
          : [];
    if (allowed.length === 0) continue;
    const key = `${a.type}:${a.name}`;
    const set = merged.get(key) ?? new Set<string>();
    allowed.forEach((x) => set.add(x));
    merged.set(key, set);
  }
  return [...merged].map(([key, actions]) => {
    const i = key.indexOf(':');
    return { type: key.slice(0, i), name: key.slice(i + 1), actions: [...actions] };
  });
}

const REPO_ROUTES: ReadonlyArray<RegExp> = [
  /^\/v2\/(?<repo>.+)\/manifests\/[^/]+$/,
  /^\/v2\/(?<repo>.+)\/blobs\/uploads\/[^/]*$/,
  /^\/v2\/(?<repo>.+)\/blobs\/[^/]+$/,
  /^\/v2\/(?<repo>.+)\/tags\/list$/,
  /^\/v2\/(?<repo>.+)\/referrers\/[^/]+$/,
];

/** The repository a /v2/ path is about, if any. */
export function repositoryOf(pathname: string): string | undefined {
  for (const re of REPO_ROUTES) {
    const m = re.exec(pathname);
    if (m?.groups?.['repo']) return m.groups['repo'];
  }
  return undefined;
}

/** Distribution's repository name grammar; also keeps `..` and other path tricks out of the storage lookup. */
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const MANIFEST_ORDERS = ['', 'timedesc', 'timeasc'];

/** What a /v2/ request needs, as distribution's token auth has it: reads pull, writes pull+push, DELETE delete, mounts pull on `from`. */
export function requiredAccess(method: string, url: URL): Access[] {
  if (url.pathname === '/v2/_catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  const repo = repositoryOf(url.pathname);
  if (!repo) return [];
  const actions = method === 'GET' || method === 'HEAD' ? ['pull'] : method === 'DELETE' ? ['delete'] : ['pull', 'push'];
  const need: Access[] = [{ type: 'repository', name: repo, actions }];
  const from = url.searchParams.get('from');
  if (method === 'POST' && from && url.searchParams.has('mount') && from !== repo) need.push({ type: 'repository', name: from, actions: ['pull'] });
  return need;
}

function isGranted(access: readonly Access[], need: Access): boolean {
  return need.actions.every((action) =>
    access.some((a) => a.type === need.type && a.name === need.name && (a.actions.includes(action) || a.actions.includes('*'))),
  );
}

/** Sorted, de-duplicated, then the page after `last`, at most `n` (≤ 100) long. */
export function pageOf(all: readonly string[], query: URLSearchParams): { items: string[]; n: number; more: boolean } {
  const raw = query.get('n');
  let n = PAGE_MAX;
  if (raw !== null && raw !== '') {
    const x = Number(raw);
    if (!Number.isInteger(x) || x < 0) throw registryError(400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { n: raw });
    n = Math.min(x, PAGE_MAX);
  }
  const sorted = [...new Set(all)].sort();
  const last = query.get('last');
  let start = last ? sorted.findIndex((t) => t > last) : 0;
  if (start < 0) start = sorted.length;
  const items = sorted.slice(start, start + n);
  return { items, n, more: n > 0 && start + n < sorted.length };
}

class AcrFrontEnd {
  private readonly key = new SigningKey();
  readonly loginServer: string;
  private readonly backend: URL;

  constructor(
    private readonly emu: Emulator,
    private readonly reg: EmulatorRegistryConfig,
  ) {
    this.loginServer = `${emu.config.host}:${reg.port}`.toLowerCase();
    this.backend = new URL(reg.backendUrl);
  }

  private checkService(service: string | null): void {
    if (!service) throw registryError(400, 'UNSUPPORTED', 'the service parameter is required');
    if (service.toLowerCase() !== this.loginServer)
      throw registryError(401, 'UNAUTHORIZED', `service '${service}' does not match this registry's login server '${this.loginServer}'`);
  }

  private sign(principal: Principal, lifetime: number, extra: Claims): string {
    const now = nowSeconds();
    return this.key.sign({
      jti: randomUUID(),
      sub: principal.sub,
      nbf: now,
      exp: now + lifetime,
      iat: now,
      iss: ISSUER,
      aud: this.loginServer,
      tenant: principal.tenant,
      appid: principal.appid,
      roles: [],
      ...extra,
    });
  }

  private refreshToken(p: Principal): string {
    return this.sign(p, REFRESH_LIFETIME_SECONDS, { version: '1.0', grant_type: 'refresh_token', permissions: { actions: ['*'], notActions: [] } });
  }

  private accessToken(p: Principal, access: Access[]): string {
    return this.sign(p, ACCESS_LIFETIME_SECONDS, { version: '2.0', grant_type: 'access_token', access });
  }

  /** Claims of a token this registry issued, of the given kind; undefined when invalid, expired or foreign. */
  private verifyOwn(token: string, kind: 'refresh_token' | 'access_token'): Claims | undefined {
    const r = verifyJwt(token, this.key.publicKey, { audience: [this.loginServer], issuer: ISSUER, skewSeconds: 0 });
    return r.ok && r.claims['grant_type'] === kind ? r.claims : undefined;
  }

  private principalOfRefresh(token: string | null): Principal {
    const claims = token ? this.verifyOwn(token, 'refresh_token') : undefined;
    if (!claims) throw registryError(401, 'UNAUTHORIZED', 'the refresh token is invalid or expired');
    return { sub: String(claims.sub), appid: String(claims['appid'] ?? ''), tenant: String(claims['tenant'] ?? '') };
  }

  /** An Entra token for ARM or for ACR itself (docs/azure-service.md#data-plane-tokens, step 1). */
  private principalOfEntra(token: string | null, tenant: string | null): Principal {
    if (!token) throw registryError(400, 'UNSUPPORTED', 'the access_token parameter is required');
    const checked = this.emu.tokens.verifyAccessToken(token, [...ARM_AUDIENCES, ACR_RESOURCE]);
    if (!checked.ok) throw registryError(401, 'UNAUTHORIZED', `the AAD access token is invalid: ${checked.message}`);
    const tid = String(checked.claims['tid'] ?? '');
    if (tenant && tenant.toLowerCase() !== tid.toLowerCase())
      throw registryError(401, 'UNAUTHORIZED', `the AAD access token is for tenant '${tid}', not '${tenant}'`);
    return { sub: String(checked.claims['oid'] ?? checked.claims.sub), appid: String(checked.claims['appid'] ?? ''), tenant: tid };
  }

  /** HTTP Basic: the refresh-token user, or the service principal's id and secret (as `docker login` accepts). */
  private principalOfBasic(req: Request): Principal {
    const m = /^Basic\s+(\S+)$/i.exec(headerValue(req.headers.authorization) ?? '');
    if (!m)
      throw registryError(401, 'UNAUTHORIZED', 'authentication required', null, {
        'www-authenticate': `Basic realm="https://${this.loginServer}/oauth2/token"`,
      });
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    const [user, pass] = i < 0 ? [decoded, ''] : [decoded.slice(0, i), decoded.slice(i + 1)];
    if (user === ACR_TOKEN_USER) return this.principalOfRefresh(pass);
    const { clientId, clientSecret, tenantId } = this.emu.config;
    if (user.toLowerCase() === clientId.toLowerCase() && pass === clientSecret) return { sub: clientId, appid: clientId, tenant: tenantId };
    throw registryError(401, 'UNAUTHORIZED', 'invalid username or password');
  }

  async exchange(req: Request, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    this.checkService(form.get('service'));
    const grantType = form.get('grant_type');
    let principal: Principal;
    if (grantType === 'access_token' || grantType === 'access_token_refresh_token')
      principal = this.principalOfEntra(form.get('access_token'), form.get('tenant'));
    else if (grantType === 'refresh_token') principal = this.principalOfRefresh(form.get('refresh_token'));
    else throw registryError(400, 'UNSUPPORTED', `grant type '${grantType ?? ''}' is not supported; use access_token`);
    sendJson(res, 200, { refresh_token: this.refreshToken(principal) });
  }

  async tokenPost(req: Request, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    this.checkService(form.get('service'));
    const grantType = form.get('grant_type');
    if (grantType !== 'refresh_token') throw registryError(400, 'UNSUPPORTED', `grant type '${grantType ?? ''}' is not supported; use refresh_token`);
    const principal = this.principalOfRefresh(form.get('refresh_token'));
    sendJson(res, 200, { access_token: this.accessToken(principal, grant(form.getAll('scope'))) });
  }

  /** The docker-style token endpoint: GET with Basic auth, as skopeo/docker call the realm. */
  tokenGet(req: Request, res: ServerResponse): void {
    this.checkService(req.url.searchParams.get('service'));
    const principal = this.principalOfBasic(req);
    const token = this.accessToken(principal, grant(req.url.searchParams.getAll('scope')));
    sendJson(res, 200, { access_token: token, token });
  }

  private challenge(need: readonly Access[], error?: 'invalid_token' | 'insufficient_scope'): HttpError {
    const scope = need.map(formatScope).join(' ');
    const header = `Bearer realm="https://${this.loginServer}/oauth2/token",service="${this.loginServer}"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`;
    const detail = need.flatMap((a) => a.actions.map((action) => ({ Type: a.type, Name: a.name, Action: action })));
    return registryError(401, 'UNAUTHORIZED', 'authentication required', detail.length > 0 ? detail : null, { 'www-authenticate': header });
  }

  /** Checks the ACR access token against what the request needs; answers with the token challenge when it falls short. */
  private authorize(req: Request, need: readonly Access[]): void {
    const token = bearerToken(req);
    const claims = token ? this.verifyOwn(token, 'access_token') : undefined;
    if (!claims) throw this.challenge(need, token ? 'invalid_token' : undefined);
    const access = Array.isArray(claims['access']) ? (claims['access'] as Access[]) : [];
    if (!need.every((n) => isGranted(access, n))) throw this.challenge(need, 'insufficient_scope');
  }

  /**
   * ACR's manifest list: needs `metadata_read` on the repository (what ACR's challenge asks for); ordered by digest, or by
   * time with `orderby=timedesc|timeasc`; pages of `n` (≤ 100) after the digest `last`, with a Link header to the next.
   */
  async listManifests(req: Request, res: ServerResponse): Promise<void> {
    const repo = req.params['repo'] ?? '';
    this.authorize(req, [{ type: 'repository', name: repo, actions: ['metadata_read'] }]);
    if (!REPOSITORY.test(repo)) throw registryError(400, 'NAME_INVALID', 'invalid repository name', { name: repo });
    const q = req.url.searchParams;
    const orderby = (q.get('orderby') ?? '').toLowerCase();
    if (!MANIFEST_ORDERS.includes(orderby)) throw registryError(400, 'UNSUPPORTED', `orderby '${orderby}' is not supported; use timedesc or timeasc`);
    const raw = q.get('n');
    let n = PAGE_MAX;
    if (raw !== null && raw !== '') {
      const x = Number(raw);
      if (!Number.isInteger(x) || x < 0) throw registryError(400, 'PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { n: raw });
      n = Math.min(x, PAGE_MAX);
    }
    const all = await listStoredManifests(this.reg.rootDir, repo);
    if (!all) throw registryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name: repo });
    const byTime = (a: ManifestEntry, b: ManifestEntry): number => a.lastUpdateTime.localeCompare(b.lastUpdateTime) || a.digest.localeCompare(b.digest);
    const sorted = [...all].sort(orderby === 'timedesc' ? (a, b) => byTime(b, a) : orderby === 'timeasc' ? byTime : (a, b) => a.digest.localeCompare(b.digest));
    const last = q.get('last');
    let start = 0;
    if (last) {
      const i = sorted.findIndex((m) => m.digest === last);
      start = i >= 0 ? i + 1 : orderby === '' ? sorted.findIndex((m) => m.digest > last) : sorted.length;
      if (start < 0) start = sorted.length;
    }
    const page = sorted.slice(start, start + n);
    const headers: Record<string, string> = { ...API_VERSION_HEADER };
    if (n > 0 && start + n < sorted.length)
      headers['link'] = `</acr/v1/${repo}/_manifests?last=${encodeURIComponent(page.at(-1)!.digest)}&n=${n}&orderby=${orderby}>; rel="next"`;
    sendJson(res, 200, { registry: this.loginServer, imageName: repo, manifests: page }, headers);
  }

  async v2(req: Request, res: ServerResponse): Promise<void> {
    this.authorize(req, requiredAccess(req.method, req.url));
    if (req.method === 'GET' && req.url.pathname === '/v2/_catalog') return this.listPaged(req, res, '/v2/_catalog', 'repositories', true);
    const repo = repositoryOf(req.url.pathname);
    if (req.method === 'GET' && repo && req.url.pathname === `/v2/${repo}/tags/list`) return this.listPaged(req, res, req.url.pathname, 'tags', false);
    return this.proxy(req, res);
  }

  /** GETs a JSON list from the backend, following its Link pages; a non-200 first answer is passed on as is. */
  private async fetchAll(
    path: string,
    field: 'tags' | 'repositories',
    paged: boolean,
  ): Promise<{ items: string[] } | { status: number; body: string; contentType: string }> {
    const items: string[] = [];
    let next: string | undefined = paged ? `${path}?n=${BACKEND_PAGE}` : path;
    while (next) {
      const r = await fetch(new URL(next, this.backend));
      const body = await r.text();
      if (r.status !== 200) return { status: r.status, body, contentType: r.headers.get('content-type') ?? 'application/json' };
      const list = (JSON.parse(body) as Record<string, unknown>)[field];
      if (Array.isArray(list)) items.push(...list.filter((x): x is string => typeof x === 'string'));
      next = /<([^>]+)>;\s*rel="?next"?/.exec(r.headers.get('link') ?? '')?.[1];
    }
    return { items };
  }

  /** Tags and catalog pages are cut here, ACR style, on top of the backend's full list. */
  private async listPaged(req: Request, res: ServerResponse, path: string, field: 'tags' | 'repositories', paged: boolean): Promise<void> {
    const all = await this.fetchAll(path, field, paged);
    if (!('items' in all)) {
      res.writeHead(all.status, { 'content-type': all.contentType, ...API_VERSION_HEADER });
      res.end(all.body);
      return;
    }
    const page = pageOf(all.items, req.url.searchParams);
    const headers: Record<string, string> = { ...API_VERSION_HEADER };
    if (page.more) headers['link'] = `<${path}?last=${encodeURIComponent(page.items.at(-1)!)}&n=${page.n}>; rel="next"`;
    const repo = field === 'tags' ? { name: path.slice('/v2/'.length, -'/tags/list'.length) } : {};
    sendJson(res, 200, { ...repo, [field]: page.items }, headers);
  }

  private requestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'authorization') out[k] = v;
    out['host'] = this.backend.host;
    out['x-forwarded-proto'] = 'https';
    out['x-forwarded-host'] = this.loginServer;
    return out;
  }

  /** Response headers as the backend sent them (repeats kept), with backend Locations pointed at the front end. */
  private responseHeaders(up: IncomingMessage): OutgoingHttpHeaders {
    const out: Record<string, string | string[]> = {};
    for (let i = 0; i + 1 < up.rawHeaders.length; i += 2) {
      const k = up.rawHeaders[i]!.toLowerCase();
      let v = up.rawHeaders[i + 1]!;
      if (HOP_BY_HOP.has(k)) continue;
      if (k === 'location' && /^https?:\/\//i.test(v)) {
        const u = new URL(v);
        if (u.host === this.backend.host) v = `https://${this.loginServer}${u.pathname}${u.search}`;
      }
      const prev = out[k];
      out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    return out;
  }

  /**
   * Streams the request to the backend and the answer back, bytes untouched (digests must survive). The path sent is
   * the normalised one the scope check saw, so `..` segments cannot reach another repository.
   */
  private proxy(req: Request, res: ServerResponse): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const up = httpRequest(
        {
          protocol: this.backend.protocol,
          hostname: this.backend.hostname,
          port: this.backend.port,
          method: req.method,
          path: req.url.pathname + req.url.search,
          headers: this.requestHeaders(req.headers),
        },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', this.responseHeaders(upRes));
          upRes.pipe(res);
          upRes.on('error', () => res.destroy());
          res.on('close', () => {
            if (!upRes.complete) upRes.destroy();
            resolve();
          });
        },
      );
      up.on('error', (e) => {
        if (res.headersSent) {
          res.destroy();
          resolve();
        } else reject(registryError(502, 'UNAVAILABLE', `the registry backend did not answer: ${e.message}`));
      });
      req.raw.on('aborted', () => up.destroy());
      req.raw.pipe(up);
    });
  }
}

export function registerAcr(router: Router, emu: Emulator, reg: EmulatorRegistryConfig): void {
  const acr = new AcrFrontEnd(emu, reg);
  router.add('acr', 'POST', /^\/oauth2\/exchange\/?$/, (req, res) => acr.exchange(req, res));
  router.add('acr', 'POST', /^\/oauth2\/token\/?$/, (req, res) => acr.tokenPost(req, res));
  router.add('acr', 'GET', /^\/oauth2\/token\/?$/, (req, res) => acr.tokenGet(req, res));
  router.add('acr', 'GET', /^\/acr\/v1\/(?<repo>.+)\/_manifests$/, (req, res) => acr.listManifests(req, res));
  router.add('acr', '*', /^\/v2(?:\/.*)?$/, (req, res) => acr.v2(req, res));
}
