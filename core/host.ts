import type { TokenCredential } from '@azure/core-auth';
import type { RunBudget } from './budget';
import type { Logger } from './ports';

/** What a front-end gives the core besides the settings. */
export interface Host {
  readonly logger: Logger;
  /** Cancel signal (SIGINT/SIGTERM on GitHub, cancel on ADO), clock and deadline of the run. */
  readonly budget: RunBudget;
  /** Registers a secret with the host's log masking before it can be printed. */
  mask(secret: string): void;
  /** GitHub OIDC: a fresh ID token for `audience` (core.getIDToken); absent elsewhere. */
  readonly getIdToken?: (audience: string) => Promise<string>;
  /**
   * A credential the host already has (ADO: from the AzureRM service connection), with its cloud's ARM
   * endpoint; when absent the core builds one from settings.auth.
   */
  readonly credential?: {
    readonly credential: TokenCredential;
    readonly armEndpoint: string;
    readonly armAudience?: string;
    readonly authorityHost?: string;
    /** How the credential names itself in a failed sign-in, and its fix. */
    readonly signIn?: { readonly mode: string; readonly fix: string };
    /** A new credential of the same identity (no cached token), for signing in again after Azure refused a token. */
    readonly renew?: () => TokenCredential;
  };
}
