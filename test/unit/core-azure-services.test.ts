/**
 * createServices end to end over a fake transport: settings → cloud discovery → credential (auto, said in the log)
 * → ARM calls with the discovered audience; and the host's own credential taking precedence.
 */
import { runBudget } from '../../core/budget';
import { createServices } from '../../core/azure/services';
import type { Host } from '../../core/host';
import { parseSettings } from '../../core/settings';
import { FakeClock, FakeCredential, FakeHttp, jwt } from './core-azure-fakes';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = '99999999-8888-7777-6666-555555555555';
const SUB = '00000000-0000-0000-0000-000000000001';
const REG = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/srcreg`;

function host(extra: Partial<Host> = {}): Host & { logs: string[]; masked: string[] } {
  const logs: string[] = [];
  const masked: string[] = [];
  return {
    logs,
    masked,
    logger: { info: (m) => logs.push(m), warning: (m) => logs.push(m), debug: () => undefined, group: (_n, fn) => fn(), progress: () => undefined },
    budget: runBudget({ signal: new AbortController().signal, timeoutMinutes: 60, clock: new FakeClock() }),
    mask: (s) => masked.push(s),
    ...extra,
  };
}

const registry = { status: 200, body: { id: REG, name: 'srcreg', sku: { name: 'Premium' }, properties: { loginServer: 'srcreg.azurecr.stack.test' } } };

test('auto sign-in with a secret against a cloud discovered from resource-manager-endpoint', async () => {
  const inputs: Record<string, string> = {
    operation: 'check',
    'client-id': CLIENT,
    'tenant-id': TENANT,
    'client-secret': 'shh',
    'resource-manager-endpoint': 'https://arm.stack.test',
    'source-registry': REG,
  };
  const settings = parseSettings({ get: (n) => inputs[n] });
  const http = new FakeHttp()
    .on('GET', 'https://arm.stack.test/metadata/endpoints', {
      status: 200,
      body: { authentication: { loginEndpoint: 'https://login.stack.test/', audiences: ['https://management.stack.test/'] } },
    })
    .on('GET', /openid-configuration/, {
      status: 200,
      body: {
        token_endpoint: `https://login.stack.test/${TENANT}/oauth2/v2.0/token`,
        issuer: `https://login.stack.test/${TENANT}/v2.0`,
        authorization_endpoint: `https://login.stack.test/${TENANT}/oauth2/v2.0/authorize`,
        jwks_uri: `https://login.stack.test/${TENANT}/discovery/v2.0/keys`,
        end_session_endpoint: `https://login.stack.test/${TENANT}/oauth2/v2.0/logout`,
      },
    })
    .on('POST', /oauth2\/v2\.0\/token/, (r) => ({
      status: 200,
      body: { token_type: 'Bearer', expires_in: 3599, access_token: jwt({ scope: new URLSearchParams(r.body ?? '').get('scope') }) },
    }))
    .on('GET', `https://arm.stack.test${REG}`, registry);
  const h = host();
  const { services, cloud, auth } = await createServices(settings, h, { httpClient: http, authEnvironment: { env: {}, onPath: () => true } });
  expect(auth.kind).toBe('service-principal');
  expect(h.logs.join('\n')).toMatch(/Azure sign-in: auto: client-id, tenant-id and a client secret given; ARM https:\/\/arm\.stack\.test/);
  expect(cloud).toMatchObject({ name: 'custom', armScope: 'https://management.stack.test/.default', authorityHost: 'https://login.stack.test' });
  expect((await services.arm.getRegistry(settings.source!)).loginServer).toBe('srcreg.azurecr.stack.test');
  const tokenRequest = http.to('/oauth2/v2.0/token')[0]!;
  expect(tokenRequest.url.startsWith(`https://login.stack.test/${TENANT}/`)).toBe(true);
  expect(new URLSearchParams(tokenRequest.body ?? '').get('scope')).toBe('https://management.stack.test/.default');
  // The ARM token went through host.mask before use.
  const bearer = http.to(REG)[0]?.headers['authorization']?.replace('Bearer ', '');
  expect(h.masked).toContain(bearer);
});

test('the host’s credential and ARM endpoint are used when the host brings them', async () => {
  const inputs: Record<string, string> = { operation: 'check', 'source-registry': REG };
  const settings = parseSettings({ get: (n) => inputs[n] });
  const cred = new FakeCredential();
  const http = new FakeHttp().on('GET', `https://management.usgovcloudapi.net${REG}`, registry);
  const { services, cloud, auth } = await createServices(
    settings,
    host({ credential: { credential: cred, armEndpoint: 'https://management.usgovcloudapi.net/' } }),
    { httpClient: http },
  );
  expect(auth.kind).toBe('host');
  expect(cloud.name).toBe('AzureUSGovernment');
  // One sign-in before anything else (createServices), then the ARM call: both for the connection's cloud.
  expect(cred.scopes).toEqual(['https://management.usgovcloudapi.net/.default']);
  await services.arm.getRegistry(settings.source!);
  expect(cred.scopes).toEqual(['https://management.usgovcloudapi.net/.default', 'https://management.usgovcloudapi.net/.default']);
});
