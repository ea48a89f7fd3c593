/**
 * ACR data-plane tokens for one registry: Entra token → POST /oauth2/exchange (ACR refresh token) → POST /oauth2/token
 * (access token per repository scope). Flow: docs/azure-service.md#data-plane-tokens and
 * https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md. Tokens are cached until shortly before they expire and
 * masked as soon as they arrive.
 */
import type { TokenCredential } from '@azure/core-auth';
import { AzureRequestError, errorMessage } from '../errors';
import type { Logger } from '../ports';
import type { Clock } from '../retry';
import { type AcrHttp, fixForAuth } from './acr-http';
import type { SignInRenewal } from './sign-in';

/** Renew tokens this long before they expire. */
const EXPIRY_MARGIN_MS = 5 * 60_000;
/** When a token's exp cannot be read: ACR access tokens last ~75 min, refresh tokens ~3 h. */
const DEFAULT_LIFETIME_MS = 60 * 60_000;

export interface AcrTokenOptions {
  readonly credential: TokenCredential;
  /** Entra scopes the exchange may accept, tried in order (cloud.acrScopes). */
  readonly scopes: readonly string[];
  readonly tenantId?: string;
  readonly signal?: AbortSignal;
  readonly mask: (secret: string) => void;
  readonly logger?: Pick<Logger, 'debug'>;
  /** Signs in again once when the exchange refuses every Entra token (sign-in.ts). */
  readonly signIn?: SignInRenewal;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** The `exp` of a JWT, in ms; undefined when the token is not a readable JWT. */
export function jwtExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export class AcrTokens {
  private refresh: CachedToken | undefined;
  private readonly access = new Map<string, CachedToken>();

  constructor(
    private readonly http: AcrHttp,
    private readonly o: AcrTokenOptions,
    private readonly clock: Clock,
  ) {}

  /** The access token for a repository scope, e.g. `repository:team/app:pull`. */
  async accessToken(scope: string, what: string): Promise<string> {
    const hit = this.access.get(scope);
    if (this.fresh(hit)) return hit.token;
    const loginServer = this.http.loginServer;
    for (let attempt = 1; ; attempt++) {
      const refresh = await this.refreshToken(what);
      const form = new URLSearchParams({ grant_type: 'refresh_token', service: loginServer, scope, refresh_token: refresh });
      const res = await this.http.send(
        'POST',
        `${this.http.base}/oauth2/token`,
        { 'content-type': 'application/x-www-form-urlencoded' },
        form.toString(),
        what,
      );
      if (res.status === 401 && attempt === 1) {
        this.refresh = undefined;
        continue;
      }
      if (res.status !== 200) throw this.http.error(res, `get an access token for ${scope}`, fixForAuth(loginServer));
      const token = (JSON.parse(res.bodyAsText ?? '{}') as { access_token?: string }).access_token;
      if (!token) throw new AzureRequestError(`get an access token on registry '${loginServer}'`, 200, 'InvalidResponse', 'no access_token in the answer');
      const c = this.cached(token);
      this.access.set(scope, c);
      return c.token;
    }
  }

  /** Drops the access token of a scope (the registry refused it: expired or revoked). */
  forget(scope: string): void {
    this.access.delete(scope);
  }

  private fresh(t: CachedToken | undefined): t is CachedToken {
    return t !== undefined && t.expiresAt - EXPIRY_MARGIN_MS > this.clock.now();
  }

  private cached(token: string): CachedToken {
    this.o.mask(token);
    return { token, expiresAt: jwtExpiry(token) ?? this.clock.now() + DEFAULT_LIFETIME_MS };
  }

  private async refreshToken(what: string): Promise<string> {
    if (this.fresh(this.refresh)) return this.refresh.token;
    const seen = this.o.signIn?.generation;
    try {
      return await this.exchange(what);
    } catch (e) {
      // Every Entra token refused (401): a token Entra issued before the service forgot it; one fresh sign-in (sign-in.ts).
      if (seen === undefined || !(e instanceof AzureRequestError) || e.status !== 401) throw e;
      this.o.signIn!.renew(seen, `token exchange on ${this.http.loginServer}: HTTP 401 ${e.code}`);
      return this.exchange(what);
    }
  }

  private async exchange(what: string): Promise<string> {
    const loginServer = this.http.loginServer;
    let last: AzureRequestError | undefined;
    for (const scope of this.o.scopes) {
      let aad: { token: string } | null;
      try {
        aad = await this.o.credential.getToken(scope, this.o.signal ? { abortSignal: this.o.signal } : {});
      } catch (e) {
        // A cloud without this audience (AADSTS500011): the exchange's refusal of the previous one is the real story.
        if (last) throw last;
        throw new AzureRequestError(`sign in for registry '${loginServer}'`, 401, e instanceof Error ? e.name : 'SignInFailed', errorMessage(e));
      }
      if (!aad) throw new AzureRequestError(`get a token for ${scope}`, 0, 'NoToken', 'the credential returned no token');
      const form: Record<string, string> = {
        grant_type: 'access_token',
        service: loginServer,
        access_token: aad.token,
        ...(this.o.tenantId ? { tenant: this.o.tenantId } : {}),
      };
      const res = await this.http.send(
        'POST',
        `${this.http.base}/oauth2/exchange`,
        { 'content-type': 'application/x-www-form-urlencoded' },
        new URLSearchParams(form).toString(),
        what,
      );
      if (res.status === 200) {
        const token = (JSON.parse(res.bodyAsText ?? '{}') as { refresh_token?: string }).refresh_token;
        if (!token) throw new AzureRequestError(`token exchange for registry '${loginServer}'`, 200, 'InvalidResponse', 'no refresh_token in the answer');
        this.refresh = this.cached(token);
        return token;
      }
      last = this.http.error(res, 'token exchange', fixForAuth(loginServer));
      // An ARM-audience token is refused when the registry disables azureADAuthenticationAsArmPolicy: try ACR's audience.
      if (res.status !== 401 && res.status !== 403) break;
      this.o.logger?.debug(`ACR token exchange on ${loginServer} refused a token for ${scope} (HTTP ${res.status}); trying the next audience`);
    }
    throw last ?? new AzureRequestError(`token exchange for registry '${loginServer}'`, 0, 'NoScope', 'no Entra scope configured');
  }
}
