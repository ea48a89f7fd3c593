/**
 * The run's sign-in, shared by every client: a TokenCredential whose token requests are bounded like any other request
 * (core/azure/request-bounds.ts), and which can sign in again when Azure stops accepting its tokens mid-run (401
 * InvalidAuthenticationToken: revoked sessions, rotated keys; docs/azure-service.md#a-token-refused-mid-run). Signing in
 * again builds a new credential, so no cache of the old one (MSAL's, or an SDK pipeline's) hands out the refused token:
 * clients rebuild their SDK clients when `generation` changes.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import type { InFlight } from '../budget';
import { boundedAttempt, REQUEST_TIMEOUT_MS } from './request-bounds';

/** What a client needs to sign in again after a refused token. */
export interface SignInRenewal {
  /** Bumped by every fresh sign-in: an SDK client built before it holds a cached token that may be refused. */
  readonly generation: number;
  /** Which sign-in, for error lines ("auth-type service-principal"). */
  readonly description: string;
  /** Signs in again (a new credential, no cached token), unless one happened since the client saw `seen`. */
  renew(seen: number, why: string): void;
}

export interface SignInOptions {
  /** Builds the credential; called again for every fresh sign-in. */
  readonly make: () => TokenCredential;
  readonly description: string;
  readonly signal?: AbortSignal;
  readonly inFlight?: InFlight;
  readonly timeoutMs?: number;
  readonly log?: (message: string) => void;
}

export class SignInSession implements TokenCredential, SignInRenewal {
  private current: TokenCredential;
  private gen = 0;

  constructor(private readonly o: SignInOptions) {
    this.current = o.make();
  }

  get generation(): number {
    return this.gen;
  }

  get description(): string {
    return this.o.description;
  }

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken | null> {
    const what = `sign in (${this.o.description}) for ${[scopes].flat().join(' ')}`;
    const entry = this.o.inFlight?.start(what);
    const credential = this.current;
    try {
      return await boundedAttempt(
        { signal: this.o.signal, also: options.abortSignal, timeoutMs: this.o.timeoutMs ?? REQUEST_TIMEOUT_MS.signIn },
        what,
        (abortSignal) => credential.getToken(scopes, { ...options, abortSignal }),
      );
    } finally {
      entry?.done();
    }
  }

  renew(seen: number, why: string): void {
    if (seen !== this.gen) return;
    this.o.log?.(`Azure refused the access token (${why}): signing in again (${this.o.description})`);
    this.current = this.o.make();
    this.gen++;
  }
}

/** 401 codes that mean "this token is no longer accepted", worth one fresh sign-in (not audience or tenant mistakes). */
// ARM: InvalidAuthenticationToken, ExpiredAuthenticationToken; Key Vault: Unauthorized; storage: InvalidAuthenticationInfo.
const REFUSED_TOKEN_CODES = new Set(['invalidauthenticationtoken', 'expiredauthenticationtoken', 'unauthorized', 'invalidauthenticationinfo']);

/** Whether a 401 says the token itself was refused. */
export function isRefusedToken(status: number, code: string): boolean {
  return status === 401 && REFUSED_TOKEN_CODES.has(code.toLowerCase());
}

/** The fix of a token refused again right after a fresh sign-in. */
export function refusedAgainFix(signIn: SignInRenewal): string {
  return `Signed in again (${signIn.description}) after Azure refused the access token, and the new token was refused too: check that the identity still exists and can sign in (its secret, certificate or federated credential, 'client-id', 'tenant-id') and that 'environment' or 'resource-manager-endpoint' names its cloud`;
}
