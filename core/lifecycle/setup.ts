/**
 * setup: what the transfer docs walk users through by hand (docs/azure-service.md#storage-access-and-the-sas-secret), done once and repeatable:
 * 1. a SAS per container with exactly the permissions the pipeline's options need, https only, expiring after
 *    sas-expiry-days, signed with a user-delegation key (the account key only with sas-signing: account-key), stored as
 *    a new version of the Key Vault secret the pipeline reads (never printed);
 * 2. the pipelines created or updated to match the inputs (each changed field reported; refused with update-pipelines: false);
 * 3. with grant-access, the pipeline identity given secret get on the vault (access policy or Key Vault Secrets User,
 *    whichever the vault uses) or, in managed-identity mode, the storage role it needs; then a bounded wait (probe runs)
 *    until the grant works;
 * 4. the checks, on what it made.
 */
import { errorMessage } from '../errors';
import type { PipelineKind, PipelineResource } from '../ports';
import type { ChangeItem, CheckItem } from '../report';
import { USER_DELEGATION_MAX_DAYS } from '../domain/limits';
import type { SetupSettings, SetupSide } from '../settings';
import { oneLine, type OpContext, type OperationResult, warn } from '../operation';
import { desiredSpec } from '../domain/pipeline-spec';
import { applyPipeline, refuseDrift } from '../transfer/pipelines';
import { type AccessNeed, AccessLookup, grant, principalOf } from './access';
import { runChecks } from './checks';
import { probeAccess, type ProbeResult } from './probe';
import { sasPermissions } from './sas';

const DAY_MS = 24 * 3600 * 1000;
/** Storage refuses a SAS whose start lies ahead of its clock; start a little in the past. */
const CLOCK_SKEW_MS = 5 * 60_000;

export async function runSetup(ctx: OpContext<SetupSettings>): Promise<OperationResult> {
  const { settings } = ctx;
  const { sides } = settings;
  const dry = settings.dryRun;
  const lookup = new AccessLookup(ctx);
  const changes: ChangeItem[] = [];
  const failures: string[] = [];
  const probes = new Map<PipelineKind, ProbeResult>();
  const record = (c: ChangeItem): ChangeItem => {
    changes.push(c);
    const text = `${c.status === 'planned' ? 'would ' : ''}${c.action} ${c.kind} '${c.name}' (${c.scope}): ${c.status}${c.detail ? `, ${c.detail}` : ''}${c.error ? `: ${c.error}` : ''}`;
    if (c.status === 'failed') failures.push(`setup could not ${c.action} ${c.kind} '${c.name}' (${c.scope}): ${c.error ?? 'unknown error'}`);
    ctx.log.info(text);
    return c;
  };

  // update-pipelines: false fails on a differing pipeline before setup changes anything (a new SAS version included).
  await refuseDrift(ctx, sides);
  for (const side of sides) {
    await ctx.log.group(`Set up the ${side.kind} side (registry '${side.reg.name}')`, async () => {
      const p = side.kind === 'export' ? settings.exportPipeline : settings.importPipeline;
      const scope = `registry '${side.reg.name}'`;
      const need: AccessNeed = {
        kind: side.kind,
        registry: side.reg,
        mode: settings.storageAccessMode,
        target: side.accessTarget,
        writes: side.kind === 'export' || (p.options as readonly string[]).includes('DeleteSourceBlobOnSuccess'),
      };

      // 1. The SAS, before the pipeline: its first run reads it. Reading the pipeline first tells whether its trigger (kept when
      //    source-trigger is unset) needs the SAS to allow listing.
      let existing: PipelineResource | undefined;
      try {
        existing = await ctx.services.arm.getPipeline(side.reg, side.kind, p.name);
      } catch (e) {
        record({ kind: 'pipeline', name: p.name, scope, action: 'update', status: 'failed', error: oneLine(errorMessage(e)) });
        return;
      }
      const want = desiredSpec(settings, side.kind, existing)!;
      if (settings.storageAccessMode === 'sas-token' && record(await storeSas(ctx, side, lookup, want.sourceTriggerEnabled ?? false)).status === 'failed')
        return;

      // 2. The pipeline.
      let pipeline: PipelineResource | undefined;
      try {
        const applied = await applyPipeline(ctx, side.reg, p.name, existing, want, { write: !dry });
        pipeline = applied.pipeline;
        record(applied.change ?? { kind: 'pipeline', name: p.name, scope, action: 'update', status: 'unchanged', detail: `container ${want.storageUri}` });
      } catch (e) {
        record({ kind: 'pipeline', name: p.name, scope, action: existing ? 'update' : 'create', status: 'failed', error: oneLine(errorMessage(e)) });
        return;
      }

      // 3. The grant, and 4. the wait until it works.
      if (!settings.grantAccess) return;
      const principal = pipeline ? principalOf(pipeline, settings.pipelineIdentity) : undefined;
      const what = settings.storageAccessMode === 'sas-token' ? 'vault' : 'storage account';
      if (principal === undefined) {
        record({
          kind: settings.storageAccessMode === 'sas-token' ? 'access-policy' : 'role-assignment',
          name: `${side.kind} pipeline identity`,
          scope: need.target,
          action: 'grant',
          status: dry ? 'planned' : 'failed',
          ...(dry
            ? { detail: 'to the identity the pipeline gets when it is created' }
            : { error: `the ${side.kind} pipeline '${p.name}' reports no principal id for its identity` }),
        });
        return;
      }
      const grantFailed = (error: string): void =>
        void record({
          kind: 'role-assignment',
          name: `${side.kind} pipeline identity ${principal}`,
          scope: need.target,
          action: 'grant',
          status: 'failed',
          error,
        });
      let resource;
      try {
        resource = await lookup.resourceFor(need);
      } catch (e) {
        grantFailed(oneLine(errorMessage(e)));
        return;
      }
      if (!resource) {
        grantFailed(
          `no ${what} for ${need.target} in the subscription of registry '${side.reg.name}' (looked for properties.${settings.storageAccessMode === 'sas-token' ? 'vaultUri' : 'primaryEndpoints.blob'}); grant access by hand`,
        );
        return;
      }
      if (record(await grant(ctx, need, resource, principal, dry)).status === 'failed' || dry) return;
      const probe = await ctx.log.group(`Wait until the ${side.kind} pipeline's identity can use the grant`, () =>
        probeAccess(ctx, need, pipeline!, { wait: true }),
      );
      probe.changes.forEach(record);
      probes.set(side.kind, probe);
      if (probe.state === 'denied')
        failures.push(
          `the grant to the ${side.kind} pipeline's identity did not take effect within timeout-minutes (${settings.timeoutMinutes}): ${probe.detail}; new permissions can take about 10 minutes: run setup again later (it finds the grant and only waits)`,
        );
    });
  }

  // What it made, checked; the probe's answer replaces the access item where setup waited for it.
  const checked = await runChecks(ctx, 'setup');
  const checks: CheckItem[] = checked.items.map((c) => {
    const kind = c.id.endsWith('-access') ? (c.id.slice(0, -'-access'.length) as PipelineKind) : undefined;
    const probe = kind ? probes.get(kind) : undefined;
    if (!probe) return c;
    // A grant ARM shows, whose probe could not tell whether it works, is not a pass.
    if (probe.state === 'unknown')
      return c.status === 'pass' ? { ...c, status: 'warn', detail: oneLine(`${c.detail}; could not tell whether it works: ${probe.detail}`) } : c;
    return probe.state === 'effective'
      ? {
          id: c.id,
          title: c.title,
          status: 'pass',
          detail: oneLine(`works: a probe run got past the read (${probe.detail}) after ${probe.attempts} attempt(s)`),
        }
      : {
          ...c,
          status: 'fail',
          detail: oneLine(`granted but not in effect within timeout-minutes: ${probe.detail}`),
          fix: 'new permissions can take about 10 minutes: run setup again later',
        };
  });
  for (const c of checks.filter((x) => x.status === 'warn')) warn(ctx, `${c.title}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`);
  if (!dry)
    for (const c of checks.filter((x) => x.status === 'fail' && !x.id.endsWith('-access')))
      failures.push(`after setup, check '${c.title}' fails: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`);
  return { artifacts: [], runs: [], blobs: [], failures, checks, changes };
}

/** A new SAS for the side's container, stored as a new version of its secret; never logged. */
async function storeSas(ctx: OpContext<SetupSettings>, side: SetupSide, lookup: AccessLookup, trigger: boolean): Promise<ChangeItem> {
  const { settings } = ctx;
  const p = side.kind === 'export' ? settings.exportPipeline : settings.importPipeline;
  // storeSas runs in sas-token mode, where the side's access target is its secret.
  const secretUri = side.accessTarget;
  const url = new URL(secretUri);
  const name = url.pathname.split('/').filter(Boolean)[1] ?? '';
  const permissions = sasPermissions(side.kind, p.options, side.kind === 'import' && trigger);
  const now = ctx.clock.now();
  const expiresOn = new Date(now + settings.sasExpiryDays * DAY_MS);
  const signing = settings.sasSigning === 'account-key' ? "the storage account's key" : `a user-delegation key (at most ${USER_DELEGATION_MAX_DAYS} days)`;
  const detail = `sp=${permissions}, spr=https, expires ${expiresOn.toISOString()}, signed with ${signing}, for ${side.container}`;
  const base = { kind: 'secret' as const, name, scope: `Key Vault ${url.origin}`, action: 'update' as const };
  if (settings.dryRun) return { ...base, status: 'planned', detail: `a new version: ${detail}` };
  try {
    let accountKey: string | undefined;
    if (settings.sasSigning === 'account-key') {
      const account = await lookup.accountFor({ kind: side.kind, registry: side.reg, mode: 'managed-identity', target: side.container, writes: false });
      if (!account || account.type !== 'storage')
        throw new Error(`no storage account for ${side.container} in the subscription of registry '${side.reg.name}'`);
      accountKey = await ctx.services.access.storageAccountKey(account.account.id);
    }
    // A user-delegation SAS lives at most as long as its key, which setup asks for with the same expiry.
    const sas = await ctx.services.blobs.createSas(side.container, {
      permissions,
      startsOn: new Date(now - CLOCK_SKEW_MS),
      expiresOn,
      ...(accountKey !== undefined ? { accountKey } : {}),
    });
    // The docs store the token with its leading '?'.
    const stored = await ctx.services.secrets.setSecret(url.origin, name, `?${sas}`, expiresOn);
    const version = stored.id.split('/').filter(Boolean).pop();
    return { ...base, status: 'done', detail: `new version ${version ?? ''}: ${detail}` };
  } catch (e) {
    return { ...base, status: 'failed', error: oneLine(errorMessage(e)) };
  }
}
