/**
 * The request-tracking headers each service puts on every answer it gives, errors, faults and unknown paths included,
 * which is what clients quote when they report a failure (the az CLI prints the registry's correlation id, the Azure
 * SDKs log ARM's request ids):
 * - ARM: x-ms-request-id, x-ms-correlation-request-id (the client's, else a new one) and x-ms-routing-request-id;
 * - Entra, Key Vault and storage: x-ms-request-id (Azurite's own, when it answered, wins);
 * - the ACR data plane: X-Ms-Correlation-Request-Id (as in ACR's recorded answers, e.g. Azure/azure-sdk-for-js
 *   sdk/containerregistry/container-registry/recordings).
 * The server sets them before a request is handled; a handler's own headers of the same name replace them.
 */
import { randomUUID } from 'node:crypto';
import { headerValue } from './http';
import type { Request, Service } from './router';

/** ARM's request-tracking headers, on every ARM answer. */
export function correlationHeaders(req: Pick<Request, 'headers'>): Record<string, string> {
  const id = randomUUID();
  const corr = headerValue(req.headers['x-ms-correlation-request-id']) ?? headerValue(req.headers['x-ms-client-request-id']) ?? id;
  return { 'x-ms-request-id': id, 'x-ms-correlation-request-id': corr, 'x-ms-routing-request-id': `LOCAL:${id}` };
}

export function trackingHeaders(service: Service, req: Pick<Request, 'headers'>): Record<string, string> {
  switch (service) {
    case 'arm':
      return correlationHeaders(req);
    case 'acr':
      return { 'x-ms-correlation-request-id': randomUUID() };
    case 'entra':
    case 'keyvault':
    case 'storage':
      return { 'x-ms-request-id': randomUUID() };
    case 'oidc':
    case 'msi':
    case 'control':
      return {};
  }
}
