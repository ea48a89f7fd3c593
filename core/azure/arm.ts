/**
 * ARM REST for registries and the transfer pipeline resources (exportPipelines, importPipelines, pipelineRuns),
 * over @azure/core-client's ServiceClient (bearer auth) with the pipeline's own retries off: core/retry.ts does
 * the retrying (408/429/5xx, connection resets, Retry-After) and the LRO polling (pollUntil), so both are bounded,
 * cancellable and testable with a fake HttpClient and Clock.
 *
 * Long-running operations, as the service really answers (docs/azure-service.md#long-running-operations):
 * - PUT 200 with a terminal provisioningState: done;
 * - PUT 200/201 with a non-terminal provisioningState and no header: poll GET of the resource;
 * - 200/201/202 with Azure-AsyncOperation: poll that URL (opaque: ACR signs it) until Succeeded/Failed/Canceled;
 * - 202 with Location: poll it until it stops answering 202.
 */
import type { TokenCredential } from '@azure/core-auth';
import { ServiceClient } from '@azure/core-client';
import { createHttpHeaders, createPipelineRequest, type HttpClient, type HttpHeaders, type HttpMethods } from '@azure/core-rest-pipeline';
import { AzureRequestError, errorMessage } from '../errors';
import { createHash } from 'node:crypto';
import type {
  AccessApi,
  ArmApi,
  Logger,
  PipelineKind,
  PipelineResource,
  PipelineRunResource,
  PipelineRunSpec,
  PipelineSpec,
  RegistryInfo,
  RegistryUsage,
  RoleAssignmentInfo,
  StorageAccountInfo,
  VaultAccessPolicy,
  VaultInfo,
} from '../ports';
import { abortError, type Clock, type PollOptions, pollUntil, realClock, retry } from '../retry';
import type { RegistryRef } from '../settings';
import {
  type ArmErrorResponse,
  type AsyncOperationStatus,
  type ExportPipeline,
  type ExportPipelineRequest,
  type IdentityProperties,
  type ImportPipeline,
  type ImportPipelineRequest,
  isTerminalState,
  type ListResult,
  type PipelineIdentityRequest,
  type PipelineRun,
  type PipelineRunCreateRequest,
  type Registry,
  type RegistryUsageListResult,
} from './arm-models';
import { DEFAULT_HTTP_RETRY, type HttpRetryPolicy, isRetryableError, isTransientStatus, retryAfterMs, TransientHttpError } from './http-retry';

/** Registry GET and listUsages exist in every stable api-version; this one is deployed in all public clouds. */
export const REGISTRY_API_VERSION = '2023-07-01';
/** storageAccessMode exists from this api-version on (docs/azure-service.md#resources-and-api-versions). */
const STORAGE_ACCESS_MODE_SINCE = '2025-06-01';
export const TRANSFER_ROLE = 'Container Registry Transfer Pipeline Contributor';

export interface ArmClientOptions {
  /** ARM base URL, e.g. https://management.azure.com */
  readonly endpoint: string;
  readonly credential: TokenCredential;
  /** `<ARM audience>/.default` of the cloud. */
  readonly scope: string;
  /** api-version of the pipeline resources (settings.apiVersion). */
  readonly apiVersion: string;
  readonly registryApiVersion?: string;
  /** The transport; tests pass a fake. Default: core-rest-pipeline's Node client. */
  readonly httpClient?: HttpClient;
  readonly clock?: Clock;
  /** Cancels requests in flight and waits (host.signal). */
  readonly signal?: AbortSignal;
  /** Absolute clock time after which LRO polling gives up with CancelledError('timeout'). */
  readonly deadline?: number;
  readonly retry?: HttpRetryPolicy;
  /** LRO polling interval when the service sends no Retry-After: first, and maximum after backing off. */
  readonly poll?: { readonly intervalMs: number; readonly maxIntervalMs: number };
  readonly logger?: Pick<Logger, 'debug'>;
  /** Registers secrets (storage account keys) with the host's log masking. */
  readonly mask?: (secret: string) => void;
}

interface ArmResponse {
  readonly status: number;
  readonly headers: HttpHeaders;
  readonly text: string;
  readonly body: unknown;
}

/** Which resource a request is about, for error messages and fix hints. */
type Target = RegistryTarget | AccessTarget;

interface RegistryTarget {
  readonly method: string;
  readonly reg: RegistryRef;
  /** e.g. "export pipeline 'exp1'"; absent for the registry itself. */
  readonly resource?: string;
  readonly area: 'registry' | 'pipeline' | 'run';
}

/** Key Vault, storage account and role assignment resources (setup's grants, check's access items). */
interface AccessTarget {
  readonly method: string;
  /** e.g. "Key Vaults of subscription '…'" */
  readonly resource: string;
  readonly area: 'access';
}

function describe(t: Target): string {
  if (t.area === 'access') return `${t.method} ${t.resource}`;
  return `${t.method} ${t.resource ? `${t.resource} on ` : ''}registry '${t.reg.name}'`;
}

/** Key Vault Secrets User, Storage Blob Data Contributor / Reader: the data roles setup grants (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
export const ACCESS_API_VERSIONS = { keyVault: '2023-07-01', storage: '2023-05-01', authorization: '2022-04-01' } as const;

interface VaultResource {
  readonly id?: string;
  readonly name?: string;
  readonly properties?: {
    readonly vaultUri?: string;
    readonly tenantId?: string;
    readonly enableRbacAuthorization?: boolean;
    readonly accessPolicies?: readonly { tenantId?: string; objectId?: string; permissions?: { secrets?: readonly string[] } }[];
  };
}

interface StorageAccountResource {
  readonly id?: string;
  readonly name?: string;
  readonly properties?: { readonly primaryEndpoints?: { readonly blob?: string } };
}

interface RoleAssignmentResource {
  readonly id?: string;
  readonly properties?: { readonly scope?: string; readonly roleDefinitionId?: string; readonly principalId?: string };
}

const KIND_COLLECTION: Readonly<Record<PipelineKind, 'exportPipelines' | 'importPipelines'>> = { export: 'exportPipelines', import: 'importPipelines' };

/** 404 codes that mean a parent (subscription, group, registry) is missing, not the item asked for. */
const PARENT_MISSING = new Set(['parentresourcenotfound', 'resourcegroupnotfound', 'subscriptionnotfound']);

export class ArmClient implements ArmApi, AccessApi {
  private readonly client: ServiceClient;
  private readonly endpoint: string;
  private readonly clock: Clock;
  private readonly retryPolicy: HttpRetryPolicy;
  private readonly pollOptions: { intervalMs: number; maxIntervalMs: number };

  constructor(private readonly o: ArmClientOptions) {
    this.endpoint = o.endpoint.replace(/\/+$/, '');
    this.clock = o.clock ?? realClock;
    this.retryPolicy = o.retry ?? DEFAULT_HTTP_RETRY;
    this.pollOptions = o.poll ?? { intervalMs: 2000, maxIntervalMs: 30_000 };
    this.client = new ServiceClient({
      endpoint: this.endpoint,
      credential: o.credential,
      credentialScopes: o.scope,
      // One retry layer only: ours (core/retry.ts).
      retryOptions: { maxRetries: 0 },
      userAgentOptions: { userAgentPrefix: 'acr-transfer' },
      ...(o.httpClient ? { httpClient: o.httpClient } : {}),
    });
  }

  // ---- registry

  async getRegistry(reg: RegistryRef): Promise<RegistryInfo> {
    const t: Target = { method: 'GET', reg, area: 'registry' };
    const res = await this.send('GET', this.url(reg.resourceId, this.o.registryApiVersion ?? REGISTRY_API_VERSION), undefined, t);
    if (res.status !== 200) throw this.error(res, t);
    const r = res.body as Registry;
    return {
      id: r.id ?? reg.resourceId,
      name: r.name ?? reg.name,
      sku: r.sku?.name ?? r.sku?.tier ?? 'unknown',
      loginServer: (r.properties?.loginServer ?? '').toLowerCase(),
      exportPolicyEnabled: (r.properties?.policies?.exportPolicy?.status ?? 'enabled').toLowerCase() !== 'disabled',
    };
  }

  async listUsages(reg: RegistryRef): Promise<RegistryUsage[]> {
    const t: Target = { method: 'GET', reg, resource: 'usages', area: 'registry' };
    const res = await this.send('GET', this.url(`${reg.resourceId}/listUsages`, this.o.registryApiVersion ?? REGISTRY_API_VERSION), undefined, t);
    if (res.status !== 200) throw this.error(res, t);
    return ((res.body as RegistryUsageListResult).value ?? []).map((u) => ({
      name: u.name ?? '',
      limit: u.limit ?? 0,
      currentValue: u.currentValue ?? 0,
      unit: u.unit ?? '',
    }));
  }

  // ---- pipelines

  async getPipeline(reg: RegistryRef, kind: PipelineKind, name: string): Promise<PipelineResource | undefined> {
    const t: Target = { method: 'GET', reg, resource: `${kind} pipeline '${name}'`, area: 'pipeline' };
    const res = await this.send('GET', this.url(`${reg.resourceId}/${KIND_COLLECTION[kind]}/${name}`), undefined, t);
    if (this.isItemMissing(res)) return undefined;
    if (res.status !== 200) throw this.error(res, t);
    return toPipeline(kind, res.body as ExportPipeline & ImportPipeline);
  }

  async putPipeline(reg: RegistryRef, name: string, spec: PipelineSpec): Promise<PipelineResource> {
    const t: Target = { method: 'PUT', reg, resource: `${spec.kind} pipeline '${name}'`, area: 'pipeline' };
    const url = this.url(`${reg.resourceId}/${KIND_COLLECTION[spec.kind]}/${name}`);
    const body = await this.longRunning('PUT', url, this.pipelineBody(spec), t);
    const resource = toPipeline(spec.kind, body as ExportPipeline & ImportPipeline);
    if (resource.provisioningState !== undefined && resource.provisioningState.toLowerCase() !== 'succeeded') {
      throw new AzureRequestError(describe(t), 200, 'ProvisioningFailed', `the pipeline ended in provisioningState '${resource.provisioningState}'`);
    }
    return resource;
  }

  async deletePipeline(reg: RegistryRef, kind: PipelineKind, name: string): Promise<void> {
    const t: Target = { method: 'DELETE', reg, resource: `${kind} pipeline '${name}'`, area: 'pipeline' };
    await this.longRunning('DELETE', this.url(`${reg.resourceId}/${KIND_COLLECTION[kind]}/${name}`), undefined, t);
  }

  // ---- runs

  async getRun(reg: RegistryRef, name: string): Promise<PipelineRunResource | undefined> {
    const t: Target = { method: 'GET', reg, resource: `pipeline run '${name}'`, area: 'run' };
    const res = await this.send('GET', this.url(`${reg.resourceId}/pipelineRuns/${name}`), undefined, t);
    if (this.isItemMissing(res)) return undefined;
    if (res.status !== 200) throw this.error(res, t);
    return toRun(res.body as PipelineRun, retryAfterMs(res.headers, this.clock.now()));
  }

  async listRuns(reg: RegistryRef): Promise<PipelineRunResource[]> {
    const t: Target = { method: 'GET', reg, resource: 'pipeline runs', area: 'run' };
    const out: PipelineRunResource[] = [];
    let next: string | undefined = this.url(`${reg.resourceId}/pipelineRuns`);
    for (let page = 0; next !== undefined; page++) {
      if (page >= 1000) throw new AzureRequestError(describe(t), 200, 'TooManyPages', 'the list did not end after 1000 pages');
      const res = await this.send('GET', next, undefined, t);
      if (res.status !== 200) throw this.error(res, t);
      const list = res.body as ListResult<PipelineRun>;
      out.push(...(list.value ?? []).map((r) => toRun(r)));
      next = list.nextLink ? this.checkedUrl(list.nextLink, t) : undefined;
    }
    return out;
  }

  async putRun(reg: RegistryRef, name: string, spec: PipelineRunSpec): Promise<PipelineRunResource> {
    const t: Target = { method: 'PUT', reg, resource: `${spec.kind} pipeline run '${name}'`, area: 'run' };
    const url = this.url(`${reg.resourceId}/pipelineRuns/${name}`);
    const blob = { type: 'AzureStorageBlob' as const, name: spec.blobName };
    const body: PipelineRunCreateRequest = {
      properties: {
        request: {
          pipelineResourceId: spec.pipelineResourceId,
          ...(spec.kind === 'export' ? { target: blob, artifacts: spec.artifacts ?? [] } : { source: blob }),
          ...(spec.catalogDigest !== undefined ? { catalogDigest: spec.catalogDigest } : {}),
        },
        ...(spec.forceUpdateTag !== undefined ? { forceUpdateTag: spec.forceUpdateTag } : {}),
      },
    };
    // Accepted is enough: the transfer itself takes minutes and the caller polls getRun (with its own deadline).
    const res = await this.send('PUT', url, body, t);
    if (res.status < 200 || res.status > 202) throw this.error(res, t);
    const run = res.body as PipelineRun | undefined;
    if (run?.properties) return toRun(run, retryAfterMs(res.headers, this.clock.now()));
    const got = await this.getRun(reg, name);
    if (!got) throw new AzureRequestError(describe(t), 404, 'NotFound', 'the run was accepted but GET does not find it');
    return got;
  }

  async deleteRun(reg: RegistryRef, name: string): Promise<void> {
    const t: Target = { method: 'DELETE', reg, resource: `pipeline run '${name}'`, area: 'run' };
    await this.longRunning('DELETE', this.url(`${reg.resourceId}/pipelineRuns/${name}`), undefined, t);
  }

  // ---- access: Key Vault, storage accounts, role assignments

  async listVaults(subscriptionId: string): Promise<VaultInfo[]> {
    const t: AccessTarget = { method: 'GET', resource: `Key Vaults of subscription '${subscriptionId}'`, area: 'access' };
    const vaults = await this.listAll<VaultResource>(`/subscriptions/${subscriptionId}/providers/Microsoft.KeyVault/vaults`, ACCESS_API_VERSIONS.keyVault, t);
    return vaults.map((v) => ({
      id: v.id ?? '',
      name: v.name ?? '',
      vaultUri: v.properties?.vaultUri ?? '',
      tenantId: v.properties?.tenantId ?? '',
      enableRbacAuthorization: v.properties?.enableRbacAuthorization === true,
      accessPolicies: (v.properties?.accessPolicies ?? []).map((p) => ({
        tenantId: p.tenantId ?? '',
        objectId: p.objectId ?? '',
        secrets: (p.permissions?.secrets ?? []).map((x) => x.toLowerCase()),
      })),
    }));
  }

  async addVaultAccessPolicy(vaultId: string, policy: VaultAccessPolicy): Promise<void> {
    const t: AccessTarget = { method: 'PUT', resource: `access policy of '${policy.objectId}' on Key Vault '${lastSegment(vaultId)}'`, area: 'access' };
    const body = { properties: { accessPolicies: [{ tenantId: policy.tenantId, objectId: policy.objectId, permissions: { secrets: policy.secrets } }] } };
    const res = await this.send('PUT', this.url(`${vaultId}/accessPolicies/add`, ACCESS_API_VERSIONS.keyVault), body, t);
    if (res.status !== 200 && res.status !== 201) throw this.error(res, t);
  }

  async listStorageAccounts(subscriptionId: string): Promise<StorageAccountInfo[]> {
    const t: AccessTarget = { method: 'GET', resource: `storage accounts of subscription '${subscriptionId}'`, area: 'access' };
    const accounts = await this.listAll<StorageAccountResource>(
      `/subscriptions/${subscriptionId}/providers/Microsoft.Storage/storageAccounts`,
      ACCESS_API_VERSIONS.storage,
      t,
    );
    return accounts.map((a) => ({ id: a.id ?? '', name: a.name ?? '', blobEndpoint: a.properties?.primaryEndpoints?.blob ?? '' }));
  }

  async storageAccountKey(accountId: string): Promise<string> {
    const t: AccessTarget = { method: 'POST', resource: `keys of storage account '${lastSegment(accountId)}'`, area: 'access' };
    const res = await this.send('POST', this.url(`${accountId}/listKeys`, ACCESS_API_VERSIONS.storage), undefined, t);
    if (res.status !== 200) throw this.error(res, t);
    const key = (res.body as { keys?: { value?: string }[] } | undefined)?.keys?.find((k) => k.value)?.value;
    if (!key) throw new AzureRequestError(describe(t), 200, 'NoKeys', 'the answer holds no key (is shared key access disabled on the account?)');
    this.o.mask?.(key);
    return key;
  }

  async listRoleAssignments(scope: string, principalId: string): Promise<RoleAssignmentInfo[]> {
    const t: AccessTarget = { method: 'GET', resource: `role assignments of '${principalId}' at ${scope}`, area: 'access' };
    const filter = `&$filter=${encodeURIComponent(`principalId eq '${principalId}'`)}`;
    const items = await this.listAll<RoleAssignmentResource>(
      `${scope}/providers/Microsoft.Authorization/roleAssignments`,
      ACCESS_API_VERSIONS.authorization,
      t,
      filter,
    );
    return items.map((r) => ({
      id: r.id ?? '',
      scope: r.properties?.scope ?? '',
      roleDefinitionId: r.properties?.roleDefinitionId ?? '',
      principalId: r.properties?.principalId ?? '',
    }));
  }

  async createRoleAssignment(scope: string, roleDefinitionId: string, principalId: string): Promise<'created' | 'exists'> {
    const t: AccessTarget = {
      method: 'PUT',
      resource: `role assignment of '${lastSegment(roleDefinitionId)}' to '${principalId}' at ${scope}`,
      area: 'access',
    };
    // A name derived from scope, role and principal: a re-run asks for the same assignment and gets 409 RoleAssignmentExists.
    const name = derivedGuid(`${scope.toLowerCase()}|${roleDefinitionId.toLowerCase()}|${principalId.toLowerCase()}`);
    const body = { properties: { roleDefinitionId, principalId, principalType: 'ServicePrincipal' } };
    const res = await this.send(
      'PUT',
      this.url(`${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`, ACCESS_API_VERSIONS.authorization),
      body,
      t,
    );
    if (res.status === 409 && errorOf(res.body, res.text).code.toLowerCase() === 'roleassignmentexists') return 'exists';
    if (res.status !== 200 && res.status !== 201) throw this.error(res, t);
    return 'created';
  }

  /** GETs every page of an ARM list (nextLink on the ARM host only). */
  private async listAll<T>(path: string, apiVersion: string, t: AccessTarget, query = ''): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = `${this.url(path, apiVersion)}${query}`;
    for (let page = 0; next !== undefined; page++) {
      if (page >= 1000) throw new AzureRequestError(describe(t), 200, 'TooManyPages', 'the list did not end after 1000 pages');
      const res = await this.send('GET', next, undefined, t);
      if (res.status !== 200) throw this.error(res, t);
      const list = res.body as ListResult<T>;
      out.push(...(list.value ?? []));
      next = list.nextLink ? this.checkedUrl(list.nextLink, t) : undefined;
    }
    return out;
  }

  // ---- request bodies

  private pipelineBody(spec: PipelineSpec): ExportPipelineRequest | ImportPipelineRequest {
    const identity: PipelineIdentityRequest =
      spec.identity.type === 'SystemAssigned'
        ? { type: 'SystemAssigned' }
        : { type: 'UserAssigned', userAssignedIdentities: { [spec.identity.resourceId]: {} } };
    // Older api-versions do not know storageAccessMode; send it there only for ManagedIdentity, so ARM says why it refuses.
    const sendMode = this.o.apiVersion.slice(0, 10) >= STORAGE_ACCESS_MODE_SINCE || spec.storageAccessMode !== 'SasToken';
    const storage = {
      type: 'AzureStorageBlobContainer' as const,
      uri: spec.storageUri,
      ...(spec.keyVaultUri !== undefined ? { keyVaultUri: spec.keyVaultUri } : {}),
      ...(sendMode ? { storageAccessMode: spec.storageAccessMode } : {}),
    } as ExportPipelineRequest['properties']['target'];
    if (spec.kind === 'export') return { identity, properties: { target: storage, options: spec.options } };
    return {
      identity,
      properties: { source: storage, trigger: { sourceTrigger: { status: spec.sourceTriggerEnabled ? 'Enabled' : 'Disabled' } }, options: spec.options },
    };
  }

  // ---- long-running operations

  /** Sends a PUT or DELETE and waits for its operation to end; returns the final resource (PUT) or undefined (DELETE). */
  private async longRunning(method: 'PUT' | 'DELETE', url: string, body: unknown, t: Target): Promise<unknown> {
    const res = await this.send(method, url, body, t);
    if (method === 'DELETE' && res.status === 204) return undefined;
    if (res.status < 200 || res.status > 202) throw this.error(res, t);
    const asyncUrl = res.headers.get('azure-asyncoperation');
    const location = res.headers.get('location');
    const state = provisioningState(res.body);
    if (method === 'PUT' && isTerminalState(state)) return res.body;
    if (asyncUrl) {
      await this.pollAsyncOperation(this.checkedUrl(asyncUrl, t), t, retryAfterMs(res.headers, this.clock.now()));
    } else if (location && res.status === 202) {
      await this.pollLocation(this.checkedUrl(location, t), t, retryAfterMs(res.headers, this.clock.now()));
    } else if (method === 'DELETE') {
      if (res.status !== 202) return undefined;
      // 202 without a monitor: wait until the resource is gone.
      await pollUntil(
        async () => {
          const r = await this.send('GET', url, undefined, t);
          return { value: r.status === 404 };
        },
        this.pollOpts(t, (gone: boolean) => gone),
      );
      return undefined;
    }
    if (method === 'DELETE') return undefined;
    // Final state via GET of the resource (final-state-via: azure-async-operation / original-uri).
    const final = await pollUntil(
      async () => {
        const r = await this.getResource(url, t);
        return { value: r.body, ...optionalRetryAfter(r.headers, this.clock.now()) };
      },
      this.pollOpts(t, (v: unknown) => isTerminalState(provisioningState(v))),
    );
    return final;
  }

  private async getResource(url: string, t: Target): Promise<ArmResponse> {
    const r = await this.send('GET', url, undefined, { ...t, method: 'GET' });
    if (r.status !== 200) throw this.error(r, { ...t, method: 'GET' });
    return r;
  }

  private async pollAsyncOperation(url: string, t: Target, firstWaitMs: number | undefined): Promise<void> {
    if (firstWaitMs !== undefined) await this.clock.sleep(Math.min(firstWaitMs, this.pollOptions.maxIntervalMs), this.o.signal);
    const op = await pollUntil(
      async () => {
        const r = await this.send('GET', url, undefined, { ...t, method: 'GET' });
        if (r.status !== 200 && r.status !== 202) throw this.error(r, t);
        return { value: (r.body ?? {}) as AsyncOperationStatus, ...optionalRetryAfter(r.headers, this.clock.now()) };
      },
      this.pollOpts(t, (s: AsyncOperationStatus) => isTerminalState(s.status)),
    );
    if (op.status?.toLowerCase() !== 'succeeded') {
      const code = op.error?.code ?? op.status ?? 'Failed';
      throw new AzureRequestError(
        describe(t),
        200,
        code,
        op.error?.message ?? `the operation ended ${op.status ?? 'without a status'}`,
        undefined,
        fixFor(200, code, op.error?.message ?? '', t),
      );
    }
  }

  private async pollLocation(url: string, t: Target, firstWaitMs: number | undefined): Promise<void> {
    if (firstWaitMs !== undefined) await this.clock.sleep(Math.min(firstWaitMs, this.pollOptions.maxIntervalMs), this.o.signal);
    await pollUntil(
      async () => {
        const r = await this.send('GET', url, undefined, { ...t, method: 'GET' });
        if (r.status === 202) return { value: false, ...optionalRetryAfter(r.headers, this.clock.now()) };
        // The operation's resource is gone: for a DELETE that is the point.
        if (r.status === 404 && t.method === 'DELETE') return { value: true };
        if (r.status >= 200 && r.status < 300) return { value: true };
        throw this.error(r, t);
      },
      this.pollOpts(t, (finished: boolean) => finished),
    );
  }

  private pollOpts<T>(t: Target, done: (v: T) => boolean): PollOptions<T> {
    return {
      intervalMs: this.pollOptions.intervalMs,
      maxIntervalMs: this.pollOptions.maxIntervalMs,
      clock: this.clock,
      done,
      what: describe(t),
      ...(this.o.deadline !== undefined ? { deadline: this.o.deadline } : {}),
      ...(this.o.signal ? { signal: this.o.signal } : {}),
    };
  }

  // ---- transport

  /** `path` is a resource id path (starting with /subscriptions); adds the api-version. */
  private url(path: string, apiVersion = this.o.apiVersion): string {
    return `${this.endpoint}${path
      .split('/')
      .map((s) => encodeURIComponent(s))
      .join('/')}?api-version=${encodeURIComponent(apiVersion)}`;
  }

  /** nextLink and monitor URLs are used as given (ACR signs them), but only on the ARM host: they get our ARM token. */
  private checkedUrl(url: string, t: Target): string {
    let u: URL;
    try {
      u = new URL(url, this.endpoint);
    } catch {
      throw new AzureRequestError(describe(t), 200, 'InvalidUrl', `ARM returned a URL that does not parse: ${url}`);
    }
    if (u.origin !== new URL(this.endpoint).origin) {
      throw new AzureRequestError(
        describe(t),
        200,
        'UnexpectedHost',
        `ARM pointed at ${u.origin}, not ${new URL(this.endpoint).origin}; refusing to send the ARM token there`,
      );
    }
    return u.toString();
  }

  /** One request with bounded retries on 408/429/5xx and connection errors; other statuses are returned. */
  private async send(method: string, url: string, body: unknown, t: Target): Promise<ArmResponse> {
    try {
      return await retry(
        async () => {
          const request = createPipelineRequest({
            url,
            method: method as HttpMethods,
            headers: createHttpHeaders({ accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }),
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            ...(this.o.signal ? { abortSignal: this.o.signal } : {}),
          });
          const res = await this.client.sendRequest(request);
          const text = res.bodyAsText ?? '';
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (isTransientStatus(res.status)) {
            const { code, message } = errorOf(parsed, text);
            throw new TransientHttpError(res.status, retryAfterMs(res.headers, this.clock.now()), code, message, correlationOf(res.headers));
          }
          return { status: res.status, headers: res.headers, text, body: parsed };
        },
        {
          ...this.retryPolicy,
          retryable: isRetryableError,
          clock: this.clock,
          ...(this.o.signal ? { signal: this.o.signal } : {}),
          onRetry: (e, attempt, delay) => this.o.logger?.debug(`${describe(t)}: ${errorMessage(e)}; retry ${attempt} in ${delay} ms`),
        },
      );
    } catch (e) {
      if (e instanceof TransientHttpError) {
        throw new AzureRequestError(
          describe(t),
          e.status,
          e.code || `HTTP${e.status}`,
          e.serviceMessage || e.message,
          e.correlationId,
          fixFor(e.status, e.code, e.serviceMessage, t),
        );
      }
      if (e instanceof AzureRequestError || (e instanceof Error && (e.name === 'CancelledError' || e.name === 'ConfigError'))) throw e;
      if (this.o.signal?.aborted) throw abortError(this.o.signal);
      if (e instanceof Error && /^(CredentialUnavailableError|AuthenticationError|AuthenticationRequiredError)$/.test(e.name)) {
        throw new AzureRequestError(
          `${describe(t)}: sign-in`,
          401,
          e.name,
          errorMessage(e),
          undefined,
          "Check the sign-in inputs ('auth-type', 'client-id', 'tenant-id', the secret, certificate or federated credential) and the cloud ('environment', 'authority-host')",
        );
      }
      const code = typeof (e as { code?: unknown }).code === 'string' ? String((e as { code: string }).code) : 'RequestFailed';
      throw new AzureRequestError(
        describe(t),
        0,
        code,
        errorMessage(e),
        undefined,
        code === 'RequestFailed' ? undefined : `Check that this machine can reach ${this.endpoint}`,
      );
    }
  }

  private isItemMissing(res: ArmResponse): boolean {
    if (res.status !== 404) return false;
    return !PARENT_MISSING.has(errorOf(res.body, res.text).code.toLowerCase());
  }

  private error(res: ArmResponse, t: Target): AzureRequestError {
    const { code, message } = errorOf(res.body, res.text);
    return new AzureRequestError(
      describe(t),
      res.status,
      code || `HTTP${res.status}`,
      message || `unexpected HTTP ${res.status}`,
      correlationOf(res.headers),
      fixFor(res.status, code, message, t),
    );
  }
}

// ---- mapping

function provisioningState(body: unknown): string | undefined {
  const p = (body as { properties?: { provisioningState?: unknown } } | undefined)?.properties?.provisioningState;
  return typeof p === 'string' ? p : undefined;
}

function optionalRetryAfter(headers: HttpHeaders, now: number): { retryAfterMs?: number } {
  const ms = retryAfterMs(headers, now);
  return ms === undefined ? {} : { retryAfterMs: ms };
}

/** ARM error bodies: `{error:{code,message}}` (common-types v6), or the older bare `{code,message}`. */
export function errorOf(body: unknown, text: string): { code: string; message: string } {
  const b = body as (ArmErrorResponse & { code?: unknown; message?: unknown }) | undefined;
  const e = b?.error ?? (typeof b?.code === 'string' ? (b as { code?: string; message?: string }) : undefined);
  if (e) return { code: e.code ?? '', message: e.message ?? '' };
  return { code: '', message: text.slice(0, 500) };
}

function correlationOf(headers: HttpHeaders): string | undefined {
  return headers.get('x-ms-correlation-request-id') ?? headers.get('x-ms-request-id') ?? undefined;
}

/** How to fix the error, where known. */
export function fixFor(status: number, code: string, message: string, t: Target): string | undefined {
  const c = code.toLowerCase();
  if (t.area === 'access') return accessFix(status, c);
  const text = `${code} ${message}`;
  if (c === 'noregisteredproviderfound' || c === 'invalidresourcetype' || c === 'invalidapiversionparameter') {
    return t.area === 'registry' ? undefined : "Set 'api-version' to a preview api-version that has transfer pipelines, e.g. 2025-06-01-preview";
  }
  if (/premium|sku/i.test(text)) return `ACR transfer needs the Premium SKU on both registries: az acr update -n ${t.reg.name} --sku Premium`;
  if (/export ?policy/i.test(text)) {
    return `Enable the export policy of registry '${t.reg.name}': az resource update --ids ${t.reg.resourceId} --set properties.policies.exportPolicy.status=enabled`;
  }
  if (c === 'subscriptionnotfound') return `Check 'subscription-id' (${t.reg.subscriptionId}) and that the identity has access to it`;
  if (c === 'resourcegroupnotfound') return `Check the resource group '${t.reg.resourceGroup}' of registry '${t.reg.name}'`;
  if (status === 404 && (t.area === 'registry' || c === 'parentresourcenotfound' || new RegExp(`registries/${t.reg.name}'`, 'i').test(message))) {
    return `Check the registry name '${t.reg.name}', its resource group '${t.reg.resourceGroup}' and 'subscription-id' (az acr show -n ${t.reg.name} -g ${t.reg.resourceGroup})`;
  }
  if (status === 401) {
    return `Check the sign-in (tenant, client id, and that the token is for this cloud); the identity also needs the '${TRANSFER_ROLE}' role on registry '${t.reg.name}'`;
  }
  if (status === 403 || c === 'authorizationfailed') {
    return t.area === 'registry'
      ? `Grant the signed-in identity at least Reader on registry '${t.reg.name}' (and '${TRANSFER_ROLE}' for the pipelines)`
      : `Grant the signed-in identity the '${TRANSFER_ROLE}' role (or Contributor) on registry '${t.reg.name}': az role assignment create --role "${TRANSFER_ROLE}" --scope ${t.reg.resourceId} --assignee <client id>`;
  }
  if (status === 409 && t.area === 'run') return 'A run with this name is still in progress: wait for it to finish, or use another run name';
  if (status === 409) return 'Runs of this pipeline are still in progress: wait for them to finish or delete them first';
  if (status === 429) return 'Azure Resource Manager throttled the requests; run again later or with fewer parallel runs (max-parallel-runs)';
  return undefined;
}

function accessFix(status: number, code: string): string | undefined {
  if (status === 403 || code === 'authorizationfailed') {
    return 'The signed-in identity needs Reader on the vault or storage account to find it, and Owner or User Access Administrator (RBAC vaults, storage) or Key Vault Contributor (access-policy vaults) to grant access';
  }
  if (status === 404 && code === 'subscriptionnotfound') return "Check 'subscription-id' and that the identity has access to it";
  if (status === 429) return 'Azure Resource Manager throttled the requests; run again later';
  return undefined;
}

function lastSegment(id: string): string {
  return id.split('/').filter(Boolean).pop() ?? id;
}

/** A stable GUID from text (sha256, shaped as a version-5-style GUID): role assignment names must be GUIDs. */
export function derivedGuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The service returns identity types in camelCase (`systemAssigned`); compare and report them case-insensitively. */
export function normalizeIdentityType(type: string | undefined): string {
  const key = (type ?? 'None').replace(/\s+/g, '').toLowerCase();
  const known: Record<string, string> = {
    systemassigned: 'SystemAssigned',
    userassigned: 'UserAssigned',
    'systemassigned,userassigned': 'SystemAssigned, UserAssigned',
    none: 'None',
  };
  return known[key] ?? type ?? 'None';
}

type Loose<T> = { [K in keyof T]-?: T[K] | undefined };

/** Drops undefined members, so optional fields are absent rather than undefined (exactOptionalPropertyTypes). */
function strip<T>(o: Loose<T>): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function toIdentity(i: IdentityProperties | undefined): PipelineResource['identity'] {
  if (!i) return undefined;
  return strip<NonNullable<PipelineResource['identity']>>({
    type: normalizeIdentityType(i.type),
    principalId: i.principalId ?? undefined,
    userAssignedIdentities: i.userAssignedIdentities,
  });
}

export function toPipeline(kind: PipelineKind, p: ExportPipeline & ImportPipeline): PipelineResource {
  const side = kind === 'export' ? p.properties?.target : p.properties?.source;
  const trigger = p.properties?.trigger?.sourceTrigger?.status;
  return strip<PipelineResource>({
    id: p.id ?? '',
    name: p.name ?? '',
    kind,
    provisioningState: p.properties?.provisioningState,
    storageUri: side?.uri,
    keyVaultUri: side?.keyVaultUri ?? undefined,
    storageAccessMode: side?.storageAccessMode,
    options: p.properties?.options ?? [],
    // The service's default is Enabled (swagger PipelineSourceTriggerProperties).
    sourceTriggerEnabled: kind === 'import' ? (trigger ?? 'Enabled').toLowerCase() === 'enabled' : undefined,
    identity: toIdentity(p.identity),
  });
}

export function toRun(r: PipelineRun, retryAfter?: number): PipelineRunResource {
  const req = r.properties?.request;
  const res = r.properties?.response;
  const isExport = /\/exportPipelines\//i.test(req?.pipelineResourceId ?? '') || (req?.target?.name !== undefined && req.target.name !== '');
  const percentage = Number(res?.progress?.percentage);
  return strip<PipelineRunResource>({
    id: r.id ?? '',
    name: r.name ?? '',
    provisioningState: r.properties?.provisioningState,
    pipelineResourceId: req?.pipelineResourceId,
    artifacts: req?.artifacts,
    blobName: (isExport ? req?.target?.name : req?.source?.name) || undefined,
    forceUpdateTag: r.properties?.forceUpdateTag,
    status: res?.status,
    percentage: res?.progress?.percentage !== undefined && Number.isFinite(percentage) ? percentage : undefined,
    startTime: res?.startTime,
    finishTime: res?.finishTime,
    importedArtifacts: res?.importedArtifacts,
    catalogDigest: res?.catalogDigest ?? req?.catalogDigest,
    errorMessage: res?.pipelineRunErrorMessage,
    triggeredAt: res?.trigger?.sourceTrigger?.timestamp,
    retryAfterMs: retryAfter,
  });
}
