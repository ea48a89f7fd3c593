/** The service connection → cloud and credential mapping of the ADO task, from plain data (no task-lib, no network). */
import type { HttpClient, PipelineRequest } from '@azure/core-rest-pipeline';
import { createHttpHeaders } from '@azure/core-rest-pipeline';
import { AzurePipelinesCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { connectionCloud, connectionCredential, type CredentialOptions } from '../../ado-task/credential';
import type { ServiceConnection } from '../../ado-task/service-connection';
import { ConfigError } from '../../core/errors';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** Answers only what the test allows; anything else is a test failure (the mapping must not go to the network needlessly). */
function http(answers: Record<string, unknown> = {}): HttpClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    sendRequest(request: PipelineRequest) {
      calls.push(request.url);
      const hit = Object.entries(answers).find(([u]) => request.url.startsWith(u));
      if (!hit) throw new Error(`unexpected request ${request.url}`);
      return Promise.resolve({ request, status: 200, headers: createHttpHeaders(), bodyAsText: JSON.stringify(hit[1]) });
    },
  };
}

const opts = (h: HttpClient = http(), env: Record<string, string> = {}): CredentialOptions => ({ httpClient: h, env });
const sp = (over: Partial<ServiceConnection> = {}): ServiceConnection => ({
  id: 'conn',
  scheme: 'ServicePrincipal',
  tenantId: TENANT,
  clientId: CLIENT,
  servicePrincipalKey: 'k',
  ...over,
});

describe('connectionCloud', () => {
  it('fills a known cloud from its table when the connection names no authority', async () => {
    expect(await connectionCloud(sp({ environment: 'AzureCloud', url: 'https://management.azure.com/' }), opts())).toEqual({
      armEndpoint: 'https://management.azure.com',
      authorityHost: 'https://login.microsoftonline.com',
      disableInstanceDiscovery: false,
    });
    expect(await connectionCloud(sp({ environment: 'AzureChinaCloud', url: 'https://management.chinacloudapi.cn/' }), opts())).toMatchObject({
      authorityHost: 'https://login.chinacloudapi.cn',
      disableInstanceDiscovery: true,
    });
    // No URL: the known cloud's ARM endpoint.
    expect((await connectionCloud(sp({ environment: 'AzureUSGovernment' }), opts())).armEndpoint).toBe('https://management.usgovcloudapi.net');
  });

  it("takes the connection's own authority and audience without asking the network", async () => {
    const h = http();
    const cloud = await connectionCloud(
      sp({
        environment: 'AzureStack',
        url: 'https://management.region.stack.example/',
        authority: 'https://login.stack.example/',
        armAudience: 'https://management.stack.example/',
      }),
      opts(h),
    );
    expect(cloud).toEqual({
      armEndpoint: 'https://management.region.stack.example',
      armAudience: 'https://management.stack.example/',
      authorityHost: 'https://login.stack.example',
      disableInstanceDiscovery: true,
    });
    expect(h.calls).toEqual([]);
  });

  it('reads metadata/endpoints for Azure Stack when the connection lacks authority or audience (Entra, not ADFS)', async () => {
    const arm = 'https://management.region.stack.example';
    const h = http({
      [`${arm}/metadata/endpoints`]: {
        authentication: { loginEndpoint: 'https://login.microsoftonline.com/', audiences: ['https://management.stackentra.example/abc'] },
      },
    });
    const cloud = await connectionCloud(sp({ environment: 'AzureStack', url: `${arm}/` }), opts(h));
    expect(cloud).toEqual({
      armEndpoint: arm,
      armAudience: 'https://management.stackentra.example/abc',
      authorityHost: 'https://login.microsoftonline.com',
      disableInstanceDiscovery: false,
    });
    expect(h.calls).toEqual([`${arm}/metadata/endpoints?api-version=2022-09-01`]);
  });

  it('refuses an Azure Stack connection without an ARM URL', async () => {
    await expect(connectionCloud(sp({ environment: 'AzureStack' }), opts())).rejects.toThrow(ConfigError);
  });
});

describe('connectionCredential', () => {
  const cloud = { armEndpoint: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com', disableInstanceDiscovery: false };

  it('builds the credential of each scheme', () => {
    expect(connectionCredential(sp(), cloud, opts()).credential).toBeInstanceOf(ClientSecretCredential);
    expect(connectionCredential(sp({ scheme: 'ManagedServiceIdentity' }), cloud, opts()).credential).toBeInstanceOf(ManagedIdentityCredential);
    // AzurePipelinesCredential reads SYSTEM_OIDCREQUESTURI itself.
    process.env['SYSTEM_OIDCREQUESTURI'] = 'https://dev.azure.com/org/_apis/oidctoken';
    try {
      const wif = sp({ scheme: 'WorkloadIdentityFederation', systemAccessToken: 't' });
      expect(connectionCredential(wif, cloud, opts(http(), { SYSTEM_OIDCREQUESTURI: 'https://dev.azure.com/org/_apis/oidctoken' })).credential).toBeInstanceOf(
        AzurePipelinesCredential,
      );
    } finally {
      delete process.env['SYSTEM_OIDCREQUESTURI'];
    }
  });

  it('names exactly what a workload identity federation job is missing', () => {
    const wif = sp({ scheme: 'WorkloadIdentityFederation' });
    expect(() => connectionCredential(wif, cloud, opts(http(), { SYSTEM_OIDCREQUESTURI: 'https://x/oidc' }))).toThrow(
      /which needs System\.AccessToken, and this job does not have it: map/,
    );
    expect(() => connectionCredential({ ...wif, systemAccessToken: 't' }, cloud, opts())).toThrow(
      /which needs System\.OidcRequestUri, and this job does not have it/,
    );
  });

  it('says which field of the connection is missing', () => {
    expect(() => connectionCredential(sp({ authenticationType: 'spnCertificate' }), cloud, opts())).toThrow(
      "Service connection 'conn' (ServicePrincipal) has no certificate (servicePrincipalCertificate): edit the connection, or recreate it",
    );
  });
});
