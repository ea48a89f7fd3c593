import { HttpError } from '../http';
import type { Fallback } from '../router';

/** On every answer of the registry API (distribution's header). */
export const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' };

/** The registry API's error body: `{"errors":[{code,message,detail}]}`. */
export function registryError(status: number, code: string, message: string, detail: unknown = null, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { errors: [{ code, message, detail }] }, { ...API_VERSION_HEADER, ...headers });
}

/**
 * What a registry answers for a path or method it has no API for: the registry API's error body (which the az CLI
 * reads `errors[0].message` from), never ARM's. The code is distribution's UNSUPPORTED ("the operation is
 * unsupported"); the status says which of the two it is.
 */
export const REGISTRY_FALLBACK: Fallback = {
  service: 'acr',
  answer: (method, url, pathMatched) => registryError(pathMatched ? 405 : 404, 'UNSUPPORTED', `The operation is unsupported: ${method} ${url.pathname}`, null),
};
