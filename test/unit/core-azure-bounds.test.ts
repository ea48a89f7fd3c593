/**
 * The boundary of every request: its own time limit and the run's signal (request-bounds.ts), what is in flight when
 * the run stops (budget.ts), one fresh sign-in after a refused token (sign-in.ts), and the hosts that may get a token
 * (hosts.ts), through the real ARM transport, registry client and createServices over fakes.
 */
import type { PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import { createHttpHeaders } from '@azure/core-rest-pipeline';
import { AcrDataPlaneFactory } from '../../core/azure/acr';
import { ArmPipelinesClient } from '../../core/azure/arm/pipelines';
import { ArmTransport } from '../../core/azure/arm/transport';
import { BlobCalls } from '../../core/azure/blob-calls';
import { KNOWN_CLOUDS } from '../../core/azure/cloud';
import { checkHost, checkInputHosts, isCloudHost } from '../../core/azure/hosts';
import { retrySdkCall } from '../../core/azure/http-retry';
import { boundedAttempt, RequestTimeoutError } from '../../core/azure/request-bounds';
import { createServices } from '../../core/azure/services';
import { SignInSession } from '../../core/azure/sign-in';
import { InFlight, runBudget } from '../../core/budget';
import { AzureRequestError, CancelledError, ConfigError } from '../../core/errors';
import type { Host } from '../../core/host';
import { parseSettings } from '../../core/settings';
import { FakeClock, FakeCredential, FakeHttp } from './core-azure-fakes';

const SUB = '00000000-0000-0000-0000-000000000001';
const REG_ID = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/srcreg`;
const reg = { subscriptionId: SUB, resourceGroup: 'rg', name: 'srcreg', resourceId: REG_ID };
const registryBody = { id: REG_ID, name: 'srcreg', sku: { name: 'Premium' }, properties: { loginServer: 'srcreg.azurecr.io' } };

/** An HttpClient whose first `hang` requests never answer (and ignore their signal), then answers `reply`. */
class HangingHttp {
  calls = 0;
  constructor(
    private readonly hang: number,
    private readonly reply: { status: number; body: unknown },
  ) {}
  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    this.calls++;
    if (this.calls <= this.hang) return new Promise<PipelineResponse>(() => undefined);
    return { request, status: this.reply.status, headers: createHttpHeaders({}), bodyAsText: JSON.stringify(this.reply.body) };
  }
}

describe('boundedAttempt', () => {
  it('gives up after its own time limit even when the call ignores its signal: a retryable time-out', async () => {
    const started = Date.now();
    const e = await boundedAttempt({ timeoutMs: 50 }, 'GET x', () => new Promise(() => undefined)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RequestTimeoutError);
    expect(e).toMatchObject({ code: 'ETIMEDOUT', message: 'GET x: no answer within 0 s' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("stops at once with the run's own reason when the run's signal aborts (a time-out naming what was in flight)", async () => {
    const run = new AbortController();
    let seen: AbortSignal | undefined;
    const attempt = boundedAttempt({ signal: run.signal, timeoutMs: 60_000 }, 'GET x', (s) => {
      seen = s;
      return new Promise(() => undefined);
    });
    run.abort(new CancelledError('the operation timed out', 'timeout', ['GET x']));
    await expect(attempt).rejects.toMatchObject({ reason: 'timeout', inFlight: ['GET x'] });
    expect(seen?.aborted).toBe(true);
  });

  it('passes results and the call’s own errors through', async () => {
    await expect(boundedAttempt({ timeoutMs: 1000 }, 'x', async () => 42)).resolves.toBe(42);
    await expect(boundedAttempt({ timeoutMs: 1000 }, 'x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});

describe('InFlight', () => {
  it('lists what is outstanding, with notes, until it is done', () => {
    const f = new InFlight();
    const a = f.start('GET a');
    const b = f.start('PUT b');
    a.note('retrying after HTTP 500');
    expect(f.list()).toEqual(['GET a (retrying after HTTP 500)', 'PUT b']);
    a.done();
    b.done();
    expect(f.list()).toEqual([]);
  });
});

function transport(
  http: { sendRequest(r: PipelineRequest): Promise<PipelineResponse> },
  extra: Partial<ConstructorParameters<typeof ArmTransport>[0]> = {},
): ArmTransport {
  return new ArmTransport({
    endpoint: 'https://arm.test',
    credential: new FakeCredential(),
    scope: 'https://management.azure.com/.default',
    httpClient: http,
    clock: new FakeClock(),
    retry: { attempts: 3, minDelayMs: 10, maxDelayMs: 10 },
    ...extra,
  });
}

describe('ARM requests are bounded', () => {
  it('an answer held back is abandoned after the per-request limit and tried again', async () => {
    const http = new HangingHttp(1, { status: 200, body: registryBody });
    const arm = new ArmPipelinesClient(transport(http, { timeoutMs: 50 }), { apiVersion: '2025-06-01-preview' });
    expect((await arm.getRegistry(reg)).loginServer).toBe('srcreg.azurecr.io');
    expect(http.calls).toBe(2);
  });

  it('names the request in flight while it is outstanding, and not after', async () => {
    const inFlight = new InFlight();
    const run = new AbortController();
    const http = new HangingHttp(10, { status: 200, body: registryBody });
    const arm = new ArmPipelinesClient(transport(http, { inFlight, signal: run.signal }), { apiVersion: '2025-06-01-preview' });
    const pending = arm.getRegistry(reg).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    expect(inFlight.list()).toEqual(["GET registry 'srcreg'"]);
    run.abort(new CancelledError('timed out', 'timeout', inFlight.list()));
    expect(await pending).toMatchObject({ name: 'CancelledError', reason: 'timeout' });
    expect(inFlight.list()).toEqual([]);
  });

  it('refuses a path with a . or .. segment before any request', () => {
    const t = transport(new FakeHttp());
    expect(() => t.url(`/subscriptions/${SUB}/resourceGroups/../providers/x`, 'v')).toThrow(ConfigError);
    expect(() => t.url(`/subscriptions/${SUB}/resourceGroups/%2E%2E/providers/x`, 'v')).toThrow(ConfigError);
  });
});

describe('a token ARM stops accepting mid-run', () => {
  const refused = {
    status: 401,
    body: { error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' } },
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  };

  /** Each sign-in is a credential of its own, whose tokens say which sign-in made them. */
  function session(): { s: SignInSession; made: string[][]; logs: string[] } {
    const made: string[][] = [];
    const logs: string[] = [];
    const s = new SignInSession({
      make: () => {
        const asked: string[] = [];
        const n = made.push(asked);
        return {
          getToken: async (scopes: string | string[]) => {
            asked.push([scopes].flat().join(' '));
            return { token: `token-of-sign-in-${n}`, expiresOnTimestamp: Date.now() + 3600_000 };
          },
        };
      },
      description: 'auth-type service-principal',
      log: (m) => logs.push(m),
    });
    return { s, made, logs };
  }

  it('gets one fresh sign-in (a new credential, a new token) and the request is sent again', async () => {
    const { s, made, logs } = session();
    const http = new FakeHttp().on('GET', `https://arm.test${REG_ID}`, refused, { status: 200, body: registryBody });
    const arm = new ArmPipelinesClient(transport(http, { credential: s, signIn: s }), { apiVersion: '2025-06-01-preview' });
    expect((await arm.getRegistry(reg)).loginServer).toBe('srcreg.azurecr.io');
    expect(made).toEqual([['https://management.azure.com/.default'], ['https://management.azure.com/.default']]);
    expect(http.calls.map((c) => c.headers['authorization'])).toEqual(['Bearer token-of-sign-in-1', 'Bearer token-of-sign-in-2']);
    expect(logs).toEqual([
      expect.stringMatching(/^Azure refused the access token \(GET registry 'srcreg': HTTP 401 InvalidAuthenticationToken\): signing in again/),
    ]);
  });

  it('a second refusal fails in one line naming the sign-in and the fix', async () => {
    const { s, made } = session();
    const http = new FakeHttp().on('GET', `https://arm.test${REG_ID}`, refused);
    const arm = new ArmPipelinesClient(transport(http, { credential: s, signIn: s }), { apiVersion: '2025-06-01-preview' });
    const e = (await arm.getRegistry(reg).catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toBeInstanceOf(AzureRequestError);
    expect(e.message).toMatch(
      /^GET registry 'srcreg' failed: HTTP 401 InvalidAuthenticationToken: The access token is invalid\.\. Signed in again \(auth-type service-principal\) after Azure refused the access token, and the new token was refused too: check/,
    );
    expect(e.message).not.toMatch(/\n/);
    expect(made).toHaveLength(2);
    expect(http.calls).toHaveLength(2);
  });

  it('a wrong audience is not a forgotten token: no second sign-in', async () => {
    const { s, made } = session();
    const http = new FakeHttp().on('GET', `https://arm.test${REG_ID}`, {
      status: 401,
      body: { error: { code: 'InvalidAuthenticationTokenAudience', message: 'wrong audience' } },
    });
    const arm = new ArmPipelinesClient(transport(http, { credential: s, signIn: s }), { apiVersion: '2025-06-01-preview' });
    await expect(arm.getRegistry(reg)).rejects.toMatchObject({ status: 401, code: 'InvalidAuthenticationTokenAudience' });
    expect(made).toHaveLength(1);
  });
});

describe('a token Key Vault or storage stops accepting (SDK calls)', () => {
  /** What the SDKs throw for a 401: a RestError with the service's code. */
  const refused = (code: string): Error & { statusCode: number; code: string } => Object.assign(new Error(`${code}: token refused`), { statusCode: 401, code });
  const renewal = (): { generation: number; description: string; renewed: string[]; renew(seen: number, why: string): void } => {
    const r = {
      generation: 0,
      description: 'auth-type oidc',
      renewed: [] as string[],
      renew(seen: number, why: string) {
        if (seen === r.generation) {
          r.renewed.push(why);
          r.generation++;
        }
      },
    };
    return r;
  };

  it('signs in again once and repeats the call', async () => {
    const signIn = renewal();
    let calls = 0;
    const value = await retrySdkCall(
      "read secret 's' from Key Vault https://kv1.vault.azure.net",
      async () => {
        if (calls++ === 0) throw refused('Unauthorized');
        return 'ok';
      },
      { clock: new FakeClock(), signIn },
      { timeoutMs: 1000 },
    );
    expect(value).toBe('ok');
    expect(signIn.renewed).toEqual(["read secret 's' from Key Vault https://kv1.vault.azure.net: HTTP 401 Unauthorized"]);
  });

  it('a second refusal is one line naming the sign-in', async () => {
    const signIn = renewal();
    const e = await retrySdkCall(
      "get properties of blob 'b'",
      async () => {
        throw refused('InvalidAuthenticationInfo');
      },
      { clock: new FakeClock(), signIn },
      { timeoutMs: 1000 },
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AzureRequestError);
    expect((e as Error).message).toMatch(/^get properties of blob 'b' failed: HTTP 401 InvalidAuthenticationInfo: .*Signed in again \(auth-type oidc\)/);
    expect(signIn.renewed).toHaveLength(1);
  });
});

describe('hosts that may get a token', () => {
  const rows: readonly [string, 'storage' | 'keyVault' | 'registry', string, boolean][] = [
    ['a public storage account', 'storage', 'acct.blob.core.windows.net', true],
    ['a DNS-zone storage endpoint', 'storage', 'acct.z12.blob.storage.azure.net', true],
    ['another service of the account', 'storage', 'acct.queue.core.windows.net', false],
    ['the suffix alone', 'storage', 'blob.core.windows.net', false],
    ['a look-alike domain', 'storage', 'acct.blob.core.windows.net.evil.example', false],
    ['a public vault', 'keyVault', 'kv1.vault.azure.net', true],
    ['a vault of another cloud', 'keyVault', 'kv1.vault.azure.cn', false],
    ['any host', 'keyVault', 'evil.example', false],
    ['an IP address', 'keyVault', '127.0.0.1', false],
    ['a public registry', 'registry', 'myreg.azurecr.io', true],
    ['a US Gov registry in the public cloud', 'registry', 'myreg.azurecr.us', false],
  ];
  it.each(rows)('%s', (_name, kind, host, ok) => {
    expect(isCloudHost(kind, host, KNOWN_CLOUDS.AzureCloud.suffixes)).toBe(ok);
  });

  it('an input naming a host outside the cloud is one line, naming the input and what the cloud allows', () => {
    const settings = parseSettings({
      get: (n) =>
        (
          ({
            operation: 'check',
            'export-storage-uri': 'https://acct.blob.core.windows.net/transfer',
            'export-sas-secret-uri': 'https://evil.example/secrets/x',
          }) as Record<string, string>
        )[n],
    });
    expect(() => checkInputHosts(settings, KNOWN_CLOUDS.AzureCloud.suffixes, 'AzureCloud')).toThrow(
      new ConfigError(
        "Input 'export-sas-secret-uri' is 'https://evil.example/secrets/x': its host is not a Key Vault of the cloud AzureCloud (<vault>.vault.azure.net), and it gets no request or token",
      ),
    );
  });

  it('a login server ARM returns outside the cloud gets no request and no token', () => {
    const http = new FakeHttp();
    const cred = new FakeCredential();
    const factory = new AcrDataPlaneFactory({
      credential: cred,
      scopes: ['https://management.azure.com/.default'],
      httpClient: http,
      mask: () => undefined,
      checkRegistryHost: (ls) => {
        if (!isCloudHost('registry', ls, KNOWN_CLOUDS.AzureCloud.suffixes)) throw new AzureRequestError(`use ${ls}`, 0, 'UntrustedHost', 'not a registry');
      },
    });
    expect(() => factory.forLoginServer('attacker.example')).toThrow(/UntrustedHost/);
    expect(http.calls).toHaveLength(0);
    expect(cred.scopes).toHaveLength(0);
  });

  it("storage clients refuse a container outside the cloud's storage hosts, and a blob name with a .. segment", () => {
    const cred = new FakeCredential();
    const calls = new BlobCalls({
      credential: cred,
      scope: 'https://storage.azure.com/.default',
      checkStorageHost: (url) => checkHost('storage', url, KNOWN_CLOUDS.AzureCloud.suffixes, 'AzureCloud'),
    });
    expect(() => calls.container('https://attacker.example/transfer')).toThrow(
      /UntrustedHost: 'attacker\.example' is not a blob endpoint of the cloud AzureCloud/,
    );
    expect(() => calls.blobClient('https://acct.blob.core.windows.net/transfer', 'a/../../other/b')).toThrow(ConfigError);
    expect(calls.blobClient('https://acct.blob.core.windows.net/transfer', 'a/b').url).toBe('https://acct.blob.core.windows.net/transfer/a/b');
    expect(cred.scopes).toEqual([]);
  });

  it('createServices refuses a secret URI of another host before any request or sign-in', async () => {
    const inputs: Record<string, string> = {
      operation: 'check',
      'auth-type': 'service-principal',
      'client-id': SUB,
      'tenant-id': SUB,
      'client-secret': 'shh',
      'source-registry': REG_ID,
      'export-storage-uri': 'https://acct.blob.core.windows.net/transfer',
      'export-sas-secret-uri': 'https://127.0.0.1:8443/secrets/acrexportsas',
    };
    const settings = parseSettings({ get: (n) => inputs[n] });
    const http = new FakeHttp();
    const host: Host = {
      logger: { info: () => undefined, warning: () => undefined, debug: () => undefined, group: (_n, fn) => fn(), progress: () => undefined },
      budget: runBudget({ signal: new AbortController().signal, timeoutMinutes: 60, clock: new FakeClock() }),
      mask: () => undefined,
    };
    await expect(createServices(settings, host, { httpClient: http })).rejects.toThrow(
      /^Input 'export-sas-secret-uri' is 'https:\/\/127\.0\.0\.1:8443\/secrets\/acrexportsas': its host is not a Key Vault of the cloud AzureCloud/,
    );
    expect(http.calls).toHaveLength(0);
  });
});
