/**
 * The ACR data plane (https://{loginServer}/v2/ and ACR's own /acr/v1/), read-only but for manifest deletes: the calls,
 * their paging and the manifests' wire shapes. Tokens: acr-tokens.ts; requests and retries: acr-http.ts.
 */
import { createDefaultHttpClient, type HttpClient, type HttpMethods, type PipelineResponse } from '@azure/core-rest-pipeline';
import { createHash } from 'node:crypto';
import { withoutTrailingSlash } from '../domain/urls';
import { AzureRequestError, errorMessage } from '../errors';
import type { ManifestBlob, ManifestInfo, ManifestSummary, ReferrerDescriptor, RegistryDataPlane, RegistryDataPlaneFactory } from '../ports';
import { type Clock, realClock } from '../retry';
import { AcrHttp, type AcrHttpOptions } from './acr-http';
import { type AcrTokenOptions, AcrTokens } from './acr-tokens';
import type { HttpRetryPolicy } from './http-retry';

/** Every manifest media type a registry may hold, so HEAD answers with the stored manifest's own digest. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.artifact.manifest.v1+json',
].join(', ');

const MANIFEST_INDEX = 'application/vnd.oci.image.index.v1+json';

/** ACR returns at most 100 repositories or tags per page. */
const PAGE_SIZE = 100;

export interface AcrOptions extends AcrTokenOptions, Omit<AcrHttpOptions, 'clock'> {
  readonly httpClient?: HttpClient;
  readonly clock?: Clock;
  readonly retry?: HttpRetryPolicy;
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
  return withoutTrailingSlash(loginServer.trim().replace(/^https?:\/\//i, '')).toLowerCase();
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
  private readonly http: AcrHttp;
  private readonly tokens: AcrTokens;

  constructor(
    readonly loginServer: string,
    o: AcrOptions,
    httpClient: HttpClient,
  ) {
    const clock = o.clock ?? realClock;
    this.http = new AcrHttp(loginServer, httpClient, { ...o, clock });
    this.tokens = new AcrTokens(this.http, o, clock);
  }

  prepare(repositories: readonly string[]): Promise<void> {
    return this.tokens.prepare(
      repositories.map((r) => `repository:${r}:pull`),
      `get pull access to ${repositories.length} repositories`,
    );
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
    if (res.status !== 200) throw this.http.error(res, what);
    const digest = res.headers.get('docker-content-digest');
    if (digest) return digest;
    if (reference.startsWith('sha256:')) return reference;
    // A registry that omits the header: the digest is the sha256 of the manifest bytes.
    const got = await this.call('GET', path, `repository:${repository}:pull`, what, { accept: MANIFEST_ACCEPT });
    if (got.status === 404) return undefined;
    if (got.status !== 200) throw this.http.error(got, what);
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
    if (res.status !== 200) throw this.http.error(res, what);
    const text = res.bodyAsText ?? '';
    let m: WireManifest;
    try {
      m = JSON.parse(text) as WireManifest;
    } catch (e) {
      throw new AzureRequestError(this.http.on(what), 200, 'InvalidResponse', `not JSON: ${errorMessage(e)}`);
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
      ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    };
  }

  async listReferrers(repository: string, digest: string, artifactType?: string): Promise<ReferrerDescriptor[]> {
    const out: ReferrerDescriptor[] = [];
    let filtered = false;
    const query = artifactType === undefined ? '' : `?artifactType=${encodeURIComponent(artifactType)}`;
    // The OCI 1.1 referrers API (docs/azure-service.md#referrers): an image index per page, Link rel=next to the next one.
    await this.paged(
      `/v2/${repoPath(repository)}/referrers/${encodeURIComponent(digest)}${query}`,
      `repository:${repository}:pull`,
      `list referrers of '${repository}@${digest}'`,
      (body, headers) => {
        filtered ||= /(^|,)\s*artifactType\s*(,|$)/i.test(headers.get('oci-filters-applied') ?? '');
        for (const d of (body as { manifests?: WireDescriptor[] | null }).manifests ?? []) {
          if (!d.digest) continue;
          out.push({
            digest: d.digest,
            ...(d.mediaType ? { mediaType: d.mediaType } : {}),
            ...(d.artifactType ? { artifactType: d.artifactType } : {}),
            ...(typeof d.size === 'number' ? { size: d.size } : {}),
          });
        }
      },
      MANIFEST_INDEX,
    );
    // A registry may ignore the filter; without OCI-Filters-Applied the list is filtered here (the spec asks clients to).
    return artifactType === undefined || filtered ? out : out.filter((d) => d.artifactType === artifactType);
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
    throw this.http.error(res, what);
  }

  /** GETs every page of a list, following Link rel=next; false when the first page is a 404 (no such repository). */
  private async paged(
    first: string,
    scope: string,
    what: string,
    take: (body: unknown, headers: PipelineResponse['headers']) => void,
    accept = 'application/json',
  ): Promise<boolean> {
    let next: string | undefined = first;
    for (let page = 0; next !== undefined; page++) {
      if (page >= 100_000) throw new AzureRequestError(this.http.on(what), 200, 'TooManyPages', 'the list did not end');
      const res = await this.call('GET', next, scope, what, { accept });
      if (res.status === 404 && page === 0) return false;
      if (res.status !== 200) throw this.http.error(res, what);
      try {
        take(JSON.parse(res.bodyAsText ?? '{}'), res.headers);
      } catch (e) {
        throw new AzureRequestError(this.http.on(what), 200, 'InvalidResponse', `not JSON: ${errorMessage(e)}`);
      }
      const link = nextLink(res.headers.get('link'));
      next = link === undefined ? undefined : this.sameHost(link, what);
    }
    return true;
  }

  private sameHost(link: string, what: string): string {
    const u = new URL(link, this.http.base);
    if (u.origin !== this.http.base)
      throw new AzureRequestError(this.http.on(what), 200, 'UnexpectedHost', `the next page is on ${u.origin}; refusing to send the registry token there`);
    return `${u.pathname}${u.search}`;
  }

  /** A /v2/ call with the access token for `scope`; one fresh token on 401 (expired or revoked). */
  private async call(method: HttpMethods, path: string, scope: string, what: string, headers: Record<string, string>): Promise<PipelineResponse> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.tokens.accessToken(scope, what);
      const res = await this.http.send(method, `${this.http.base}${path}`, { ...headers, authorization: `Bearer ${token}` }, undefined, what);
      if (res.status === 401 && attempt === 1) {
        this.tokens.forget(scope);
        continue;
      }
      return res;
    }
  }
}

interface WireDescriptor {
  readonly digest?: string;
  readonly artifactType?: string;
  readonly size?: number;
  readonly mediaType?: string;
  readonly urls?: string[];
  readonly platform?: { readonly os?: string; readonly architecture?: string; readonly variant?: string };
}

/** An OCI image manifest or index, or a Docker v2 manifest or manifest list: the fields read here. */
interface WireManifest {
  readonly mediaType?: string;
  readonly artifactType?: string;
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
