/**
 * The ACR data plane of the local Azure: Entra token → /oauth2/exchange → /oauth2/token → /v2/, with plain fetch
 * and skopeo. Images are seeded straight into the distribution registry behind the front end.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ACR_RESOURCE, STORAGE_RESOURCE } from '../local-azure/emulator/context';
import { seedImages } from '../local-azure/seed';
import { control, credential, digestOf, loadEnv, OCI_MANIFEST, pushManifest } from './support/local-azure';

jest.setTimeout(60_000);

const env = loadEnv();
const reg = env.registries.source;
const ls = reg.loginServer;
const front = `https://${ls}`;
// skopeo (Go) cannot resolve *.localhost: it reaches the same front end by its 127.0.0.1 address.
const skopeoHost = reg.address;
const TOKEN_USER = '00000000-0000-0000-0000-000000000000';

const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function form(url: string, fields: Record<string, string | string[]>): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  return fetch(url, { method: 'POST', body });
}

async function refreshToken(scope = 'https://management.azure.com/.default'): Promise<string> {
  const aad = await credential(env).getToken(scope);
  const r = await form(`${front}/oauth2/exchange`, { grant_type: 'access_token', service: ls, tenant: env.tenantId, access_token: aad.token });
  expect(r.status).toBe(200);
  return ((await r.json()) as { refresh_token: string }).refresh_token;
}

async function accessToken(refresh: string, scopes: string[]): Promise<string> {
  const r = await form(`${front}/oauth2/token`, { grant_type: 'refresh_token', service: ls, scope: scopes, refresh_token: refresh });
  expect(r.status).toBe(200);
  return ((await r.json()) as { access_token: string }).access_token;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

function skopeo(args: string[]): Promise<string> {
  const home = mkdtempSync(path.join(tmpdir(), 'skopeo-'));
  return new Promise<string>((resolve, reject) =>
    execFile('skopeo', args, { env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: home, TMPDIR: home } }, (err, stdout, stderr) => {
      rmSync(home, { recursive: true, force: true });
      if (err) reject(new Error(`skopeo ${args[0]} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    }),
  );
}

describe('challenge and token service', () => {
  test('GET /v2/ without a token is a 401 with the ACR challenge', async () => {
    const r = await fetch(`${front}/v2/`);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(`Bearer realm="https://${ls}/oauth2/token",service="${ls}"`);
    expect(r.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    const body = (await r.json()) as { errors: Array<{ code: string; message: string }> };
    expect(body.errors[0]).toMatchObject({ code: 'UNAUTHORIZED', message: 'authentication required' });
  });

  test('a repository request without a token names the scope it needs', async () => {
    const r = await fetch(`${front}/v2/some/deep/repo/tags/list`);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(`Bearer realm="https://${ls}/oauth2/token",service="${ls}",scope="repository:some/deep/repo:pull"`);
  });

  test('an injected fault answers in the registry error shape, with Retry-After', async () => {
    const repo = unique('faultprobe');
    const fault = { service: 'acr', method: 'GET', path: `/v2/${repo}/tags/list$`, kind: '429', retryAfterSeconds: 2, count: 1 };
    expect((await control(env, 'POST', '/faults', fault)).status).toBe(200);
    const r = await fetch(`${front}/v2/${repo}/tags/list`);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('2');
    expect(r.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    const body = (await r.json()) as { errors: Array<{ code: string; message: string }> };
    expect(body.errors[0]).toMatchObject({ code: 'TOOMANYREQUESTS' });
  });

  test('exchange accepts ARM and ACR audience tokens, and refuses others', async () => {
    await refreshToken();
    await refreshToken(`${ACR_RESOURCE}/.default`);
    const storage = await credential(env).getToken(`${STORAGE_RESOURCE}/.default`);
    const refused = await form(`${front}/oauth2/exchange`, { grant_type: 'access_token', service: ls, access_token: storage.token });
    expect(refused.status).toBe(401);
    const garbage = await form(`${front}/oauth2/exchange`, { grant_type: 'access_token', service: ls, access_token: 'not-a-token' });
    expect(garbage.status).toBe(401);
  });

  test('the access token carries the granted access, for this login server', async () => {
    const token = await accessToken(await refreshToken(), ['repository:a/b:pull,push', 'registry:catalog:*']);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims['aud']).toBe(ls);
    expect(claims['access']).toEqual([
      { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  test('a refresh token is not an access token, and an invalid refresh token gets none', async () => {
    const refresh = await refreshToken();
    expect((await fetch(`${front}/v2/`, { headers: bearer(refresh) })).status).toBe(401);
    const r = await form(`${front}/oauth2/token`, { grant_type: 'refresh_token', service: ls, scope: 'repository:x:pull', refresh_token: `${refresh}x` });
    expect(r.status).toBe(401);
  });
});

describe('tags, catalog and scopes', () => {
  const repo = unique('paging/many');
  const tags = Array.from({ length: 120 }, (_, i) => `t${String(i).padStart(3, '0')}`);
  let digest: string;
  let refresh: string;

  beforeAll(async () => {
    // Seeded in reverse order, so that sorted output proves the emulator sorts.
    digest = await pushManifest(reg.backendUrl, repo, [...tags].reverse(), repo);
    refresh = await refreshToken();
  });

  test('tags/list pages at 100 with a Link to the next page', async () => {
    const token = await accessToken(refresh, [`repository:${repo}:pull`]);
    const first = await fetch(`${front}/v2/${repo}/tags/list`, { headers: bearer(token) });
    expect(first.status).toBe(200);
    const page1 = (await first.json()) as { name: string; tags: string[] };
    expect(page1).toEqual({ name: repo, tags: tags.slice(0, 100) });
    const link = first.headers.get('link');
    expect(link).toBe(`</v2/${repo}/tags/list?last=t099&n=100>; rel="next"`);
    const next = /<([^>]+)>/.exec(link ?? '')?.[1] ?? '';
    const second = await fetch(`${front}${next}`, { headers: bearer(token) });
    expect(((await second.json()) as { tags: string[] }).tags).toEqual(tags.slice(100));
    expect(second.headers.get('link')).toBeNull();
  });

  test('n is honoured up to 100, and last starts after the given tag', async () => {
    const token = await accessToken(refresh, [`repository:${repo}:pull`]);
    const small = await fetch(`${front}/v2/${repo}/tags/list?n=7&last=t010`, { headers: bearer(token) });
    expect(((await small.json()) as { tags: string[] }).tags).toEqual(tags.slice(11, 18));
    expect(small.headers.get('link')).toBe(`</v2/${repo}/tags/list?last=t017&n=7>; rel="next"`);
    const big = await fetch(`${front}/v2/${repo}/tags/list?n=500`, { headers: bearer(token) });
    expect(((await big.json()) as { tags: string[] }).tags).toHaveLength(100);
  });

  test('manifests come through with their digest intact', async () => {
    const token = await accessToken(refresh, [`repository:${repo}:pull`]);
    const r = await fetch(`${front}/v2/${repo}/manifests/t042`, { headers: { ...bearer(token), accept: OCI_MANIFEST } });
    expect(r.status).toBe(200);
    expect(r.headers.get('docker-content-digest')).toBe(digest);
    expect(digestOf(Buffer.from(await r.arrayBuffer()))).toBe(digest);
    const head = await fetch(`${front}/v2/${repo}/manifests/${digest}`, { method: 'HEAD', headers: { ...bearer(token), accept: OCI_MANIFEST } });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(digest);
  });

  test('a token scoped to one repository is refused on another', async () => {
    const token = await accessToken(refresh, ['repository:other/repo:pull']);
    const r = await fetch(`${front}/v2/${repo}/tags/list`, { headers: bearer(token) });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(
      `Bearer realm="https://${ls}/oauth2/token",service="${ls}",scope="repository:${repo}:pull",error="insufficient_scope"`,
    );
  });

  test('a pull-only token cannot push; a pull,push token can, and the digest survives', async () => {
    const target = unique('pushed/here');
    const bytes = Buffer.from(await (await fetch(`${reg.backendUrl}/v2/${repo}/manifests/t000`, { headers: { accept: OCI_MANIFEST } })).arrayBuffer());
    const pullOnly = await accessToken(refresh, [`repository:${target}:pull`]);
    const put = (token: string): Promise<Response> =>
      fetch(`${front}/v2/${target}/manifests/v1`, { method: 'PUT', body: bytes, headers: { ...bearer(token), 'content-type': OCI_MANIFEST } });
    expect((await put(pullOnly)).status).toBe(401);
    // The config blob must exist in the target repository first: mount it from the seeded one.
    const both = await accessToken(refresh, [`repository:${target}:pull,push`, `repository:${repo}:pull`]);
    const config = (JSON.parse(bytes.toString('utf8')) as { config: { digest: string } }).config.digest;
    const mount = await fetch(`${front}/v2/${target}/blobs/uploads/?mount=${config}&from=${repo}`, { method: 'POST', headers: bearer(both) });
    expect(mount.status).toBe(201);
    const pushed = await put(both);
    expect(pushed.status).toBe(201);
    expect(pushed.headers.get('docker-content-digest')).toBe(digest);
    expect(pushed.headers.get('location')).toMatch(new RegExp(`^(/|https://${ls.replace(/\./g, '\\.')}/)v2/${target}/manifests/`));
  });

  test('the catalog needs registry:catalog:* and pages at most 100', async () => {
    const repoOnly = await accessToken(refresh, [`repository:${repo}:pull`]);
    expect((await fetch(`${front}/v2/_catalog`, { headers: bearer(repoOnly) })).status).toBe(401);
    const catalog = await accessToken(refresh, ['registry:catalog:*']);
    const seen: string[] = [];
    let next: string | undefined = '/v2/_catalog?n=1000';
    while (next) {
      const r: Response = await fetch(`${front}${next}`, { headers: bearer(catalog) });
      expect(r.status).toBe(200);
      const page = ((await r.json()) as { repositories: string[] }).repositories;
      expect(page.length).toBeLessThanOrEqual(100);
      seen.push(...page);
      next = /<([^>]+)>/.exec(r.headers.get('link') ?? '')?.[1];
    }
    expect(seen).toContain(repo);
    expect([...seen].sort()).toEqual(seen);
  });
});

describe('skopeo through the front end', () => {
  const repo = unique('skopeo/demo');

  beforeAll(async () => {
    await seedImages(reg.backendUrl, [{ repo, tag: 'v1', payloadBytes: 256 * 1024 }]);
  });

  test('inspect with the refresh-token user gives the same digest as the backend', async () => {
    const refresh = await refreshToken();
    const viaFront = JSON.parse(
      await skopeo(['inspect', '--tls-verify=false', '--creds', `${TOKEN_USER}:${refresh}`, `docker://${skopeoHost}/${repo}:v1`]),
    ) as {
      Digest: string;
    };
    const direct = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${reg.backendUrl.replace(/^http:\/\//, '')}/${repo}:v1`])) as {
      Digest: string;
    };
    expect(viaFront.Digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(viaFront.Digest).toBe(direct.Digest);
  });

  test('copy into the front end (blob uploads streamed through) keeps the digest', async () => {
    const refresh = await refreshToken();
    const src = `docker://${reg.backendUrl.replace(/^http:\/\//, '')}/${repo}:v1`;
    const dst = `docker://${skopeoHost}/${repo}-copy:v1`;
    await skopeo(['--insecure-policy', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', `${TOKEN_USER}:${refresh}`, src, dst]);
    const copied = JSON.parse(await skopeo(['inspect', '--tls-verify=false', '--creds', `${TOKEN_USER}:${refresh}`, dst])) as { Digest: string };
    const original = JSON.parse(await skopeo(['inspect', '--tls-verify=false', src])) as { Digest: string };
    expect(copied.Digest).toBe(original.Digest);
  });

  test('a wrong refresh token is refused', async () => {
    await expect(skopeo(['inspect', '--tls-verify=false', '--creds', `${TOKEN_USER}:not-a-token`, `docker://${skopeoHost}/${repo}:v1`])).rejects.toThrow(
      /unauthorized|401|invalid/i,
    );
  });
});

describe('the referrers API (OCI 1.1), computed from the stored manifests', () => {
  const repo = unique('refs');
  const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
  let image: Awaited<ReturnType<typeof seedImages>>[number];
  let token: string;

  beforeAll(async () => {
    [image] = (await seedImages(reg.backendUrl, [{ repo, tag: 'v1', referrers: ['notation', 'signed-sbom', 'cosign'] }])) as [typeof image];
    token = await accessToken(await refreshToken(), [`repository:${repo}:pull`]);
  });

  const get = (digest: string, query = ''): Promise<Response> =>
    fetch(`${front}/v2/${repo}/referrers/${encodeURIComponent(digest)}${query}`, { headers: bearer(token) });
  const byType = (t: string): string => image.referrers.find((r) => r.artifactType === t && r.subject === image.digest)!.digest;

  test('lists what refers to a digest as an OCI image index with each artifactType; a cosign tag is not a referrer', async () => {
    const r = await get(image.digest);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(OCI_INDEX);
    expect(r.headers.get('oci-filters-applied')).toBeNull();
    const body = (await r.json()) as {
      schemaVersion: number;
      mediaType: string;
      manifests: { digest: string; artifactType: string; size: number; mediaType: string }[];
    };
    expect(body).toMatchObject({ schemaVersion: 2, mediaType: OCI_INDEX });
    const sig = byType('application/vnd.cncf.notary.signature');
    const sbom = byType('application/spdx+json');
    expect(body.manifests.map((m) => [m.digest, m.artifactType]).sort()).toEqual(
      [
        [sig, 'application/vnd.cncf.notary.signature'],
        [sbom, 'application/spdx+json'],
      ].sort(),
    );
    expect(body.manifests.every((m) => m.mediaType === OCI_MANIFEST && m.size > 0)).toBe(true);
    // The signature of the SBOM refers to the SBOM.
    const ofSbom = (await (await get(sbom)).json()) as { manifests: { artifactType: string }[] };
    expect(ofSbom.manifests.map((m) => m.artifactType)).toEqual(['application/vnd.cncf.notary.signature']);
  });

  test('filters by artifactType and says so; pages with a Link rel=next', async () => {
    const filtered = await get(image.digest, `?artifactType=${encodeURIComponent('application/spdx+json')}`);
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(((await filtered.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest)).toEqual([byType('application/spdx+json')]);
    const first = await get(image.digest, '?n=1');
    const link = first.headers.get('link');
    expect(link).toMatch(/^<\/v2\/.+\/referrers\/sha256:[a-f0-9]{64}\?last=sha256%3A[a-f0-9]{64}&n=1>; rel="next"$/);
    const next = await fetch(`${front}${/<([^>]+)>/.exec(link!)![1]}`, { headers: bearer(token) });
    expect(next.headers.get('link')).toBeNull();
    const both = [
      ...((await first.json()) as { manifests: { digest: string }[] }).manifests,
      ...((await next.json()) as { manifests: { digest: string }[] }).manifests,
    ];
    expect(both.map((m) => m.digest).sort()).toEqual([byType('application/vnd.cncf.notary.signature'), byType('application/spdx+json')].sort());
  });

  test('a digest nothing refers to has an empty list; a bad digest is a 400, an unknown repository a 404, no token a 401', async () => {
    const none = await get(`sha256:${'0'.repeat(64)}`);
    expect(none.status).toBe(200);
    expect(((await none.json()) as { manifests: unknown[] }).manifests).toEqual([]);
    expect((await get('sha256:abc')).status).toBe(400);
    const other = await accessToken(await refreshToken(), [`repository:${repo}-none:pull`]);
    const unknown = await fetch(`${front}/v2/${repo}-none/referrers/${image.digest}`, { headers: bearer(other) });
    expect(unknown.status).toBe(404);
    expect((await fetch(`${front}/v2/${repo}/referrers/${image.digest}`)).status).toBe(401);
  });
});
