/**
 * The az CLI (Debian's azure-cli) against the local Azure, as a user runs it: `az login --service-principal` (with a
 * secret, and with a certificate registered on the app), `az acr show`, `az acr login --expose-token` (whose token then
 * reads the registry), `az acr repository show-tags`/`show`/`list`, and a registry error as az prints it. Each command's
 * output is checked against what the local Azure holds, and the request log shows what az asked for.
 */
import { randomBytes } from 'node:crypto';
import type { LocalAzureEnv } from '../local-azure/config';
import { type SeededImage, seedImages } from '../local-azure/seed';
import { itWith } from '../prerequisites';
import { requestsSince } from './support/action-fixture';
import { AZ_INSTALL, azPath, type AzSession, azSession } from './support/azure-cli';
import { withTestCertificate } from './support/certificate';
import { control, loadEnv } from './support/local-azure';

jest.setTimeout(180_000);

const itAz = itWith(azPath() !== undefined, 'the Azure CLI (az)', AZ_INSTALL);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

let env: LocalAzureEnv;
let az: AzSession | undefined;
let started = 0;
let login: unknown;
const repo = `azcli${randomBytes(3).toString('hex')}/app`;
let images: SeededImage[] = [];

beforeAll(async () => {
  env = loadEnv();
  if (azPath() === undefined) return;
  images = await seedImages(env.registries.source.backendUrl, [
    { repo, tag: 'v1' },
    { repo, tag: 'v2' },
    { repo, tag: 'multi', multiArch: true },
  ]);
  started = Date.now();
  az = await azSession(env);
  login = await az.json(['login', '--service-principal', '-u', env.clientId, '-p', env.clientSecret, '--tenant', env.tenantId]);
});

afterAll(() => az?.cleanup());

const session = (): AzSession => {
  if (!az) throw new Error('no az session');
  return az;
};
const source = (): LocalAzureEnv['registries']['source'] => env.registries.source;

itAz('az login --service-principal signs in to the local cloud and finds its subscription', async () => {
  expect(login).toEqual([
    expect.objectContaining({
      cloudName: 'LocalAzure',
      id: env.subscriptionId,
      tenantId: env.tenantId,
      state: 'Enabled',
      isDefault: true,
      user: { name: env.clientId, type: 'servicePrincipal' },
    }),
  ]);
  const seen = (await requestsSince(env, started, ['/oauth2/v2.0/token', '/subscriptions?', 'metadata/endpoints'])).map(
    (e) => `${e.service} ${e.method} ${e.path.split('?')[0]} ${e.status}`,
  );
  expect(seen).toEqual(
    expect.arrayContaining(['arm GET //metadata/endpoints 200', `entra POST /${env.tenantId}/oauth2/v2.0/token 200`, 'arm GET /subscriptions 200']),
  );
});

itAz('az acr show -n finds the registry by name through the resource list and reads it', async () => {
  const since = Date.now();
  const reg = await session().json<{ id: string; loginServer: string; name: string; sku: { name: string }; provisioningState: string }>([
    'acr',
    'show',
    '-n',
    source().name,
  ]);
  expect(reg).toMatchObject({
    id: source().resourceId,
    name: source().name,
    loginServer: source().loginServer,
    sku: { name: 'Premium' },
    provisioningState: 'Succeeded',
  });
  const paths = (await requestsSince(env, since, ['/resources?'])).map((e) => decodeURIComponent(e.path.replace(/\+/g, ' ')));
  expect(paths).toEqual([expect.stringContaining("$filter=resourceType eq 'Microsoft.ContainerRegistry/registries'")]);
});

itAz('az acr login --expose-token gives a refresh token that reads the registry', async () => {
  const out = await session().json<{ accessToken: string; loginServer: string }>(['acr', 'login', '-n', source().name, '--expose-token']);
  expect(out.loginServer).toBe(source().loginServer);
  const front = `https://${out.loginServer}`;
  const tok = await fetch(`${front}/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', service: out.loginServer, scope: `repository:${repo}:pull`, refresh_token: out.accessToken }),
  });
  expect(tok.status).toBe(200);
  const { access_token } = (await tok.json()) as { access_token: string };
  const tags = await fetch(`${front}/v2/${repo}/tags/list`, { headers: { authorization: `Bearer ${access_token}` } });
  expect({ status: tags.status, body: (await tags.json()) as unknown }).toEqual({ status: 200, body: { name: repo, tags: ['multi', 'v1', 'v2'] } });
});

itAz('az acr repository show-tags, show and list read ACR metadata API', async () => {
  const az = session();
  const reg = source().name;
  expect(await az.json(['acr', 'repository', 'show-tags', '-n', reg, '--repository', repo])).toEqual(['multi', 'v1', 'v2']);
  const detailed = await az.json<{ name: string; digest: string }[]>([
    'acr',
    'repository',
    'show-tags',
    '-n',
    reg,
    '--repository',
    repo,
    '--detail',
    '--top',
    '2',
  ]);
  expect(detailed.map((t) => t.name)).toEqual(['multi', 'v1']);
  const digest = (ref: string): string => images.find((i) => i.ref === ref)!.digest;
  expect(detailed.map((t) => t.digest)).toEqual([digest(`${repo}:multi`), digest(`${repo}:v1`)]);
  expect(await az.json(['acr', 'repository', 'show', '-n', reg, '--image', `${repo}:v2`])).toMatchObject({
    name: 'v2',
    digest: digest(`${repo}:v2`),
    signed: false,
  });
  const manifest = await az.json<{ digest: string; references: { architecture: string }[] }>([
    'acr',
    'repository',
    'show',
    '-n',
    reg,
    '--image',
    `${repo}@${digest(`${repo}:multi`)}`,
  ]);
  expect(manifest.digest).toBe(digest(`${repo}:multi`));
  expect(manifest.references.map((r) => r.architecture).sort()).toEqual(['amd64', 'arm64']);
  // Three images, the multi-arch one with its two children: five manifests under three tags.
  expect(await az.json(['acr', 'repository', 'show', '-n', reg, '--repository', repo])).toMatchObject({ imageName: repo, tagCount: 3, manifestCount: 5 });
  expect(await az.json(['acr', 'repository', 'list', '-n', reg])).toEqual(expect.arrayContaining([repo]));
});

itAz("a missing repository is the registry's error as az prints it, with the registry's correlation id", async () => {
  const r = await session().run(['acr', 'repository', 'show-tags', '-n', source().name, '--repository', `${repo}-missing`]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/Error: repository name not known to registry\. Correlation ID: [0-9a-f-]{36}\./);
  expect(r.stderr).toMatch(UUID);
});

itAz('az login --service-principal with a certificate registered on the app (MSAL Python: RS256, x5t)', () =>
  withTestCertificate('az-cli-test', async ({ cert, pemPath }) => {
    const az = session();
    const before = await az.run(['login', '--service-principal', '-u', env.clientId, '-p', pemPath, '--tenant', env.tenantId, '-o', 'none']);
    expect(before.code).not.toBe(0);
    expect(before.stderr).toMatch(/AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application/);
    expect((await control(env, 'POST', '/app-certificates', { certificate: cert })).status).toBe(200);
    await az.ok(['login', '--service-principal', '-u', env.clientId, '-p', pemPath, '--tenant', env.tenantId, '-o', 'none']);
    const token = await az.json<{ accessToken: string; subscription: string }>(['account', 'get-access-token']);
    expect(token.subscription).toBe(env.subscriptionId);
    const claims = JSON.parse(Buffer.from(token.accessToken.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    // appidacr 2: the client proved itself with an assertion, not a secret.
    expect(claims).toMatchObject({ appid: env.clientId, appidacr: '2', tid: env.tenantId });
  }),
);
