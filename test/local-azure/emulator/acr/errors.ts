import { HttpError } from '../http';

/** On every answer of the registry API (distribution's header). */
export const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' };

/** The registry API's error body: `{"errors":[{code,message,detail}]}`. */
export function registryError(status: number, code: string, message: string, detail: unknown = null, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { errors: [{ code, message, detail }] }, { ...API_VERSION_HEADER, ...headers });
}
