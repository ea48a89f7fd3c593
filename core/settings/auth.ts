/** Sign-in inputs (GitHub; on ADO the service connection supplies them), merged with an azure/login-style `creds` JSON. */
import { definedOnly } from '../domain/objects';
import { withoutTrailingSlash } from '../domain/urls';
import { ConfigError } from '../errors';
import type { AuthType, CloudName } from '../inputs';
import { bad, type Inputs } from './reader';
import type { AuthSettings } from './types';
import { GUID, httpsUrl } from './values';

export function authSettings(inp: Inputs): AuthSettings {
  const type = inp.choice<AuthType>('auth-type') ?? 'auto';
  const environment = inp.choice<CloudName>('environment') ?? 'AzureCloud';
  let clientId = inp.opt('client-id');
  let tenantId = inp.opt('tenant-id');
  let clientSecret = inp.opt('client-secret');
  let resourceManagerEndpoint = httpsUrl(inp, 'resource-manager-endpoint', 'an Azure Resource Manager endpoint');
  const credsText = inp.opt('creds');
  if (credsText !== undefined) {
    let creds: unknown;
    try {
      creds = JSON.parse(credsText);
    } catch {
      throw new ConfigError("Input 'creds' is not valid JSON: it must be an azure/login-style object with clientId, clientSecret and tenantId");
    }
    // `null`, a string or an array parse as JSON too; the value is a secret, so it is not repeated here.
    if (creds === null || typeof creds !== 'object' || Array.isArray(creds))
      throw new ConfigError("Input 'creds' is not a JSON object: it must be an azure/login-style object with clientId, clientSecret and tenantId");
    const fields = creds as Record<string, unknown>;
    const str = (k: string): string | undefined => (typeof fields[k] === 'string' && fields[k] ? (fields[k] as string) : undefined);
    // Like azure/login: explicit inputs win over the JSON.
    clientId ??= str('clientId');
    tenantId ??= str('tenantId');
    clientSecret ??= str('clientSecret');
    const fromCreds = str('resourceManagerEndpointUrl');
    resourceManagerEndpoint ??= fromCreds === undefined ? undefined : withoutTrailingSlash(fromCreds);
  }
  for (const [name, v] of [
    ['client-id', clientId],
    ['tenant-id', tenantId],
  ] as const) {
    if (v !== undefined && !GUID.test(v) && !(name === 'tenant-id' && /^[a-z0-9.-]+$/i.test(v))) throw bad(name, v, 'it must be a GUID');
  }
  let clientCertificate = inp.opt('client-certificate');
  if (clientCertificate !== undefined && !clientCertificate.includes('-----BEGIN')) clientCertificate = `@file:${clientCertificate}`;
  if (environment === 'AzureStack' && resourceManagerEndpoint === undefined) {
    throw new ConfigError("Input 'resource-manager-endpoint' is required when 'environment' is AzureStack");
  }
  if (type === 'oidc' || type === 'service-principal') {
    if (clientId === undefined) throw new ConfigError(`Input 'client-id' is required when 'auth-type' is ${type}`);
    if (tenantId === undefined) throw new ConfigError(`Input 'tenant-id' is required when 'auth-type' is ${type}`);
  }
  if (type === 'service-principal' && clientSecret === undefined && clientCertificate === undefined) {
    throw new ConfigError("Input 'client-secret' (or 'client-certificate', or 'creds') is required when 'auth-type' is service-principal");
  }
  const authorityHost = httpsUrl(inp, 'authority-host', 'an Entra authority host');
  return definedOnly<AuthSettings>({
    type,
    audience: inp.opt('audience')!,
    environment,
    clientId,
    tenantId,
    clientSecret,
    clientCertificate,
    resourceManagerEndpoint,
    authorityHost,
  });
}
