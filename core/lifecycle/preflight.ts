/**
 * The preflight hook that export, import, copy and transfer call first (unless `preflight: false`): the `check` items
 * that apply to the operation (core/lifecycle/checks/), without the probe runs.
 */
import { runChecks } from './checks';
import type { Services } from '../ports';
import type { CheckItem } from '../report';
import type { TransferSettings } from '../settings';
import type { OpContext } from '../operation';

export type Preflight = (settings: TransferSettings, services: Services, ctx: OpContext) => Promise<readonly CheckItem[]>;

export const defaultPreflight: Preflight = async (_settings, _services, ctx) => (await runChecks(ctx, 'preflight')).items;
