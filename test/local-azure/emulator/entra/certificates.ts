/**
 * The certificates registered on the service principal's app (as `az ad app credential reset --cert` or the portal
 * uploads one: the public part only), and the check of a client assertion signed with one, as Entra makes it
 * (https://learn.microsoft.com/entra/identity-platform/certificate-credentials): the header names the certificate by
 * thumbprint (`x5t`: SHA-1, what MSAL Python sends; `x5t#S256`: SHA-256, what MSAL Node sends), the signature is RS256
 * or PS256 by that certificate's key, `iss` and `sub` are the client id, `aud` is the token endpoint, and the
 * certificate is within its validity. Registered through the control API (`POST {controlUrl}/app-certificates`
 * `{certificate: PEM}`); kept on disk like every credential Entra holds.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { Emulator } from '../context';
import { controlError } from '../control';
import { readJson, sendJson } from '../http';
import { type DecodedJwt, verifyJwt } from '../jwt';
import type { Router } from '../router';

interface Registered {
  readonly pem: string;
  readonly sha1: string;
  readonly sha256: string;
}

/** Why an assertion is refused: Entra's AADSTS code and sentence. */
export interface CertificateRefusal {
  readonly code: number;
  readonly description: string;
}

const thumbprint = (der: Buffer, algorithm: 'sha1' | 'sha256'): string => createHash(algorithm).update(der).digest('base64url');

export class AppCertificates {
  private readonly registered = new Map<string, Registered>();

  constructor(private readonly emu: Emulator) {
    for (const [key, r] of emu.disk.readAll<Registered>('app-certificates')) this.registered.set(key, r);
  }

  /** Registers a certificate (PEM, public part); returns its thumbprints. A private key is refused: it never leaves its owner. */
  register(pem: string): Registered {
    if (/PRIVATE KEY/.test(pem)) throw controlError(400, 'send the certificate alone: a private key is never uploaded to an app registration');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch (e) {
      throw controlError(400, `not a PEM certificate: ${(e as Error).message}`);
    }
    const r = { pem: cert.toString(), sha1: thumbprint(cert.raw, 'sha1'), sha256: thumbprint(cert.raw, 'sha256') };
    this.registered.set(r.sha256.toLowerCase(), r);
    this.emu.disk.write('app-certificates', r.sha256, r);
    return r;
  }

  /** Whether the assertion names a certificate (rather than being a federated token). */
  static isCertificateAssertion(d: DecodedJwt): boolean {
    return typeof d.header['x5t#S256'] === 'string' || typeof d.header['x5t'] === 'string';
  }

  /** The refusal Entra gives the assertion, or undefined when it authenticates `clientId` at `tokenEndpoints`. */
  check(assertion: string, d: DecodedJwt, clientId: string, tokenEndpoints: readonly string[]): CertificateRefusal | undefined {
    const s256 = d.header['x5t#S256'];
    const presented = typeof s256 === 'string' ? s256 : String(d.header['x5t']);
    // base64url, with or without padding (MSAL Python pads it), as Entra accepts either.
    const wanted = presented.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const found = [...this.registered.values()].find((r) => (typeof s256 === 'string' ? r.sha256 : r.sha1) === wanted);
    if (!found) {
      return {
        code: 700027,
        description: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${presented}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
      };
    }
    const cert = new X509Certificate(found.pem);
    const now = Date.now();
    if (Date.parse(cert.validTo) <= now || Date.parse(cert.validFrom) > now) {
      return {
        code: 700027,
        description: `Client assertion failed signature validation. [Reason - The key used is expired., Thumbprint of key used by client: '${presented}']`,
      };
    }
    const signed = verifyJwt(assertion, cert.publicKey, { skewSeconds: 300 });
    if (!signed.ok) {
      const reason = /signature/.test(signed.reason) ? 'Key was found, but use of the key to verify the signature failed.' : signed.reason;
      return {
        code: 700027,
        description: `Client assertion failed signature validation. [Reason - ${reason}, Thumbprint of key used by client: '${presented}']`,
      };
    }
    const { iss, sub, aud } = d.claims;
    if (iss !== clientId || sub !== clientId)
      return {
        code: 700021,
        description: `Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
      };
    const auds = (Array.isArray(aud) ? aud : [aud]).filter((a): a is string => typeof a === 'string');
    if (!auds.some((a) => tokenEndpoints.some((t) => t.toLowerCase() === a.toLowerCase())))
      return { code: 50027, description: `Invalid JWT token. The audience '${auds.join(',')}' of the client assertion is not this token endpoint.` };
    return undefined;
  }
}

/** `POST {controlUrl}/app-certificates` `{certificate}` registers one and answers its thumbprints. */
export function registerCertificateControl(router: Router, certificates: AppCertificates): void {
  router.add('control', 'POST', /^\/_control\/app-certificates$/, async (req, res) => {
    const body = (await readJson(req)) as { certificate?: unknown } | undefined;
    if (typeof body?.certificate !== 'string') throw controlError(400, 'body must be {"certificate": "<PEM>"}');
    const r = certificates.register(body.certificate);
    sendJson(res, 200, { x5t: r.sha1, 'x5t#S256': r.sha256 });
  });
}
