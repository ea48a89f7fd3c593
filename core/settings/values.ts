/**
 * The grammar of input values: names, ids, URLs, versions. Each check throws one ConfigError line naming the input, the
 * value (sanitised: reader.ts's bad()) and what is allowed. Whatever becomes part of a request path is checked here so
 * that no value can turn a request into one on another resource: no `.` or `..` segment, no user info, query or
 * fragment where none belongs (docs/interface.md#error-lines).
 */
import { hasDotSegment, withoutTrailingSlash } from '../domain/urls';
import { ConfigError } from '../errors';
import { bad, type Inputs } from './reader';
import type { RegistryRef } from './types';

export const PIPELINE_NAME = /^[a-zA-Z0-9]{5,50}$/;
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A DNS name of two labels or more (a tenant's domain, e.g. contoso.onmicrosoft.com). */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
/** Resource group names: 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period. */
const RESOURCE_GROUP = /^[-\p{L}\p{N}_.()]{0,89}[-\p{L}\p{N}_()]$/u;
/** User-assigned identity names: 3-128 letters, digits, hyphens and underscores, starting with a letter or digit. */
const IDENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;
/** Longest URL an input may carry. */
const MAX_URL = 2048;

const REGISTRY_ID_SHAPE = '/subscriptions/<subscription id>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>';
const UAI_ID_SHAPE = '/subscriptions/<subscription id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>';
const GROUP_RULE = "1 to 90 letters, digits, hyphens, underscores, periods or parentheses, not ending in a period (so not '.' or '..')";

export function pipelineName(inp: Inputs, name: string): string {
  const v = inp.opt(name)!;
  if (!PIPELINE_NAME.test(v)) throw bad(name, v, 'it must be 5 to 50 letters or digits (no hyphens or underscores)');
  return v;
}

export function isResourceGroup(v: string): boolean {
  return RESOURCE_GROUP.test(v);
}

/** A tenant: its GUID, or one of its domain names. */
export function isTenant(v: string): boolean {
  return GUID.test(v) || DOMAIN.test(v);
}

/** `YYYY-MM-DD` or `YYYY-MM-DD-preview`, with a date that exists. */
export function isApiVersion(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(-preview)?$/.exec(v);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return y >= 2014 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/**
 * An https URL with a host and nothing a request must not carry: no user name or password, no query (SAS tokens
 * belong in Key Vault), no fragment, no `.`/`..` segment or backslash (URL resolution would move the request).
 */
export function httpsUrl(inp: Inputs, name: string, what: string): string | undefined {
  const v = inp.opt(name);
  if (v === undefined) return undefined;
  return checkHttpsUrl(name, v, what);
}

/** httpsUrl's checks on a value that did not come straight from an input (e.g. a field of `creds`). */
export function checkHttpsUrl(name: string, v: string, what: string): string {
  if (v.length > MAX_URL) throw bad(name, v, `it must be an https URL of ${what}, at most ${MAX_URL} characters`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(name, v, `it must be an https URL of ${what}`);
  }
  if (u.protocol !== 'https:') throw bad(name, v, `it must be an https URL of ${what} (the service refuses http)`);
  if (u.username !== '' || u.password !== '') throw bad(name, v, `it must be the URL of ${what} without a user name or password`);
  if (u.search || v.includes('?')) throw bad(name, v, `it must be the URL of ${what} without a query string; keep SAS tokens in Key Vault`);
  if (u.hash || v.includes('#')) throw bad(name, v, `it must be the URL of ${what} without a fragment ('#')`);
  const rawPath = /^https:\/\/[^/]*(.*)$/i.exec(v)?.[1] ?? '';
  if (v.includes('\\') || hasDotSegment(rawPath)) throw bad(name, v, `it must be the URL of ${what} without '.' or '..' path segments or backslashes`);
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  if (/[\s\u0000-\u001f\u007f]/.test(v)) throw bad(name, v, `it must be the URL of ${what} without spaces or control characters`);
  return withoutTrailingSlash(v);
}

export function storageUri(inp: Inputs, name: string): string | undefined {
  const v = httpsUrl(inp, name, 'a blob container, e.g. https://account.blob.core.windows.net/transfer');
  if (v === undefined) return undefined;
  const segments = new URL(v).pathname.split('/').filter(Boolean);
  // Path-style endpoints (emulators, Azure Stack by IP) carry the account as the first segment.
  const containerOk = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(segments[segments.length - 1] ?? '');
  const accountOk = segments.length !== 2 || /^[a-z0-9]{3,24}$/.test(segments[0]!);
  if (segments.length < 1 || segments.length > 2 || !containerOk || !accountOk) {
    throw bad(
      name,
      v,
      'it must be the URL of one blob container, e.g. https://account.blob.core.windows.net/transfer (container names: 3-63 lower-case letters, digits and single hyphens)',
    );
  }
  return v;
}

export function secretUri(inp: Inputs, name: string): string | undefined {
  const v = httpsUrl(inp, name, 'a Key Vault secret, e.g. https://myvault.vault.azure.net/secrets/acrexportsas');
  if (v === undefined) return undefined;
  if (!/^\/secrets\/[0-9a-zA-Z-]{1,127}(?:\/[0-9a-f]{32})?$/.test(new URL(v).pathname)) {
    throw bad(name, v, 'it must be a Key Vault secret URI, https://<vault>/secrets/<name>[/<version>] (names: 1-127 letters, digits and hyphens)');
  }
  return v;
}

/** The segments of an ARM resource id of one type, checked: a GUID subscription, a valid group, a valid name. */
function resourceId(
  input: string,
  v: string,
  type: string,
  shape: string,
  nameOk: (n: string) => boolean,
  nameRule: string,
): { subscriptionId: string; resourceGroup: string; name: string } {
  const m = new RegExp(`^/subscriptions/([^/]*)/resourceGroups/([^/]*)/providers/${type.replace('.', '\\.')}/([^/]*)$`, 'i').exec(v);
  if (!m) throw bad(input, v, `a resource id must look like ${shape}`);
  const [, sub, rg, name] = m as unknown as [string, string, string, string];
  if (!GUID.test(sub)) throw bad(input, v, 'the subscription in a resource id must be a subscription id (a GUID)');
  if (!isResourceGroup(rg)) throw bad(input, v, `the resource group in a resource id must be ${GROUP_RULE}`);
  if (!nameOk(name)) throw bad(input, v, nameRule);
  return { subscriptionId: sub, resourceGroup: rg, name };
}

/** A user-assigned identity's resource id, or undefined when `v` does not claim to be one. */
export function userAssignedIdentityId(input: string, v: string): string | undefined {
  if (!v.startsWith('/')) return undefined;
  resourceId(
    input,
    v,
    'Microsoft.ManagedIdentity/userAssignedIdentities',
    UAI_ID_SHAPE,
    (n) => IDENTITY_NAME.test(n),
    'the identity name must be 3 to 128 letters, digits, hyphens or underscores',
  );
  return v;
}

export function registry(inp: Inputs, which: 'source' | 'target', subscriptionId: string | undefined): RegistryRef | undefined {
  const input = `${which}-registry`;
  const groupInput = `${which}-resource-group`;
  const v = inp.opt(input);
  if (v === undefined) return undefined;
  const rgGiven = inp.opt(groupInput);
  if (rgGiven !== undefined && !isResourceGroup(rgGiven)) throw bad(groupInput, rgGiven, `it must be ${GROUP_RULE}`);
  if (v.startsWith('/')) {
    const id = resourceId(
      input,
      v,
      'Microsoft.ContainerRegistry/registries',
      REGISTRY_ID_SHAPE,
      (n) => PIPELINE_NAME.test(n),
      'the registry name must be 5 to 50 letters or digits',
    );
    // Two answers to one question: refuse rather than pick one.
    if (rgGiven !== undefined && rgGiven.toLowerCase() !== id.resourceGroup.toLowerCase()) {
      throw bad(groupInput, rgGiven, `it contradicts the resource group '${id.resourceGroup}' of '${input}' (a full resource id); leave '${groupInput}' out`);
    }
    return { ...id, resourceId: v };
  }
  if (!PIPELINE_NAME.test(v)) throw bad(input, v, 'it must be a registry name (5 to 50 letters or digits) or a full resource id');
  if (rgGiven === undefined)
    throw new ConfigError(`Input '${groupInput}' is required when '${input}' is a name ('${v}'); or give the registry's full resource id`);
  if (subscriptionId === undefined)
    throw new ConfigError(`Input 'subscription-id' is required when '${input}' is a name ('${v}'); or give the registry's full resource id`);
  return {
    subscriptionId,
    resourceGroup: rgGiven,
    name: v,
    resourceId: `/subscriptions/${subscriptionId}/resourceGroups/${rgGiven}/providers/Microsoft.ContainerRegistry/registries/${v}`,
  };
}

/** A media type without parameters, type/subtype (https://www.rfc-editor.org/rfc/rfc6838#section-4.2): what OCI artifactType holds. */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** require-referrers: artifact types, each once. */
export function artifactTypes(inp: Inputs, name: string): string[] {
  const out: string[] = [];
  for (const t of inp.list(name)) {
    if (!MEDIA_TYPE.test(t))
      throw bad(name, t, 'each entry must be an artifact type: a media type such as application/vnd.cncf.notary.signature, without parameters');
    if (!out.includes(t)) out.push(t);
  }
  return out;
}
