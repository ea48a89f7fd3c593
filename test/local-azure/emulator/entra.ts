/**
 * Entra ID (login endpoint) for the local Azure, plus the two OIDC issuers that federated credentials trust:
 * a GitHub-runner-style one (what ACTIONS_ID_TOKEN_REQUEST_URL points at) and an Azure DevOps one
 * (SYSTEM_OIDCREQUESTURI).
 * Request shapes: MSAL's (docs/local-azure.md#msal-instance-discovery), docs/hosts.md#oidc-tokens, docs/hosts.md#azure-devops-service-connection.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { ACR_RESOURCE, ARM_AUDIENCES, type Emulator, KEY_VAULT_RESOURCE, type Outcome, STORAGE_RESOURCE, type TokenVerifier } from './context';
import { bearerToken, headerValue, HttpError, readBody, readForm, sendJson } from './http';
import type { Request, Router } from './router';
import { type Claims, decodeJwt, nowSeconds, SigningKey, verifyJwt } from './jwt';

/** Audiences a federated identity credential may name (azure/login README: public cloud, US Gov, China). */
export const FEDERATION_AUDIENCES = ['api://AzureADTokenExchange', 'api://AzureADTokenExchangeUSGov', 'api://AzureADTokenExchangeChina'] as const;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const GITHUB_SUBJECT = 'repo:local/acr-transfer:ref:refs/heads/main';
/** No clock skew on expiry: everything runs on one clock, and tests shorten lifetimes to see expiry happen. */
const NBF_SKEW_SECONDS = 300;

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

/** Resource URIs compare without trailing slashes and case (Entra and ARM both accept either spelling). */
export function sameResource(a: string, b: string): boolean {
  return trimSlash(a).toLowerCase() === trimSlash(b).toLowerCase();
}

/** A stable GUID derived from a name, so principal ids survive restarts of the emulator. */
function guidFrom(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The service principal's object id: `oid`/`sub` of its access tokens. */
export function servicePrincipalObjectId(clientId: string): string {
  return guidFrom(`service-principal:${clientId}`);
}

function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** .NET's round-trip format with 7 fractional digits, as Entra prints times in AADSTS700024. */
function dotnetRoundTrip(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/Z$/, '0000Z');
}

/** .NET's en-US general format (`3/23/2023 9:04:21 AM`), as ARM prints times in ExpiredAuthenticationToken. */
function dotnetGeneral(seconds: number): string {
  const d = new Date(seconds * 1000);
  const h = d.getUTCHours();
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

function knownResources(): string[] {
  return [...ARM_AUDIENCES, KEY_VAULT_RESOURCE, STORAGE_RESOURCE, ACR_RESOURCE];
}

type TenantKind = 'tenant' | 'multi' | 'unknown';

class Entra {
  readonly key = new SigningKey();
  /** Signs ID tokens of both OIDC issuers; federated credentials trust `${baseUrl}/_oidc`. */
  readonly oidcKey = new SigningKey();
  readonly requestToken = randomBytes(32).toString('base64url');
  readonly adoAccessToken = randomBytes(32).toString('base64url');

  constructor(private readonly emu: Emulator) {}

  get base(): string {
    return this.emu.baseUrl;
  }
  get tenantId(): string {
    return this.emu.config.tenantId.toLowerCase();
  }
  get oidcIssuer(): string {
    return `${this.base}/_oidc`;
  }
  get stsIssuer(): string {
    // Azurite's --oauth mode accepts only this issuer (docs/local-azure.md#azurites-oauth-issuer).
    return `https://sts.windows.net/${this.tenantId}/`;
  }

  tenantKind(segment: string): TenantKind {
    const t = segment.toLowerCase();
    if (t === this.tenantId) return 'tenant';
    return MULTI_TENANT.has(t) ? 'multi' : 'unknown';
  }

  /** Entra's error body: AADSTS code first in error_description, then trace and correlation ids. */
  error(req: Request, status: number, error: string, code: number, description: string): HttpError {
    const traceId = randomUUID();
    const correlationId = req.url.searchParams.get('client-request-id') ?? headerValue(req.headers['client-request-id']) ?? randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    const body = {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${this.base}/error?code=${code}`,
    };
    return new HttpError(status, body, { 'x-ms-request-id': traceId, 'client-request-id': correlationId, 'cache-control': 'no-store, no-cache' });
  }

  tenantNotFound(req: Request, segment: string, error = 'invalid_request'): HttpError {
    return this.error(
      req,
      400,
      error,
      90002,
      `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  }

  missingParameter(req: Request, name: string): HttpError {
    return this.error(req, 400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
  }

  discovery(segment: string): Record<string, unknown> {
    const t = segment.toLowerCase();
    const issuerTenant = t === this.tenantId ? this.tenantId : '{tenantid}';
    const root = `${this.base}/${t}`;
    return {
      token_endpoint: `${root}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${root}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${this.base}/${issuerTenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.base}/oidc/userinfo`,
      authorization_endpoint: `${root}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${root}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${root}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'tid', 'ver', 'oid'],
      tenant_region_scope: null,
      cloud_instance_name: 'local-azure.test',
      cloud_graph_host_name: 'graph.local-azure.test',
      msgraph_host: 'graph.local-azure.test',
      rbac_url: `${this.base}/`,
    };
  }

  /** The one resource of a client-credentials scope list (`<resource>/.default`), or the Entra error. */
  resourceOf(req: Request, scope: string): string {
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
        `The resource principal named ${resource} was not found in the tenant named ${this.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }
    return resource;
  }

  /** Checks a federated client assertion the way Entra does: matching credential, then signature, then time. */
  checkAssertion(req: Request, assertion: string): void {
    const d = decodeJwt(assertion);
    if (!d) throw this.error(req, 400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
    const auds = (Array.isArray(d.claims.aud) ? d.claims.aud : [d.claims.aud]).filter((a): a is string => typeof a === 'string');
    const audienceOk = auds.some((a) => (FEDERATION_AUDIENCES as readonly string[]).includes(a));
    if (d.claims.iss !== this.oidcIssuer || !audienceOk) {
      throw this.error(
        req,
        400,
        'invalid_request',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(d.claims.iss)}'. Assertion Subject: '${String(d.claims.sub)}'. Assertion Audience: '${auds.join(',')}'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation`,
      );
    }
    const kid = String(d.header['kid'] ?? '');
    const signed = verifyJwt(assertion, this.oidcKey.publicKey, { skewSeconds: Number.POSITIVE_INFINITY });
    if (kid !== this.oidcKey.kid || !signed.ok) {
      const reason = kid !== this.oidcKey.kid ? 'The key was not found.' : 'Key was found, but use of the key to verify the signature failed.';
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
  authenticateClient(req: Request, form: URLSearchParams): '1' | '2' {
    const clientId = form.get('client_id');
    if (!clientId) throw this.missingParameter(req, 'client_id');
    if (clientId.toLowerCase() !== this.emu.config.clientId.toLowerCase()) {
      throw this.error(
        req,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${this.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
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
      this.checkAssertion(req, assertion);
      return '2';
    }
    throw this.error(req, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }

  issueAccessToken(resource: string, appidacr: '1' | '2', cae: boolean): { token: string; lifetime: number } {
    const lifetime = this.emu.knobs.accessTokenLifetimeSeconds;
    const now = nowSeconds();
    const oid = servicePrincipalObjectId(this.emu.config.clientId);
    const claims: Claims = {
      aud: resource,
      iss: this.stsIssuer,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      aio: randomBytes(24).toString('base64url'),
      appid: this.emu.config.clientId,
      appidacr,
      idp: this.stsIssuer,
      idtyp: 'app',
      oid,
      rh: randomBytes(12).toString('base64url'),
      sub: oid,
      tid: this.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      ...(cae ? { xms_cc: ['cp1'] } : {}),
    };
    return { token: this.key.sign(claims), lifetime };
  }

  async token(req: Request, res: ServerResponse): Promise<void> {
    const segment = req.params['tenant'] ?? '';
    const kind = this.tenantKind(segment);
    if (kind === 'unknown') throw this.tenantNotFound(req, segment);
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
    const { token, lifetime } = this.issueAccessToken(resource, appidacr, cae);
    sendJson(
      res,
      200,
      { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token },
      { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'x-ms-request-id': randomUUID() },
    );
  }

  verifyAccessToken(token: string, audiences: readonly string[]): Outcome<{ claims: Claims }> {
    const invalid = { ok: false as const, status: 401, code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' };
    const d = decodeJwt(token);
    if (!d || d.header['kid'] !== this.key.kid || !verifyJwt(token, this.key.publicKey, { skewSeconds: Number.POSITIVE_INFINITY }).ok) return invalid;
    const { claims } = d;
    if (claims.iss !== this.stsIssuer) {
      return {
        ok: false,
        status: 401,
        code: 'InvalidAuthenticationTokenTenant',
        message: `The access token is from the wrong issuer '${String(claims.iss)}'. It must match the tenant '${this.stsIssuer}' associated with this subscription. Please use the authority (URL) '${this.base}/${this.tenantId}' to get the token.`,
      };
    }
    const now = nowSeconds();
    if (typeof claims.exp !== 'number' || claims.exp <= now) {
      return {
        ok: false,
        status: 401,
        code: 'ExpiredAuthenticationToken',
        message: `The access token expiry UTC time '${dotnetGeneral(typeof claims.exp === 'number' ? claims.exp : 0)}' is earlier than current UTC time '${dotnetGeneral(now)}'.`,
      };
    }
    if (typeof claims.nbf === 'number' && claims.nbf - NBF_SKEW_SECONDS > now) return invalid;
    const aud = typeof claims.aud === 'string' ? claims.aud : '';
    if (!audiences.some((a) => sameResource(a, aud))) {
      return {
        ok: false,
        status: 401,
        code: 'InvalidAuthenticationTokenAudience',
        message: `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences ${audiences.map((a) => `'${a}'`).join(',')}.`,
      };
    }
    return { ok: true, claims };
  }

  idToken(audience: string, subject: string, extra: Claims = {}): string {
    const now = nowSeconds();
    return this.oidcKey.sign({
      jti: randomUUID(),
      sub: subject,
      aud: audience,
      iss: this.oidcIssuer,
      nbf: now,
      iat: now,
      exp: now + this.emu.knobs.idTokenLifetimeSeconds,
      ...extra,
    });
  }

  /** GitHub's runner endpoint: `{count, value}`; @actions/core appends `&audience=` to the request URL. */
  githubIdToken(req: Request, res: ServerResponse): void {
    const presented = bearerToken(req);
    if (!presented || !secretsEqual(presented, this.requestToken))
      throw new HttpError(401, { message: 'Bad credentials: the request token is missing or wrong.' });
    const audience = req.url.searchParams.get('audience') || FEDERATION_AUDIENCES[0];
    const value = this.idToken(audience, GITHUB_SUBJECT, {
      ref: 'refs/heads/main',
      ref_type: 'branch',
      repository: 'local/acr-transfer',
      repository_owner: 'local',
      event_name: 'push',
      workflow: 'local',
      job_workflow_ref: 'local/acr-transfer/.github/workflows/local.yml@refs/heads/main',
      run_id: String(Date.now()),
      run_attempt: '1',
      runner_environment: 'self-hosted',
    });
    sendJson(res, 200, { count: value.length, value });
  }

  /** Azure DevOps' oidctoken endpoint as AzurePipelinesCredential calls it (POST, JSON, `{oidcToken}`). */
  async adoIdToken(req: Request, res: ServerResponse): Promise<void> {
    await readBody(req.raw, 64 * 1024);
    const presented = bearerToken(req);
    if (!presented || !secretsEqual(presented, this.adoAccessToken)) {
      throw new HttpError(401, {
        $id: '1',
        innerException: null,
        message: "TF400813: The user '' is not authorized to access this resource.",
        typeName: 'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException',
        typeKey: 'UnauthorizedRequestException',
        errorCode: 0,
        eventId: 3000,
      });
    }
    const connection = req.url.searchParams.get('serviceConnectionId');
    if (!connection) {
      throw new HttpError(400, {
        $id: '1',
        innerException: null,
        message: 'The serviceConnectionId query parameter is required.',
        typeName: 'System.ArgumentException',
        typeKey: 'ArgumentException',
        errorCode: 0,
        eventId: 0,
      });
    }
    sendJson(res, 200, { oidcToken: this.idToken(FEDERATION_AUDIENCES[0], `sc://local/acr-transfer/${connection}`) });
  }
}

export function registerEntra(router: Router, emu: Emulator): void {
  const entra = new Entra(emu);
  emu.tokens = { verifyAccessToken: (token, audiences) => entra.verifyAccessToken(token, audiences) } satisfies TokenVerifier;

  // The tenant segment never starts with `_`, so that /_oidc and /_control stay out of these routes.
  router.add('entra', 'GET', /^\/(?<tenant>[^/_][^/]*)\/v2\.0\/\.well-known\/openid-configuration$/, (req, res) => {
    const segment = req.params['tenant'] ?? '';
    if (entra.tenantKind(segment) === 'unknown') throw entra.tenantNotFound(req, segment, 'invalid_tenant');
    sendJson(res, 200, entra.discovery(segment));
  });
  router.add('entra', 'GET', /^\/(?<tenant>[^/_][^/]*)\/discovery(?:\/v2\.0)?\/keys$/, (req, res) => {
    const segment = req.params['tenant'] ?? '';
    if (entra.tenantKind(segment) === 'unknown') throw entra.tenantNotFound(req, segment, 'invalid_tenant');
    sendJson(res, 200, { keys: [{ ...entra.key.jwk(), issuer: `${emu.baseUrl}/${entra.tenantId}/v2.0` }] });
  });
  router.add('entra', 'POST', /^\/(?<tenant>[^/_][^/]*)\/oauth2\/v2\.0\/token$/, (req, res) => entra.token(req, res));

  router.add('oidc', 'GET', /^\/_oidc\/token$/, (req, res) => entra.githubIdToken(req, res));
  router.add('oidc', 'POST', /^\/_oidc\/ado$/, (req, res) => entra.adoIdToken(req, res));
  router.add('oidc', 'GET', /^\/_oidc\/\.well-known\/openid-configuration$/, (_req, res) =>
    sendJson(res, 200, {
      issuer: entra.oidcIssuer,
      jwks_uri: `${entra.oidcIssuer}/.well-known/jwks`,
      subject_types_supported: ['public', 'pairwise'],
      response_types_supported: ['id_token'],
      claims_supported: [
        'sub',
        'aud',
        'exp',
        'iat',
        'iss',
        'jti',
        'nbf',
        'ref',
        'repository',
        'repository_owner',
        'run_id',
        'run_attempt',
        'event_name',
        'ref_type',
        'job_workflow_ref',
      ],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid'],
    }),
  );
  router.add('oidc', 'GET', /^\/_oidc\/\.well-known\/jwks$/, (_req, res) => sendJson(res, 200, { keys: [entra.oidcKey.jwk()] }));

  // The request URL already carries a query, as GitHub's does: @actions/core appends `&audience=…`.
  router.add('control', 'GET', /^\/_control\/oidc$/, (_req, res) =>
    sendJson(res, 200, {
      requestUrl: `${entra.oidcIssuer}/token?api-version=2.0`,
      requestToken: entra.requestToken,
      adoRequestUri: `${entra.oidcIssuer}/ado`,
      adoAccessToken: entra.adoAccessToken,
    }),
  );
}
