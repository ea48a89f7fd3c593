/**
 * The two OIDC issuers that federated credentials trust, under `${baseUrl}/_oidc`: a GitHub-runner-style one (what
 * ACTIONS_ID_TOKEN_REQUEST_URL points at) and an Azure DevOps one (SYSTEM_OIDCREQUESTURI); one signing key for both.
 * Request shapes: docs/hosts.md#oidc-tokens, docs/hosts.md#azure-devops-service-connection.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Emulator } from '../context';
import { bearerToken, HttpError, readBody, sendJson } from '../http';
import { type Claims, nowSeconds, SigningKey } from '../jwt';
import type { Request } from '../router';
import { secretsEqual } from './tokens';

/** Audiences a federated identity credential may name (azure/login README: public cloud, US Gov, China). */
export const FEDERATION_AUDIENCES = ['api://AzureADTokenExchange', 'api://AzureADTokenExchangeUSGov', 'api://AzureADTokenExchangeChina'] as const;
const GITHUB_SUBJECT = 'repo:local/acr-transfer:ref:refs/heads/main';

export class OidcIssuer {
  /** Signs ID tokens of both issuers; federated credentials trust `issuer`. */
  readonly key: SigningKey;
  readonly requestToken: string;
  readonly adoAccessToken: string;

  constructor(private readonly emu: Emulator) {
    this.key = SigningKey.kept(emu.disk, 'oidc');
    this.requestToken = emu.disk.kept('oidc-request-token', () => randomBytes(32).toString('base64url'));
    this.adoAccessToken = emu.disk.kept('ado-access-token', () => randomBytes(32).toString('base64url'));
  }

  get issuer(): string {
    return `${this.emu.baseUrl}/_oidc`;
  }

  idToken(audience: string, subject: string, extra: Claims = {}): string {
    const now = nowSeconds();
    return this.key.sign({
      jti: randomUUID(),
      sub: subject,
      aud: audience,
      iss: this.issuer,
      nbf: now,
      iat: now,
      exp: now + this.emu.knobs.idTokenLifetimeSeconds,
      ...extra,
    });
  }

  /** GitHub's runner endpoint: `{count, value}`; @actions/core appends `&audience=` to the request URL. */
  githubIdToken(req: Request, res: ServerResponse): void {
    const presented = bearerToken(req);
    if (!presented || !secretsEqual(presented, this.requestToken))
      throw new HttpError(401, { message: 'Bad credentials: the request token is missing or wrong.' });
    const audience = req.url.searchParams.get('audience') || FEDERATION_AUDIENCES[0];
    const value = this.idToken(audience, GITHUB_SUBJECT, {
      ref: 'refs/heads/main',
      ref_type: 'branch',
      repository: 'local/acr-transfer',
      repository_owner: 'local',
      event_name: 'push',
      workflow: 'local',
      job_workflow_ref: 'local/acr-transfer/.github/workflows/local.yml@refs/heads/main',
      run_id: String(Date.now()),
      run_attempt: '1',
      runner_environment: 'self-hosted',
    });
    sendJson(res, 200, { count: value.length, value });
  }

  /** Azure DevOps' oidctoken endpoint as AzurePipelinesCredential calls it (POST, JSON, `{oidcToken}`). */
  async adoIdToken(req: Request, res: ServerResponse): Promise<void> {
    await readBody(req.raw, 64 * 1024);
    const presented = bearerToken(req);
    if (!presented || !secretsEqual(presented, this.adoAccessToken)) {
      throw new HttpError(401, {
        $id: '1',
        innerException: null,
        message: "TF400813: The user '' is not authorized to access this resource.",
        typeName: 'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException',
        typeKey: 'UnauthorizedRequestException',
        errorCode: 0,
        eventId: 3000,
      });
    }
    const connection = req.url.searchParams.get('serviceConnectionId');
    if (!connection) {
      throw new HttpError(400, {
        $id: '1',
        innerException: null,
        message: 'The serviceConnectionId query parameter is required.',
        typeName: 'System.ArgumentException',
        typeKey: 'ArgumentException',
        errorCode: 0,
        eventId: 0,
      });
    }
    sendJson(res, 200, { oidcToken: this.idToken(FEDERATION_AUDIENCES[0], `sc://local/acr-transfer/${connection}`) });
  }

  configuration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/.well-known/jwks`,
      subject_types_supported: ['public', 'pairwise'],
      response_types_supported: ['id_token'],
      claims_supported: [
        'sub',
        'aud',
        'exp',
        'iat',
        'iss',
        'jti',
        'nbf',
        'ref',
        'repository',
        'repository_owner',
        'run_id',
        'run_attempt',
        'event_name',
        'ref_type',
        'job_workflow_ref',
      ],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid'],
    };
  }

  /** `GET /_control/oidc`. The request URL already carries a query, as GitHub's does: @actions/core appends `&audience=…`. */
  controlView(): Record<string, string> {
    return {
      requestUrl: `${this.issuer}/token?api-version=2.0`,
      requestToken: this.requestToken,
      adoRequestUri: `${this.issuer}/ado`,
      adoAccessToken: this.adoAccessToken,
    };
  }
}
