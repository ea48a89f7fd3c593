/**
 * Source triggers: import pipelines whose `trigger.sourceTrigger.status` is Enabled watch their container and start
 * an import run for each eligible blob (docs/azure-service.md#source-trigger): metadata `category=acr-transfer-blob`, a Content-MD5, and
 * Last-Modified within 60 days; listing needs the SAS's List permission. A blob is imported once per etag, so a
 * rewritten (or re-tagged with metadata) blob triggers again, and an unchanged one does not.
 */
import { type Emulator, obj, type PipelineRecord } from '../context';
import { ContainerAccess, pipelineStorage, RunError } from './storage';

const MAX_AGE_MS = 60 * 24 * 3600 * 1000;
const WAKE_MS = 100;

function triggerEnabled(p: PipelineRecord): boolean {
  const status = obj(obj(obj(p.resource['properties'])['trigger'])['sourceTrigger'])['status'];
  return typeof status === 'string' && status.toLowerCase() === 'enabled';
}

/** A recreated pipeline is a new pipeline: key its memory by creation time too. */
function pipelineKey(p: PipelineRecord): string {
  const created = obj(p.resource['systemData'])['createdAt'];
  return `${p.registry}/${p.name}/${typeof created === 'string' ? created : ''}`.toLowerCase();
}

export function startSourceTriggers(emu: Emulator): () => void {
  // pipeline key → blob name → etag; on disk, so that a restart does not import every blob again.
  const seen = new Map<string, Map<string, string>>([...emu.disk.readAll<Record<string, string>>('triggers')].map(([k, v]) => [k, new Map(Object.entries(v))]));
  const reported = new Set<string>(); // listing problems already logged, so that a broken pipeline does not flood stderr
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const log = (key: string, message: string): void => {
    if (reported.has(`${key}:${message}`)) return;
    reported.add(`${key}:${message}`);
    process.stderr.write(`source trigger ${key}: ${message}\n`);
  };

  const scanPipeline = async (p: PipelineRecord): Promise<void> => {
    const key = pipelineKey(p);
    let access: ContainerAccess;
    try {
      access = ContainerAccess.open(emu, pipelineStorage('import', p.resource), p);
    } catch (e) {
      log(key, (e as Error).message);
      return;
    }
    const known = seen.get(key) ?? new Map<string, string>();
    seen.set(key, known);
    try {
      access.authorize(`Listing the import container '${access.storage.containerUri}'`, 'list');
      for await (const b of access.container().listBlobsFlat({ includeMetadata: true })) {
        if (stopped || known.get(b.name) === b.properties.etag) continue;
        const eligible =
          b.metadata?.['category'] === 'acr-transfer-blob' &&
          (b.properties.contentMD5?.length ?? 0) > 0 &&
          Date.now() - b.properties.lastModified.getTime() <= MAX_AGE_MS;
        if (!eligible) continue;
        known.set(b.name, b.properties.etag ?? '');
        emu.disk.write('triggers', key, Object.fromEntries(known));
        // Only if the pipeline still exists and is still enabled (it may have changed while we listed).
        const current = emu.arm.getPipeline(p.registry, 'import', p.name);
        if (!current || !triggerEnabled(current)) return;
        try {
          emu.arm.createTriggeredRun(current, b.name, new Date().toISOString());
        } catch (e) {
          process.stderr.write(`source trigger ${key}: could not start a run for blob '${b.name}': ${(e as Error).message}\n`);
        }
      }
    } catch (e) {
      log(key, e instanceof RunError ? e.message : access.explain(e, `Listing the import container '${access.storage.containerUri}'`, 'list').message);
    }
  };

  let lastScan = Date.now();
  // Wakes often and scans when triggerIntervalMs (re-read every time) has passed, so that a smaller knob applies at once.
  const tick = async (): Promise<void> => {
    try {
      if (Date.now() - lastScan < emu.knobs.triggerIntervalMs) return;
      lastScan = Date.now();
      const registries = [emu.config.registries.source.name, emu.config.registries.target.name];
      const pipelines = registries.flatMap((r) => emu.arm.listPipelines(r, 'import')).filter(triggerEnabled);
      await Promise.all(pipelines.map(scanPipeline));
    } catch (e) {
      log('*', (e as Error).message);
    } finally {
      if (!stopped) timer = setTimeout(() => void tick(), WAKE_MS);
    }
  };

  timer = setTimeout(() => void tick(), WAKE_MS);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
