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
} from '../../../core/ports';
import type { RegistryRef } from '../../../core/settings';
import type { FakeBlobStore, StoredBlob } from './blobs';
import type { FakeClock } from './clock';
import { digestOf, type FakeRegistry } from './registry';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** How one execution of a run goes: it ends after `polls` GETs, Succeeded unless `fail` (the pipelineRunErrorMessage) or `stuck`. */
export interface RunScript {
  readonly polls?: number;
  /** Ends this long (virtual time) after it started instead, however often it is read. */
  readonly ms?: number;
  readonly fail?: string;
  readonly stuck?: boolean;
}

export type Behaviour = (run: { readonly name: string; readonly spec: PipelineRunSpec; readonly execution: number }) => RunScript;

export interface FakeRegistryEntry {
  readonly ref: RegistryRef;
  info: RegistryInfo;
  usages: RegistryUsage[];
  readonly data: FakeRegistry;
  readonly pipelines: Map<string, PipelineResource>;
  readonly runs: Map<string, RunState>;
}

interface RunState {
  resource: Mutable<PipelineRunResource>;
  spec: PipelineRunSpec;
  polls: number;
  script: RunScript;
  executions: number;
}

const TERMINAL = ['Succeeded', 'Failed', 'Canceled'];
const DAY = 24 * 3600 * 1000;

/**
 * ARM for registries, pipelines and runs, in memory. Runs go Creating → Succeeded/Failed over GETs, and on
 * success do what the service does to registries and blobs; a PUT with the same request and forceUpdateTag
 * does nothing; the source trigger starts runs for eligible blobs when runs are listed.
 */
export class FakeArm implements ArmApi {
  readonly registries = new Map<string, FakeRegistryEntry>();
  /** Every run PUT that started an execution, in order. */
  readonly runPuts: { registry: string; name: string; spec: PipelineRunSpec }[] = [];
  readonly pipelinePuts: { registry: string; name: string; spec: PipelineSpec }[] = [];
  behaviour: Behaviour = () => ({ polls: 2 });
  maxInFlight = 0;
  /** Reads of runs: GETs of one run, and pages of the list. */
  readonly reads = { gets: 0, pages: 0 };
  /** Runs on one page of the list. */
  pageSize = 20;
  /** Sent with every run GET and list page, as ARM's x-ms-ratelimit-remaining-subscription-reads. */
  remainingReads?: number;
  /** Every run start and terminal state, in virtual time (the streaming tests read the order). */
  readonly events: { at: number; registry: string; name: string; kind: PipelineKind; what: 'start' | 'end' }[] = [];
  /** Called on every read of runs: a GET or a list page. */
  onRead?: () => void;
  /** Called on every GET of a run (after it advanced). */
  onGetRun?: (name: string, run: PipelineRunResource) => void;
  /** The transfer service's own access to the secret or container: a message makes the run fail with it (Key Vault's refusal). */
  denyRun?: (pipeline: PipelineResource, spec: PipelineRunSpec) => string | undefined;
  readonly trigger = { enabled: true, delayScans: 0, scans: 0, started: 0 };
  private readonly triggered = new Set<string>();

  constructor(
    private readonly clock: FakeClock,
    private readonly blobs: FakeBlobStore,
  ) {}

  add(ref: RegistryRef, data: FakeRegistry, info: Partial<RegistryInfo> = {}): FakeRegistryEntry {
    const entry: FakeRegistryEntry = {
      ref,
      info: { id: ref.resourceId, name: ref.name, sku: 'Premium', loginServer: data.loginServer, exportPolicyEnabled: true, ...info },
      usages: [{ name: 'Size', limit: 536870912000, currentValue: 1024, unit: 'Bytes' }],
      data,
      pipelines: new Map(),
      runs: new Map(),
    };
    this.registries.set(ref.resourceId.toLowerCase(), entry);
    return entry;
  }

  entry(reg: RegistryRef): FakeRegistryEntry {
    const e = this.registries.get(reg.resourceId.toLowerCase());
    if (!e) throw new Error(`ResourceNotFound: registry ${reg.name}`);
    return e;
  }

  get inFlight(): number {
    let n = 0;
    for (const e of this.registries.values()) for (const r of e.runs.values()) if (!TERMINAL.includes(r.resource.provisioningState ?? '')) n++;
    return n;
  }

  getRegistry(reg: RegistryRef): Promise<RegistryInfo> {
    return Promise.resolve(this.entry(reg).info);
  }

  listUsages(reg: RegistryRef): Promise<RegistryUsage[]> {
    return Promise.resolve(this.entry(reg).usages);
  }

  getPipeline(reg: RegistryRef, kind: PipelineKind, name: string): Promise<PipelineResource | undefined> {
    return Promise.resolve(this.entry(reg).pipelines.get(`${kind}/${name}`));
  }

  putPipeline(reg: RegistryRef, name: string, spec: PipelineSpec): Promise<PipelineResource> {
    this.pipelinePuts.push({ registry: reg.name, name, spec });
    const p: PipelineResource = {
      id: `${reg.resourceId}/${spec.kind}Pipelines/${name}`,
      name,
      kind: spec.kind,
      provisioningState: 'Succeeded',
      storageUri: spec.storageUri,
      ...(spec.keyVaultUri !== undefined ? { keyVaultUri: spec.keyVaultUri } : {}),
      storageAccessMode: spec.storageAccessMode,
      options: spec.options,
      ...(spec.kind === 'import' ? { sourceTriggerEnabled: spec.sourceTriggerEnabled ?? true } : {}),
      // The real service answers identity types in camelCase (docs/azure-service.md#identity-types-in-responses).
      identity:
        spec.identity.type === 'SystemAssigned'
          ? { type: 'systemAssigned', principalId: 'p1' }
          : { type: 'userAssigned', userAssignedIdentities: { [spec.identity.resourceId]: { principalId: 'p2' } } },
    };
    this.entry(reg).pipelines.set(`${spec.kind}/${name}`, p);
    return Promise.resolve(p);
  }

  deletePipeline(reg: RegistryRef, kind: PipelineKind, name: string): Promise<void> {
    this.entry(reg).pipelines.delete(`${kind}/${name}`);
    return Promise.resolve();
  }

  getRun(reg: RegistryRef, name: string): Promise<PipelineRunResource | undefined> {
    const state = this.entry(reg).runs.get(name);
    this.reads.gets++;
    this.onRead?.();
    if (!state) return Promise.resolve(undefined);
    this.advance(this.entry(reg), state);
    const snapshot = { ...state.resource, ...(this.remainingReads !== undefined ? { remainingReads: this.remainingReads } : {}) };
    this.onGetRun?.(name, snapshot);
    return Promise.resolve(snapshot);
  }

  listRuns(reg: RegistryRef): Promise<PipelineRunResource[]> {
    const e = this.entry(reg);
    this.scanTrigger(e);
    return Promise.resolve([...e.runs.values()].map((r) => ({ ...r.resource })));
  }

  /** Oldest first, `pageSize` a page; `next` is the index of the page's first run. Each run on the page advances as on a GET. */
  listRunsPage(reg: RegistryRef, next?: string): Promise<RunsPage> {
    this.reads.pages++;
    this.onRead?.();
    const e = this.entry(reg);
    const from = next === undefined ? 0 : Number(next);
    const all = [...e.runs.values()];
    const page = all.slice(from, from + this.pageSize);
    for (const r of page) this.advance(e, r);
    return Promise.resolve({
      runs: page.map((r) => ({ ...r.resource })),
      ...(from + this.pageSize < all.length ? { next: String(from + this.pageSize) } : {}),
      ...(this.remainingReads !== undefined ? { remainingReads: this.remainingReads } : {}),
    });
  }

  putRun(reg: RegistryRef, name: string, spec: PipelineRunSpec): Promise<PipelineRunResource> {
    const e = this.entry(reg);
    const known = e.runs.get(name);
    const sameSpec = known && JSON.stringify({ ...known.spec, forceUpdateTag: undefined }) === JSON.stringify({ ...spec, forceUpdateTag: undefined });
    // A PUT with identical properties is a no-op unless forceUpdateTag changes.
    if (known && sameSpec && known.spec.forceUpdateTag === spec.forceUpdateTag) return Promise.resolve({ ...known.resource });
    this.start(e, name, spec, known?.executions ?? 0);
    return Promise.resolve({ ...e.runs.get(name)!.resource });
  }

  deleteRun(reg: RegistryRef, name: string): Promise<void> {
    this.entry(reg).runs.delete(name);
    return Promise.resolve();
  }

  executions(reg: RegistryRef, name: string): number {
    return this.entry(reg).runs.get(name)?.executions ?? 0;
  }

  private start(e: FakeRegistryEntry, name: string, spec: PipelineRunSpec, executions: number, triggeredAt?: string): void {
    const execution = executions + 1;
    this.runPuts.push({ registry: e.ref.name, name, spec });
    e.runs.set(name, {
      spec,
      polls: 0,
      executions: execution,
      script: this.behaviour({ name, spec, execution }),
      resource: {
        id: `${e.ref.resourceId}/pipelineRuns/${name}`,
        name,
        provisioningState: 'Creating',
        pipelineResourceId: spec.pipelineResourceId,
        blobName: spec.blobName,
        ...(spec.artifacts ? { artifacts: spec.artifacts } : {}),
        ...(spec.forceUpdateTag !== undefined ? { forceUpdateTag: spec.forceUpdateTag } : {}),
        status: 'Running',
        percentage: 0,
        startTime: this.clock.iso(),
        ...(triggeredAt !== undefined ? { triggeredAt } : {}),
      },
    });
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.events.push({ at: this.clock.now(), registry: e.ref.name, name, kind: spec.kind, what: 'start' });
  }

  private advance(e: FakeRegistryEntry, s: RunState): void {
    if (TERMINAL.includes(s.resource.provisioningState ?? '')) return;
    s.polls++;
    const needed = s.script.polls ?? 2;
    const early = s.script.ms !== undefined ? this.clock.now() < Date.parse(s.resource.startTime ?? '') + s.script.ms : s.polls < needed;
    if (s.script.stuck || early) {
      s.resource.provisioningState = 'Updating';
      s.resource.percentage = Math.min(90, Math.round((s.polls / needed) * 100));
      return;
    }
    const pipeline = this.pipelineOf(e, s.spec.pipelineResourceId);
    const error =
      s.script.fail ?? (pipeline ? this.denyRun?.(pipeline, s.spec) : undefined) ?? (s.spec.kind === 'export' ? this.exportBlob(e, s) : this.importBlob(e, s));
    s.resource.finishTime = this.clock.iso();
    s.resource.percentage = 100;
    this.events.push({ at: this.clock.now(), registry: e.ref.name, name: s.resource.name, kind: s.spec.kind, what: 'end' });
    if (error !== undefined) {
      s.resource.provisioningState = 'Failed';
      s.resource.status = 'Failed';
      s.resource.errorMessage = error;
    } else {
      s.resource.provisioningState = 'Succeeded';
      // The quirk the spec examples show: provisioningState Succeeded while response.status still says Running.
      s.resource.status = 'Running';
    }
  }

  private pipelineOf(e: FakeRegistryEntry, id: string): PipelineResource | undefined {
    return [...e.pipelines.values()].find((p) => p.id.toLowerCase() === id.toLowerCase());
  }

  private exportBlob(e: FakeRegistryEntry, s: RunState): string | undefined {
    const p = this.pipelineOf(e, s.spec.pipelineResourceId);
    if (!p?.storageUri) return `Export pipeline ${s.spec.pipelineResourceId} not found`;
    if (this.blobs.get(p.storageUri, s.spec.blobName) && !p.options.includes('OverwriteBlobs'))
      return `Blob ${s.spec.blobName} already exists and OverwriteBlobs is not set`;
    // Manifest bodies travel too: a referrer keeps its subject and artifactType.
    const payload: StoredBlob['payload'][number][] = [];
    for (const ref of s.spec.artifacts ?? []) {
      const at = ref.indexOf('@');
      const colon = ref.lastIndexOf(':');
      const repo = at >= 0 ? ref.slice(0, at) : ref.slice(0, colon);
      const reference = at >= 0 ? ref.slice(at + 1) : ref.slice(colon + 1);
      const digest = at >= 0 ? (e.data.manifests.get(repo)?.has(reference) ? reference : undefined) : e.data.tags.get(repo)?.get(reference);
      if (digest === undefined) {
        if (p.options.includes('ContinueOnErrors')) continue;
        return `Artifact ${ref} was not found in the registry`;
      }
      const body = e.data.bodies.get(digest);
      payload.push({ ref, digest, ...(body ? { body } : {}) });
    }
    this.blobs.put(p.storageUri, s.spec.blobName, payload);
    s.resource.catalogDigest = digestOf(JSON.stringify(payload));
    return undefined;
  }

  private importBlob(e: FakeRegistryEntry, s: RunState): string | undefined {
    const p = this.pipelineOf(e, s.spec.pipelineResourceId);
    if (!p?.storageUri) return `Import pipeline ${s.spec.pipelineResourceId} not found`;
    const blob = this.blobs.get(p.storageUri, s.spec.blobName);
    if (!blob) return `Blob ${s.spec.blobName} was not found in the source container`;
    if (s.spec.catalogDigest !== undefined && s.spec.catalogDigest !== digestOf(JSON.stringify(blob.payload)))
      return 'The catalog digest does not match the blob';
    const imported: string[] = [];
    for (const { ref, digest, body } of blob.payload) {
      if (body) e.data.bodies.set(digest, body);
      const at = ref.indexOf('@');
      if (at >= 0) e.data.pushManifest(ref.slice(0, at), digest);
      else {
        const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
        const existing = e.data.tags.get(repo)?.get(tag);
        if (existing !== undefined && existing !== digest && !p.options.includes('OverwriteTags')) {
          if (p.options.includes('ContinueOnErrors')) continue;
          return `Tag ${ref} already exists with another digest and OverwriteTags is not set`;
        }
        e.data.push(repo, tag, digest);
      }
      imported.push(ref);
    }
    s.resource.importedArtifacts = imported;
    if (p.options.includes('DeleteSourceBlobOnSuccess')) void this.blobs.deleteBlob(p.storageUri, s.spec.blobName);
    return undefined;
  }

  private scanTrigger(e: FakeRegistryEntry): void {
    this.trigger.scans++;
    if (!this.trigger.enabled || this.trigger.scans <= this.trigger.delayScans) return;
    for (const p of e.pipelines.values()) {
      if (p.kind !== 'import' || p.sourceTriggerEnabled === false || !p.storageUri) continue;
      for (const b of this.blobs.container(p.storageUri).values()) {
        const eligible =
          b.contentMD5 !== undefined && b.metadata['category'] === 'acr-transfer-blob' && this.clock.now() - Date.parse(b.lastModified ?? '') <= 60 * DAY;
        const key = `${p.id}|${b.name}|${b.lastModified}`;
        if (!eligible || this.triggered.has(key)) continue;
        this.triggered.add(key);
        const name = `trig${++this.trigger.started}`;
        this.start(e, name, { pipelineResourceId: p.id, kind: 'import', blobName: b.name }, 0, this.clock.iso());
      }
    }
  }
}
