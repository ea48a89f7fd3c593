/** A bad input: one line naming the input, the value and what is allowed. Raised before any Azure call. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
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
  ) {
    super(message);
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Removes SAS signatures (and other credentials in query strings) from text that may reach a log. */
export function redact(text: string): string {
  return text
    .replace(/([?&](?:sig|se?cret|client_secret|code|token|access_token|refresh_token)=)[^&#\s"']+/gi, '$1REDACTED')
    .replace(/(\bBearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1REDACTED');
}
