/**
 * The checks: every prerequisite the transfer docs' troubleshooting names (docs/azure-service.md#failure-modes-and-fixes), each passed, warned
 * or failed with its fix. `check` runs them all and probes whether grants work; export, import, copy and transfer run
 * the ones that apply to them first (the preflight), without the probe; setup runs them on what it made.
 *
 * Per-artifact and per-blob problems (a misspelled artifact, a missing blob) only warn in the preflight: the operation
 * itself reports them per artifact and blob (failed-artifacts), and ContinueOnErrors may let it go on without them.
 */
import { AzureRequestError, errorMessage } from '../errors';
import type { BlobInfo, ManifestBlob, PipelineKind, PipelineResource, RegistryInfo } from '../ports';
import type { ChangeItem, CheckItem } from '../report';
import type { RegistryRef } from '../settings';
import { PatternError, type ResolvedArtifact, resolveArtifacts } from '../transfer/artifacts';
import { continueOnErrors, mapLimit, oneLine, type OpContext } from '../operation';
import { BLOB_CATEGORY, category } from '../domain/blob-rules';
import { LAYER_WARN_BYTES, MAX_LAYER_BYTES } from '../domain/limits';
import { desiredSpec, pipelineMatches } from '../domain/pipeline-spec';
import { type AccessNeed, AccessLookup, grantCommand, grantState, principalOf } from './access';
import { probeAccess } from './probe';
import { judgeSas, parseSas, sasNeeds } from './sas';

export type CheckMode = 'check' | 'preflight' | 'setup';

export interface CheckResult {
  readonly items: readonly CheckItem[];
  /** The probe runs check creates and deletes. */
  readonly changes: readonly ChangeItem[];
}

interface Side {
  readonly kind: PipelineKind;
  readonly reg: RegistryRef;
}

/** What one pipeline is, or will be once the operation creates or updates it. */
interface Effective {
  readonly existing?: PipelineResource;
  readonly container?: string;
  readonly secretUri?: string;
  readonly mode: 'sas-token' | 'managed-identity';
  readonly options: readonly string[];
  readonly sourceTrigger: boolean;
}

const item = (id: string, title: string, status: CheckItem['status'], detail: string, fix?: string): CheckItem => ({
  id,
  title,
  status,
  detail: oneLine(detail),
  ...(fix !== undefined && status !== 'pass' ? { fix: oneLine(fix) } : {}),
});

const statusOf = (e: unknown): number | undefined => (e instanceof AzureRequestError ? e.status : undefined);

export async function runChecks(ctx: OpContext, mode: CheckMode): Promise<CheckResult> {
  const { settings } = ctx;
  const op = settings.operation;
  const items: CheckItem[] = [];
  const changes: ChangeItem[] = [];
  const lookup = new AccessLookup(ctx);

  const every = op === 'check' || op === 'setup' || op === 'transfer';
  const source = every || op === 'export' ? settings.source : undefined;
  const target = every || op === 'import' ? settings.target : undefined;
  const sides: Side[] = [];
  const infos = new Map<string, RegistryInfo>();
  for (const [side, reg] of [
    ['source', source],
    ['target', target],
  ] as const) {
    if (!reg) continue;
    const info = await registryItems(ctx, side, reg, items);
    if (!info) continue;
    infos.set(side, info);
    // setup makes only the pipelines it has a container for.
    const kind: PipelineKind = side === 'source' ? 'export' : 'import';
    if (op === 'setup' && (kind === 'export' ? settings.exportPipeline : settings.importPipeline).storageUri === undefined) continue;
    sides.push({ kind, reg });
  }

  for (const side of sides) await pipelineItems(ctx, mode, side, lookup, items, changes);

  if (op === 'copy') {
    for (const kind of ['export', 'import'] as const) {
      const container = await containerOf(ctx, kind);
      if (container !== undefined) items.push(await containerItem(ctx, kind, container));
    }
  }

  const sourceInfo = infos.get('source');
  if (sourceInfo && settings.artifacts.length > 0 && (op === 'export' || op === 'transfer' || op === 'check'))
    await artifactItems(ctx, mode, sourceInfo, items);

  if (settings.blobs.length > 0 && (op === 'import' || op === 'copy' || op === 'check')) {
    const kind: PipelineKind = op === 'copy' || (op === 'check' && !settings.target && settings.importPipeline.storageUri === undefined) ? 'export' : 'import';
    const container = await containerOf(ctx, kind);
    if (container !== undefined) items.push(await blobItems(ctx, mode, kind, container));
  }
  return { items, changes };
}

/** The container of a pipeline: from the inputs, else from the existing pipeline. */
async function containerOf(ctx: OpContext, kind: PipelineKind): Promise<string | undefined> {
  const p = kind === 'export' ? ctx.settings.exportPipeline : ctx.settings.importPipeline;
  if (p.storageUri !== undefined) return p.storageUri;
  const reg = kind === 'export' ? ctx.settings.source : ctx.settings.target;
  if (!reg) return undefined;
  try {
    return (await ctx.services.arm.getPipeline(reg, kind, p.name))?.storageUri;
  } catch {
    return undefined;
  }
}

async function registryItems(ctx: OpContext, side: 'source' | 'target', reg: RegistryRef, items: CheckItem[]): Promise<RegistryInfo | undefined> {
  let info: RegistryInfo;
  try {
    info = await ctx.services.arm.getRegistry(reg);
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

async function pipelineItems(ctx: OpContext, mode: CheckMode, side: Side, lookup: AccessLookup, items: CheckItem[], changes: ChangeItem[]): Promise<void> {
  const { settings } = ctx;
  const { kind, reg } = side;
  const p = kind === 'export' ? settings.exportPipeline : settings.importPipeline;
  const title = `The ${kind} pipeline '${p.name}' on registry '${reg.name}' is provisioned`;
  let existing: PipelineResource | undefined;
  try {
    existing = await ctx.services.arm.getPipeline(reg, kind, p.name);
  } catch (e) {
    items.push(item(`${kind}-pipeline`, title, 'fail', errorMessage(e)));
    return;
  }
  const want = desiredSpec(settings, kind);
  const create = `give '${kind}-storage-uri'${settings.storageAccessMode === 'sas-token' ? ` and '${kind}-sas-secret-uri'` : ''} to create it (operation: setup), or check '${kind}-pipeline'`;
  if (!existing) {
    if (!want) {
      items.push(item(`${kind}-pipeline`, title, 'fail', `${kind} pipeline '${p.name}' does not exist on registry '${reg.name}'`, create));
      return;
    }
    items.push(
      item(
        `${kind}-pipeline`,
        title,
        mode === 'preflight' ? 'pass' : 'warn',
        `${kind} pipeline '${p.name}' does not exist yet; ${settings.operation === 'check' ? 'setup, export, import and transfer create it' : 'the operation creates it'} from '${kind}-storage-uri'`,
        'run setup (operation: setup, grant-access: true) to create it and give its identity access',
      ),
    );
  } else if (existing.provisioningState !== undefined && existing.provisioningState !== 'Succeeded') {
    const failed = existing.provisioningState === 'Failed';
    items.push(
      item(
        `${kind}-pipeline`,
        title,
        failed && !want ? 'fail' : 'warn',
        `provisioningState is ${existing.provisioningState}${want ? '; the operation updates it from the inputs' : ''}`,
        failed ? `give '${kind}-storage-uri' so that it is updated, or recreate it` : 'wait for it to finish provisioning',
      ),
    );
  } else {
    const differs = want !== undefined && !pipelineMatches(existing, want);
    items.push(
      item(
        `${kind}-pipeline`,
        title,
        differs && mode === 'check' ? 'warn' : 'pass',
        `provisioningState Succeeded, container ${existing.storageUri ?? '(none)'}${differs ? '; it differs from the inputs and is updated by setup, export, import and transfer' : ''}`,
        'run setup to update it',
      ),
    );
  }

  const eff: Effective = {
    ...(existing ? { existing } : {}),
    ...optional('container', want?.storageUri ?? existing?.storageUri),
    ...optional('secretUri', want?.keyVaultUri ?? existing?.keyVaultUri),
    mode: want ? settings.storageAccessMode : existing?.storageAccessMode?.toLowerCase() === 'managedidentity' ? 'managed-identity' : 'sas-token',
    options: want?.options ?? existing?.options ?? [],
    sourceTrigger: kind === 'import' && (want ? settings.sourceTrigger : (existing?.sourceTriggerEnabled ?? true)),
  };

  let principal: string | undefined;
  if (existing) {
    principal = principalOf(existing, settings.pipelineIdentity) ?? (want ? undefined : (existing.identity?.principalId ?? firstUserPrincipal(existing)));
    const has = principal !== undefined;
    items.push(
      item(
        `${kind}-identity`,
        `The ${kind} pipeline has a managed identity`,
        has || want ? 'pass' : 'fail',
        has ? `principal ${principal}` : want ? 'the operation gives it the identity of pipeline-identity' : `identity ${existing.identity?.type ?? 'None'}`,
        `recreate the pipeline with an identity (pipeline-identity: system, or a user-assigned identity's resource id)`,
      ),
    );
  }

  if (eff.mode === 'sas-token') items.push(await sasItem(ctx, kind, eff));
  if (eff.container !== undefined) items.push(await containerItem(ctx, kind, eff.container));
  const target = eff.mode === 'sas-token' ? eff.secretUri : eff.container;
  if (target !== undefined) {
    const need: AccessNeed = {
      kind,
      registry: reg,
      mode: eff.mode,
      target,
      writes: kind === 'export' || eff.options.some((o) => o.toLowerCase() === 'deletesourceblobonsuccess'),
    };
    items.push(await accessItem(ctx, mode, need, existing, principal, lookup, changes));
  }
}

function firstUserPrincipal(p: PipelineResource): string | undefined {
  return Object.values(p.identity?.userAssignedIdentities ?? {}).find((u) => u.principalId)?.principalId;
}

async function sasItem(ctx: OpContext, kind: PipelineKind, eff: Effective): Promise<CheckItem> {
  const id = `${kind}-sas`;
  const title = `The ${kind} SAS in Key Vault is valid and allows what the pipeline needs`;
  if (eff.secretUri === undefined) {
    return item(
      id,
      title,
      'fail',
      `the ${kind} pipeline names no Key Vault secret`,
      `give '${kind}-sas-secret-uri' (sas-token mode), or set 'storage-access-mode' to managed-identity`,
    );
  }
  const secretName = new URL(eff.secretUri).pathname.split('/').filter(Boolean)[1] ?? eff.secretUri;
  let value: string;
  try {
    value = (await ctx.services.secrets.getSecret(eff.secretUri)).value;
  } catch (e) {
    const status = statusOf(e);
    if (status === 404)
      return item(
        id,
        title,
        'fail',
        `secret ${eff.secretUri} does not exist`,
        `run setup to create it, or check '${kind}-sas-secret-uri' (vault, name, version)`,
      );
    return item(
      id,
      title,
      'warn',
      `not checked: this identity cannot read secret ${eff.secretUri} (${errorMessage(e)}); the pipeline's own identity reads it`,
      'give the signed-in identity secret get on the vault (Key Vault Secrets User) to let check read it',
    );
  }
  const facts = parseSas(value);
  if (!facts) return item(id, title, 'fail', `secret ${eff.secretUri} holds no SAS token (no sig= parameter)`, `run setup to store a ${kind} SAS in it`);
  const v = judgeSas(facts, sasNeeds(kind, eff.options, eff.sourceTrigger), ctx.clock.now(), { kind, secretName });
  const detail = v.problems.length > 0 ? `${v.problems.join('; ')} (${v.summary})` : `${v.summary}, secret ${secretName}`;
  return item(id, title, v.status, detail, v.fixes.join('; '));
}

async function containerItem(ctx: OpContext, kind: PipelineKind, container: string): Promise<CheckItem> {
  const id = `${kind}-container`;
  const title = `The ${kind} blob container exists`;
  try {
    const ok = await ctx.services.blobs.containerExists(container);
    const name = container.replace(/\/+$/, '').split('/').pop() ?? container;
    return item(
      id,
      title,
      ok ? 'pass' : 'fail',
      ok ? container : `container ${container} does not exist: the ${kind} runs fail`,
      `create it (az storage container create --name ${name} --account-name <account> --auth-mode login), or check '${kind}-storage-uri'`,
    );
  } catch (e) {
    return item(
      id,
      title,
      'warn',
      `not checked: ${errorMessage(e)}`,
      'give the signed-in identity Storage Blob Data Reader on the account to let check read it',
    );
  }
}

async function accessItem(
  ctx: OpContext,
  mode: CheckMode,
  need: AccessNeed,
  existing: PipelineResource | undefined,
  principal: string | undefined,
  lookup: AccessLookup,
  changes: ChangeItem[],
): Promise<CheckItem> {
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

async function artifactItems(ctx: OpContext, mode: CheckMode, info: RegistryInfo, items: CheckItem[]): Promise<void> {
  const { settings } = ctx;
  const registry = ctx.services.registries.forLoginServer(info.loginServer);
  const title = `The artifacts exist in the source registry ${info.loginServer}`;
  let artifacts: readonly ResolvedArtifact[];
  try {
    const r = await resolveArtifacts(settings.artifacts, registry);
    artifacts = r.artifacts;
    if (r.missing.length > 0) {
      const hints = await mapLimit(r.missing, 4, async (m) => `${m.ref}${await hint(registry, m.ref)}`);
      const strict = mode === 'check' && !continueOnErrors(settings, 'export');
      items.push(
        item(
          'artifacts-found',
          title,
          strict ? 'fail' : 'warn',
          `not found: ${hints.join('; ')}`,
          "check the spelling in 'artifacts' (repository names are lower case; tags are case-sensitive), or push the missing tags first",
        ),
      );
    } else items.push(item('artifacts-found', title, 'pass', plural(artifacts.length, 'artifact')));
  } catch (e) {
    items.push(item('artifacts-found', title, 'fail', errorMessage(e), e instanceof PatternError ? "check the patterns in 'artifacts'" : undefined));
    return;
  }
  const runs = Math.ceil(artifacts.length / settings.maxArtifactsPerRun);
  items.push(
    item(
      'artifacts-per-run',
      'At most 50 artifacts per run',
      'pass',
      `${plural(artifacts.length, 'artifact')} in ${plural(runs, 'run')} of at most ${settings.maxArtifactsPerRun}`,
    ),
  );
  if (artifacts.length === 0) return;

  // Layer sizes and foreign layers come from the manifests (an index: from each of its children).
  const layers = new Map<string, { artifact: string; layer: ManifestBlob }[]>();
  try {
    await mapLimit(artifacts, 8, async (a) => {
      const top = await registry.getManifest(a.repository, a.sourceDigest);
      const children = top ? await mapLimit(top.manifests, 4, (c) => registry.getManifest(a.repository, c.digest)) : [];
      for (const m of [top, ...children]) for (const l of m?.layers ?? []) layers.set(a.ref, [...(layers.get(a.ref) ?? []), { artifact: a.ref, layer: l }]);
    });
  } catch (e) {
    items.push(item('layer-size', 'No layer is larger than 8 GB', 'warn', `not checked: the manifests could not be read: ${errorMessage(e)}`));
    return;
  }
  const all = [...layers.values()].flat();
  const huge = all.filter((x) => x.layer.size > MAX_LAYER_BYTES);
  const big = all.filter((x) => x.layer.size > LAYER_WARN_BYTES && x.layer.size <= MAX_LAYER_BYTES);
  const largest = all.reduce((m, x) => Math.max(m, x.layer.size), 0);
  const list = (xs: typeof all): string => [...new Set(xs.map((x) => `${x.artifact} (layer ${x.layer.digest.slice(0, 19)}, ${gib(x.layer.size)})`))].join(', ');
  items.push(
    item(
      'layer-size',
      'No layer is larger than 8 GB',
      huge.length > 0 ? 'fail' : big.length > 0 ? 'warn' : 'pass',
      huge.length > 0
        ? `export runs fail on layers over 8 GB: ${list(huge)}`
        : big.length > 0
          ? `layers close to the 8 GB limit: ${list(big)}`
          : `largest layer ${gib(largest)}`,
      "rebuild the image with smaller layers, or leave it out of 'artifacts'",
    ),
  );
  // Non-distributable ("foreign") layers stay behind: the target pulls them from their own URLs (docs/azure-service.md#non-distributable-layers).
  const foreign = all.filter((x) => (x.layer.urls?.length ?? 0) > 0 || /foreign|nondistributable/i.test(x.layer.mediaType ?? ''));
  items.push(
    item(
      'foreign-layers',
      'No artifact has non-distributable (foreign) layers',
      foreign.length > 0 ? 'warn' : 'pass',
      foreign.length > 0
        ? `${[...new Set(foreign.map((x) => `${x.artifact} (from ${x.layer.urls?.[0] ?? x.layer.mediaType ?? 'elsewhere'})`))].join(', ')}: the transfer does not carry these layers; pulls in a disconnected cloud fail`
        : `${plural(all.length, 'layer')}, all in the registry`,
      'build the image without foreign layers, or make sure the target can reach the layers’ URLs',
    ),
  );
}

/** Why a reference is missing: its repository does not exist, or which tags come closest. */
async function hint(registry: { listTags(repository: string): Promise<string[]> }, ref: string): Promise<string> {
  const at = ref.indexOf('@');
  const colon = ref.lastIndexOf(':');
  const repository = at >= 0 ? ref.slice(0, at) : ref.slice(0, colon);
  let tags: string[];
  try {
    tags = await registry.listTags(repository);
  } catch {
    return '';
  }
  if (tags.length === 0) return ` (repository '${repository}' does not exist or has no tags)`;
  if (at >= 0) return ` (repository '${repository}' has no manifest with that digest)`;
  const tag = ref.slice(colon + 1);
  const near = [...tags].sort((a, b) => distance(a, tag) - distance(b, tag)).slice(0, 5);
  return ` (repository '${repository}' has ${near.join(', ')}${tags.length > near.length ? ', …' : ''})`;
}

/** Levenshtein distance, for the nearest tags of a misspelled one. */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

async function blobItems(ctx: OpContext, mode: CheckMode, kind: PipelineKind, container: string): Promise<CheckItem> {
  const { settings } = ctx;
  const where = `${kind} container`;
  const title = `The blobs are in the ${where} with Content-MD5 and the transfer metadata`;
  let found: (BlobInfo | undefined)[];
  try {
    found = await mapLimit(settings.blobs, 8, (b) => ctx.services.blobs.getBlob(container, b));
  } catch (e) {
    return item('blobs', title, 'warn', `not checked: ${errorMessage(e)}`);
  }
  const missing = settings.blobs.filter((_, i) => found[i] === undefined);
  const present = found.filter((b): b is BlobInfo => b !== undefined);
  const noMd5 = present.filter((b) => b.contentMD5 === undefined).map((b) => b.name);
  const noMeta = present.filter((b) => category(b) !== BLOB_CATEGORY).map((b) => b.name);
  const problems = [
    ...missing.map((b) => `blob '${b}' is not in the ${where} ${container}`),
    ...(noMd5.length > 0 ? [`no Content-MD5 on ${noMd5.join(', ')}`] : []),
    ...(noMeta.length > 0 ? [`no metadata category=${BLOB_CATEGORY} on ${noMeta.join(', ')}`] : []),
  ];
  if (problems.length === 0) return item('blobs', title, 'pass', `${present.length} blobs`);
  // The source trigger ignores blobs without Content-MD5 or the category metadata (docs/azure-service.md#source-trigger).
  const trigger = kind === 'import' && settings.sourceTrigger;
  const hard = missing.length > 0 || (trigger && (noMd5.length > 0 || noMeta.length > 0));
  return item(
    'blobs',
    title,
    hard && mode === 'check' ? 'fail' : 'warn',
    problems.join('; ') + (trigger && noMd5.length + noMeta.length > 0 ? ': the source trigger ignores such blobs' : ''),
    [
      ...(missing.length > 0 ? [`check the names in 'blobs' (they are case-sensitive) and copy the export's blobs there first (operation: copy)`] : []),
      ...(noMd5.length + noMeta.length > 0 ? ['copy the blobs with operation: copy, which keeps Content-MD5 and the metadata'] : []),
    ].join('; '),
  );
}

function gib(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
