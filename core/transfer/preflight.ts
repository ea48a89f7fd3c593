/**
 * The preflight hook that export, import, copy and transfer call first (unless `preflight: false`). The full
 * `check` operation comes later; this default covers what makes every transfer fail: a registry that is not
 * Premium, an export policy that forbids export pipelines, and more than 50 artifacts per run.
 */
import { errorMessage } from '../errors';
import type { RegistryInfo, Services } from '../ports';
import type { CheckItem } from '../report';
import { MAX_ARTIFACTS_PER_RUN, type RegistryRef, type TransferSettings } from '../settings';
import { oneLine } from './context';

export type Preflight = (settings: TransferSettings, services: Services) => Promise<CheckItem[]>;

/** Which registries an operation touches. */
export function registriesOf(settings: TransferSettings): { side: 'source' | 'target'; reg: RegistryRef }[] {
  const op = settings.operation;
  const out: { side: 'source' | 'target'; reg: RegistryRef }[] = [];
  if ((op === 'export' || op === 'transfer') && settings.source) out.push({ side: 'source', reg: settings.source });
  if ((op === 'import' || op === 'transfer') && settings.target) out.push({ side: 'target', reg: settings.target });
  return out;
}

export const defaultPreflight: Preflight = async (settings, services) => {
  const items: CheckItem[] = [];
  for (const { side, reg } of registriesOf(settings)) {
    let info: RegistryInfo;
    try {
      info = await services.arm.getRegistry(reg);
    } catch (e) {
      items.push({
        id: `${side}-registry`,
        title: `The ${side} registry '${reg.name}' can be read`,
        status: 'fail',
        detail: oneLine(errorMessage(e)),
        fix: `check '${side}-registry', '${side}-resource-group' and the identity's role on the registry`,
      });
      continue;
    }
    // Transfer pipelines exist on Premium registries only (https://learn.microsoft.com/azure/container-registry/container-registry-transfer-prerequisites).
    const premium = info.sku.toLowerCase() === 'premium';
    items.push({
      id: `${side}-premium`,
      title: `The ${side} registry '${reg.name}' is Premium`,
      status: premium ? 'pass' : 'fail',
      detail: `SKU ${info.sku}`,
      ...(premium ? {} : { fix: `az acr update --name ${reg.name} --sku Premium` }),
    });
    if (side === 'source') {
      // A disabled export policy forbids export pipelines (https://learn.microsoft.com/azure/container-registry/data-loss-prevention).
      items.push({
        id: 'source-export-policy',
        title: `The source registry '${reg.name}' allows exports`,
        status: info.exportPolicyEnabled ? 'pass' : 'fail',
        detail: `policies.exportPolicy.status is ${info.exportPolicyEnabled ? 'enabled' : 'disabled'}`,
        ...(info.exportPolicyEnabled ? {} : { fix: `az resource update --ids ${reg.resourceId} --set properties.policies.exportPolicy.status=enabled` }),
      });
    }
  }
  const perRunOk = settings.maxArtifactsPerRun <= MAX_ARTIFACTS_PER_RUN;
  items.push({
    id: 'artifacts-per-run',
    title: `At most ${MAX_ARTIFACTS_PER_RUN} artifacts per run`,
    status: perRunOk ? 'pass' : 'fail',
    detail: `max-artifacts-per-run is ${settings.maxArtifactsPerRun}`,
    ...(perRunOk ? {} : { fix: `set 'max-artifacts-per-run' to ${MAX_ARTIFACTS_PER_RUN} or less` }),
  });
  return items;
};
