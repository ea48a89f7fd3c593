/**
 * Cloud resolution (known clouds, metadata/endpoints discovery, ADFS, authority-host override) and credential choice
 * (auto order, host credential, OIDC assertion per token request, masking), with a fake HttpClient: no MSAL call
 * may leave for login.microsoftonline.com.
 */
import type { TokenCredential } from '@azure/core-auth';
import { AzureCliCredential, ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { type AuthEnvironment, chooseAuthType, createCredential, MaskingCredential, signIn, signInMode } from '../../core/azure/auth';
import { type CloudEndpoints, cloudForArmEndpoint, KNOWN_CLOUDS, resolveCloud } from '../../core/azure/cloud';
import { AzureRequestError, SignInError } from '../../core/errors';
import type { AuthSettings } from '../../core/settings';
import { FakeClock, FakeCredential, FakeHttp, jwt } from './core-azure-fakes';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = '99999999-8888-7777-6666-555555555555';
const auth = (extra: Partial<AuthSettings> = {}): AuthSettings => ({
  type: 'auto',
  audience: 'api://AzureADTokenExchange',
  environment: 'AzureCloud',
  ...extra,
});
const noEnv: AuthEnvironment = { env: {}, onPath: () => false };

function inner(c: unknown): unknown {
  expect(c).toBeInstanceOf(MaskingCredential);
  return (c as { inner: unknown }).inner;
}

describe('resolveCloud', () => {
  test.each([
    ['AzureCloud', 'https://management.azure.com', 'https://login.microsoftonline.com', false, 'https://storage.azure.com/.default'],
    ['AzureUSGovernment', 'https://management.usgovcloudapi.net', 'https://login.microsoftonline.us', true, 'https://storage.azure.us/.default'],
    ['AzureChinaCloud', 'https://management.chinacloudapi.cn', 'https://login.chinacloudapi.cn', true, 'https://storage.azure.cn/.default'],
  ] as const)('%s from the table, without any request', async (environment, arm, authority, disableDiscovery, storage) => {
    const http = new FakeHttp();
    const cloud = await resolveCloud(auth({ environment }), { httpClient: http });
    expect(cloud).toMatchObject({
      name: environment,
      armEndpoint: arm,
      armScope: `${arm}/.default`,
      authorityHost: authority,
      disableInstanceDiscovery: disableDiscovery,
      storageScope: storage,
    });
    expect(http.calls).toHaveLength(0);
  });

  test('authority-host overrides and turns instance discovery off', async () => {
    const cloud = await resolveCloud(auth({ authorityHost: 'https://login.example.test/' }), { httpClient: new FakeHttp() });
    expect(cloud).toMatchObject({ authorityHost: 'https://login.example.test', disableInstanceDiscovery: true, armEndpoint: 'https://management.azure.com' });
  });

  test('a custom ARM endpoint is discovered from metadata/endpoints (object form); its host suffixes too', async () => {
    const http = new FakeHttp().on('GET', 'https://arm.stack.test/metadata/endpoints', {
      status: 200,
      body: {
        authentication: { loginEndpoint: 'https://login.stack.test/', audiences: ['https://management.stack.test/abc'] },
        suffixes: { storage: 'stack.test', keyVaultDns: '.vault.stack.test', acrLoginServer: 'azurecr.stack.test' },
      },
    });
    const logs: string[] = [];
    const cloud = await resolveCloud(auth({ environment: 'AzureStack', resourceManagerEndpoint: 'https://arm.stack.test/' }), {
      httpClient: http,
      log: (m) => logs.push(m),
    });
    expect(cloud).toMatchObject({
      name: 'custom',
      armEndpoint: 'https://arm.stack.test',
      armScope: 'https://management.stack.test/abc/.default',
      authorityHost: 'https://login.stack.test',
      disableInstanceDiscovery: true,
      suffixes: { storage: ['stack.test'], keyVault: ['vault.stack.test'], registry: ['azurecr.stack.test'] },
      keyVaultScope: 'https://vault.stack.test/.default',
    });
    expect(cloud.tenantOverride).toBeUndefined();
    expect(new URL(http.calls[0]!.url).searchParams.get('api-version')).toBe('2022-09-01');
    expect(logs.join('\n')).toMatch(/metadata\/endpoints/);
  });

  test('a cloud that refuses api-version 2022-09-01 is read in the 2015 form, its suffixes derived from the ARM host', async () => {
    const http = new FakeHttp()
      .on('GET', (u) => u.searchParams.get('api-version') === '2022-09-01', { status: 400, body: { error: { code: 'InvalidApiVersionParameter' } } })
      .on('GET', (u) => u.searchParams.get('api-version') === '2015-01-01', {
        status: 200,
        body: { authentication: { loginEndpoint: 'https://adfs.local.azurestack.external/adfs/', audiences: ['https://management.adfs.azurestack.local/x'] } },
      });
    const cloud = await resolveCloud(auth({ environment: 'AzureStack', resourceManagerEndpoint: 'https://management.local.azurestack.external' }), {
      httpClient: http,
    });
    expect(http.calls.map((c) => new URL(c.url).searchParams.get('api-version'))).toEqual(['2022-09-01', '2015-01-01']);
    expect(cloud.suffixes).toEqual({
      storage: ['local.azurestack.external'],
      keyVault: ['vault.local.azurestack.external'],
      registry: ['azsacr.local.azurestack.external'],
    });
  });

  test('the array form picks the entry of this ARM endpoint', async () => {
    const http = new FakeHttp().on('GET', 'https://arm.two.test/metadata/endpoints', {
      status: 200,
      body: [
        { resourceManager: 'https://arm.one.test/', authentication: { loginEndpoint: 'https://login.one.test', audiences: ['https://one/'] } },
        {
          resourceManager: 'https://arm.two.test/',
          authentication: { loginEndpoint: 'https://login.two.test', audiences: ['https://two/'] },
          suffixes: { keyVaultDns: 'vault.two.test' },
        },
      ],
    });
    const cloud = await resolveCloud(auth({ resourceManagerEndpoint: 'https://arm.two.test' }), { httpClient: http });
    expect(cloud).toMatchObject({
      authorityHost: 'https://login.two.test',
      armScope: 'https://two/.default',
      // Named by the document, or derived from the ARM host (not management.<…> here: nothing derived).
      suffixes: { storage: [], keyVault: ['vault.two.test'], registry: [] },
    });
  });

  test('an ADFS login endpoint means tenant "adfs" and the host without /adfs', async () => {
    const http = new FakeHttp().on('GET', 'https://arm.adfs.test/metadata/endpoints', {
      status: 200,
      body: { authentication: { loginEndpoint: 'https://adfs.local.azurestack.external/adfs/', audiences: ['https://management.adfs.azurestack.local/guid'] } },
    });
    const cloud = await resolveCloud(auth({ environment: 'AzureStack', resourceManagerEndpoint: 'https://arm.adfs.test' }), { httpClient: http });
    expect(cloud).toMatchObject({ authorityHost: 'https://adfs.local.azurestack.external', tenantOverride: 'adfs', disableInstanceDiscovery: true });
  });

  test('a public-cloud resource-manager-endpoint needs no discovery', async () => {
    const http = new FakeHttp();
    const cloud = await resolveCloud(auth({ resourceManagerEndpoint: 'https://management.azure.com/' }), { httpClient: http });
    expect(cloud.name).toBe('AzureCloud');
    expect(http.calls).toHaveLength(0);
  });

  test('discovery retries a 503 and fails clearly on a 404', async () => {
    const clock = new FakeClock();
    const http = new FakeHttp().on(
      'GET',
      'https://arm.flaky.test/metadata/endpoints',
      { status: 503, headers: { 'retry-after': '2' } },
      { status: 200, body: { authentication: { loginEndpoint: 'https://l/', audiences: ['https://a/'] } } },
    );
    await resolveCloud(auth({ resourceManagerEndpoint: 'https://arm.flaky.test' }), { httpClient: http, clock });
    expect(clock.sleeps).toEqual([2000]);
    const missing = new FakeHttp().on('GET', 'https://arm.none.test/metadata/endpoints', { status: 404, body: 'nope' });
    const e = (await resolveCloud(auth({ resourceManagerEndpoint: 'https://arm.none.test' }), { httpClient: missing }).catch(
      (x: unknown) => x,
    )) as AzureRequestError;
    expect(e).toBeInstanceOf(AzureRequestError);
    expect(e).toMatchObject({ status: 404, code: 'MetadataUnavailable' });
    expect(e.fix).toMatch(/resource-manager-endpoint/);
  });

  test('a host credential’s cloud is known by its ARM endpoint', async () => {
    const cloud = await cloudForArmEndpoint('https://management.usgovcloudapi.net/', {}, { httpClient: new FakeHttp() });
    expect(cloud.name).toBe('AzureUSGovernment');
    // A connection that names its audience and authority: the document is still read for the host suffixes, and when
    // it cannot be, the cloud is built from the connection with suffixes derived from the ARM host.
    const custom = await cloudForArmEndpoint(
      'https://management.x.test',
      { armAudience: 'https://aud.x.test/', authorityHost: 'https://login.x.test' },
      { httpClient: new FakeHttp().on('GET', 'https://management.x.test/metadata/endpoints', { status: 404, body: 'none' }) },
    );
    expect(custom).toMatchObject({
      name: 'custom',
      armScope: 'https://aud.x.test/.default',
      authorityHost: 'https://login.x.test',
      disableInstanceDiscovery: true,
      suffixes: { storage: ['x.test'], keyVault: ['vault.x.test'], registry: ['azsacr.x.test'] },
    });
  });
});

describe('auto authentication', () => {
  const app = { clientId: CLIENT, tenantId: TENANT };
  const getIdToken = async (): Promise<string> => 'id-token';

  test.each([
    ['oidc when client and tenant are given and the workflow can issue tokens', auth(app), { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x' }, true, true, 'oidc'],
    ['service-principal with a secret', auth({ ...app, clientSecret: 's' }), {}, true, true, 'service-principal'],
    ['service-principal with a certificate', auth({ ...app, clientCertificate: '-----BEGIN' }), {}, true, true, 'service-principal'],
    ['not oidc without the token request URL', auth({ ...app, clientSecret: 's' }), {}, true, true, 'service-principal'],
    ['not oidc when the host cannot get ID tokens (ADO)', auth(app), { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x' }, false, true, 'azure-cli'],
    ['azure-cli when az is on PATH', auth(), {}, true, true, 'azure-cli'],
    ['managed identity otherwise', auth({ clientId: CLIENT }), {}, true, false, 'managed-identity'],
  ] as const)('%s', (_n, settings, env, hasIdToken, az, expected) => {
    const choice = chooseAuthType(settings, hasIdToken ? { getIdToken } : {}, { env, onPath: (c) => az && c === 'az' });
    expect(choice.type).toBe(expected);
    expect(choice.reason).toMatch(/^auto: /);
  });

  test('an explicit auth-type wins', () => {
    expect(chooseAuthType(auth({ type: 'managed-identity', clientSecret: 's', ...app }), { getIdToken }, { env: {}, onPath: () => true }).type).toBe(
      'managed-identity',
    );
  });
});

describe('createCredential', () => {
  const cloud: CloudEndpoints = { ...KNOWN_CLOUDS.AzureCloud, authorityHost: 'https://login.test', disableInstanceDiscovery: true };
  const host = { mask: (): void => undefined };

  test.each([
    [auth({ type: 'service-principal', clientId: CLIENT, tenantId: TENANT, clientSecret: 's' }), ClientSecretCredential],
    [auth({ type: 'service-principal', clientId: CLIENT, tenantId: TENANT, clientCertificate: '@file:/tmp/none.pem' }), ClientCertificateCredential],
    [auth({ type: 'azure-cli' }), AzureCliCredential],
    [auth({ type: 'managed-identity', clientId: CLIENT }), ManagedIdentityCredential],
  ])('builds the credential for %o', (settings, cls) => {
    expect(inner(createCredential(settings, cloud, host, { env: {}, onPath: (c) => c === 'az' }).credential)).toBeInstanceOf(cls);
  });

  test('auth-type azure-cli without az on PATH: one line saying so, not "run az login"', () => {
    expect(() => createCredential(auth({ type: 'azure-cli' }), cloud, host, noEnv)).toThrow(
      "auth-type 'azure-cli' needs the Azure CLI, and 'az' is not on PATH: install it and sign in (an azure/login step), or choose another auth-type",
    );
  });

  test('the host’s credential (ADO service connection) is used as is, wrapped for masking', async () => {
    const masked: string[] = [];
    const own = new FakeCredential();
    const choice = createCredential(
      auth({ clientSecret: 'ignored' }),
      cloud,
      { mask: (s) => masked.push(s), credential: { credential: own, armEndpoint: 'https://management.azure.com' } },
      noEnv,
    );
    expect(choice.kind).toBe('host');
    const t = await choice.credential.getToken('https://management.azure.com/.default');
    expect(masked).toEqual([t?.token]);
  });

  test('OIDC: a fresh assertion on every token request, masked, against the cloud’s authority and never the public instance discovery', async () => {
    const masked: string[] = [];
    const audiences: string[] = [];
    const sent: string[] = [];
    let n = 0;
    const http = new FakeHttp()
      .on('GET', /\/v2\.0\/\.well-known\/openid-configuration/, {
        status: 200,
        body: {
          token_endpoint: `https://login.test/${TENANT}/oauth2/v2.0/token`,
          issuer: `https://login.test/${TENANT}/v2.0`,
          authorization_endpoint: `https://login.test/${TENANT}/oauth2/v2.0/authorize`,
          jwks_uri: `https://login.test/${TENANT}/discovery/v2.0/keys`,
          end_session_endpoint: `https://login.test/${TENANT}/oauth2/v2.0/logout`,
        },
      })
      .on('POST', /\/oauth2\/v2\.0\/token/, (r) => {
        const form = new URLSearchParams(r.body ?? '');
        sent.push(form.get('client_assertion') ?? '');
        return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, access_token: jwt({ aud: form.get('scope'), n }) } };
      });
    const choice = createCredential(
      auth({ type: 'oidc', clientId: CLIENT, tenantId: TENANT, environment: 'AzureUSGovernment' }),
      { ...KNOWN_CLOUDS.AzureUSGovernment, authorityHost: 'https://login.test' },
      {
        mask: (s) => masked.push(s),
        getIdToken: async (aud) => {
          audiences.push(aud);
          n += 1;
          return `assertion-${n}`;
        },
      },
      noEnv,
      http,
    );
    expect(inner(choice.credential)).toBeInstanceOf(ClientAssertionCredential);
    const a = await choice.credential.getToken('https://management.usgovcloudapi.net/.default');
    const b = await choice.credential.getToken('https://storage.azure.us/.default');
    // Each token request carries an assertion fetched for it (MSAL asks the callback more than once per request).
    expect(sent).toHaveLength(2);
    expect(sent[1]).not.toBe(sent[0]);
    expect(Number(sent[1]!.split('-')[1])).toBeGreaterThan(Number(sent[0]!.split('-')[1]));
    // The default audience becomes the sovereign cloud's own (Azure/login README).
    expect(new Set(audiences)).toEqual(new Set(['api://AzureADTokenExchangeUSGov']));
    expect(masked).toEqual(expect.arrayContaining([...sent, a?.token, b?.token]));
    expect(http.calls.every((c) => c.url.startsWith('https://login.test/'))).toBe(true);
  });

  test('OIDC without a way to get ID tokens fails with the permissions hint', () => {
    expect(() => createCredential(auth({ type: 'oidc', clientId: CLIENT, tenantId: TENANT }), cloud, host, noEnv)).toThrow(/id-token: write/);
  });

  test('ADFS clouds sign in to tenant "adfs"', async () => {
    const http = new FakeHttp()
      .on('GET', /openid-configuration/, {
        status: 200,
        body: {
          token_endpoint: 'https://adfs.test/adfs/oauth2/token',
          issuer: 'https://adfs.test/adfs',
          authorization_endpoint: 'https://adfs.test/adfs/oauth2/authorize',
        },
      })
      .on('POST', /token/, { status: 200, body: { token_type: 'Bearer', expires_in: 3599, access_token: 'tok' } });
    const choice = createCredential(
      auth({ type: 'service-principal', clientId: CLIENT, tenantId: TENANT, clientSecret: 's' }),
      { ...cloud, authorityHost: 'https://adfs.test', tenantOverride: 'adfs' },
      host,
      noEnv,
      http,
    );
    await choice.credential.getToken('https://management.adfs.test/.default').catch(() => undefined);
    expect(http.calls[0]?.url).toMatch(/^https:\/\/adfs\.test\/adfs\//);
  });
});

describe('signIn', () => {
  const cloud: CloudEndpoints = { ...KNOWN_CLOUDS.AzureCloud, authorityHost: 'https://login.test', disableInstanceDiscovery: true };
  const refusing = (message: string): TokenCredential => ({ getToken: () => Promise.reject(new Error(message)) });
  const entra =
    'ClientSecretCredential authentication failed: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-01-01 00:00:00Z\nTo troubleshoot, visit https://aka.ms/azsdk/js/identity/serviceprincipalauthentication/troubleshoot.';

  test.each([
    [
      auth({ type: 'service-principal', clientId: CLIENT, tenantId: TENANT, clientSecret: 's' }),
      `Azure sign-in failed (service principal with a client secret (client-id ${CLIENT}, tenant-id ${TENANT})): AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. Fix: check 'client-secret' (it may have expired or been rotated), 'client-id' and 'tenant-id'`,
    ],
    [auth({ type: 'managed-identity' }), /^Azure sign-in failed \(managed identity \(the machine's\)\): .*AADSTS7000215.*\. Fix: run on an Azure machine/],
    [
      auth({ type: 'oidc', clientId: CLIENT, tenantId: TENANT }),
      /^Azure sign-in failed \(oidc \(the workflow's federated token; .*\. Fix: check that the app registration has a federated credential/,
    ],
  ])('a refused credential is one line naming the mode and the fix (%#)', async (settings, expected) => {
    const choice = { credential: refusing(entra), kind: 'service-principal' as const, reason: 'test', signIn: signInMode(settings.type as never, settings) };
    const err = await signIn(choice, cloud.armScope).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(SignInError);
    expect(err?.message).not.toMatch(/\n|Trace ID|To troubleshoot/);
    if (typeof expected === 'string') expect(err?.message).toBe(expected);
    else expect(err?.message).toMatch(expected);
  });

  test('the host names its own mode (ADO service connection)', async () => {
    const choice = createCredential(
      auth(),
      cloud,
      {
        mask: () => undefined,
        credential: {
          credential: refusing('AADSTS7000215: Invalid client secret provided.'),
          armEndpoint: 'https://management.azure.com',
          signIn: { mode: "service connection 'c1'", fix: 'verify it' },
        },
      },
      noEnv,
    );
    await expect(signIn(choice, cloud.armScope)).rejects.toThrow(
      "Azure sign-in failed (service connection 'c1'): AADSTS7000215: Invalid client secret provided. Fix: verify it",
    );
  });

  test('a cancel while signing in stays a cancel', async () => {
    const controller = new AbortController();
    controller.abort();
    const choice = createCredential(
      auth({ type: 'managed-identity' }),
      cloud,
      { mask: () => undefined, credential: { credential: refusing('aborted'), armEndpoint: 'x' } },
      noEnv,
    );
    await expect(signIn(choice, cloud.armScope, controller.signal)).rejects.toThrow('aborted');
  });
});
