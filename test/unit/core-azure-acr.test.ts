/**
 * The ACR data plane client with a fake HttpClient: token exchange and caching, the audience fallback, paging through
 * Link headers, manifest HEAD with every media type, 404s, retries and the same-host rule for next links.
 */
import { AcrDataPlaneFactory, MANIFEST_ACCEPT, nextLink, normalizeLoginServer } from '../../core/azure/acr';
import { AzureRequestError } from '../../core/errors';
import { FakeClock, FakeCredential, FakeHttp, jwt, type Reply } from './core-azure-fakes';

const LS = 'myreg.azurecr.io';
const BASE = `https://${LS}`;
const ARM_SCOPE = 'https://management.azure.com/.default';
const ACR_SCOPE = 'https://containerregistry.azure.net/.default';

function setup(scopes: readonly string[] = [ARM_SCOPE, ACR_SCOPE]): {
  http: FakeHttp;
  clock: FakeClock;
  masked: string[];
  cred: FakeCredential;
  factory: AcrDataPlaneFactory;
} {
  const http = new FakeHttp();
  const clock = new FakeClock();
  const masked: string[] = [];
  const cred = new FakeCredential(clock);
  const factory = new AcrDataPlaneFactory({
    credential: cred,
    scopes,
    tenantId: 'tenant1',
    httpClient: http,
    clock,
    mask: (s) => masked.push(s),
    retry: { attempts: 3, minDelayMs: 100, maxDelayMs: 10_000 },
  });
  return { http, clock, masked, cred, factory };
}

const exp = (clock: FakeClock, seconds: number): number => Math.floor(clock.now() / 1000) + seconds;

function tokenRoutes(http: FakeHttp, clock: FakeClock): void {
  http.on('POST', `${BASE}/oauth2/exchange`, (r) => {
    const form = new URLSearchParams(r.body ?? '');
    expect(form.get('grant_type')).toBe('access_token');
    expect(form.get('service')).toBe(LS);
    expect(form.get('tenant')).toBe('tenant1');
    return { status: 200, body: { refresh_token: jwt({ kind: 'refresh', exp: exp(clock, 3 * 3600) }) } };
  });
  http.on('POST', `${BASE}/oauth2/token`, (r) => {
    const form = new URLSearchParams(r.body ?? '');
    expect(form.get('grant_type')).toBe('refresh_token');
    return { status: 200, body: { access_token: jwt({ kind: 'access', scope: form.get('scope'), exp: exp(clock, 75 * 60) }) } };
  });
}

const page = (tags: string[], next?: string): Reply => ({
  status: 200,
  body: { name: 'team/app', tags },
  headers: next ? { link: `<${next}>; rel="next"` } : {},
});

describe('token flow', () => {
  test('exchange once, one access token per scope, reused until it nears expiry; all tokens masked', async () => {
    const { http, clock, masked, factory } = setup();
    tokenRoutes(http, clock);
    http.on('GET', /\/v2\/team\/app\/tags\/list/, page(['v1']));
    http.on('GET', /\/v2\/other\/tags\/list/, page(['v2']));
    const plane = factory.forLoginServer(LS);
    await plane.listTags('team/app');
    await plane.listTags('team/app');
    await plane.listTags('other');
    expect(http.to('/oauth2/exchange')).toHaveLength(1);
    expect(http.to('/oauth2/token').map((c) => new URLSearchParams(c.body ?? '').get('scope'))).toEqual(['repository:team/app:pull', 'repository:other:pull']);
    expect(masked).toHaveLength(3);
    const tagCalls = http.to('/tags/list');
    expect(tagCalls[0]?.headers['authorization']).toBe(`Bearer ${masked[1]}`);
    clock.time += 71 * 60_000; // within 5 minutes of the access token's expiry
    await plane.listTags('team/app');
    expect(http.to('/oauth2/token')).toHaveLength(3);
    expect(http.to('/oauth2/exchange')).toHaveLength(1);
  });

  test('an ARM-audience token refused by the exchange falls back to the ACR audience', async () => {
    const { http, clock, cred, factory } = setup();
    http.on('POST', `${BASE}/oauth2/exchange`, (r) => {
      const aad = new URLSearchParams(r.body ?? '').get('access_token') ?? '';
      const aud = (JSON.parse(Buffer.from(aad.split('.')[1] ?? '', 'base64url').toString()) as { aud: string }).aud;
      return aud === ARM_SCOPE
        ? { status: 401, body: { errors: [{ code: 'UNAUTHORIZED', message: 'aad auth as arm is disabled' }] } }
        : { status: 200, body: { refresh_token: jwt({ exp: exp(clock, 3600) }) } };
    });
    http.on('POST', `${BASE}/oauth2/token`, { status: 200, body: { access_token: jwt({ exp: exp(clock, 3600) }) } });
    http.on('GET', /\/v2\/_catalog/, { status: 200, body: { repositories: ['a', 'b'] } });
    expect(await factory.forLoginServer(LS).listRepositories()).toEqual(['a', 'b']);
    expect(cred.scopes).toEqual([ARM_SCOPE, ACR_SCOPE]);
    expect(new URLSearchParams(http.to('/oauth2/token')[0]?.body ?? '').get('scope')).toBe('registry:catalog:*');
  });

  test('an exchange refused for every audience is an AzureRequestError with the data-access hint', async () => {
    const { http, factory } = setup();
    http.on('POST', `${BASE}/oauth2/exchange`, { status: 401, body: { errors: [{ code: 'UNAUTHORIZED', message: 'no' }] } });
    const e = (await factory
      .forLoginServer(LS)
      .listTags('x')
      .catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toBeInstanceOf(AzureRequestError);
    expect(e).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(e.fix).toMatch(/AcrPull/);
  });

  test('prepare covers many repositories with one token request per 25 scopes; later calls find them cached', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    http.on('HEAD', /\/manifests\//, { status: 200, headers: { 'docker-content-digest': 'sha256:abc' } });
    const plane = factory.forLoginServer(LS);
    const repos = Array.from({ length: 60 }, (_, i) => `team/app${i}`);
    await plane.prepare([...repos, ...repos]);
    const asked = http.to('/oauth2/token').map((c) => new URLSearchParams(c.body ?? '').getAll('scope'));
    expect(asked.map((a) => a.length)).toEqual([25, 25, 10]);
    expect(asked.flat().sort()).toEqual(repos.map((r) => `repository:${r}:pull`).sort());
    for (const r of repos) await plane.manifestDigest(r, 'v1');
    expect(http.to('/oauth2/token')).toHaveLength(3);
    expect(http.to('/oauth2/exchange')).toHaveLength(1);
    // Each HEAD carries the token whose request named its repository.
    const head = http.to('/v2/team/app59/manifests/v1', 'HEAD')[0]!;
    const claims = JSON.parse(Buffer.from(head.headers['authorization']!.split('.')[1]!, 'base64url').toString('utf8')) as { scope: string };
    expect(claims.scope).toBe('repository:team/app50:pull');
  });

  test('callers asking at once share one exchange and one access token request', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    http.on('HEAD', /\/manifests\//, { status: 200, headers: { 'docker-content-digest': 'sha256:abc' } });
    const plane = factory.forLoginServer(LS);
    await Promise.all(Array.from({ length: 8 }, (_, i) => plane.manifestDigest('team/app', `v${i}`)));
    expect(http.to('/oauth2/exchange')).toHaveLength(1);
    expect(http.to('/oauth2/token')).toHaveLength(1);
    expect(http.to('/manifests/', 'HEAD')).toHaveLength(8);
  });

  test('a 401 from /v2/ gets one fresh access token, then the call is repeated', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    http.on('GET', /\/v2\/team\/app\/tags\/list/, { status: 401, body: { errors: [{ code: 'UNAUTHORIZED', message: 'expired' }] } }, page(['v1']));
    expect(await factory.forLoginServer(LS).listTags('team/app')).toEqual(['v1']);
    expect(http.to('/oauth2/token')).toHaveLength(2);
  });
});

describe('/v2/ calls', () => {
  test('tags are read across pages through Link rel=next (relative links resolved on the login server)', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    const first = Array.from({ length: 100 }, (_x, i) => `a${i}`);
    const second = Array.from({ length: 100 }, (_x, i) => `b${i}`);
    http.on('GET', (u) => u.pathname === '/v2/team/app/tags/list' && u.searchParams.get('last') === 'b99', page(['c0']));
    http.on(
      'GET',
      (u) => u.pathname === '/v2/team/app/tags/list' && u.searchParams.get('last') === 'a99',
      page(second, '/v2/team/app/tags/list?last=b99&n=100&orderby='),
    );
    http.on('GET', (u) => u.pathname === '/v2/team/app/tags/list', page(first, '/v2/team/app/tags/list?last=a99&n=100&orderby='));
    const tags = await factory.forLoginServer(LS).listTags('team/app');
    expect(tags).toHaveLength(201);
    expect(tags.at(-1)).toBe('c0');
    expect(new URL(http.to('/tags/list')[0]!.url).searchParams.get('n')).toBe('100');
  });

  test('a next link on another host is refused (it would get the registry token)', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    http.on('GET', /\/v2\/_catalog/, { status: 200, body: { repositories: ['a'] }, headers: { link: '<https://evil.test/v2/_catalog?last=a>; rel="next"' } });
    await expect(factory.forLoginServer(LS).listRepositories()).rejects.toMatchObject({ code: 'UnexpectedHost' });
    expect(http.calls.some((c) => c.url.includes('evil.test'))).toBe(false);
  });

  test('referrers: the OCI image index is read across pages; a filter the registry applied is trusted, one it ignored is applied here', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    const subject = `sha256:${'a'.repeat(64)}`;
    const d = (c: string): string => `sha256:${c.repeat(64)}`;
    const index = (manifests: object[], headers: Record<string, string> = {}): Reply => ({
      status: 200,
      body: { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests },
      headers: { 'content-type': 'application/vnd.oci.image.index.v1+json', ...headers },
    });
    const sig = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('b'), size: 700, artifactType: 'application/vnd.cncf.notary.signature' };
    const sbom = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('c'), size: 600, artifactType: 'application/spdx+json' };
    const path = `/v2/team/app/referrers/${encodeURIComponent(subject)}`;
    http.on('GET', (u) => u.pathname === path && u.searchParams.get('next') === '2', index([sbom]));
    http.on(
      'GET',
      (u) => u.pathname === path && u.searchParams.get('artifactType') === 'application/spdx+json',
      index([sbom], { 'oci-filters-applied': 'artifactType' }),
    );
    http.on('GET', (u) => u.pathname === path && u.searchParams.has('artifactType'), index([sig, sbom]));
    http.on('GET', (u) => u.pathname === path, index([sig], { link: `<${path}?next=2>; rel="next"` }));
    const plane = factory.forLoginServer(LS);
    expect(await plane.listReferrers('team/app', subject)).toEqual([
      { digest: d('b'), mediaType: sig.mediaType, artifactType: sig.artifactType, size: 700 },
      { digest: d('c'), mediaType: sbom.mediaType, artifactType: sbom.artifactType, size: 600 },
    ]);
    expect(http.to('/referrers/')[0]?.headers['accept']).toBe('application/vnd.oci.image.index.v1+json');
    expect((await plane.listReferrers('team/app', subject, 'application/spdx+json')).map((x) => x.digest)).toEqual([d('c')]);
    // No OCI-Filters-Applied: the registry listed everything, and the client filters.
    expect((await plane.listReferrers('team/app', subject, 'application/vnd.cncf.notary.signature')).map((x) => x.digest)).toEqual([d('b')]);
    expect(new URL(http.to('/referrers/').at(-1)!.url).searchParams.get('artifactType')).toBe('application/vnd.cncf.notary.signature');
  });

  test('referrers: a registry without the API (404) has none', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    http.on('GET', /\/referrers\//, { status: 404, body: { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] } });
    expect(await factory.forLoginServer(LS).listReferrers('nope', `sha256:${'a'.repeat(64)}`)).toEqual([]);
  });

  test('a missing repository has no tags', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    http.on('GET', /tags\/list/, { status: 404, body: { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] } });
    expect(await factory.forLoginServer(LS).listTags('nope')).toEqual([]);
  });

  test('manifest HEAD asks for every manifest media type and returns Docker-Content-Digest; 404 is undefined', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    const digest = `sha256:${'a'.repeat(64)}`;
    http.on('HEAD', `${BASE}/v2/team/app/manifests/v1`, { status: 200, headers: { 'docker-content-digest': digest } });
    http.on('HEAD', `${BASE}/v2/team/app/manifests/v2`, { status: 404 });
    const plane = factory.forLoginServer(LS);
    expect(await plane.manifestDigest('team/app', 'v1')).toBe(digest);
    expect(await plane.manifestDigest('team/app', 'v2')).toBeUndefined();
    const head = http.to('/manifests/v1', 'HEAD')[0]!;
    for (const t of [
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]) {
      expect(head.headers['accept']).toContain(t);
    }
    expect(head.headers['accept']).toBe(MANIFEST_ACCEPT);
  });

  test('429 with Retry-After and 503 are retried; a reset too', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    http.on(
      'GET',
      /tags\/list/,
      { status: 429, headers: { 'retry-after': '4' }, body: { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow' }] } },
      { status: 503 },
      { error: 'ECONNRESET' },
      page(['v1']),
    );
    const plane = factory.forLoginServer(LS);
    await expect(plane.listTags('team/app')).rejects.toMatchObject({ status: 0, code: 'ECONNRESET' });
    expect(clock.sleeps).toEqual([4000, 200]);
    expect(await plane.listTags('team/app')).toEqual(['v1']);
  });

  test('an error keeps the registry error code and message', async () => {
    const { http, clock, factory } = setup();
    tokenRoutes(http, clock);
    http.on('GET', /tags\/list/, { status: 403, body: { errors: [{ code: 'DENIED', message: 'client with IP is not allowed access' }] } });
    await expect(factory.forLoginServer(LS).listTags('team/app')).rejects.toMatchObject({
      status: 403,
      code: 'DENIED',
      serviceMessage: 'client with IP is not allowed access',
      operation: "list tags of 'team/app' on registry 'myreg.azurecr.io'",
    });
  });
});

describe('helpers', () => {
  test('login servers are lower case without scheme; one plane per login server', () => {
    expect(normalizeLoginServer('HTTPS://MyReg.AzureCR.io/')).toBe('myreg.azurecr.io');
    const { factory } = setup();
    expect(factory.forLoginServer('MyReg.azurecr.io')).toBe(factory.forLoginServer('https://myreg.azurecr.io'));
    expect(factory.forLoginServer('MyReg.azurecr.io').loginServer).toBe('myreg.azurecr.io');
  });

  test('nextLink reads rel=next among several links', () => {
    expect(nextLink('</v2/x?last=a>; rel="prev", </v2/x?last=b&n=100>; rel="next"')).toBe('/v2/x?last=b&n=100');
    expect(nextLink('</v2/x?last=b>; rel=next')).toBe('/v2/x?last=b');
    expect(nextLink(undefined)).toBeUndefined();
  });
});
