/** The grammar of input values: names, ids, URLs. Each check throws one ConfigError line naming the input and what is allowed. */
import { withoutTrailingSlash } from '../domain/urls';
import { ConfigError } from '../errors';
import { bad, type Inputs } from './reader';
import type { RegistryRef } from './types';

export const PIPELINE_NAME = /^[a-zA-Z0-9]{5,50}$/;
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REGISTRY_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i;
export const UAI_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;
const RESOURCE_GROUP = /^[-\w._()]{1,90}$/;
// Blob names: keep to what every tool carries safely across clouds.
export const BLOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function pipelineName(inp: Inputs, name: string): string {
  const v = inp.opt(name)!;
  if (!PIPELINE_NAME.test(v)) throw bad(name, v, 'it must be 5 to 50 letters or digits (no hyphens or underscores)');
  return v;
}

export function httpsUrl(inp: Inputs, name: string, what: string): string | undefined {
  const v = inp.opt(name);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(name, redactUrl(v), `it must be an https URL of ${what}`);
  }
  if (u.protocol !== 'https:') throw bad(name, redactUrl(v), `it must be an https URL of ${what} (the service refuses http)`);
  if (u.search) throw bad(name, redactUrl(v), `it must be the URL of ${what} without a query string; keep SAS tokens in Key Vault`);
  return withoutTrailingSlash(v);
}

function redactUrl(v: string): string {
  return v.replace(/([?&]sig=)[^&]+/gi, '$1REDACTED');
}

export function storageUri(inp: Inputs, name: string): string | undefined {
  const v = httpsUrl(inp, name, 'a blob container, e.g. https://account.blob.core.windows.net/transfer');
  if (v === undefined) return undefined;
  const segments = new URL(v).pathname.split('/').filter(Boolean);
  // Path-style endpoints (emulators, Azure Stack by IP) carry the account as the first segment.
  if (segments.length < 1 || segments.length > 2 || !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(segments[segments.length - 1]!)) {
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
    throw bad(name, v, 'it must be a Key Vault secret URI, https://<vault>/secrets/<name>[/<version>]');
  }
  return v;
}

export function registry(inp: Inputs, which: 'source' | 'target', subscriptionId: string | undefined): RegistryRef | undefined {
  const input = `${which}-registry`;
  const v = inp.opt(input);
  if (v === undefined) return undefined;
  const m = REGISTRY_ID.exec(v);
  if (m) {
    const [, sub, rg, name] = m as unknown as [string, string, string, string];
    if (!PIPELINE_NAME.test(name)) throw bad(input, v, 'the registry name must be 5 to 50 letters or digits');
    return { subscriptionId: sub, resourceGroup: rg, name, resourceId: v };
  }
  if (v.startsWith('/'))
    throw bad(input, v, 'a resource id must look like /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ContainerRegistry/registries/<name>');
  if (!PIPELINE_NAME.test(v)) throw bad(input, v, 'it must be a registry name (5 to 50 letters or digits) or a full resource id');
  const rg = inp.opt(`${which}-resource-group`);
  if (rg === undefined)
    throw new ConfigError(`Input '${which}-resource-group' is required when '${input}' is a name ('${v}'); or give the registry's full resource id`);
  if (!RESOURCE_GROUP.test(rg)) throw bad(`${which}-resource-group`, rg, 'it must be 1 to 90 letters, digits, hyphens, underscores, periods or parentheses');
  if (subscriptionId === undefined)
    throw new ConfigError(`Input 'subscription-id' is required when '${input}' is a name ('${v}'); or give the registry's full resource id`);
  return {
    subscriptionId,
    resourceGroup: rg,
    name: v,
    resourceId: `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/Microsoft.ContainerRegistry/registries/${v}`,
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
