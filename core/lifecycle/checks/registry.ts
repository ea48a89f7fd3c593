/** The registries: each one the operation names can be read, is Premium, and (the source) allows exports. */
import { errorMessage } from '../../errors';
import type { RegistryInfo } from '../../ports';
import { type RegistryRef, registriesOf } from '../../settings';
import { type CheckRun, item } from './shared';

/** The registry items, source first; the registries that could be read go into `run.registries` for the later checks. */
export async function registryItems(run: CheckRun): Promise<void> {
  for (const { side, reg } of registriesOf(run.ctx.settings)) {
    const info = await registryChecked(run, side, reg);
    if (info) run.registries.push({ side, reg, info });
  }
}

/** The items of one registry; its properties when it could be read. */
async function registryChecked(run: CheckRun, side: 'source' | 'target', reg: RegistryRef): Promise<RegistryInfo | undefined> {
  const { items } = run;
  let info: RegistryInfo;
  try {
    info = await run.ctx.services.arm.getRegistry(reg);
  } catch (e) {
    items.push(
      item(
        `${side}-registry`,
        `The ${side} registry '${reg.name}' can be read`,
        'fail',
        errorMessage(e),
        `check '${side}-registry', '${side}-resource-group' and the identity's role on the registry`,
      ),
    );
    return undefined;
  }
  // Transfer pipelines exist on Premium registries only (https://learn.microsoft.com/azure/container-registry/container-registry-transfer-prerequisites).
  const premium = info.sku.toLowerCase() === 'premium';
  items.push(
    item(
      `${side}-premium`,
      `The ${side} registry '${reg.name}' is Premium`,
      premium ? 'pass' : 'fail',
      `SKU ${info.sku}${premium ? '' : ': transfer pipelines need the Premium SKU'}`,
      `az acr update --name ${reg.name} --sku Premium`,
    ),
  );
  if (side === 'source') {
    // A disabled export policy forbids export pipelines (https://learn.microsoft.com/azure/container-registry/data-loss-prevention).
    items.push(
      item(
        'source-export-policy',
        `The source registry '${reg.name}' allows exports`,
        info.exportPolicyEnabled ? 'pass' : 'fail',
        `policies.exportPolicy.status is ${info.exportPolicyEnabled ? 'enabled' : 'disabled'}`,
        `az resource update --ids ${reg.resourceId} --set properties.policies.exportPolicy.status=enabled`,
      ),
    );
  }
  return info;
}
