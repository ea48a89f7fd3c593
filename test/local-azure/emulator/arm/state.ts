/**
 * ARM state of the local Azure: the two registries, their export/import pipelines and pipeline runs. HTTP lives in
 * the resource routes (routes.ts lists them), long-running operations in lro.ts; this file holds data only.
 *
 * Time-based transitions (async provisioning, async deletion) are applied lazily by `sweep()`, which every ARM
 * request and every ArmStore read calls first, so no timers are needed and reads are always consistent.
 * Every record is also on disk (emu.disk, docs/local-azure.md#state-on-disk) and read back at start.
 */
import { randomBytes } from 'node:crypto';
import { type EmulatorRegistryConfig, registryResourceId } from '../../config';
import { type ArmStore, type Emulator, type Json, obj, type PipelineKind, type PipelineRecord, type RunRecord } from '../context';

export type Collection = 'exportPipelines' | 'importPipelines' | 'pipelineRuns';

export const COLLECTIONS: Readonly<Record<Collection, { readonly type: string; readonly opPrefix: string; readonly kind?: PipelineKind }>> = {
  exportPipelines: { type: 'Microsoft.ContainerRegistry/registries/exportPipelines', opPrefix: 'exportpipelines', kind: 'export' },
  importPipelines: { type: 'Microsoft.ContainerRegistry/registries/importPipelines', opPrefix: 'importpipelines', kind: 'import' },
  pipelineRuns: { type: 'Microsoft.ContainerRegistry/registries/pipelineRuns', opPrefix: 'pipelineruns' },
};

export function collectionOf(kind: PipelineKind): Collection {
  return kind === 'export' ? 'exportPipelines' : 'importPipelines';
}

export type SkuName = 'Basic' | 'Standard' | 'Premium';
export type PolicyStatus = 'enabled' | 'disabled';

export interface RegistryState {
  readonly name: string;
  readonly config: EmulatorRegistryConfig;
  sku: SkuName;
  exportPolicy: PolicyStatus;
}

export const TERMINAL_STATES: readonly string[] = ['Succeeded', 'Failed', 'Canceled'];

export interface PipelineEntry extends PipelineRecord {
  readonly seq: number;
  /** Principal of the system-assigned identity; kept across PUTs of the same pipeline. */
  systemPrincipalId?: string;
  /** Async style: when Creating/Updating turns Succeeded; bumped per PUT so an older operation can tell it was superseded. */
  readyAt?: number;
  putGeneration: number;
  /** Async-style deletion in progress: when the record goes away. */
  deleteAt?: number;
}

export interface RunEntry extends RunRecord {
  readonly seq: number;
  /** Canonical JSON of the normalized request + forceUpdateTag: an identical PUT is a no-op. */
  fingerprint: string;
  deleteAt?: number;
}

export class ArmState implements ArmStore {
  readonly registries = new Map<string, RegistryState>();
  private readonly pipelines = new Map<string, PipelineEntry>();
  private readonly runs = new Map<string, RunEntry>();
  private seq = 0;
  /** When the emulator "created" the registries (their systemData / creationDate): the first start's time. */
  readonly createdAt: string;
  /** Runs whose progress waits to be written (saveRun, not urgent). */
  private readonly unsaved = new Set<RunRecord>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly emu: Emulator) {
    const disk = emu.disk;
    this.createdAt = disk.read<{ createdAt: string }>('meta', 'arm')?.createdAt ?? new Date().toISOString();
    disk.write('meta', 'arm', { createdAt: this.createdAt });
    this.resetRegistries();
    for (const [key, saved] of disk.readAll<{ sku: SkuName; exportPolicy: PolicyStatus }>('registries')) {
      const reg = this.registries.get(key);
      if (reg) Object.assign(reg, { sku: saved.sku, exportPolicy: saved.exportPolicy });
    }
    for (const [key, p] of disk.readAll<PipelineEntry>('pipelines')) this.pipelines.set(key, p);
    for (const [key, r] of disk.readAll<RunEntry>('runs')) this.runs.set(key, r);
    this.seq = Math.max(0, ...[...this.pipelines.values(), ...this.runs.values()].map((x) => x.seq));
  }

  // ---- registries

  resetRegistries(name?: string): void {
    for (const cfg of [this.emu.config.registries.source, this.emu.config.registries.target]) {
      if (name === undefined || cfg.name.toLowerCase() === name.toLowerCase()) {
        this.registries.set(cfg.name.toLowerCase(), { name: cfg.name, config: cfg, sku: 'Premium', exportPolicy: 'enabled' });
        if (name !== undefined) this.emu.disk.remove('registries', cfg.name);
      }
    }
  }

  saveRegistry(reg: RegistryState): void {
    this.emu.disk.write('registries', reg.name, { sku: reg.sku, exportPolicy: reg.exportPolicy });
  }

  // ---- disk

  savePipeline(p: PipelineEntry): void {
    this.emu.disk.write('pipelines', this.pipelineKey(p.registry, p.kind, p.name), p);
  }

  saveRun(run: RunRecord, urgent: boolean): void {
    if (!urgent) {
      this.unsaved.add(run);
      this.flushTimer ??= setTimeout(() => this.flush(), 1000).unref();
      return;
    }
    this.unsaved.delete(run);
    const key = this.runKey(run.registry, run.name);
    // A run deleted meanwhile stays deleted.
    if (this.runs.get(key) === run) this.emu.disk.write('runs', key, run);
  }

  /** Writes what waits; also called when the emulator stops. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const r of [...this.unsaved]) this.saveRun(r, true);
  }

  /**
   * Runs in progress when the last process stopped carry on (a PipelineRun never disappears): each is executed again,
   * from its checkpoint, under a new generation.
   */
  resumeRuns(): void {
    for (const r of this.runs.values()) {
      if (r.deleteAt !== undefined || isTerminal(r.resource)) continue;
      const id = String(obj(props(r.resource)['request'])['pipelineResourceId'] ?? '');
      const m = /\/(exportPipelines|importPipelines)\/([^/]+)$/i.exec(id);
      const pipeline = m ? this.getPipeline(r.registry, m[1]!.toLowerCase().startsWith('export') ? 'export' : 'import', m[2]!) : undefined;
      r.generation += 1;
      if (pipeline) this.emu.runs.start(r, pipeline);
      else {
        props(r.resource)['provisioningState'] = 'Failed';
        props(r.resource)['response'] = {
          ...obj(props(r.resource)['response']),
          status: 'Failed',
          pipelineRunErrorMessage: `The pipeline '${id}' no longer exists.`,
        };
        this.saveRun(r, true);
      }
    }
  }

  registry(name: string): RegistryState | undefined {
    return this.registries.get(name.toLowerCase());
  }

  registryId(reg: RegistryState): string {
    return registryResourceId(this.emu.config.subscriptionId, this.emu.config.resourceGroup, reg.name);
  }

  resourceId(reg: RegistryState, collection: Collection, name: string): string {
    return `${this.registryId(reg)}/${collection}/${name}`;
  }

  // ---- lazy time-based transitions

  /** Applies finished async provisioning and deletions. */
  sweep(now = Date.now()): void {
    for (const [key, p] of this.pipelines) {
      if (p.deleteAt !== undefined && p.deleteAt <= now) this.removePipeline(p);
      else if (p.readyAt !== undefined && p.readyAt <= now) {
        props(p.resource)['provisioningState'] = 'Succeeded';
        delete p.readyAt;
        this.emu.disk.write('pipelines', key, p);
      }
    }
    for (const r of this.runs.values()) if (r.deleteAt !== undefined && r.deleteAt <= now) this.removeRun(r);
  }

  // ---- pipelines

  private pipelineKey(registry: string, kind: PipelineKind, name: string): string {
    return `${registry}/${kind}/${name}`.toLowerCase();
  }

  pipelineEntry(registry: string, kind: PipelineKind, name: string): PipelineEntry | undefined {
    this.sweep();
    return this.pipelines.get(this.pipelineKey(registry, kind, name));
  }

  getPipeline(registry: string, kind: PipelineKind, name: string): PipelineRecord | undefined {
    const p = this.pipelineEntry(registry, kind, name);
    return p && p.deleteAt === undefined ? p : undefined;
  }

  listPipelines(registry: string, kind: PipelineKind): PipelineRecord[] {
    return this.pipelineEntries(registry, kind).filter((p) => p.deleteAt === undefined);
  }

  pipelineEntries(registry: string, kind: PipelineKind): PipelineEntry[] {
    this.sweep();
    return [...this.pipelines.values()].filter((p) => p.kind === kind && p.registry.toLowerCase() === registry.toLowerCase());
  }

  /** Creates or replaces; the caller has built `resource`. */
  putPipeline(registry: string, kind: PipelineKind, name: string, resource: Json, extra: { systemPrincipalId?: string; readyAt?: number }): PipelineEntry {
    const key = this.pipelineKey(registry, kind, name);
    const existing = this.pipelines.get(key);
    const entry: PipelineEntry = {
      kind,
      registry,
      name: existing?.name ?? name,
      resource,
      seq: existing?.seq ?? ++this.seq,
      putGeneration: (existing?.putGeneration ?? 0) + 1,
      ...(extra.systemPrincipalId !== undefined ? { systemPrincipalId: extra.systemPrincipalId } : {}),
      ...(extra.readyAt !== undefined ? { readyAt: extra.readyAt } : {}),
    };
    this.pipelines.set(key, entry);
    this.savePipeline(entry);
    return entry;
  }

  removePipeline(p: PipelineEntry): void {
    this.pipelines.delete(this.pipelineKey(p.registry, p.kind, p.name));
    this.emu.disk.remove('pipelines', this.pipelineKey(p.registry, p.kind, p.name));
  }

  // ---- runs

  private runKey(registry: string, name: string): string {
    return `${registry}/${name}`.toLowerCase();
  }

  runEntry(registry: string, name: string): RunEntry | undefined {
    this.sweep();
    return this.runs.get(this.runKey(registry, name));
  }

  runEntries(registry: string): RunEntry[] {
    this.sweep();
    return [...this.runs.values()].filter((r) => r.registry.toLowerCase() === registry.toLowerCase());
  }

  /** Stores a new run (or re-executes an existing one) and hands it to the executor. */
  startRun(registry: string, name: string, resource: Json, fingerprint: string, pipeline: PipelineRecord): RunEntry {
    const key = this.runKey(registry, name);
    const existing = this.runs.get(key);
    let entry: RunEntry;
    if (existing) {
      existing.resource = resource;
      existing.fingerprint = fingerprint;
      entry = existing;
    } else {
      entry = { registry, name, resource, fingerprint, generation: 0, seq: ++this.seq };
      this.runs.set(key, entry);
    }
    // Bump first: an execution still writing for the previous generation must stop.
    entry.generation += 1;
    delete entry.checkpoint;
    this.saveRun(entry, true);
    this.emu.runs.start(entry, pipeline);
    return entry;
  }

  removeRun(r: RunEntry): void {
    r.generation += 1;
    this.runs.delete(this.runKey(r.registry, r.name));
    this.unsaved.delete(r);
    this.emu.disk.remove('runs', this.runKey(r.registry, r.name));
  }

  /** Runs of this registry that still execute for the pipeline (by resource id, case-insensitive). */
  activeRunsOf(pipeline: PipelineRecord, pipelineId: string): RunEntry[] {
    return this.runEntries(pipeline.registry).filter((r) => {
      const request = (props(r.resource)['request'] ?? {}) as Json;
      const id = typeof request['pipelineResourceId'] === 'string' ? request['pipelineResourceId'] : '';
      return r.deleteAt === undefined && id.toLowerCase() === pipelineId.toLowerCase() && !isTerminal(r.resource);
    });
  }

  createTriggeredRun(pipeline: PipelineRecord, blobName: string, timestamp: string): RunRecord {
    const reg = this.registry(pipeline.registry);
    if (!reg) throw new Error(`createTriggeredRun: unknown registry ${pipeline.registry}`);
    let name: string;
    do name = `trigger${randomBytes(8).toString('hex')}`;
    while (this.runs.has(this.runKey(reg.name, name)));
    const now = new Date().toISOString();
    const request = {
      pipelineResourceId: this.resourceId(reg, collectionOf(pipeline.kind), pipeline.name),
      source: { type: 'AzureStorageBlob', name: blobName },
    };
    const who = { by: 'Microsoft.ContainerRegistry source trigger', type: 'Application' };
    const resource: Json = {
      id: this.resourceId(reg, 'pipelineRuns', name),
      name,
      type: COLLECTIONS.pipelineRuns.type,
      systemData: systemData(who, now),
      properties: {
        request,
        provisioningState: 'Creating',
        response: { status: 'Running', progress: { percentage: '0' }, startTime: now, trigger: { sourceTrigger: { timestamp } } },
      },
    };
    return this.startRun(reg.name, name, resource, fingerprintOf(request, undefined), pipeline);
  }
}

export function props(resource: Json): Json {
  let p = resource['properties'] as Json | undefined;
  if (!p || typeof p !== 'object') {
    p = {};
    resource['properties'] = p;
  }
  return p;
}

export function isTerminal(resource: Json): boolean {
  return TERMINAL_STATES.includes(String(props(resource)['provisioningState']));
}

export function systemData(who: { by: string; type: string }, createdAt: string, modified?: { by: string; type: string; at: string }): Json {
  return {
    createdBy: who.by,
    createdByType: who.type,
    createdAt,
    lastModifiedBy: modified?.by ?? who.by,
    lastModifiedByType: modified?.type ?? who.type,
    lastModifiedAt: modified?.at ?? createdAt,
  };
}

/** Canonical JSON (sorted keys), so that key order does not make two identical PUTs differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function fingerprintOf(request: unknown, forceUpdateTag: string | undefined): string {
  return canonical({ request, forceUpdateTag: forceUpdateTag ?? null });
}
