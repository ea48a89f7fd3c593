/** A bad input: one line naming the input, the value and what is allowed. Raised before any Azure call. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Entra refused the sign-in: one line naming the sign-in mode and what to check (the step still leaves a report). */
export class SignInError extends Error {
  override readonly name = 'SignInError';
}

/** An Azure service answered with an error. Keeps the service's status, code, message and request id. */
export class AzureRequestError extends Error {
  override readonly name = 'AzureRequestError';
  constructor(
    /** What was being done, e.g. "PUT export pipeline 'exp1' on registry 'src'". */
    readonly operation: string,
    readonly status: number,
    readonly code: string,
    readonly serviceMessage: string,
    readonly correlationId?: string,
    /** How to fix it, where known. */
    readonly fix?: string,
  ) {
    super(`${operation} failed: HTTP ${status} ${code}: ${serviceMessage}${correlationId ? ` (correlation id ${correlationId})` : ''}${fix ? `. ${fix}` : ''}`);
  }
}

/** The operation was cancelled (SIGINT/SIGTERM, ADO cancel) or ran out of time. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(
    message: string,
    readonly reason: 'cancelled' | 'timeout',
    /** What was in flight when it happened (the deadline's snapshot), for the report. */
    readonly inFlight: readonly string[] = [],
  ) {
    super(message);
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Removes SAS signatures, other credentials in query strings, bearer tokens and URL passwords from text that may reach a log. */
export function redact(text: string): string {
  return text
    .replace(/([?&](?:sig|se?cret|client_secret|code|token|access_token|refresh_token)=)[^&#\s"']+/gi, '$1REDACTED')
    .replace(/(\bBearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1REDACTED')
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"]*@/gi, '$1REDACTED@');
}

/** Longest value an error line repeats in full. */
const ECHO_MAX = 200;

/**
 * A value as an error line may repeat it: credentials removed (redact), control characters escaped (a terminal must
 * not interpret them, and the line must stay one line), and a long value cut, saying how long it was.
 */
export function sanitize(value: string, max = ECHO_MAX): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it escapes
  const escaped = redact(value).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length <= max ? escaped : `${escaped.slice(0, max)}… (${value.length} characters)`;
}
