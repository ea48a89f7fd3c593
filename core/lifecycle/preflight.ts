/**
 * The preflight hook that export, import, copy and transfer call first (unless `preflight: false`): the `check` items
 * that apply to the operation (core/lifecycle/check.ts), without the probe runs.
 */
import { runChecks } from './check';
import type { Services } from '../ports';
import type { CheckItem } from '../report';
import type { RegistryRef, TransferSettings } from '../settings';
import type { OpContext } from '../operation';

export type Preflight = (settings: TransferSettings, services: Services, ctx: OpContext) => Promise<readonly CheckItem[]>;

/** Which registries an operation touches (setup, check and cleanup: every one given). */
export function registriesOf(settings: TransferSettings): { side: 'source' | 'target'; reg: RegistryRef }[] {
  const op = settings.operation;
  const every = op === 'setup' || op === 'check' || op === 'cleanup' || op === 'transfer';
  const out: { side: 'source' | 'target'; reg: RegistryRef }[] = [];
  if ((every || op === 'export') && settings.source) out.push({ side: 'source', reg: settings.source });
  if ((every || op === 'import') && settings.target) out.push({ side: 'target', reg: settings.target });
  return out;
}

export const defaultPreflight: Preflight = async (_settings, _services, ctx) => (await runChecks(ctx, 'preflight')).items;
