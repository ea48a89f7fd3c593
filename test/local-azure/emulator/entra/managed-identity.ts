/**
 * A machine's managed identity endpoint in the `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` style (App Service, Azure
 * Functions; https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference), which
 * is what @azure/identity's ManagedIdentityCredential (MSAL Node's App Service source) calls when both variables are
 * set: `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<resource>[&client_id=|principal_id=|mi_res_id=]` with
 * the `X-IDENTITY-HEADER` secret. Unlike IMDS (169.254.169.254, which the tests' egress guard must keep refusing),
 * it is reachable on loopback. The machine has a system-assigned identity and one user-assigned identity; each gets
 * Entra access tokens of its own principal (with `xms_mirid`, as managed identities' tokens carry), for the same
 * resources as the service principal. `GET {controlUrl}/managed-identity` gives the variables and the identities.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Emulator } from '../context';
import { headerValue, HttpError, sendJson } from '../http';
import type { Request } from '../router';
import { type AccessTokens, guidFrom, knownResources, type Principal, sameResource, secretsEqual } from './tokens';

const API_VERSION = '2019-08-01';

interface Identity extends Principal {
  readonly mirid: string;
}

/** App Service's error body, which MSAL reads (`message`, `correlationId`). */
export function identityError(status: number, message: string): HttpError {
  return new HttpError(status, { statusCode: status, message, correlationId: randomUUID() });
}

export class ManagedIdentityEndpoint {
  readonly secret: string;

  constructor(
    private readonly emu: Emulator,
    private readonly tokens: AccessTokens,
  ) {
    this.secret = emu.disk.kept('identity-header', () => randomBytes(24).toString('base64url'));
  }

  private identity(kind: 'system' | 'user'): Identity {
    const { subscriptionId, resourceGroup } = this.emu.config;
    const rg = `/subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}/providers`;
    const mirid =
      kind === 'system' ? `${rg}/Microsoft.Compute/virtualMachines/runner` : `${rg}/Microsoft.ManagedIdentity/userAssignedIdentities/runner-identity`;
    return { appid: guidFrom(`managed-identity-client:${mirid}`), oid: guidFrom(`managed-identity-principal:${mirid}`), mirid };
  }

  /** The identity a request names (`client_id`, `principal_id`/`object_id`, `mi_res_id`), or the system-assigned one. */
  private chosen(q: URLSearchParams): Identity {
    const user = this.identity('user');
    const named: [string, string][] = [
      ['client_id', user.appid],
      ['principal_id', user.oid],
      ['object_id', user.oid],
      ['mi_res_id', user.mirid],
    ];
    const given = named.filter(([p]) => q.has(p));
    if (given.length === 0) return this.identity('system');
    if (given.length > 1) throw identityError(400, 'Only one of client_id, principal_id, object_id or mi_res_id may be given.');
    const [param, expected] = given[0]!;
    if ((q.get(param) ?? '').toLowerCase() !== expected.toLowerCase())
      throw identityError(
        400,
        `Unable to load the proper Managed Identity: no user-assigned identity with ${param} '${q.get(param) ?? ''}' is assigned to this machine.`,
      );
    return user;
  }

  token(req: Request, res: ServerResponse): void {
    const presented = headerValue(req.headers['x-identity-header']);
    if (!presented || !secretsEqual(presented, this.secret)) throw identityError(401, 'The X-IDENTITY-HEADER header is missing or wrong.');
    const q = req.url.searchParams;
    if (q.get('api-version') !== API_VERSION) throw identityError(400, `The api-version '${q.get('api-version') ?? ''}' is not supported; use ${API_VERSION}.`);
    const resource = q.get('resource');
    if (!resource) throw identityError(400, 'The resource query parameter is required.');
    if (!knownResources().some((r) => sameResource(r, resource))) throw identityError(400, `The resource '${resource}' is not known to this cloud.`);
    const who = this.chosen(q);
    const { token, expiresOn } = this.tokens.issue(resource, who, '2', false);
    sendJson(res, 200, {
      access_token: token,
      expires_on: String(expiresOn),
      resource,
      token_type: 'Bearer',
      client_id: who.appid,
    });
  }

  /** `GET {controlUrl}/managed-identity`: what a test sets (IDENTITY_ENDPOINT, IDENTITY_HEADER) and who it signs in as. */
  controlView(): Record<string, unknown> {
    const view = (i: Identity): Record<string, string> => ({ clientId: i.appid, principalId: i.oid, resourceId: i.mirid });
    return {
      identityEndpoint: `${this.emu.baseUrl}/_msi/token`,
      identityHeader: this.secret,
      systemAssigned: view(this.identity('system')),
      userAssigned: view(this.identity('user')),
    };
  }
}
