/** Key Vault's error answers, as keyvault.ts and the fault injection (faults.ts) give them. */
import { HttpError } from './http';

const NOT_FOUND_HINT =
  'If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

/** Key Vault's error body: `{"error":{code,message,innererror?}}`. */
export function kvError(status: number, code: string, message: string, inner?: string, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } }, headers);
}

export function secretNotFound(what: string): HttpError {
  return kvError(404, 'SecretNotFound', `A secret with (name/id) ${what} was not found in this key vault. ${NOT_FOUND_HINT}`);
}
