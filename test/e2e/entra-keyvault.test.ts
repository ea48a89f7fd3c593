/**
 * Entra, the OIDC issuers, metadata/endpoints and Key Vault of the local Azure, driven only through the real
 * SDKs (@azure/identity, @azure/keyvault-secrets) and plain fetch.
 */
import { AzurePipelinesCredential, ClientAssertionCredential, ClientSecretCredential } from '@azure/identity';
import { randomBytes } from 'node:crypto';
import { ACR_RESOURCE, ARM_AUDIENCES, KEY_VAULT_RESOURCE, STORAGE_RESOURCE } from '../local-azure/emulator/context';
import { control, credential, loadEnv, secretClient } from './support/local-azure';

jest.setTimeout(60_000);

const env = loadEnv();
const identityOptions = { authorityHost: env.authorityHost, disableInstanceDiscovery: true, retryOptions: { maxRetries: 0 } };

interface OidcInfo {
  readonly requestUrl: string;
  readonly requestToken: string;
  readonly adoRequestUri: string;
  readonly adoAccessToken: string;
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

const noSlash = (s: string): string => s.replace(/\/+$/, '');
const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function oidcInfo(): Promise<OidcInfo> {
  const r = await control<OidcInfo>(env, 'GET', '/oidc');
  expect(r.status).toBe(200);
  return r.body;
}

/** What @actions/core's getIDToken does: GET the request URL plus `&audience=`, bearer = the request token. */
async function githubAssertion(info: OidcInfo, audience = 'api://AzureADTokenExchange'): Promise<string> {
  const r = await fetch(`${info.requestUrl}&audience=${encodeURIComponent(audience)}`, { headers: { authorization: `Bearer ${info.requestToken}` } });
  expect(r.status).toBe(200);
  return ((await r.json()) as { value: string }).value;
}

async function postToken(tenant: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${env.authorityHost}/${tenant}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('Entra client credentials', () => {
  test.each([
    ['ARM (local cloud)', ARM_AUDIENCES[0]],
    ['ARM (public default)', 'https://management.azure.com/'],
    ['Key Vault', KEY_VAULT_RESOURCE],
    ['Storage', STORAGE_RESOURCE],
    ['ACR', ACR_RESOURCE],
  ])('ClientSecretCredential gets a %s token whose aud is the resource', async (_name, resource) => {
    const token = await credential(env).getToken(`${noSlash(resource)}/.default`);
    const claims = claimsOf(token.token);
    expect(noSlash(String(claims['aud']))).toBe(noSlash(resource));
    expect(claims['iss']).toBe(`https://sts.windows.net/${env.tenantId.toLowerCase()}/`);
    expect(claims['tid']).toBe(env.tenantId.toLowerCase());
    expect(claims['appid']).toBe(env.clientId);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());
  });

  test('a wrong client secret fails with AADSTS7000215', async () => {
    const cred = new ClientSecretCredential(env.tenantId, env.clientId, 'not-the-secret', identityOptions);
    await expect(cred.getToken(`${KEY_VAULT_RESOURCE}/.default`)).rejects.toThrow(/AADSTS7000215/);
  });

  test('an unknown resource fails with AADSTS500011', async () => {
    await expect(credential(env).getToken('https://graph.example.invalid/.default')).rejects.toThrow(/AADSTS500011/);
  });

  test('token endpoint errors have Entra’s shape and codes', async () => {
    const base = { grant_type: 'client_credentials', client_id: env.clientId, client_secret: env.clientSecret, scope: `${KEY_VAULT_RESOURCE}/.default` };
    const wrongTenant = await postToken('11111111-2222-3333-4444-555555555555', base);
    expect(wrongTenant.status).toBe(400);
    expect(wrongTenant.body).toMatchObject({ error: 'invalid_request', error_codes: [90002] });
    expect(String(wrongTenant.body['error_description'])).toMatch(/^AADSTS90002: /);
    expect(wrongTenant.body['trace_id']).toEqual(expect.any(String));
    expect(wrongTenant.body['correlation_id']).toEqual(expect.any(String));

    const unknownClient = await postToken(env.tenantId, { ...base, client_id: '99999999-9999-9999-9999-999999999999' });
    expect(unknownClient.status).toBe(400);
    expect(unknownClient.body).toMatchObject({ error: 'unauthorized_client', error_codes: [700016] });

    const wrongSecret = await postToken(env.tenantId, { ...base, client_secret: 'nope' });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });

    const noDefault = await postToken(env.tenantId, { ...base, scope: KEY_VAULT_RESOURCE });
    expect(noDefault.body).toMatchObject({ error: 'invalid_scope', error_codes: [1002012] });
  });

  test('the discovery document points at the local authority', async () => {
    const r = await fetch(`${env.authorityHost}/${env.tenantId}/v2.0/.well-known/openid-configuration`);
    const doc = (await r.json()) as Record<string, unknown>;
    expect(doc['token_endpoint']).toBe(`${env.authorityHost}/${env.tenantId.toLowerCase()}/oauth2/v2.0/token`);
    expect(doc['issuer']).toBe(`${env.authorityHost}/${env.tenantId.toLowerCase()}/v2.0`);
    const jwks = (await (await fetch(String(doc['jwks_uri']))).json()) as { keys: Array<{ kid: string }> };
    const token = await credential(env).getToken(`${STORAGE_RESOURCE}/.default`);
    const kid = (JSON.parse(Buffer.from(token.token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid: string }).kid;
    expect(jwks.keys.map((k) => k.kid)).toContain(kid);
  });
});

describe('federated credentials (GitHub-style and Azure DevOps-style OIDC)', () => {
  let info: OidcInfo;
  beforeAll(async () => {
    info = await oidcInfo();
  });

  test('the GitHub-style endpoint refuses a missing or wrong request token', async () => {
    expect((await fetch(`${info.requestUrl}&audience=api://AzureADTokenExchange`)).status).toBe(401);
    expect((await fetch(info.requestUrl, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  test('the ID token carries the issuer, audience and subject Entra matches on', async () => {
    const claims = claimsOf(await githubAssertion(info, 'api://AzureADTokenExchangeUSGov'));
    expect(claims['iss']).toBe(`${env.authorityHost}/_oidc`);
    expect(claims['aud']).toBe('api://AzureADTokenExchangeUSGov');
    expect(claims['sub']).toBe('repo:local/acr-transfer:ref:refs/heads/main');
    const jwks = (await (await fetch(`${env.authorityHost}/_oidc/.well-known/jwks`)).json()) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(1);
  });

  test('ClientAssertionCredential fetches a fresh assertion for each token request, so expired assertions do not matter', async () => {
    const lifetime = (await control<{ idTokenLifetimeSeconds: number }>(env, 'GET', '/knobs')).body.idTokenLifetimeSeconds;
    await control(env, 'PATCH', '/knobs', { idTokenLifetimeSeconds: 2 });
    try {
      const assertions: string[] = [];
      const cred = new ClientAssertionCredential(
        env.tenantId,
        env.clientId,
        async () => {
          assertions.push(await githubAssertion(info));
          return assertions.at(-1)!;
        },
        identityOptions,
      );
      const first = await cred.getToken(`${ARM_AUDIENCES[0]}.default`);
      expect(claimsOf(first.token)['appidacr']).toBe('2');
      await new Promise((r) => setTimeout(r, 3000));
      // The first assertion has expired now: Entra refuses it (AADSTS700024)…
      const stale = assertions[0]!;
      const staleCred = new ClientAssertionCredential(env.tenantId, env.clientId, async () => stale, identityOptions);
      await expect(staleCred.getToken(`${KEY_VAULT_RESOURCE}/.default`)).rejects.toThrow(/AADSTS700024/);
      // …but the callback credential asks for a new one and gets a token for another resource.
      // (MSAL may call the callback more than once per request.)
      const before = assertions.length;
      const second = await cred.getToken(`${KEY_VAULT_RESOURCE}/.default`);
      expect(noSlash(String(claimsOf(second.token)['aud']))).toBe(KEY_VAULT_RESOURCE);
      expect(assertions.length).toBeGreaterThan(before);
      expect(assertions.slice(before)).not.toContain(stale);
    } finally {
      await control(env, 'PATCH', '/knobs', { idTokenLifetimeSeconds: lifetime });
    }
  });

  test('an assertion for another audience matches no federated credential (AADSTS70021)', async () => {
    const wrong = await githubAssertion(info, 'https://github.com/local');
    const cred = new ClientAssertionCredential(env.tenantId, env.clientId, async () => wrong, identityOptions);
    await expect(cred.getToken(`${ARM_AUDIENCES[0]}.default`)).rejects.toThrow(/AADSTS70021/);
  });

  test('an assertion with a forged signature fails signature validation (AADSTS50013)', async () => {
    const [h, p] = (await githubAssertion(info)).split('.');
    const forged = `${h}.${p}.${Buffer.from('not a signature').toString('base64url')}`;
    const cred = new ClientAssertionCredential(env.tenantId, env.clientId, async () => forged, identityOptions);
    await expect(cred.getToken(`${ARM_AUDIENCES[0]}.default`)).rejects.toThrow(/AADSTS50013/);
  });

  describe('AzurePipelinesCredential', () => {
    const saved = process.env['SYSTEM_OIDCREQUESTURI'];
    beforeAll(() => {
      process.env['SYSTEM_OIDCREQUESTURI'] = info.adoRequestUri;
    });
    afterAll(() => {
      if (saved === undefined) delete process.env['SYSTEM_OIDCREQUESTURI'];
      else process.env['SYSTEM_OIDCREQUESTURI'] = saved;
    });

    test('gets a token through SYSTEM_OIDCREQUESTURI and a service connection', async () => {
      const cred = new AzurePipelinesCredential(env.tenantId, env.clientId, 'conn-1234', info.adoAccessToken, identityOptions);
      const token = await cred.getToken('https://management.azure.com/.default');
      expect(claimsOf(token.token)['aud']).toBe('https://management.azure.com');
    });

    test('a wrong system access token is refused by the OIDC endpoint', async () => {
      const cred = new AzurePipelinesCredential(env.tenantId, env.clientId, 'conn-1234', 'wrong-token', identityOptions);
      await expect(cred.getToken('https://management.azure.com/.default')).rejects.toThrow(/oidcToken|401|TF400813/);
    });

    test('the ADO ID token names the service connection in its subject', async () => {
      const r = await fetch(`${info.adoRequestUri}?api-version=7.1&serviceConnectionId=conn-9`, {
        method: 'POST',
        headers: { authorization: `Bearer ${info.adoAccessToken}`, 'content-type': 'application/json' },
      });
      expect(r.status).toBe(200);
      const claims = claimsOf(((await r.json()) as { oidcToken: string }).oidcToken);
      expect(claims).toMatchObject({ sub: 'sc://local/acr-transfer/conn-9', aud: 'api://AzureADTokenExchange', iss: `${env.authorityHost}/_oidc` });
    });
  });
});

describe('metadata/endpoints', () => {
  test('api-version 2015-01-01 gives the object form that Azure Stack clients read', async () => {
    const r = await fetch(`${env.armEndpoint}/metadata/endpoints?api-version=2015-01-01`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { authentication: { loginEndpoint: string; audiences: string[] } };
    expect(doc.authentication).toEqual({ loginEndpoint: `${env.authorityHost}/`, audiences: [ARM_AUDIENCES[0]] });
    // A custom-cloud client builds its credential and scope from this document alone.
    const cred = new ClientSecretCredential(env.tenantId, env.clientId, env.clientSecret, {
      authorityHost: doc.authentication.loginEndpoint,
      disableInstanceDiscovery: true,
    });
    const token = await cred.getToken(`${doc.authentication.audiences[0]}.default`);
    expect(noSlash(String(claimsOf(token.token)['aud']))).toBe(noSlash(ARM_AUDIENCES[0]));
  });

  const expectLocalCloud = (
    cloud: { name: string; resourceManager: string; authentication: Record<string, unknown>; suffixes: Record<string, string> } | undefined,
  ): void => {
    expect(cloud).toMatchObject({
      name: 'LocalAzure',
      resourceManager: `${env.armEndpoint}/`,
      authentication: { audiences: [ARM_AUDIENCES[0]], tenant: 'common', identityProvider: 'AAD' },
      // The hosts of the cloud's vaults, storage accounts and registries: what clients trust with a token.
      suffixes: { storage: env.dnsSuffix, keyVaultDns: `vault.${env.dnsSuffix}`, acrLoginServer: `azurecr.${env.dnsSuffix}` },
    });
    expect(noSlash(String(cloud?.authentication['loginEndpoint']))).toBe(env.authorityHost);
  };
  type Cloud = { name: string; resourceManager: string; authentication: Record<string, unknown>; suffixes: Record<string, string> };

  test.each(['2019-05-01', '2020-06-01'])('api-version %s gives the array of clouds', async (version) => {
    const r = await fetch(`${env.armEndpoint}/metadata/endpoints?api-version=${version}`);
    const clouds = (await r.json()) as Cloud[];
    expect(clouds).toHaveLength(1);
    expectLocalCloud(clouds[0]);
  });

  test('api-version 2022-09-01 gives the one cloud, with its host suffixes', async () => {
    const r = await fetch(`${env.armEndpoint}/metadata/endpoints?api-version=2022-09-01`);
    expectLocalCloud((await r.json()) as Cloud);
    // Each data-plane host env.json names is under its suffix.
    expect(new URL(env.keyVaultUrl).hostname.endsWith(`.vault.${env.dnsSuffix}`)).toBe(true);
    expect(new URL(env.storage.source.blobEndpoint).hostname).toBe(`${env.storage.source.account}.blob.${env.dnsSuffix}`);
    expect(env.registries.source.loginServer.split(':')[0]).toBe(`${env.registries.source.name}.azurecr.${env.dnsSuffix}`);
  });

  test('a missing api-version is a 400', async () => {
    expect((await fetch(`${env.armEndpoint}/metadata/endpoints`)).status).toBe(400);
  });
});

describe('Key Vault secrets', () => {
  const client = secretClient(env);

  test('an unauthenticated request gets the challenge naming the tenant and the vault resource', async () => {
    const r = await fetch(`${env.keyVaultUrl}secrets/anything/?api%2Dversion=2025-07-01`);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe(`Bearer authorization="${env.authorityHost}/${env.tenantId}", resource="${KEY_VAULT_RESOURCE}"`);
    // The SDK sends a token only to a vault under the challenge's resource; this one is.
    expect(new URL(env.keyVaultUrl).hostname.endsWith(`.${new URL(KEY_VAULT_RESOURCE).hostname}`)).toBe(true);
  });

  test('the vault answers at its own host name only', async () => {
    const r = await fetch(`${env.armEndpoint}/secrets/anything/?api-version=7.5`);
    expect(r.status).toBe(404);
  });

  test('a token for another audience is refused', async () => {
    const storage = await credential(env).getToken(`${STORAGE_RESOURCE}/.default`);
    const r = await fetch(`${env.keyVaultUrl}secrets/anything/?api-version=7.5`, { headers: { authorization: `Bearer ${storage.token}` } });
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/wrong audience or resource 'https:\/\/storage\.azure\.com'/);
  });

  test('setSecret makes versions; getSecret reads the latest or a given one', async () => {
    const name = unique('sas');
    const v1 = await client.setSecret(name, '?sv=1', { contentType: 'text/plain', tags: { side: 'source' } });
    const v2 = await client.setSecret(name, '?sv=2');
    expect(v1.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(v2.properties.version).not.toBe(v1.properties.version);
    expect((await client.getSecret(name)).value).toBe('?sv=2');
    const old = await client.getSecret(name, { version: v1.properties.version! });
    expect(old.value).toBe('?sv=1');
    expect(old.properties.contentType).toBe('text/plain');
    expect(old.properties.tags).toEqual({ side: 'source' });
    expect(old.properties.recoveryLevel).toBe('Recoverable+Purgeable');
    const versions: string[] = [];
    for await (const p of client.listPropertiesOfSecretVersions(name)) versions.push(p.version!);
    expect(versions.sort()).toEqual([v1.properties.version, v2.properties.version].sort());
    const names: string[] = [];
    for await (const p of client.listPropertiesOfSecrets()) names.push(p.name);
    expect(names).toContain(name);
  });

  test('a missing secret or version is a 404 SecretNotFound', async () => {
    await expect(client.getSecret(unique('missing'))).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
    const name = unique('one');
    await client.setSecret(name, 'x');
    await expect(client.getSecret(name, { version: '0123456789abcdef0123456789abcdef' })).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
  });

  test('an invalid secret name is a 400', async () => {
    await expect(client.setSecret('bad_name', 'x')).rejects.toMatchObject({ statusCode: 400 });
  });

  test('a deleted secret is gone, blocks its name until purged, and can be purged', async () => {
    const name = unique('gone');
    await client.setSecret(name, 'x');
    await (await client.beginDeleteSecret(name, { intervalInMs: 10 })).pollUntilDone();
    await expect(client.getSecret(name)).rejects.toMatchObject({ statusCode: 404 });
    await expect(client.setSecret(name, 'y')).rejects.toMatchObject({ statusCode: 409 });
    await client.purgeDeletedSecret(name);
    expect((await client.setSecret(name, 'z')).value).toBe('z');
  });

  test('a disabled secret cannot be read', async () => {
    const name = unique('off');
    const s = await client.setSecret(name, 'x');
    await client.updateSecretProperties(name, s.properties.version!, { enabled: false });
    await expect(client.getSecret(name)).rejects.toMatchObject({ statusCode: 403 });
  });
});
