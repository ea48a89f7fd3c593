/**
 * Entra access tokens: the token endpoint issues them to the service principal, and every emulated service that
 * takes them checks them here (`emu.tokens`), with the errors ARM gives for each way a token can be wrong.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ACR_RESOURCE,
  ARM_AUDIENCES,
  type Emulator,
  KEY_VAULT_RESOURCE,
  type Outcome,
  PUBLIC_KEY_VAULT_RESOURCE,
  STORAGE_RESOURCE,
  type TokenVerifier,
} from '../context';
import { type Claims, decodeJwt, nowSeconds, SigningKey, verifyJwt } from '../jwt';

/** No clock skew on expiry: everything runs on one clock, and tests shorten lifetimes to see expiry happen. */
export const NBF_SKEW_SECONDS = 300;

const trimSlash = (s: string): string => s.replace(/\/+$/, '');

/** Resource URIs compare without trailing slashes and case (Entra and ARM both accept either spelling). */
export function sameResource(a: string, b: string): boolean {
  return trimSlash(a).toLowerCase() === trimSlash(b).toLowerCase();
}

/** The resources a token may be asked for. */
export function knownResources(): string[] {
  return [...ARM_AUDIENCES, KEY_VAULT_RESOURCE, PUBLIC_KEY_VAULT_RESOURCE, STORAGE_RESOURCE, ACR_RESOURCE];
}

/** Who a token is for: an app's client id and its principal's object id; a managed identity's resource id too. */
export interface Principal {
  readonly appid: string;
  readonly oid: string;
  /** `xms_mirid`: the managed identity's resource id (absent for an app registration's service principal). */
  readonly mirid?: string;
}

/** A stable GUID derived from a name, so principal ids survive restarts of the emulator. */
export function guidFrom(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The service principal's object id: `oid`/`sub` of its access tokens. */
export function servicePrincipalObjectId(clientId: string): string {
  return guidFrom(`service-principal:${clientId}`);
}

/** Compares a presented secret with the expected one in constant time. */
export function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** .NET's en-US general format (`3/23/2023 9:04:21 AM`), as ARM prints times in ExpiredAuthenticationToken. */
function dotnetGeneral(seconds: number): string {
  const d = new Date(seconds * 1000);
  const h = d.getUTCHours();
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

export class AccessTokens implements TokenVerifier {
  readonly key: SigningKey;

  constructor(private readonly emu: Emulator) {
    this.key = SigningKey.kept(emu.disk, 'entra');
  }

  get tenantId(): string {
    return this.emu.config.tenantId.toLowerCase();
  }

  get stsIssuer(): string {
    // Azurite's --oauth mode accepts only this issuer (docs/local-azure.md#azurites-oauth-issuer).
    return `https://sts.windows.net/${this.tenantId}/`;
  }

  /** The app registration's service principal (env.json's clientId). */
  get servicePrincipal(): Principal {
    return { appid: this.emu.config.clientId, oid: servicePrincipalObjectId(this.emu.config.clientId) };
  }

  /** An app-only token of `principal`; appidacr '1' after a secret, '2' after an assertion or for a managed identity. */
  issue(resource: string, principal: Principal, appidacr: '1' | '2', cae: boolean): { token: string; lifetime: number; expiresOn: number } {
    const lifetime = this.emu.knobs.accessTokenLifetimeSeconds;
    // A token issued after the service forgot earlier ones must pass, even within the same second.
    const now = Math.max(nowSeconds(), this.emu.knobs.tokensIssuedBefore);
    const { oid } = principal;
    const claims: Claims = {
      aud: resource,
      iss: this.stsIssuer,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      aio: randomBytes(24).toString('base64url'),
      appid: principal.appid,
      appidacr,
      idp: this.stsIssuer,
      idtyp: 'app',
      oid,
      rh: randomBytes(12).toString('base64url'),
      sub: oid,
      tid: this.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      ...(principal.mirid ? { xms_mirid: principal.mirid } : {}),
      ...(cae ? { xms_cc: ['cp1'] } : {}),
    };
    return { token: this.key.sign(claims), lifetime, expiresOn: now + lifetime };
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
        message: `The access token is from the wrong issuer '${String(claims.iss)}'. It must match the tenant '${this.stsIssuer}' associated with this subscription. Please use the authority (URL) '${this.emu.baseUrl}/${this.tenantId}' to get the token.`,
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
    // Forgotten (a revoked session): ARM's answer to a token it no longer accepts (docs/azure-service.md#a-token-refused-mid-run).
    if (typeof claims.iat === 'number' && claims.iat < this.emu.knobs.tokensIssuedBefore) return invalid;
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
}
