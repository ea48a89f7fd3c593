/**
 * The ACR data plane of one registry, on its own HTTPS port: the token service (/oauth2/exchange, /oauth2/token),
 * a token-checking, streaming proxy of /v2/ to a plain distribution registry, ACR's metadata API (`/acr/v1/…`: the
 * catalog, a repository, its tags and manifests; metadata.ts and manifests.ts) and the OCI referrers API
 * (referrers.ts), which the backend lacks.
 * Flow and shapes: docs/azure-service.md#data-plane-tokens; the token-auth challenge: docs/local-azure.md#registry-token-challenge.
 */
import type { ServerResponse } from 'node:http';
import type { EmulatorRegistryConfig } from '../../config';
import type { Emulator } from '../context';
import { bearerToken, type HttpError, sendJson } from '../http';
import type { Handler, Request, Router } from '../router';
import { Backend } from './backend';
import { API_VERSION_HEADER, registryError } from './errors';
import { manifestPage } from './manifests';
import { catalogPage, manifestProperties, type Page, repositoryProperties, tagPage, tagProperties } from './metadata';
import { pageOf } from './paging';
import { referrersPage } from './referrers';
import { type Access, formatScope, isGranted, repositoryOf, requiredAccess } from './scopes';
import { TokenService } from './token-service';

/** One answer of the metadata API on a repository, from the registry's storage. */
type RepositoryAnswer = (rootDir: string, loginServer: string, repo: string, req: Request) => Promise<Page>;

class AcrFrontEnd {
  readonly tokens: TokenService;
  private readonly backend: Backend;

  constructor(
    emu: Emulator,
    private readonly reg: EmulatorRegistryConfig,
  ) {
    this.tokens = new TokenService(emu, reg);
    this.backend = new Backend(reg.backendUrl, this.tokens.loginServer);
  }

  private get loginServer(): string {
    return this.tokens.loginServer;
  }

  private challenge(req: Request, need: readonly Access[], error?: 'invalid_token' | 'insufficient_scope'): HttpError {
    const scope = need.map(formatScope).join(' ');
    const name = this.tokens.nameFor(req.url.host);
    const header = `Bearer realm="https://${name}/oauth2/token",service="${name}"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`;
    const detail = need.flatMap((a) => a.actions.map((action) => ({ Type: a.type, Name: a.name, Action: action })));
    return registryError(401, 'UNAUTHORIZED', 'authentication required', detail.length > 0 ? detail : null, { 'www-authenticate': header });
  }

  /** Checks the ACR access token against what the request needs; answers with the token challenge when it falls short. */
  private authorize(req: Request, need: readonly Access[]): void {
    const token = bearerToken(req);
    const claims = token ? this.tokens.verifyOwn(token, 'access_token') : undefined;
    if (!claims) throw this.challenge(req, need, token ? 'invalid_token' : undefined);
    const access = Array.isArray(claims['access']) ? (claims['access'] as Access[]) : [];
    if (!need.every((n) => isGranted(access, n))) throw this.challenge(req, need, 'insufficient_scope');
  }

  /** ACR's metadata API on a repository: needs `metadata_read` on it (what ACR's challenge asks for). */
  repository(answer: RepositoryAnswer): Handler {
    return async (req, res) => {
      const repo = req.params['repo'] ?? '';
      this.authorize(req, [{ type: 'repository', name: repo, actions: ['metadata_read'] }]);
      const page = await answer(this.reg.rootDir, this.loginServer, repo, req);
      sendJson(res, 200, page.body, page.headers);
    };
  }

  /** ACR's catalog: needs `registry:catalog:*`, as `/v2/_catalog` does. */
  async catalog(req: Request, res: ServerResponse): Promise<void> {
    this.authorize(req, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    const all = await this.backend.fetchAll('/v2/_catalog', 'repositories', true);
    if (!('items' in all)) throw registryError(502, 'UNAVAILABLE', `the registry backend answered ${all.status}`);
    const page = catalogPage(all.items, req.url.searchParams);
    sendJson(res, 200, page.body, page.headers);
  }

  async v2(req: Request, res: ServerResponse): Promise<void> {
    this.authorize(req, requiredAccess(req.method, req.url));
    if (req.method === 'GET' && req.url.pathname === '/v2/_catalog') return this.listPaged(req, res, '/v2/_catalog', 'repositories', true);
    const repo = repositoryOf(req.url.pathname);
    if (req.method === 'GET' && repo && req.url.pathname === `/v2/${repo}/tags/list`) return this.listPaged(req, res, req.url.pathname, 'tags', false);
    const referrers = `/v2/${repo}/referrers/`;
    if (req.method === 'GET' && repo && req.url.pathname.startsWith(referrers))
      return this.listReferrers(req, res, repo, req.url.pathname.slice(referrers.length));
    return this.backend.proxy(req, res);
  }

  /** The referrers API, which the backend lacks: computed from its storage (referrers.ts). */
  private async listReferrers(req: Request, res: ServerResponse, repo: string, encodedDigest: string): Promise<void> {
    let digest = encodedDigest;
    try {
      digest = decodeURIComponent(encodedDigest);
    } catch {
      // Not decodable: referrersPage refuses it as an invalid digest.
    }
    const page = await referrersPage(this.reg.rootDir, repo, digest, req.url.searchParams);
    sendJson(res, 200, page.body, page.headers);
  }

  /** Tags and catalog pages are cut here, ACR style, on top of the backend's full list. */
  private async listPaged(req: Request, res: ServerResponse, path: string, field: 'tags' | 'repositories', paged: boolean): Promise<void> {
    const all = await this.backend.fetchAll(path, field, paged);
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
}

export function registerAcr(router: Router, emu: Emulator, reg: EmulatorRegistryConfig): void {
  const acr = new AcrFrontEnd(emu, reg);
  router.add('acr', 'POST', /^\/oauth2\/exchange\/?$/, (req, res) => acr.tokens.exchange(req, res));
  router.add('acr', 'POST', /^\/oauth2\/token\/?$/, (req, res) => acr.tokens.tokenPost(req, res));
  router.add('acr', 'GET', /^\/oauth2\/token\/?$/, (req, res) => acr.tokens.tokenGet(req, res));
  // The catalog and a repository's tags and manifests before the repository itself, whose name the pattern would take.
  router.add('acr', 'GET', /^\/acr\/v1\/_catalog$/, (req, res) => acr.catalog(req, res));
  const onRepository: readonly [RegExp, RepositoryAnswer][] = [
    [/^\/acr\/v1\/(?<repo>.+)\/_tags$/, (root, ls, repo, req) => tagPage(root, ls, repo, req.url.searchParams)],
    [/^\/acr\/v1\/(?<repo>.+)\/_tags\/(?<tag>[^/]+)$/, (root, ls, repo, req) => tagProperties(root, ls, repo, req.params['tag'] ?? '')],
    [/^\/acr\/v1\/(?<repo>.+)\/_manifests$/, (root, ls, repo, req) => manifestPage(root, ls, repo, req.url.searchParams)],
    [/^\/acr\/v1\/(?<repo>.+)\/_manifests\/(?<ref>[^/]+)$/, (root, ls, repo, req) => manifestProperties(root, ls, repo, req.params['ref'] ?? '')],
    [/^\/acr\/v1\/(?<repo>.+)$/, (root, ls, repo) => repositoryProperties(root, ls, repo)],
  ];
  for (const [pattern, answer] of onRepository) router.add('acr', 'GET', pattern, acr.repository(answer));
  router.add('acr', '*', /^\/v2(?:\/.*)?$/, (req, res) => acr.v2(req, res));
}
