/** The ArmApi port over ARM REST: registries (GET, listUsages) and the transfer pipeline resources (exportPipelines, importPipelines, pipelineRuns). */
import { AzureRequestError } from '../../errors';
import type {
  ArmApi,
  PipelineKind,
  PipelineResource,
  PipelineRunResource,
  PipelineRunSpec,
  PipelineSpec,
  RegistryInfo,
  RegistryUsage,
  RunsPage,
} from '../../ports';
import type { RegistryRef } from '../../settings';
import { describe, isItemMissing, responseError, type Target } from './errors';
import { longRunning } from './lro';
import { pipelineBody, runBody, toPipeline, toRegistry, toRun, toUsages } from './mapping';
import type { ExportPipeline, ImportPipeline, ListResult, PipelineRun, Registry, RegistryUsageListResult } from './models';
import type { ArmTransport } from './transport';

/** Registry GET and listUsages exist in every stable api-version; this one is deployed in all public clouds. */
export const REGISTRY_API_VERSION = '2023-07-01';

export interface PipelinesClientOptions {
  /** api-version of the pipeline resources (settings.apiVersion). */
  readonly apiVersion: string;
  readonly registryApiVersion?: string;
}

const KIND_COLLECTION: Readonly<Record<PipelineKind, 'exportPipelines' | 'importPipelines'>> = { export: 'exportPipelines', import: 'importPipelines' };

export class ArmPipelinesClient implements ArmApi {
  constructor(
    private readonly http: ArmTransport,
    private readonly o: PipelinesClientOptions,
  ) {}

  // ---- registry

  async getRegistry(reg: RegistryRef): Promise<RegistryInfo> {
    const t: Target = { method: 'GET', reg, area: 'registry' };
    const res = await this.http.send('GET', this.registryUrl(reg.resourceId), undefined, t);
    if (res.status !== 200) throw responseError(res, t);
    return toRegistry(res.body as Registry, reg);
  }

  async listUsages(reg: RegistryRef): Promise<RegistryUsage[]> {
    const t: Target = { method: 'GET', reg, resource: 'usages', area: 'registry' };
    const res = await this.http.send('GET', this.registryUrl(`${reg.resourceId}/listUsages`), undefined, t);
    if (res.status !== 200) throw responseError(res, t);
    return toUsages(res.body as RegistryUsageListResult);
  }

  // ---- pipelines

  async getPipeline(reg: RegistryRef, kind: PipelineKind, name: string): Promise<PipelineResource | undefined> {
    const t: Target = { method: 'GET', reg, resource: `${kind} pipeline '${name}'`, area: 'pipeline' };
    const res = await this.http.send('GET', this.url(`${reg.resourceId}/${KIND_COLLECTION[kind]}/${name}`), undefined, t);
    if (isItemMissing(res)) return undefined;
    if (res.status !== 200) throw responseError(res, t);
    return toPipeline(kind, res.body as ExportPipeline & ImportPipeline);
  }

  async putPipeline(reg: RegistryRef, name: string, spec: PipelineSpec): Promise<PipelineResource> {
    const t: Target = { method: 'PUT', reg, resource: `${spec.kind} pipeline '${name}'`, area: 'pipeline' };
    const url = this.url(`${reg.resourceId}/${KIND_COLLECTION[spec.kind]}/${name}`);
    const body = await longRunning(this.http, 'PUT', url, pipelineBody(spec, this.o.apiVersion), t);
    const resource = toPipeline(spec.kind, body as ExportPipeline & ImportPipeline);
    if (resource.provisioningState !== undefined && resource.provisioningState.toLowerCase() !== 'succeeded') {
      throw new AzureRequestError(describe(t), 200, 'ProvisioningFailed', `the pipeline ended in provisioningState '${resource.provisioningState}'`);
    }
    return resource;
  }

  async deletePipeline(reg: RegistryRef, kind: PipelineKind, name: string): Promise<void> {
    const t: Target = { method: 'DELETE', reg, resource: `${kind} pipeline '${name}'`, area: 'pipeline' };
    await longRunning(this.http, 'DELETE', this.url(`${reg.resourceId}/${KIND_COLLECTION[kind]}/${name}`), undefined, t);
  }

  // ---- runs

  async getRun(reg: RegistryRef, name: string): Promise<PipelineRunResource | undefined> {
    const t: Target = { method: 'GET', reg, resource: `pipeline run '${name}'`, area: 'run' };
    const res = await this.http.send('GET', this.url(`${reg.resourceId}/pipelineRuns/${name}`), undefined, t);
    if (isItemMissing(res)) return undefined;
    if (res.status !== 200) throw responseError(res, t);
    return toRun(res.body as PipelineRun, this.http.readBudget(res));
  }

  async listRuns(reg: RegistryRef): Promise<PipelineRunResource[]> {
    const t: Target = { method: 'GET', reg, resource: 'pipeline runs', area: 'run' };
    return (await this.http.listAll<PipelineRun>(this.url(`${reg.resourceId}/pipelineRuns`), t)).map((r) => toRun(r));
  }

  async listRunsPage(reg: RegistryRef, next?: string): Promise<RunsPage> {
    const t: Target = { method: 'GET', reg, resource: 'pipeline runs', area: 'run' };
    const res = await this.http.send('GET', next !== undefined ? this.http.checkedUrl(next, t) : this.url(`${reg.resourceId}/pipelineRuns`), undefined, t);
    if (res.status !== 200) throw responseError(res, t);
    const list = res.body as ListResult<PipelineRun>;
    const runs = (list.value ?? []).map((r) => toRun(r));
    return { runs, ...(list.nextLink ? { next: list.nextLink } : {}), ...this.http.readBudget(res) };
  }

  async putRun(reg: RegistryRef, name: string, spec: PipelineRunSpec): Promise<PipelineRunResource> {
    const t: Target = { method: 'PUT', reg, resource: `${spec.kind} pipeline run '${name}'`, area: 'run' };
    // Accepted is enough: the transfer itself takes minutes and the caller polls getRun (with its own deadline).
    const res = await this.http.send('PUT', this.url(`${reg.resourceId}/pipelineRuns/${name}`), runBody(spec), t);
    if (res.status < 200 || res.status > 202) throw responseError(res, t);
    const run = res.body as PipelineRun | undefined;
    if (run?.properties) return toRun(run, this.http.readBudget(res));
    const got = await this.getRun(reg, name);
    if (!got) throw new AzureRequestError(describe(t), 404, 'NotFound', 'the run was accepted but GET does not find it');
    return got;
  }

  async deleteRun(reg: RegistryRef, name: string): Promise<void> {
    const t: Target = { method: 'DELETE', reg, resource: `pipeline run '${name}'`, area: 'run' };
    await longRunning(this.http, 'DELETE', this.url(`${reg.resourceId}/pipelineRuns/${name}`), undefined, t);
  }

  private url(path: string): string {
    return this.http.url(path, this.o.apiVersion);
  }

  private registryUrl(path: string): string {
    return this.http.url(path, this.o.registryApiVersion ?? REGISTRY_API_VERSION);
  }
}
