/**
 * The local Azure emulator: one HTTPS port for ARM, Entra, Key Vault, the GitHub-style OIDC issuer and
 * the control API, one HTTPS port per registry for its ACR data plane, and one for the storage accounts' blob
 * endpoints in front of Azurite.
 * Usage: node --import tsx main.ts <path of emulator.json>
 */
import { readFileSync } from 'node:fs';
import { type EmulatorConfig, keyVaultUrl, type Side } from '../config';
import { REGISTRY_FALLBACK } from './acr/errors';
import { registerAcr } from './acr/front-end';
import { ARM_FALLBACK } from './arm/frame';
import { registerArm } from './arm/routes';
import type { ArmState } from './arm/state';
import { type Emulator, defaultKnobs, type Knobs } from './context';
import { DiskState } from './disk';
import { registerControl } from './control';
import { registerEntra } from './entra/routes';
import { registerKeyVault } from './keyvault';
import { openRequestLog } from './request-log';
import { Router } from './router';
import { serve } from './server';
import { registerStorageFront, STORAGE_FALLBACK } from './storage-front';
import { createRunExecutor } from './transfer/runner';
import { startSourceTriggers } from './transfer/trigger';

export function startEmulator(config: EmulatorConfig): { emu: Emulator; close: () => Promise<void> } {
  const log = openRequestLog(config.requestLogPath);
  // The parts fill in their services when they register; the placeholders fail loudly if one is missing.
  const missing = (what: string) => () => {
    throw new Error(`emulator part not registered: ${what}`);
  };
  const disk = new DiskState(config.stateDir);
  const emu: Emulator = {
    config,
    // Test knobs are the harness's, not Azure's, but a restart should not undo them either.
    knobs: { ...defaultKnobs(), ...(disk.read<Partial<Knobs>>('control', 'knobs') ?? {}), faults: [], runFailures: [] },
    disk,
    baseUrl: `https://${config.host}:${config.port}`,
    tokens: { verifyAccessToken: missing('tokens') },
    secrets: { readSecret: missing('secrets') },
    arm: {
      getPipeline: missing('arm'),
      listPipelines: missing('arm'),
      createTriggeredRun: missing('arm'),
      saveRun: missing('arm'),
      resumeRuns: missing('arm'),
    },
    runs: { start: missing('runs') },
    access: {
      secretGetDenial: missing('access'),
      blobDenial: missing('access'),
      vault: { name: config.keyVaultName, uri: keyVaultUrl(config) },
    },
  };
  // The main port's host is ARM's: a path nobody serves is answered as ARM answers one.
  const main = new Router(ARM_FALLBACK);
  registerControl(main, emu);
  registerEntra(main, emu);
  registerKeyVault(main, emu);
  registerArm(main, emu);
  emu.runs = createRunExecutor(emu);
  const storage = new Router(STORAGE_FALLBACK);
  registerStorageFront(storage, emu);
  const servers = [serve(emu, main, config.port, log), serve(emu, storage, config.storagePort, log)];
  for (const side of ['source', 'target'] as Side[]) {
    const r = new Router(REGISTRY_FALLBACK);
    registerAcr(r, emu, config.registries[side]);
    servers.push(serve(emu, r, config.registries[side].port, log));
  }
  const stopTriggers = startSourceTriggers(emu);
  emu.arm.resumeRuns();
  return {
    emu,
    close: async () => {
      stopTriggers();
      (emu.arm as ArmState).flush();
      // Open keep-alive connections would hold close() until the clients hang up: a stopping service drops them.
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.close(() => r());
              s.closeAllConnections();
            }),
        ),
      );
      log.close();
    },
  };
}

if (require.main === module) {
  const configPath = process.argv[2];
  if (!configPath) {
    process.stderr.write('usage: main.ts <emulator.json>\n');
    process.exit(2);
  }
  const { close } = startEmulator(JSON.parse(readFileSync(configPath, 'utf8')) as EmulatorConfig);
  const stop = (): void => void close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
