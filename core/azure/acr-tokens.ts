/**
 * ACR data-plane tokens for one registry: Entra token → POST /oauth2/exchange (ACR refresh token) → POST /oauth2/token
 * (access token for one or several repository scopes). Flow: docs/azure-service.md#data-plane-tokens and
 * https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md. Tokens are cached until shortly before they expire and
 * masked as soon as they arrive; callers asking at once share one request, and `prepare` covers many repositories with
 * a few multi-scope tokens (docs/azure-service.md#token-economy).
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
/**
 * Scopes asked for in one token request by `prepare`: `scope` may be repeated (the AAD-OAuth document above), but each one adds an entry
 * to the token, which travels in every request's Authorization header; 25 keeps it to a few KiB.
 */
export const SCOPES_PER_TOKEN = 25;

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
  private refreshing: Promise<string> | undefined;
  private readonly access = new Map<string, CachedToken>();
  /** Token requests under way, by each scope they cover: a second caller waits for the first one's answer. */
  private readonly pending = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly http: AcrHttp,
    private readonly o: AcrTokenOptions,
    private readonly clock: Clock,
  ) {}

  /** The access token for a repository scope, e.g. `repository:team/app:pull`. */
  async accessToken(scope: string, what: string): Promise<string> {
    const hit = this.access.get(scope);
    if (this.fresh(hit)) return hit.token;
    return (await (this.pending.get(scope) ?? this.request([scope], what))).token;
  }

  /**
   * Fetches access for every scope not yet held, SCOPES_PER_TOKEN to a request, so that the calls that follow find
   * their tokens cached: n repositories cost n / 25 token requests instead of n.
   */
  async prepare(scopes: readonly string[], what: string): Promise<void> {
    const missing = [...new Set(scopes)].filter((s) => !this.fresh(this.access.get(s)) && !this.pending.has(s));
    const requests: Promise<CachedToken>[] = [];
    for (let i = 0; i < missing.length; i += SCOPES_PER_TOKEN) requests.push(this.request(missing.slice(i, i + SCOPES_PER_TOKEN), what));
    await Promise.all(requests);
  }

  /** One POST /oauth2/token for `scopes` (the `scope` parameter repeated); the token is cached under each of them. */
  private request(scopes: readonly string[], what: string): Promise<CachedToken> {
    const p = this.fetchAccess(scopes, what).finally(() => {
      for (const s of scopes) if (this.pending.get(s) === p) this.pending.delete(s);
    });
    for (const s of scopes) this.pending.set(s, p);
    return p;
  }

  private async fetchAccess(scopes: readonly string[], what: string): Promise<CachedToken> {
    const loginServer = this.http.loginServer;
    const named = scopes.length === 1 ? scopes[0]! : `${scopes.length} scopes (${scopes[0]!}, …)`;
    for (let attempt = 1; ; attempt++) {
      const refresh = await this.refreshToken(what);
      const form = new URLSearchParams({ grant_type: 'refresh_token', service: loginServer, refresh_token: refresh });
      for (const s of scopes) form.append('scope', s);
      const res = await this.http.send(
        'POST',
        `${this.http.base}/oauth2/token`,
        { 'content-type': 'application/x-www-form-urlencoded' },
        form.toString(),
        what,
      );
      if (res.status === 401 && attempt === 1) {
        if (this.refresh?.token === refresh) this.refresh = undefined;
        continue;
      }
      if (res.status !== 200) throw this.http.error(res, `get an access token for ${named}`, fixForAuth(loginServer));
      const token = (JSON.parse(res.bodyAsText ?? '{}') as { access_token?: string }).access_token;
      if (!token) throw new AzureRequestError(`get an access token on registry '${loginServer}'`, 200, 'InvalidResponse', 'no access_token in the answer');
      const c = this.cached(token);
      for (const s of scopes) this.access.set(s, c);
      return c;
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

  /** The ACR refresh token; callers asking while an exchange is under way share it. */
  private refreshToken(what: string): Promise<string> {
    if (this.fresh(this.refresh)) return Promise.resolve(this.refresh.token);
    this.refreshing ??= this.exchangeRenewing(what).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async exchangeRenewing(what: string): Promise<string> {
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
