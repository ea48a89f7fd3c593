/**
 * Entra ID for the local Azure, as one route table: the login endpoint (each tenant's OpenID configuration and keys,
 * the token endpoint), the two OIDC issuers that federated credentials trust, a machine's managed identity endpoint,
 * the app's registered certificates, and their control routes.
 */
import type { Emulator, TokenVerifier } from '../context';
import { sendJson } from '../http';
import type { Router } from '../router';
import { AppCertificates, registerCertificateControl } from './certificates';
import { ManagedIdentityEndpoint } from './managed-identity';
import { OidcIssuer } from './oidc';
import { openIdConfiguration, tenantKind, tenantNotFound } from './tenants';
import { TokenEndpoint } from './token-endpoint';
import { AccessTokens } from './tokens';

/** Registers Entra and the OIDC issuers on the main port and sets `emu.tokens`. */
export function registerEntra(router: Router, emu: Emulator): void {
  const tokens = new AccessTokens(emu);
  const oidc = new OidcIssuer(emu);
  const certificates = new AppCertificates(emu);
  const msi = new ManagedIdentityEndpoint(emu, tokens);
  const endpoint = new TokenEndpoint(emu, tokens, oidc, certificates);
  emu.tokens = { verifyAccessToken: (token, audiences) => tokens.verifyAccessToken(token, audiences) } satisfies TokenVerifier;

  // The tenant segment never starts with `_`, so that /_oidc and /_control stay out of these routes.
  router.add('entra', 'GET', /^\/(?<tenant>[^/_][^/]*)\/v2\.0\/\.well-known\/openid-configuration$/, (req, res) => {
    const segment = req.params['tenant'] ?? '';
    if (tenantKind(emu, segment) === 'unknown') throw tenantNotFound(emu, req, segment, 'invalid_tenant');
    sendJson(res, 200, openIdConfiguration(emu, segment));
  });
  router.add('entra', 'GET', /^\/(?<tenant>[^/_][^/]*)\/discovery(?:\/v2\.0)?\/keys$/, (req, res) => {
    const segment = req.params['tenant'] ?? '';
    if (tenantKind(emu, segment) === 'unknown') throw tenantNotFound(emu, req, segment, 'invalid_tenant');
    sendJson(res, 200, { keys: [{ ...tokens.key.jwk(), issuer: `${emu.baseUrl}/${tokens.tenantId}/v2.0` }] });
  });
  router.add('entra', 'POST', /^\/(?<tenant>[^/_][^/]*)\/oauth2\/v2\.0\/token$/, (req, res) => endpoint.token(req, res));

  router.add('oidc', 'GET', /^\/_oidc\/token$/, (req, res) => oidc.githubIdToken(req, res));
  router.add('oidc', 'POST', /^\/_oidc\/ado$/, (req, res) => oidc.adoIdToken(req, res));
  router.add('oidc', 'GET', /^\/_oidc\/\.well-known\/openid-configuration$/, (_req, res) => sendJson(res, 200, oidc.configuration()));
  router.add('oidc', 'GET', /^\/_oidc\/\.well-known\/jwks$/, (_req, res) => sendJson(res, 200, { keys: [oidc.key.jwk()] }));

  router.add('control', 'GET', /^\/_control\/oidc$/, (_req, res) => sendJson(res, 200, oidc.controlView()));
  registerCertificateControl(router, certificates);

  // A machine's managed identity endpoint, IDENTITY_ENDPOINT style (managed-identity.ts).
  router.add('msi', 'GET', /^\/_msi\/token$/, (req, res) => msi.token(req, res));
  router.add('control', 'GET', /^\/_control\/managed-identity$/, (_req, res) => sendJson(res, 200, msi.controlView()));
}
