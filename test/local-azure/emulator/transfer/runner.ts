/**
 * Executes pipeline runs: export (registry → OCI layout tar → one blob, through the SAS from Key Vault) and import
 * (blob → registry). Behaviour and messages follow docs/azure-service.md and the transfer troubleshooting page
 * (https://learn.microsoft.com/azure/container-registry/container-registry-transfer-troubleshooting).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { EmulatorRegistryConfig } from '../../config';
import { type Emulator, type Json, obj, type PipelineRecord, type RunExecutor, type RunRecord } from '../context';
import {
  type ArchivedArtifact,
  estimateSize,
  ExtractedArchive,
  MissingArtifactError,
  parseArtifact,
  resolveArtifact,
  type ResolvedArtifact,
  writeArchive,
} from './archive';
import { takeRunFailure } from '../faults';
import { checkpointOf, type Outcome, transferred } from './checkpoint';
import { childManifests, isDigest, manifestBlobs, type ManifestBytes, RegistryClient } from './registry-client';
import { ContainerAccess, pipelineStorage, restCode, RunError, storageResponse } from './storage';

const MB = 1024 * 1024;

/** The run was re-executed (forceUpdateTag) or deleted: this execution must stop writing. */
class Superseded extends Error {}

export function createRunExecutor(emu: Emulator): RunExecutor {
  return {
    start(run: RunRecord, pipeline: PipelineRecord): void {
      void new Execution(emu, run, pipeline).execute();
    },
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

class Execution {
  private readonly generation: number;
  private readonly started = Date.now();
  private readonly options: ReadonlySet<string>;

  constructor(
    private readonly emu: Emulator,
    private readonly run: RunRecord,
    private readonly pipeline: PipelineRecord,
  ) {
    this.generation = run.generation;
    const opts = obj(pipeline.resource['properties'])['options'];
    this.options = new Set(Array.isArray(opts) ? opts.filter((o): o is string => typeof o === 'string').map((o) => o.toLowerCase()) : []);
  }

  private has(option: 'OverwriteBlobs' | 'OverwriteTags' | 'ContinueOnErrors' | 'DeleteSourceBlobOnSuccess'): boolean {
    return this.options.has(option.toLowerCase());
  }

  private get request(): Json {
    return obj(obj(this.run.resource['properties'])['request']);
  }

  /** Throws Superseded once another execution (or a delete) has taken over the run. */
  private check(): void {
    if (this.run.generation !== this.generation) throw new Superseded();
  }

  private update(patch: Json, urgent = false): void {
    this.check();
    const props = obj(this.run.resource['properties']);
    props['response'] = { ...obj(props['response']), ...patch };
    this.run.resource['properties'] = props;
    this.emu.arm.saveRun(this.run, urgent);
  }

  /** The transfer is done (blob written, or artifacts imported): a run resumed after a restart only finishes. */
  private checkpoint(outcome: Outcome): void {
    this.check();
    this.run.checkpoint = checkpointOf(outcome);
    this.emu.arm.saveRun(this.run, true);
  }

  /** Never throws: it runs inside stream and SDK callbacks, where an exception would escape the run. Steps call check(). */
  private progress(percentage: number): void {
    if (this.run.generation !== this.generation) return;
    this.update({ progress: { percentage: String(Math.max(0, Math.min(100, Math.floor(percentage)))) } });
  }

  private finish(state: 'Succeeded' | 'Failed', message?: string): void {
    this.check();
    obj(this.run.resource['properties'])['provisioningState'] = state;
    this.update(
      {
        status: state,
        finishTime: new Date().toISOString(),
        ...(state === 'Succeeded' ? { progress: { percentage: '100' } } : {}),
        ...(message ? { pipelineRunErrorMessage: message } : {}),
      },
      true,
    );
  }

  async execute(): Promise<void> {
    try {
      const response = obj(obj(this.run.resource['properties'])['response']);
      this.update({ status: 'Running', progress: { percentage: '0' }, ...(response['startTime'] ? {} : { startTime: new Date(this.started).toISOString() }) });
      const injected = takeRunFailure(this.emu.knobs, this.run.name, this.pipeline.name);
      if (injected !== undefined) {
        await sleep(this.emu.knobs.runBaseMs);
        throw new RunError(injected);
      }
      let outcome = transferred(this.run);
      if (!outcome) {
        outcome = this.pipeline.kind === 'export' ? await this.exportRun() : await this.importRun();
        this.checkpoint(outcome);
      }
      await this.serviceTime(outcome.bytesMoved);
      this.finish(
        'Succeeded',
        outcome.artifactErrors.length ? `Some artifacts were not transferred (ContinueOnErrors is set): ${outcome.artifactErrors.join(' ')}` : undefined,
      );
    } catch (e) {
      if (e instanceof Superseded || this.run.generation !== this.generation) return;
      const message = e instanceof RunError ? e.message : `Internal error in the local transfer service: ${(e as Error).message}`;
      if (!(e instanceof RunError)) process.stderr.write(`run ${this.run.registry}/${this.run.name}: ${(e as Error).stack ?? String(e)}\n`);
      await sleep(this.started + this.emu.knobs.runBaseMs - Date.now());
      if (this.run.generation === this.generation) this.finish('Failed', message);
    }
  }

  /** A run takes runBaseMs + runPerMbMs per MB moved (the real service takes minutes); progress creeps meanwhile. */
  private async serviceTime(bytes: number): Promise<void> {
    const end = this.started + this.emu.knobs.runBaseMs + (this.emu.knobs.runPerMbMs * bytes) / MB;
    const from = Number(obj(obj(obj(this.run.resource['properties'])['response'])['progress'])['percentage'] ?? '0');
    const total = end - Date.now();
    while (Date.now() < end) {
      await sleep(Math.min(250, end - Date.now()));
      this.check();
      this.progress(from + ((99 - from) * (total - (end - Date.now()))) / Math.max(1, total));
    }
  }

  private backend(): RegistryClient {
    const regs: EmulatorRegistryConfig[] = [this.emu.config.registries.source, this.emu.config.registries.target];
    const reg = regs.find((r) => r.name.toLowerCase() === this.pipeline.registry.toLowerCase());
    if (!reg) throw new Error(`registry '${this.pipeline.registry}' has no backend in the emulator config`);
    return new RegistryClient(reg.backendUrl);
  }

  private async withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(path.join(tmpdir(), `local-azure-run-${this.pipeline.kind}-`));
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  // ---------- export ----------

  private async exportRun(): Promise<Outcome> {
    const storage = pipelineStorage('export', this.pipeline.resource);
    const blobName = str(obj(this.request['target'])['name']);
    if (!blobName) throw new RunError('The export run names no target blob (request.target.name).');
    this.update({ target: storageResponse(storage, blobName) });
    const access = ContainerAccess.open(this.emu, storage, this.pipeline);
    const source = this.backend();

    const { resolved, errors } = await this.resolveAll(source);
    if (errors.length && (!this.has('ContinueOnErrors') || resolved.length === 0)) throw new RunError(errors.join(' '));
    this.progress(10);
    await this.refuseExistingBlob(access, blobName);

    return this.withTempDir(async (dir) => {
      const file = path.join(dir, 'export.tar');
      const expected = estimateSize(resolved);
      const tarSummary = await writeArchive(source, resolved, file, (n) => this.progress(10 + (60 * n) / expected));
      this.check();
      const catalogDigest = `sha256:${tarSummary.sha256}`;
      const blob = access.blockBlob(blobName);
      access.authorize(`Uploading the export blob '${blobName}'`, 'write');
      try {
        await blob.uploadFile(file, {
          blobHTTPHeaders: { blobContentMD5: tarSummary.contentMD5, blobContentType: 'application/x-tar' },
          metadata: { category: 'acr-transfer-blob' },
          // Without OverwriteBlobs an existing blob stays (docs/azure-service.md#the-export-blob); the condition also covers a race with the pre-check.
          ...(this.has('OverwriteBlobs') ? {} : { conditions: { ifNoneMatch: '*' } }),
          onProgress: (p) => this.progress(70 + (25 * p.loadedBytes) / Math.max(1, tarSummary.size)),
        });
      } catch (e) {
        const { status, code } = restCode(e);
        if (status === 409 || status === 412 || code === 'BlobAlreadyExists') throw this.blobExists(storage.containerUri, blobName);
        throw access.explain(e, `Uploading the export blob '${blobName}'`, 'write');
      }
      this.update({ catalogDigest }, true);
      const outcome = { bytesMoved: tarSummary.size, artifactErrors: errors };
      // At once: a restart from here on must not write the blob again (it exists now, and OverwriteBlobs may be off).
      this.checkpoint(outcome);
      return outcome;
    });
  }

  private blobExists(containerUri: string, blobName: string): RunError {
    return new RunError(
      `The blob '${blobName}' already exists in the storage container '${containerUri}' and the export pipeline's OverwriteBlobs option is not set.`,
    );
  }

  /** Fails early (before building the archive) when the blob exists and must not be overwritten. */
  private async refuseExistingBlob(access: ContainerAccess, blobName: string): Promise<void> {
    if (this.has('OverwriteBlobs')) return;
    // e.g. no read permission: the conditional upload decides, and its error is explained.
    const exists = await (async () => {
      access.authorize('', 'read');
      return access.blob(blobName).exists();
    })().catch(() => false);
    if (exists) throw this.blobExists(access.storage.containerUri, blobName);
  }

  private async resolveAll(source: RegistryClient): Promise<{ resolved: ResolvedArtifact[]; errors: string[] }> {
    const raw = this.request['artifacts'];
    const names = Array.isArray(raw) ? raw.filter((a): a is string => typeof a === 'string' && a !== '') : [];
    if (names.length === 0) throw new RunError('The export run names no artifacts (request.artifacts).');
    const resolved: ResolvedArtifact[] = [];
    const errors: string[] = [];
    for (const name of names) {
      const ref = parseArtifact(name);
      if (!ref) {
        errors.push(`Artifact '${name}' is not a valid reference (expected repo, repo:tag or repo@sha256:<digest>).`);
        continue;
      }
      try {
        resolved.push(await resolveArtifact(source, ref));
      } catch (e) {
        if (!(e instanceof MissingArtifactError)) throw e;
        errors.push(e.message);
      }
      this.check();
    }
    return { resolved, errors };
  }

  // ---------- import ----------

  private async importRun(): Promise<Outcome> {
    const storage = pipelineStorage('import', this.pipeline.resource);
    const blobName = str(obj(this.request['source'])['name']);
    if (!blobName) throw new RunError('The import run names no source blob (request.source.name).');
    this.update({ source: storageResponse(storage, blobName) });
    const access = ContainerAccess.open(this.emu, storage, this.pipeline);
    const target = this.backend();

    return this.withTempDir(async (dir) => {
      const archive = await this.download(access, blobName, dir);
      const catalogDigest = `sha256:${archive.summary.sha256}`;
      const wanted = str(this.request['catalogDigest']);
      if (wanted && wanted !== catalogDigest)
        throw new RunError(`The blob '${blobName}' has digest ${catalogDigest}, not the catalogDigest ${wanted} the run names.`);
      this.update({ catalogDigest });

      const imported: string[] = [];
      const errors = [...archive.invalid];
      for (const [i, a] of archive.artifacts.entries()) {
        try {
          await target.exclusive(a.ref.repo, () => this.importArtifact(target, archive, a));
          imported.push(a.name);
          this.update({ importedArtifacts: [...imported] });
        } catch (e) {
          if (e instanceof Superseded) throw e;
          errors.push(e instanceof RunError ? e.message : `Artifact '${a.name}' could not be imported: ${(e as Error).message}`);
        }
        this.progress(50 + (45 * (i + 1)) / archive.artifacts.length);
        if (errors.length && !this.has('ContinueOnErrors')) throw new RunError(errors.join(' '));
      }
      if (imported.length === 0) throw new RunError(errors.length ? errors.join(' ') : `The blob '${blobName}' holds no artifacts.`);
      if (this.has('DeleteSourceBlobOnSuccess') && errors.length === 0) {
        access.authorize(`Deleting the source blob '${blobName}' after the import (DeleteSourceBlobOnSuccess)`, 'delete');
        try {
          await access.blob(blobName).delete();
        } catch (e) {
          throw access.explain(e, `Deleting the source blob '${blobName}' after the import (DeleteSourceBlobOnSuccess)`, 'delete');
        }
      }
      return { bytesMoved: archive.summary.size, artifactErrors: errors };
    });
  }

  private async download(access: ContainerAccess, blobName: string, dir: string): Promise<ExtractedArchive> {
    const blob = access.blob(blobName);
    let body: Readable;
    let length = 0;
    let md5: Uint8Array | undefined;
    access.authorize(`Downloading the blob '${blobName}'`, 'read');
    try {
      const res = await blob.download();
      if (!res.readableStreamBody) throw new Error('no body');
      body = res.readableStreamBody as Readable;
      length = res.contentLength ?? 0;
      md5 = res.blobContentMD5 ?? res.contentMD5;
    } catch (e) {
      throw access.explain(e, `Downloading the blob '${blobName}'`, 'read', blobName);
    }
    let archive: ExtractedArchive;
    try {
      archive = await ExtractedArchive.extract(body, path.join(dir, 'archive'), (n) => this.progress((50 * n) / Math.max(1, length)));
    } catch (e) {
      if (e instanceof Superseded) throw e;
      throw new RunError(`The blob '${blobName}' is not an export archive the transfer service can read: ${(e as Error).message}`);
    }
    if (md5 && md5.length && !Buffer.from(md5).equals(archive.summary.contentMD5))
      throw new RunError(`The blob '${blobName}' does not match its Content-MD5: it is corrupt or was changed after the export.`);
    return archive;
  }

  private async importArtifact(target: RegistryClient, archive: ExtractedArchive, a: ArchivedArtifact): Promise<void> {
    const { repo, reference } = a.ref;
    const top = await archive.manifest(a.digest);
    if (!isDigest(reference) && !this.has('OverwriteTags')) {
      const existing = await target.getManifest(repo, reference);
      if (existing && existing.digest !== top.digest)
        throw new RunError(
          `Artifact '${a.name}': the tag exists in the target registry with digest ${existing.digest} (the blob has ${top.digest}) and the import pipeline's OverwriteTags option is not set.`,
        );
    }
    for (const d of childManifests(top)) {
      const child = await archive.manifest(d.digest);
      await this.pushBlobs(target, archive, repo, child);
      await target.putManifest(repo, child.digest, child);
      this.check();
    }
    await this.pushBlobs(target, archive, repo, top);
    await target.putManifest(repo, reference, top);
  }

  private async pushBlobs(target: RegistryClient, archive: ExtractedArchive, repo: string, m: ManifestBytes): Promise<void> {
    for (const b of manifestBlobs(m)) {
      await target.pushBlob(repo, b.digest, b.size, () => archive.openBlob(b.digest));
      this.check();
    }
  }
}
