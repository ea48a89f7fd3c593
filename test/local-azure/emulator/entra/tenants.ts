/**
 * Entra's tenants as its login endpoint sees them: the local tenant, the multi-tenant aliases, and unknown ones
 * (AADSTS90002); Entra's error body; and each tenant's OpenID configuration, which MSAL reads first
 * (docs/local-azure.md#msal-instance-discovery).
 */
import { randomUUID } from 'node:crypto';
import type { Emulator } from '../context';
import { headerValue, HttpError } from '../http';
import type { Request } from '../router';

const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);

export type TenantKind = 'tenant' | 'multi' | 'unknown';

export function tenantKind(emu: Emulator, segment: string): TenantKind {
  const t = segment.toLowerCase();
  if (t === emu.config.tenantId.toLowerCase()) return 'tenant';
  return MULTI_TENANT.has(t) ? 'multi' : 'unknown';
}

/** Entra's error body: AADSTS code first in error_description, then trace and correlation ids. */
export function entraError(emu: Emulator, req: Request, status: number, error: string, code: number, description: string): HttpError {
  const traceId = randomUUID();
  const correlationId = req.url.searchParams.get('client-request-id') ?? headerValue(req.headers['client-request-id']) ?? randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  const body = {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${emu.baseUrl}/error?code=${code}`,
  };
  return new HttpError(status, body, { 'x-ms-request-id': traceId, 'client-request-id': correlationId, 'cache-control': 'no-store, no-cache' });
}

export function tenantNotFound(emu: Emulator, req: Request, segment: string, error = 'invalid_request'): HttpError {
  return entraError(
    emu,
    req,
    400,
    error,
    90002,
    `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  );
}

/** The tenant's `/v2.0/.well-known/openid-configuration`. */
export function openIdConfiguration(emu: Emulator, segment: string): Record<string, unknown> {
  const base = emu.baseUrl;
  const tenantId = emu.config.tenantId.toLowerCase();
  const t = segment.toLowerCase();
  const issuerTenant = t === tenantId ? tenantId : '{tenantid}';
  const root = `${base}/${t}`;
  return {
    token_endpoint: `${root}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${root}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/${issuerTenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${base}/oidc/userinfo`,
    authorization_endpoint: `${root}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${root}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${root}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'tid', 'ver', 'oid'],
    tenant_region_scope: null,
    cloud_instance_name: 'local-azure.test',
    cloud_graph_host_name: 'graph.local-azure.test',
    msgraph_host: 'graph.local-azure.test',
    rbac_url: `${base}/`,
  };
}
