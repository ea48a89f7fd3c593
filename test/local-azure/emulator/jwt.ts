import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, sign, verify } from 'node:crypto';
import type { DiskState } from './disk';

export type Claims = Record<string, unknown> & { exp?: number; nbf?: number; iat?: number; aud?: string | string[]; iss?: string; sub?: string };

/** Now, in the seconds of JWT time claims. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** An RS256 signing key with a key id, as Entra and GitHub's OIDC issuer publish in their JWKS. */
export class SigningKey {
  readonly kid: string;
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(saved?: { kid: string; pem: string }) {
    this.kid = saved?.kid ?? randomUUID().replace(/-/g, '');
    this.privateKey = saved ? createPrivateKey(saved.pem) : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    this.publicKey = createPublicKey(this.privateKey);
  }

  /** The key `name` from the emulator's state on disk (made there the first time): tokens signed before a restart still verify. */
  static kept(disk: DiskState, name: string): SigningKey {
    const fresh = (): string => {
      const k = new SigningKey();
      return JSON.stringify({ kid: k.kid, pem: k.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
    };
    return new SigningKey(JSON.parse(disk.kept(name, fresh)) as { kid: string; pem: string });
  }

  sign(claims: Claims, extraHeader: Record<string, unknown> = {}): string {
    const header = { alg: 'RS256', typ: 'JWT', kid: this.kid, ...extraHeader };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), this.privateKey))}`;
  }

  jwk(): Record<string, unknown> {
    return { ...this.publicKey.export({ format: 'jwk' }), kid: this.kid, use: 'sig', alg: 'RS256' };
  }
}

export interface DecodedJwt {
  readonly header: Record<string, unknown>;
  readonly claims: Claims;
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** Splits a compact JWT without checking it; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Claims;
    return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    return undefined;
  }
}

export type VerifyResult = { ok: true; claims: Claims; header: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Checks an RS256 JWT's signature against `key` (a KeyObject or a PEM certificate/public key) and its
 * time claims, allowing `skewSeconds` of clock skew; `audience`, when given, must be among `aud`.
 */
export function verifyJwt(
  token: string,
  key: KeyObject | string,
  opts: { audience?: readonly string[]; issuer?: string; skewSeconds?: number; now?: number } = {},
): VerifyResult {
  const d = decodeJwt(token);
  if (!d) return { ok: false, reason: 'not a JWT' };
  if (d.header['alg'] !== 'RS256' && d.header['alg'] !== 'PS256') return { ok: false, reason: `unsupported alg ${String(d.header['alg'])}` };
  const pub = typeof key === 'string' ? createPublicKey(key) : key;
  const good =
    d.header['alg'] === 'PS256'
      ? verify('sha256', Buffer.from(d.signingInput), { key: pub, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }, d.signature)
      : verify('sha256', Buffer.from(d.signingInput), pub, d.signature);
  if (!good) return { ok: false, reason: 'signature invalid' };
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const skew = opts.skewSeconds ?? 300;
  if (typeof d.claims.exp === 'number' && d.claims.exp + skew < now) return { ok: false, reason: `expired at ${new Date(d.claims.exp * 1000).toISOString()}` };
  if (typeof d.claims.nbf === 'number' && d.claims.nbf - skew > now) return { ok: false, reason: 'not yet valid' };
  if (opts.issuer !== undefined && d.claims.iss !== opts.issuer) return { ok: false, reason: `issuer ${String(d.claims.iss)} is not ${opts.issuer}` };
  if (opts.audience) {
    const auds = Array.isArray(d.claims.aud) ? d.claims.aud : [d.claims.aud];
    if (!auds.some((a) => typeof a === 'string' && opts.audience!.includes(a)))
      return { ok: false, reason: `audience ${JSON.stringify(d.claims.aud)} is not one of ${opts.audience.join(', ')}` };
  }
  return { ok: true, claims: d.claims, header: d.header };
}
