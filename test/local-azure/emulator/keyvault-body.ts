/** Key Vault request bodies and names, checked as the service checks them (400 BadParameter). */
import type { Json } from './context';
import { readJson } from './http';
import { kvError } from './keyvault-errors';
import type { Request } from './router';

/** Secret names: 1 to 127 letters, digits and hyphens. */
export const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

/** The attribute and property fields a set or update body may carry. */
export interface SecretProps {
  contentType?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

export function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) throw kvError(400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
}

/** Reads the optional attribute and property fields of a set/update body; wrong types are 400 BadParameter. */
export function readProps(body: Json): SecretProps {
  const out: SecretProps = {};
  if (body['contentType'] !== undefined) {
    if (typeof body['contentType'] !== 'string') throw kvError(400, 'BadParameter', 'contentType must be a string.');
    out.contentType = body['contentType'];
  }
  const tags = body['tags'];
  if (tags !== undefined && tags !== null) {
    if (typeof tags !== 'object' || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== 'string'))
      throw kvError(400, 'BadParameter', 'tags must be an object of strings.');
    out.tags = { ...(tags as Record<string, string>) };
  }
  const attrs = body['attributes'];
  if (attrs !== undefined && attrs !== null) {
    if (typeof attrs !== 'object') throw kvError(400, 'BadParameter', 'attributes must be an object.');
    const a = attrs as Json;
    if (typeof a['enabled'] === 'boolean') out.enabled = a['enabled'];
    if (typeof a['nbf'] === 'number') out.nbf = a['nbf'];
    if (typeof a['exp'] === 'number') out.exp = a['exp'];
  }
  return out;
}

export async function jsonObject(req: Request): Promise<Json> {
  const body = await readJson(req);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw kvError(400, 'BadParameter', 'The request body must be a JSON object.');
  return body as Json;
}
