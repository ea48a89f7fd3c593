/**
 * The ACR data plane (https://{loginServer}/v2/), read-only: Entra token → POST /oauth2/exchange (ACR refresh
 * token) → POST /oauth2/token (access token per repository scope) → /v2/ calls. Flow: docs/azure-service.md#data-plane-tokens and
 * https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md. Retries through core/retry.ts; tokens are cached
 * until shortly before they expire and masked as soon as they arrive.
 */
import type { TokenCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type HttpMethods,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { createHash } from 'node:crypto';
import { AzureRequestError, errorMessage } from '../errors';
import type { Logger, ManifestBlob, ManifestInfo, ManifestSummary, RegistryDataPlane, RegistryDataPlaneFactory } from '../ports';
import { abortError, type Clock, realClock, retry } from '../retry';
import { DEFAULT_HTTP_RETRY, type HttpRetryPolicy, isRetryableError, isTransientStatus, retryAfterMs, TransientHttpError } from './http-retry';

/** Every manifest media type a registry may hold, so HEAD answers with the stored manifest's own digest. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.artifact.manifest.v1+json',
].join(', ');

/** ACR returns at most 100 repositories or tags per page. */
const PAGE_SIZE = 100;
/** Renew tokens this long before they expire. */
const EXPIRY_MARGIN_MS = 5 * 60_000;
/** When a token's exp cannot be read: ACR access tokens last ~75 min, refresh tokens ~3 h. */
const DEFAULT_LIFETIME_MS = 60 * 60_000;

export interface AcrOptions {
  readonly credential: TokenCredential;
  /** Entra scopes the exchange may accept, tried in order (cloud.acrScopes). */
  readonly scopes: readonly string[];
  readonly tenantId?: string;
  readonly httpClient?: HttpClient;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  readonly retry?: HttpRetryPolicy;
  readonly mask: (secret: string) => void;
  readonly logger?: Pick<Logger, 'debug'>;
}

export class AcrDataPlaneFactory implements RegistryDataPlaneFactory {
  private readonly planes = new Map<string, AcrDataPlane>();
  private readonly httpClient: HttpClient;

  constructor(private readonly o: AcrOptions) {
    this.httpClient = o.httpClient ?? createDefaultHttpClient();
  }

  forLoginServer(loginServer: string): RegistryDataPlane {
    const ls = normalizeLoginServer(loginServer);
    let plane = this.planes.get(ls);
    if (!plane) {
      plane = new AcrDataPlane(ls, this.o, this.httpClient);
      this.planes.set(ls, plane);
    }
    return plane;
  }
}

/** `HTTPS://MyRegistry.azurecr.io/` → `myregistry.azurecr.io` (login servers are used in lower case, ACR FAQ). */
export function normalizeLoginServer(loginServer: string): string {
  return loginServer
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** The `exp` of a JWT, in ms; undefined when the token is not a readable JWT. */
export function jwtExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** `<url>; rel="next"` from a Link header (Docker registry API pagination). */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

class AcrDataPlane implements RegistryDataPlane {
  private readonly base: string;
  private refresh: CachedToken | undefined;
  private readonly access = new Map<string, CachedToken>();
  private readonly clock: Clock;

  constructor(
    readonly loginServer: string,
    private readonly o: AcrOptions,
    private readonly http: HttpClient,
  ) {
    this.base = `https://${loginServer}`;
    this.clock = o.clock ?? realClock;
  }

  async listRepositories(): Promise<string[]> {
    const out: string[] = [];
    await this.paged(`/v2/_catalog?n=${PAGE_SIZE}`, 'registry:catalog:*', 'list repositories', (body) =>
      out.push(...(((body as { repositories?: string[] | null }).repositories ?? []) as string[])),
    );
    return out;
  }

  async listTags(repository: string): Promise<string[]> {
    const out: string[] = [];
    const found = await this.paged(
      `/v2/${repoPath(repository)}/tags/list?n=${PAGE_SIZE}`,
      `repository:${repository}:pull`,
      `list tags of '${repository}'`,
      (body) => out.push(...(((body as { tags?: string[] | null }).tags ?? []) as string[])),
    );
    return found ? out : [];
  }

  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const what = `HEAD manifest '${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}'`;
    const path = `/v2/${repoPath(repository)}/manifests/${encodeURIComponent(reference)}`;
    const res = await this.call('HEAD', path, `repository:${repository}:pull`, what, { accept: MANIFEST_ACCEPT });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.error(res, what);
    const digest = res.headers.get('docker-content-digest');
    if (digest) return digest;
    if (reference.startsWith('sha256:')) return reference;
    // A registry that omits the header: the digest is the sha256 of the manifest bytes.
    const got = await this.call('GET', path, `repository:${repository}:pull`, what, { accept: MANIFEST_ACCEPT });
    if (got.status === 404) return undefined;
    if (got.status !== 200) throw this.error(got, what);
    return `sha256:${createHash('sha256')
      .update(got.bodyAsText ?? '')
      .digest('hex')}`;
  }

  async getManifest(repository: string, reference: string): Promise<ManifestInfo | undefined> {
    const what = `GET manifest '${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}'`;
    const res = await this.call('GET', `/v2/${repoPath(repository)}/manifests/${encodeURIComponent(reference)}`, `repository:${repository}:pull`, what, {
      accept: MANIFEST_ACCEPT,
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.error(res, what);
    const text = res.bodyAsText ?? '';
    let m: WireManifest;
    try {
      m = JSON.parse(text) as WireManifest;
    } catch (e) {
      throw new AzureRequestError(`${what} on registry '${this.loginServer}'`, 200, 'InvalidResponse', `not JSON: ${errorMessage(e)}`);
    }
    const digest =
      res.headers.get('docker-content-digest') ?? (reference.startsWith('sha256:') ? reference : `sha256:${createHash('sha256').update(text).digest('hex')}`);
    const blob = (b: WireDescriptor): ManifestBlob => ({
      digest: b.digest ?? '',
      size: typeof b.size === 'number' ? b.size : 0,
      ...(b.mediaType ? { mediaType: b.mediaType } : {}),
      ...(Array.isArray(b.urls) && b.urls.length > 0 ? { urls: b.urls } : {}),
    });
    const mediaType = m.mediaType ?? res.headers.get('content-type')?.split(';')[0];
    return {
      digest,
      ...(mediaType ? { mediaType } : {}),
      layers: (m.layers ?? []).map(blob),
      manifests: (m.manifests ?? []).map((c) => ({
        digest: c.digest ?? '',
        ...(c.mediaType ? { mediaType: c.mediaType } : {}),
        ...(c.platform?.os ? { platform: `${c.platform.os}/${c.platform.architecture ?? ''}${c.platform.variant ? `/${c.platform.variant}` : ''}` } : {}),
      })),
      ...(m.subject?.digest ? { subject: m.subject.digest } : {}),
    };
  }

  async listManifests(repository: string): Promise<ManifestSummary[]> {
    const out: ManifestSummary[] = [];
    // ACR's own listing (https://learn.microsoft.com/rest/api/containerregistry/manifests/get-list): the one place that says which manifests no tag references.
    await this.paged(
      `/acr/v1/${repoPath(repository)}/_manifests?n=${PAGE_SIZE}`,
      `repository:${repository}:metadata_read`,
      `list manifests of '${repository}'`,
      (body) => {
        for (const m of (body as { manifests?: WireManifestAttributes[] | null }).manifests ?? []) {
          if (!m.digest) continue;
          out.push({
            digest: m.digest,
            tags: m.tags ?? [],
            ...(m.mediaType ? { mediaType: m.mediaType } : {}),
            ...(m.createdTime ? { createdTime: m.createdTime } : {}),
            ...(m.lastUpdateTime ? { lastUpdateTime: m.lastUpdateTime } : {}),
            ...(typeof m.changeableAttributes?.deleteEnabled === 'boolean' ? { deleteEnabled: m.changeableAttributes.deleteEnabled } : {}),
          });
        }
      },
    );
    return out;
  }

  async deleteManifest(repository: string, digest: string): Promise<void> {
    const what = `DELETE manifest '${repository}@${digest}'`;
    const res = await this.call('DELETE', `/v2/${repoPath(repository)}/manifests/${encodeURIComponent(digest)}`, `repository:${repository}:delete`, what, {
      accept: 'application/json',
    });
    if (res.status === 404 || (res.status >= 200 && res.status < 300)) return;
    throw this.error(res, what);
  }

  /** GETs every page of a list, following Link rel=next; false when the first page is a 404 (no such repository). */
  private async paged(first: string, scope: string, what: string, take: (body: unknown) => void): Promise<boolean> {
    let next: string | undefined = first;
    for (let page = 0; next !== undefined; page++) {
      if (page >= 100_000) throw new AzureRequestError(`${what} on registry '${this.loginServer}'`, 200, 'TooManyPages', 'the list did not end');
      const res = await this.call('GET', next, scope, what, { accept: 'application/json' });
      if (res.status === 404 && page === 0) return false;
      if (res.status !== 200) throw this.error(res, what);
      try {
        take(JSON.parse(res.bodyAsText ?? '{}'));
      } catch (e) {
        throw new AzureRequestError(`${what} on registry '${this.loginServer}'`, 200, 'InvalidResponse', `not JSON: ${errorMessage(e)}`);
      }
      const link = nextLink(res.headers.get('link'));
      next = link === undefined ? undefined : this.sameHost(link, what);
    }
    return true;
  }

  private sameHost(link: string, what: string): string {
    const u = new URL(link, this.base);
    if (u.origin !== this.base)
      throw new AzureRequestError(
        `${what} on registry '${this.loginServer}'`,
        200,
        'UnexpectedHost',
        `the next page is on ${u.origin}; refusing to send the registry token there`,
      );
    return `${u.pathname}${u.search}`;
  }

  /** A /v2/ call with the access token for `scope`; one fresh token on 401 (expired or revoked). */
  private async call(method: HttpMethods, path: string, scope: string, what: string, headers: Record<string, string>): Promise<PipelineResponse> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.accessToken(scope, what);
      const res = await this.send(method, `${this.base}${path}`, { ...headers, authorization: `Bearer ${token}` }, undefined, what);
      if (res.status === 401 && attempt === 1) {
        this.access.delete(scope);
        continue;
      }
      return res;
    }
  }

  // ---- tokens

  private fresh(t: CachedToken | undefined): t is CachedToken {
    return t !== undefined && t.expiresAt - EXPIRY_MARGIN_MS > this.clock.now();
  }

  private cached(token: string): CachedToken {
    this.o.mask(token);
    return { token, expiresAt: jwtExpiry(token) ?? this.clock.now() + DEFAULT_LIFETIME_MS };
  }

  private async refreshToken(what: string): Promise<string> {
    if (this.fresh(this.refresh)) return this.refresh.token;
    let last: AzureRequestError | undefined;
    for (const scope of this.o.scopes) {
      let aad: { token: string } | null;
      try {
        aad = await this.o.credential.getToken(scope, this.o.signal ? { abortSignal: this.o.signal } : {});
      } catch (e) {
        // A cloud without this audience (AADSTS500011): the exchange's refusal of the previous one is the real story.
        if (last) throw last;
        throw new AzureRequestError(`sign in for registry '${this.loginServer}'`, 401, e instanceof Error ? e.name : 'SignInFailed', errorMessage(e));
      }
      if (!aad) throw new AzureRequestError(`get a token for ${scope}`, 0, 'NoToken', 'the credential returned no token');
      const form: Record<string, string> = {
        grant_type: 'access_token',
        service: this.loginServer,
        access_token: aad.token,
        ...(this.o.tenantId ? { tenant: this.o.tenantId } : {}),
      };
      const res = await this.send(
        'POST',
        `${this.base}/oauth2/exchange`,
        { 'content-type': 'application/x-www-form-urlencoded' },
        new URLSearchParams(form).toString(),
        what,
      );
      if (res.status === 200) {
        const token = (JSON.parse(res.bodyAsText ?? '{}') as { refresh_token?: string }).refresh_token;
        if (!token) throw new AzureRequestError(`token exchange for registry '${this.loginServer}'`, 200, 'InvalidResponse', 'no refresh_token in the answer');
        this.refresh = this.cached(token);
        return token;
      }
      last = this.error(res, 'token exchange', fixForAuth(this.loginServer));
      // An ARM-audience token is refused when the registry disables azureADAuthenticationAsArmPolicy: try ACR's audience.
      if (res.status !== 401 && res.status !== 403) break;
      this.o.logger?.debug(`ACR token exchange on ${this.loginServer} refused a token for ${scope} (HTTP ${res.status}); trying the next audience`);
    }
    throw last ?? new AzureRequestError(`token exchange for registry '${this.loginServer}'`, 0, 'NoScope', 'no Entra scope configured');
  }

  private async accessToken(scope: string, what: string): Promise<string> {
    const hit = this.access.get(scope);
    if (this.fresh(hit)) return hit.token;
    for (let attempt = 1; ; attempt++) {
      const refresh = await this.refreshToken(what);
      const form = new URLSearchParams({ grant_type: 'refresh_token', service: this.loginServer, scope, refresh_token: refresh });
      const res = await this.send('POST', `${this.base}/oauth2/token`, { 'content-type': 'application/x-www-form-urlencoded' }, form.toString(), what);
      if (res.status === 401 && attempt === 1) {
        this.refresh = undefined;
        continue;
      }
      if (res.status !== 200) throw this.error(res, `get an access token for ${scope}`, fixForAuth(this.loginServer));
      const token = (JSON.parse(res.bodyAsText ?? '{}') as { access_token?: string }).access_token;
      if (!token) throw new AzureRequestError(`get an access token on registry '${this.loginServer}'`, 200, 'InvalidResponse', 'no access_token in the answer');
      const c = this.cached(token);
      this.access.set(scope, c);
      return c.token;
    }
  }

  // ---- transport

  private async send(method: HttpMethods, url: string, headers: Record<string, string>, body: string | undefined, what: string): Promise<PipelineResponse> {
    try {
      return await retry(
        async () => {
          const res = await this.http.sendRequest(
            createPipelineRequest({
              url,
              method,
              headers: createHttpHeaders(headers),
              ...(body !== undefined ? { body } : {}),
              ...(this.o.signal ? { abortSignal: this.o.signal } : {}),
            }),
          );
          if (isTransientStatus(res.status)) {
            const { code, message } = registryErrorOf(res);
            throw new TransientHttpError(
              res.status,
              retryAfterMs(res.headers, this.clock.now()),
              code,
              message,
              res.headers.get('x-ms-correlation-request-id'),
            );
          }
          return res;
        },
        {
          ...(this.o.retry ?? DEFAULT_HTTP_RETRY),
          retryable: isRetryableError,
          clock: this.clock,
          ...(this.o.signal ? { signal: this.o.signal } : {}),
          onRetry: (e, attempt, delay) => this.o.logger?.debug(`${what} on ${this.loginServer}: ${errorMessage(e)}; retry ${attempt} in ${delay} ms`),
        },
      );
    } catch (e) {
      const op = `${what} on registry '${this.loginServer}'`;
      if (e instanceof TransientHttpError)
        throw new AzureRequestError(op, e.status, e.code || `HTTP${e.status}`, e.serviceMessage || e.message, e.correlationId);
      if (e instanceof AzureRequestError || (e instanceof Error && e.name === 'CancelledError')) throw e;
      if (this.o.signal?.aborted) throw abortError(this.o.signal);
      const code = typeof (e as { code?: unknown }).code === 'string' ? String((e as { code: string }).code) : 'RequestFailed';
      throw new AzureRequestError(
        op,
        0,
        code,
        errorMessage(e),
        undefined,
        `Check that this machine can reach https://${this.loginServer} (private endpoints, firewall rules)`,
      );
    }
  }

  private error(res: PipelineResponse, what: string, fix?: string): AzureRequestError {
    const { code, message } = registryErrorOf(res);
    return new AzureRequestError(
      `${what} on registry '${this.loginServer}'`,
      res.status,
      code || `HTTP${res.status}`,
      message || `unexpected HTTP ${res.status}`,
      res.headers.get('x-ms-correlation-request-id') ?? undefined,
      fix ?? (res.status === 401 || res.status === 403 ? fixForAuth(this.loginServer) : undefined),
    );
  }
}

function fixForAuth(loginServer: string): string {
  return `The signed-in identity needs data access to ${loginServer} (AcrPull, or Container Registry Repository Reader); new role assignments can take up to 10 minutes to work`;
}

/** `{"errors":[{"code","message"}]}` (Docker registry API); token endpoints answer with `{error, error_description}` or text. */
function registryErrorOf(res: PipelineResponse): { code: string; message: string } {
  const text = res.bodyAsText ?? '';
  try {
    const b = JSON.parse(text) as { errors?: { code?: string; message?: string }[]; error?: unknown; error_description?: unknown; details?: unknown };
    const first = b.errors?.[0];
    if (first) return { code: first.code ?? '', message: first.message ?? '' };
    if (typeof b.error === 'string')
      return { code: b.error, message: typeof b.error_description === 'string' ? b.error_description : typeof b.details === 'string' ? b.details : '' };
  } catch {
    /* not JSON */
  }
  return { code: '', message: text.slice(0, 300) };
}

interface WireDescriptor {
  readonly digest?: string;
  readonly size?: number;
  readonly mediaType?: string;
  readonly urls?: string[];
  readonly platform?: { readonly os?: string; readonly architecture?: string; readonly variant?: string };
}

/** An OCI image manifest or index, or a Docker v2 manifest or manifest list: the fields read here. */
interface WireManifest {
  readonly mediaType?: string;
  readonly layers?: readonly WireDescriptor[];
  readonly manifests?: readonly WireDescriptor[];
  readonly subject?: WireDescriptor;
}

interface WireManifestAttributes {
  readonly digest?: string;
  readonly tags?: string[] | null;
  readonly mediaType?: string;
  readonly createdTime?: string;
  readonly lastUpdateTime?: string;
  readonly changeableAttributes?: { readonly deleteEnabled?: boolean };
}

/** Repository names keep their slashes in the path; each component is encoded on its own. */
function repoPath(repository: string): string {
  return repository
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}
