/**
 * ACR's token service for one registry: `/oauth2/exchange` (an Entra token for an ACR refresh token) and
 * `/oauth2/token` (a refresh token, or HTTP Basic as skopeo and docker send it, for an access token with the scopes
 * asked for). Flow and shapes: docs/azure-service.md#data-plane-tokens.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type EmulatorRegistryConfig, loginServerOf } from '../../config';
import { ACR_RESOURCE, ARM_AUDIENCES, type Emulator } from '../context';
import { headerValue, readForm, sendJson } from '../http';
import { type Claims, nowSeconds, SigningKey, verifyJwt } from '../jwt';
import type { Request } from '../router';
import { registryError } from './errors';
import { type Access, grant } from './scopes';

/** `docker login` with an ACR refresh token uses this user name (docs/azure-service.md#data-plane-tokens). */
export const ACR_TOKEN_USER = '00000000-0000-0000-0000-000000000000';
const ISSUER = 'Azure Container Registry';
const REFRESH_LIFETIME_SECONDS = 3 * 3600;
const ACCESS_LIFETIME_SECONDS = 75 * 60;

interface Principal {
  readonly sub: string;
  readonly appid: string;
  readonly tenant: string;
}

export class TokenService {
  private readonly key: SigningKey;
  /** <name>.azurecr.<suffix>:<port>: what ARM reports and clients use. */
  readonly loginServer: string;
  /** 127.0.0.1:<port>: the same front end for tools that cannot resolve *.localhost (skopeo); an alias of the login server. */
  readonly address: string;

  constructor(
    private readonly emu: Emulator,
    reg: EmulatorRegistryConfig,
  ) {
    this.loginServer = loginServerOf(reg);
    this.address = `${emu.config.host}:${reg.port}`;
    this.key = SigningKey.kept(emu.disk, `acr-${reg.name}`);
  }

  /** The name a request came to: the login server or its address (the token challenge names what the client used). */
  nameFor(host: string): string {
    return host.toLowerCase() === this.address ? this.address : this.loginServer;
  }

  private checkService(service: string | null): void {
    if (!service) throw registryError(400, 'UNSUPPORTED', 'the service parameter is required');
    if (service.toLowerCase() !== this.loginServer && service.toLowerCase() !== this.address)
      throw registryError(401, 'UNAUTHORIZED', `service '${service}' does not match this registry's login server '${this.loginServer}'`);
  }

  private sign(principal: Principal, lifetime: number, extra: Claims): string {
    const now = nowSeconds();
    return this.key.sign({
      jti: randomUUID(),
      sub: principal.sub,
      nbf: now,
      exp: now + lifetime,
      iat: now,
      iss: ISSUER,
      aud: this.loginServer,
      tenant: principal.tenant,
      appid: principal.appid,
      roles: [],
      ...extra,
    });
  }

  private refreshToken(p: Principal): string {
    return this.sign(p, REFRESH_LIFETIME_SECONDS, { version: '1.0', grant_type: 'refresh_token', permissions: { actions: ['*'], notActions: [] } });
  }

  private accessToken(p: Principal, access: Access[]): string {
    return this.sign(p, ACCESS_LIFETIME_SECONDS, { version: '2.0', grant_type: 'access_token', access });
  }

  /** Claims of a token this registry issued, of the given kind; undefined when invalid, expired or foreign. */
  verifyOwn(token: string, kind: 'refresh_token' | 'access_token'): Claims | undefined {
    const r = verifyJwt(token, this.key.publicKey, { audience: [this.loginServer, this.address], issuer: ISSUER, skewSeconds: 0 });
    return r.ok && r.claims['grant_type'] === kind ? r.claims : undefined;
  }

  private principalOfRefresh(token: string | null): Principal {
    const claims = token ? this.verifyOwn(token, 'refresh_token') : undefined;
    if (!claims) throw registryError(401, 'UNAUTHORIZED', 'the refresh token is invalid or expired');
    return { sub: String(claims.sub), appid: String(claims['appid'] ?? ''), tenant: String(claims['tenant'] ?? '') };
  }

  /** An Entra token for ARM or for ACR itself (docs/azure-service.md#data-plane-tokens, step 1). */
  private principalOfEntra(token: string | null, tenant: string | null): Principal {
    if (!token) throw registryError(400, 'UNSUPPORTED', 'the access_token parameter is required');
    const checked = this.emu.tokens.verifyAccessToken(token, [...ARM_AUDIENCES, ACR_RESOURCE]);
    if (!checked.ok) throw registryError(401, 'UNAUTHORIZED', `the AAD access token is invalid: ${checked.message}`);
    const tid = String(checked.claims['tid'] ?? '');
    if (tenant && tenant.toLowerCase() !== tid.toLowerCase())
      throw registryError(401, 'UNAUTHORIZED', `the AAD access token is for tenant '${tid}', not '${tenant}'`);
    return { sub: String(checked.claims['oid'] ?? checked.claims.sub), appid: String(checked.claims['appid'] ?? ''), tenant: tid };
  }

  /** HTTP Basic: the refresh-token user, or the service principal's id and secret (as `docker login` accepts). */
  private principalOfBasic(req: Request): Principal {
    const m = /^Basic\s+(\S+)$/i.exec(headerValue(req.headers.authorization) ?? '');
    if (!m)
      throw registryError(401, 'UNAUTHORIZED', 'authentication required', null, {
        'www-authenticate': `Basic realm="https://${this.nameFor(req.url.host)}/oauth2/token"`,
      });
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    const [user, pass] = i < 0 ? [decoded, ''] : [decoded.slice(0, i), decoded.slice(i + 1)];
    if (user === ACR_TOKEN_USER) return this.principalOfRefresh(pass);
    const { clientId, clientSecret, tenantId } = this.emu.config;
    if (user.toLowerCase() === clientId.toLowerCase() && pass === clientSecret) return { sub: clientId, appid: clientId, tenant: tenantId };
    throw registryError(401, 'UNAUTHORIZED', 'invalid username or password');
  }

  async exchange(req: Request, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    this.checkService(form.get('service'));
    const grantType = form.get('grant_type');
    let principal: Principal;
    if (grantType === 'access_token' || grantType === 'access_token_refresh_token')
      principal = this.principalOfEntra(form.get('access_token'), form.get('tenant'));
    else if (grantType === 'refresh_token') principal = this.principalOfRefresh(form.get('refresh_token'));
    else throw registryError(400, 'UNSUPPORTED', `grant type '${grantType ?? ''}' is not supported; use access_token`);
    sendJson(res, 200, { refresh_token: this.refreshToken(principal) });
  }

  async tokenPost(req: Request, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    this.checkService(form.get('service'));
    const grantType = form.get('grant_type');
    if (grantType !== 'refresh_token') throw registryError(400, 'UNSUPPORTED', `grant type '${grantType ?? ''}' is not supported; use refresh_token`);
    const principal = this.principalOfRefresh(form.get('refresh_token'));
    sendJson(res, 200, { access_token: this.accessToken(principal, grant(form.getAll('scope'))) });
  }

  /** The docker-style token endpoint: GET with Basic auth, as skopeo/docker call the realm. */
  tokenGet(req: Request, res: ServerResponse): void {
    this.checkService(req.url.searchParams.get('service'));
    const principal = this.principalOfBasic(req);
    const token = this.accessToken(principal, grant(req.url.searchParams.getAll('scope')));
    sendJson(res, 200, { access_token: token, token });
  }
}
