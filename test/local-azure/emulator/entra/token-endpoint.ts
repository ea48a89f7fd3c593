/**
 * Entra's token endpoint (`POST /{tenant}/oauth2/v2.0/token`), client credentials only, as MSAL calls it
 * (docs/local-azure.md#msal-instance-discovery): the client authenticates with its secret, with an assertion signed by
 * a certificate registered on the app (certificates.ts) or with a federated assertion from one of the OIDC issuers
 * (oidc.ts), and gets an access token for one resource.
 */
import type { ServerResponse } from 'node:http';
import type { Emulator } from '../context';
import { type HttpError, readForm, sendJson } from '../http';
import { type DecodedJwt, decodeJwt, nowSeconds, verifyJwt } from '../jwt';
import type { Request } from '../router';
import { AppCertificates } from './certificates';
import { FEDERATION_AUDIENCES, type OidcIssuer } from './oidc';
import { entraError, tenantKind, tenantNotFound } from './tenants';
import { type AccessTokens, knownResources, NBF_SKEW_SECONDS, sameResource, secretsEqual } from './tokens';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

/** .NET's round-trip format with 7 fractional digits, as Entra prints times in AADSTS700024. */
function dotnetRoundTrip(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/Z$/, '0000Z');
}

export class TokenEndpoint {
  constructor(
    private readonly emu: Emulator,
    private readonly tokens: AccessTokens,
    private readonly oidc: OidcIssuer,
    private readonly certificates: AppCertificates,
  ) {}

  private error(req: Request, status: number, error: string, code: number, description: string): HttpError {
    return entraError(this.emu, req, status, error, code, description);
  }

  private missingParameter(req: Request, name: string): HttpError {
    return this.error(req, 400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
  }

  /** The one resource of a client-credentials scope list (`<resource>/.default`), or the Entra error. */
  private resourceOf(req: Request, scope: string): string {
    const scopes = scope.split(/\s+/).filter((s) => s && !OIDC_SCOPES.has(s.toLowerCase()));
    if (scopes.length > 1) {
      throw this.error(
        req,
        400,
        'invalid_scope',
        28000,
        `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scopes.join(' ')} is not valid.`,
      );
    }
    const s = scopes[0];
    if (s === undefined || !s.endsWith('/.default')) {
      throw this.error(
        req,
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${s ?? scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const resource = s.slice(0, -'/.default'.length);
    if (!knownResources().some((r) => sameResource(r, resource))) {
      throw this.error(
        req,
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${this.tokens.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }
    return resource;
  }

  /** Checks a client assertion the way Entra does: one signed by a registered certificate, or a federated one. */
  private checkAssertion(req: Request, assertion: string, clientId: string): void {
    const d = decodeJwt(assertion);
    if (!d) throw this.error(req, 400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
    if (AppCertificates.isCertificateAssertion(d)) {
      const tenant = req.params['tenant'] ?? '';
      const endpoints = [tenant, this.tokens.tenantId].map((t) => `${this.emu.baseUrl}/${t}/oauth2/v2.0/token`);
      const refused = this.certificates.check(assertion, d, clientId, endpoints);
      if (refused) throw this.error(req, 401, 'invalid_client', refused.code, refused.description);
      return;
    }
    this.checkFederated(req, assertion, d);
  }

  /** A federated assertion: matching credential, then signature, then time. */
  private checkFederated(req: Request, assertion: string, d: DecodedJwt): void {
    const auds = (Array.isArray(d.claims.aud) ? d.claims.aud : [d.claims.aud]).filter((a): a is string => typeof a === 'string');
    const audienceOk = auds.some((a) => (FEDERATION_AUDIENCES as readonly string[]).includes(a));
    if (d.claims.iss !== this.oidc.issuer || !audienceOk) {
      throw this.error(
        req,
        400,
        'invalid_request',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(d.claims.iss)}'. Assertion Subject: '${String(d.claims.sub)}'. Assertion Audience: '${auds.join(',')}'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation`,
      );
    }
    const kid = String(d.header['kid'] ?? '');
    const signed = verifyJwt(assertion, this.oidc.key.publicKey, { skewSeconds: Number.POSITIVE_INFINITY });
    if (kid !== this.oidc.key.kid || !signed.ok) {
      const reason = kid !== this.oidc.key.kid ? 'The key was not found.' : 'Key was found, but use of the key to verify the signature failed.';
      throw this.error(
        req,
        400,
        'invalid_client',
        50013,
        `Assertion failed signature validation. [Reason - ${reason}, Thumbprint of key used by client: '${kid}']`,
      );
    }
    const now = nowSeconds();
    const { exp, nbf } = d.claims;
    if (typeof exp !== 'number' || exp <= now || (typeof nbf === 'number' && nbf - NBF_SKEW_SECONDS > now)) {
      throw this.error(
        req,
        400,
        'invalid_client',
        700024,
        `Client assertion is not within its valid time range. Current time: ${dotnetRoundTrip(now)}, assertion valid from ${dotnetRoundTrip(typeof nbf === 'number' ? nbf : 0)}, expiry time of assertion ${typeof exp === 'number' ? dotnetRoundTrip(exp) : 'none'}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
      );
    }
  }

  /** Authenticates the client of a token request; returns appidacr ('1' secret, '2' assertion). */
  private authenticateClient(req: Request, form: URLSearchParams): '1' | '2' {
    const clientId = form.get('client_id');
    if (!clientId) throw this.missingParameter(req, 'client_id');
    if (clientId.toLowerCase() !== this.emu.config.clientId.toLowerCase()) {
      throw this.error(
        req,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${this.tokens.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    const secret = form.get('client_secret');
    if (secret !== null) {
      if (!secretsEqual(secret, this.emu.config.clientSecret)) {
        throw this.error(
          req,
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      }
      return '1';
    }
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== ASSERTION_TYPE) throw this.missingParameter(req, 'client_assertion_type');
      this.checkAssertion(req, assertion, clientId);
      return '2';
    }
    throw this.error(req, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }

  async token(req: Request, res: ServerResponse): Promise<void> {
    const segment = req.params['tenant'] ?? '';
    const kind = tenantKind(this.emu, segment);
    if (kind === 'unknown') throw tenantNotFound(this.emu, req, segment);
    const form = await readForm(req);
    const grant = form.get('grant_type');
    if (!grant) throw this.missingParameter(req, 'grant_type');
    if (grant !== 'client_credentials') throw this.error(req, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
    if (kind === 'multi')
      throw this.error(
        req,
        400,
        'invalid_request',
        50059,
        'No tenant-identifying information found in either the request or implied by any provided credentials.',
      );
    const appidacr = this.authenticateClient(req, form);
    const scope = form.get('scope');
    if (!scope) throw this.missingParameter(req, 'scope');
    const resource = this.resourceOf(req, scope);
    // MSAL adds a `claims` parameter for CAE (xms_cc cp1); tolerate it and echo the capability.
    const cae = (form.get('claims') ?? '').includes('cp1');
    const { token, lifetime } = this.tokens.issue(resource, this.tokens.servicePrincipal, appidacr, cae);
    sendJson(
      res,
      200,
      { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token },
      { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
    );
  }
}
