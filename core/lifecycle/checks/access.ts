/**
 * The grants: the pipeline's identity can read the SAS secret (sas-token mode) or reach the container (managed-identity
 * mode), as ARM shows the grants; check also probes whether they work yet (../probe.ts).
 */
import { errorMessage } from '../../errors';
import type { CheckItem } from '../../report';
import { type AccessNeed, grantCommand, grantState } from '../access';
import { probeAccess } from '../probe';
import { type CheckRun, type Effective, item } from './shared';

/** The access item of a pipeline; undefined when there is nothing to reach (no secret, or no container). */
export async function accessItem(run: CheckRun, eff: Effective): Promise<CheckItem | undefined> {
  const target = eff.mode === 'sas-token' ? eff.secretUri : eff.container;
  if (target === undefined) return undefined;
  const { ctx, mode, lookup, changes } = run;
  const { existing, principal } = eff;
  const need: AccessNeed = {
    kind: eff.kind,
    registry: eff.reg,
    mode: eff.mode,
    target,
    writes: eff.kind === 'export' || eff.options.some((o) => o.toLowerCase() === 'deletesourceblobonsuccess'),
  };
  const id = `${need.kind}-access`;
  const what = need.mode === 'sas-token' ? `read the SAS secret ${need.target}` : `reach the container ${need.target}`;
  const title = `The ${need.kind} pipeline's identity can ${need.mode === 'sas-token' ? 'read the SAS secret' : 'reach the container'}`;
  const setupFix = 'run setup with grant-access: true (it grants and waits until the grant works)';
  if ((!existing || principal === undefined) && ctx.settings.pipelineIdentity.type === 'user') {
    return item(
      id,
      title,
      'warn',
      `not verified: the ${need.kind} pipeline does not exist yet, and the grants of its user-assigned identity are not read`,
      `${setupFix}, or: ${grantCommand(need, undefined, undefined)}`,
    );
  }
  if (!existing || principal === undefined) {
    return item(
      id,
      title,
      'warn',
      `the ${need.kind} pipeline's identity does not exist yet: a new identity has no right to ${what} until someone grants it`,
      `${setupFix}, before the first ${need.kind}`,
    );
  }
  let resourceFix = grantCommand(need, undefined, principal);
  let granted: { granted: boolean; how: string } | undefined;
  let lookupProblem: string | undefined;
  try {
    const resource = await lookup.resourceFor(need);
    if (resource) {
      resourceFix = grantCommand(need, resource, principal);
      granted = await grantState(ctx, need, resource, principal);
    } else
      lookupProblem = `no ${need.mode === 'sas-token' ? 'Key Vault' : 'storage account'} for ${need.target} in the subscription of registry '${need.registry.name}'`;
  } catch (e) {
    lookupProblem = `the grants could not be read: ${errorMessage(e)}`;
  }
  if (mode === 'check') {
    const probe = await probeAccess(ctx, need, existing, { wait: false });
    changes.push(...probe.changes);
    if (probe.state === 'effective')
      return item(id, title, 'pass', `a probe run got past the read (${probe.detail})${granted?.granted ? `; ${granted.how}` : ''}`);
    if (probe.state === 'denied') {
      if (granted?.granted) {
        return item(
          id,
          title,
          'fail',
          `granted (${granted.how}) but not in effect yet: a probe run was refused: ${probe.detail}`,
          'new permissions take minutes to work (up to about 10): wait and run check again, or run setup with grant-access: true, which waits until the grant works',
        );
      }
      return item(
        id,
        title,
        'fail',
        `principal ${principal} cannot ${what}: a probe run was refused: ${probe.detail}${granted ? ` (${granted.how})` : ''}`,
        `${setupFix}, or: ${resourceFix}`,
      );
    }
    // The probe could not tell: a grant ARM shows is not proof that it works, so this warns rather than passes.
    if (granted?.granted)
      return item(
        id,
        title,
        'warn',
        `could not tell whether the grant works: ${granted.how}, but the probe could not tell: ${probe.detail}${lookupProblem ? `; ${lookupProblem}` : ''}`,
        'run check again; setup with grant-access: true waits until the grant works',
      );
    lookupProblem = `${lookupProblem ? `${lookupProblem}; ` : ''}the probe could not tell: ${probe.detail}`;
  }
  if (granted?.granted) return item(id, title, 'pass', `${granted.how}${lookupProblem ? `; ${lookupProblem}` : ''}`);
  if (granted)
    return item(
      id,
      title,
      'warn',
      `${granted.how}: the runs cannot ${what} unless a grant ARM does not show (e.g. to a group) covers it`,
      `${setupFix}, or: ${resourceFix}`,
    );
  return item(id, title, 'warn', `not verified: ${lookupProblem ?? 'unknown'}`, `${setupFix}, or: ${resourceFix}`);
}
