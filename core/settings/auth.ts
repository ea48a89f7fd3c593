/** Sign-in inputs (GitHub; on ADO the service connection supplies them), merged with an azure/login-style `creds` JSON. */
import { definedOnly } from '../domain/objects';
import { withoutTrailingSlash } from '../domain/urls';
import { ConfigError } from '../errors';
import type { AuthType, CloudName } from '../vocabulary';
import { bad, type Inputs } from './reader';
import type { AuthSettings } from './types';
import { checkHttpsUrl, GUID, httpsUrl, isTenant } from './values';

/** The ARM endpoints of the named sovereign clouds (docs/hosts.md#auth-type-auto): another endpoint contradicts `environment`. */
const SOVEREIGN_ARM: Readonly<Partial<Record<CloudName, string>>> = {
  AzureUSGovernment: 'management.usgovcloudapi.net',
  AzureChinaCloud: 'management.chinacloudapi.cn',
};

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
    resourceManagerEndpoint ??=
      fromCreds === undefined
        ? undefined
        : withoutTrailingSlash(checkHttpsUrl('creds', fromCreds, 'an Azure Resource Manager endpoint (resourceManagerEndpointUrl)'));
  }
  if (clientId !== undefined && !GUID.test(clientId)) throw bad('client-id', clientId, 'it must be a GUID');
  if (tenantId !== undefined && !isTenant(tenantId))
    throw bad('tenant-id', tenantId, "it must be the tenant's GUID or one of its domain names (e.g. contoso.onmicrosoft.com)");
  let clientCertificate = inp.opt('client-certificate');
  if (clientCertificate !== undefined && !clientCertificate.includes('-----BEGIN')) clientCertificate = `@file:${clientCertificate}`;
  // Two credentials, or a credential the chosen sign-in would ignore: refuse rather than pick one silently.
  if (clientSecret !== undefined && clientCertificate !== undefined) {
    throw new ConfigError(
      `Inputs 'client-secret'${credsText !== undefined ? " (or 'creds')" : ''} and 'client-certificate' are both given: a service principal signs in with one of them; remove the other`,
    );
  }
  if ((type === 'oidc' || type === 'azure-cli' || type === 'managed-identity') && (clientSecret !== undefined || clientCertificate !== undefined)) {
    const given =
      clientSecret !== undefined ? (inp.opt('client-secret') !== undefined ? "'client-secret'" : "'creds' with a clientSecret") : "'client-certificate'";
    throw new ConfigError(`Input ${given} is given but 'auth-type' is ${type}, which does not use it: remove it, or set 'auth-type' to service-principal`);
  }
  const sovereign = SOVEREIGN_ARM[environment];
  if (sovereign !== undefined && resourceManagerEndpoint !== undefined && new URL(resourceManagerEndpoint).hostname.toLowerCase() !== sovereign) {
    throw bad(
      'resource-manager-endpoint',
      resourceManagerEndpoint,
      `it contradicts 'environment' ${environment} (whose ARM endpoint is https://${sovereign}): give one of them`,
    );
  }
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
  const audience = inp.opt('audience')!;
  if (!/^[a-z][a-z0-9+.-]*:[\x21-\x7e]{1,250}$/i.test(audience)) throw bad('audience', audience, 'it must be a URI such as api://AzureADTokenExchange');
  return definedOnly<AuthSettings>({
    type,
    audience,
    environment,
    clientId,
    tenantId,
    clientSecret,
    clientCertificate,
    resourceManagerEndpoint,
    authorityHost,
  });
}
