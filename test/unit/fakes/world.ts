import { runBudget } from '../../../core/budget';
import type { Host } from '../../../core/host';
import type { Logger, Services } from '../../../core/ports';
import { parseSettings, type TransferSettings } from '../../../core/settings';
import { FakeAccess } from './access';
import { FakeArm } from './arm';
import { FakeBlobStore, fakeSas } from './blobs';
import { FakeClock, TimerClock } from './clock';
import { FakeRegistries, FakeRegistry } from './registry';
import { FakeSecretStore } from './secrets';

export const SUB = '00000000-0000-0000-0000-000000000001';
export const SRC_ID = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/srcreg`;
export const DST_ID = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/dstreg`;
export const EXPORT_CONTAINER = 'https://srcacct.blob.core.windows.net/transfer';
export const IMPORT_CONTAINER = 'https://dstacct.blob.core.windows.net/transfer';
export const EXPORT_SECRET = 'https://srcvault.vault.azure.net/secrets/acrexportsas';
export const IMPORT_SECRET = 'https://dstvault.vault.azure.net/secrets/acrimportsas';
const DAY = 24 * 3600 * 1000;

export class RecordingLogger implements Logger {
  readonly infos: string[] = [];
  readonly warnings: string[] = [];
  readonly progresses: { percent: number; message: string }[] = [];

  info(message: string): void {
    this.infos.push(message);
  }
  warning(message: string): void {
    this.warnings.push(message);
  }
  debug(): void {}
  group<T>(_name: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  progress(percent: number, message: string): void {
    this.progresses.push({ percent, message });
  }
}

/** A source and a target registry with their pipelines' containers, all in memory, on virtual time (with timers: TimerClock). */
export function makeWorld(o: { readonly timers?: boolean } = {}) {
  const clock = o.timers ? new TimerClock() : new FakeClock();
  const blobs = new FakeBlobStore(clock);
  const src = new FakeRegistry('srcreg.azurecr.io');
  const dst = new FakeRegistry('dstreg.azurecr.io');
  const arm = new FakeArm(clock, blobs);
  const settings = (inputs: Record<string, string>): TransferSettings => {
    const all: Record<string, string> = {
      'source-registry': SRC_ID,
      'target-registry': DST_ID,
      'export-storage-uri': EXPORT_CONTAINER,
      'export-sas-secret-uri': EXPORT_SECRET,
      'import-storage-uri': IMPORT_CONTAINER,
      'import-sas-secret-uri': IMPORT_SECRET,
      ...inputs,
    };
    return parseSettings({ get: (name) => all[name] });
  };
  const s = settings({ operation: 'export', artifacts: 'x' });
  arm.add(s.source!, src);
  arm.add(s.target!, dst);
  // The vaults and storage accounts of the pipelines, and SAS tokens that allow everything, valid for 30 days.
  const access = new FakeAccess(clock);
  access.addVault(SUB, 'srcvault');
  access.addVault(SUB, 'dstvault');
  access.addAccount(SUB, 'srcacct');
  access.addAccount(SUB, 'dstacct');
  const secrets = new FakeSecretStore();
  for (const uri of [EXPORT_SECRET, IMPORT_SECRET]) secrets.secrets.set(uri, `?${fakeSas({ sp: 'racwdl', se: new Date(clock.now() + 30 * DAY) })}`);
  const services: Services = {
    arm,
    access,
    registries: new FakeRegistries(
      new Map([
        [src.loginServer, src],
        [dst.loginServer, dst],
      ]),
    ),
    blobs,
    secrets,
  };
  const controller = new AbortController();
  const logger = new RecordingLogger();
  /** A host (one step) whose run budget starts now and lasts `timeoutMinutes` (the default of the input). */
  const hostFor = (timeoutMinutes = 60): Host => ({
    logger,
    budget: runBudget({ signal: controller.signal, timeoutMinutes, clock }),
    mask: () => undefined,
  });
  return {
    clock,
    blobs,
    src,
    dst,
    arm,
    access,
    secrets,
    services,
    /** Each read is a new step: its budget starts at the clock's time then. */
    get host(): Host {
      return hostFor();
    },
    hostFor,
    logger,
    controller,
    settings,
    source: s.source!,
    target: s.target!,
  };
}

export type World = ReturnType<typeof makeWorld>;
