/**
 * Every input, read and checked once, before anything talks to Azure: parseSettings returns the settings of one
 * operation (settings/types.ts) with what that operation needs present, or throws one ConfigError line naming the
 * input, the value and what is allowed. Nothing else in the product reads inputs.
 */
import { MAX_ARTIFACTS_PER_RUN, USER_DELEGATION_MAX_DAYS } from '../domain/limits';
import { definedOnly } from '../domain/objects';
import { ARTIFACT_GRAMMAR, type ArtifactSpec, parseArtifact, printArtifact } from '../domain/reference';
import { ConfigError } from '../errors';
import { INPUTS, inputSpec, usesInput } from '../inputs';
import { type ExportOption, type ImportOption, type Operation, OPERATIONS, type ReferrerMode, type SasSigning, type StorageAccessMode } from '../vocabulary';
import { authSettings } from './auth';
import { bad, type InputReader, Inputs } from './reader';
import type { CommonSettings, NonEmpty, PipelineIdentity, PipelineSettings, RegistryRef, SetupSide, Side, TransferSettings } from './types';
import { BLOB_BASE_NAME, blobNameProblem } from '../domain/blob-names';
import { artifactTypes, GUID, isApiVersion, pipelineName, registry, secretUri, storageUri, userAssignedIdentityId } from './values';

export type * from './types';
export type { InputReader } from './reader';

/** Throws when `operation` needs the input (the table's requiredFor) and it is missing. */
function required<T>(operation: Operation, name: string, value: T | undefined, why = ''): void {
  if (value === undefined && inputSpec(name).requiredFor?.includes(operation))
    throw new ConfigError(`Input '${name}' is required for operation '${operation}'${why}`);
}

function nonEmpty<T>(list: readonly T[]): NonEmpty<T> | undefined {
  return list.length > 0 ? (list as NonEmpty<T>) : undefined;
}

function pipelines(inp: Inputs, storageAccessMode: StorageAccessMode): Pick<CommonSettings, 'exportPipeline' | 'importPipeline'> {
  const side = <O extends string>(kind: 'export' | 'import'): PipelineSettings<O> => {
    const p = definedOnly<PipelineSettings<O>>({
      name: pipelineName(inp, `${kind}-pipeline`),
      options: inp.choices<O>(`${kind}-options`),
      storageUri: storageUri(inp, `${kind}-storage-uri`),
      sasSecretUri: secretUri(inp, `${kind}-sas-secret-uri`),
    });
    if (storageAccessMode === 'sas-token' && p.storageUri !== undefined && p.sasSecretUri === undefined) {
      throw new ConfigError(`Input '${kind}-sas-secret-uri' is required with '${kind}-storage-uri' when 'storage-access-mode' is sas-token`);
    }
    if (storageAccessMode === 'managed-identity' && p.sasSecretUri !== undefined) {
      throw bad(
        `${kind}-sas-secret-uri`,
        p.sasSecretUri,
        "it must not be set when 'storage-access-mode' is managed-identity (the pipeline identity reaches storage; no Key Vault)",
      );
    }
    return p;
  };
  return { exportPipeline: side<ExportOption>('export'), importPipeline: side<ImportOption>('import') };
}

function pipelineIdentity(inp: Inputs): PipelineIdentity {
  const text = inp.opt('pipeline-identity')!;
  if (text.toLowerCase() === 'system') return { type: 'system' };
  const id = userAssignedIdentityId('pipeline-identity', text);
  if (id !== undefined) return { type: 'user', resourceId: id };
  throw bad(
    'pipeline-identity',
    text,
    'it must be system or the resource id of a user-assigned identity (/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)',
  );
}

function artifactList(inp: Inputs): ArtifactSpec[] {
  const artifacts: ArtifactSpec[] = [];
  const seen = new Set<string>();
  for (const text of inp.list('artifacts')) {
    const a = parseArtifact(text);
    if (a === undefined) throw bad('artifacts', text, ARTIFACT_GRAMMAR);
    const key = printArtifact(a.kind === 'pattern' ? { repository: a.repository, tag: a.tag } : a);
    if (!seen.has(key)) artifacts.push(a);
    seen.add(key);
  }
  return artifacts;
}

function blobNames(inp: Inputs): { blobName: string | undefined; blobs: string[] } {
  const blobName = inp.opt('blob-name');
  if (blobName !== undefined && !BLOB_BASE_NAME.test(blobName))
    throw bad('blob-name', blobName, 'it must be 1 to 200 letters, digits, dots, hyphens or underscores, starting with a letter or digit');
  const blobs = inp.list('blobs');
  for (const b of blobs) {
    const problem = blobNameProblem(b);
    if (problem !== undefined) throw bad('blobs', b, `each blob name must follow the blob naming rules: ${problem}`);
  }
  return { blobName, blobs };
}

/** The inputs every operation reads. */
function common(inp: Inputs, operation: Operation): CommonSettings {
  const auth = authSettings(inp);
  const subscriptionId = inp.opt('subscription-id');
  if (subscriptionId !== undefined && !GUID.test(subscriptionId)) throw bad('subscription-id', subscriptionId, 'it must be a subscription id (a GUID)');
  const source = registry(inp, 'source', subscriptionId);
  const target = registry(inp, 'target', subscriptionId);
  required(operation, 'source-registry', source);
  required(operation, 'target-registry', target);
  const storageAccessMode = inp.choice<StorageAccessMode>('storage-access-mode')!;
  const { exportPipeline, importPipeline } = pipelines(inp, storageAccessMode);
  const identity = pipelineIdentity(inp);
  const apiVersion = inp.opt('api-version')!;
  if (!isApiVersion(apiVersion)) throw bad('api-version', apiVersion, 'it must be a date that exists, optionally with -preview, like 2025-06-01-preview');
  const trigger = inp.choice<'enabled' | 'disabled'>('source-trigger');
  const artifacts = artifactList(inp);
  required(operation, 'artifacts', nonEmpty(artifacts), ': at least one repo, repo:tag or repo@sha256:<digest>');
  const { blobName, blobs } = blobNames(inp);
  required(operation, 'blobs', nonEmpty(blobs), ': the blob names the export wrote');
  return definedOnly<CommonSettings>({
    auth,
    source,
    target,
    exportPipeline,
    importPipeline,
    sourceTrigger: trigger === 'enabled',
    sourceTriggerWanted: trigger === undefined ? undefined : trigger === 'enabled',
    updatePipelines: inp.bool('update-pipelines'),
    storageAccessMode,
    pipelineIdentity: identity,
    apiVersion,
    artifacts,
    blobName,
    blobs,
    maxArtifactsPerRun: inp.int('max-artifacts-per-run', 1, MAX_ARTIFACTS_PER_RUN, ' (the service allows at most 50 artifacts per pipeline run)'),
    maxParallelRuns: inp.int('max-parallel-runs', 1, 50),
    verify: inp.bool('verify'),
    timeoutMinutes: inp.number('timeout-minutes', 0, 10080),
    dryRun: inp.bool('dry-run'),
    preflight: inp.bool('preflight'),
  });
}

/** The sides given with a registry (and, where `withContainer`, a container). */
function sidesOf(c: CommonSettings, withContainer: boolean): Side[] {
  const sides: Side[] = [];
  if (c.source && (!withContainer || c.exportPipeline.storageUri !== undefined)) sides.push({ kind: 'export', reg: c.source });
  if (c.target && (!withContainer || c.importPipeline.storageUri !== undefined)) sides.push({ kind: 'import', reg: c.target });
  return sides;
}

/** skip-existing needs the target registry: its digests decide what to leave out. */
function skipExistingIn(inp: Inputs, target: RegistryRef | undefined): { skipExistingIn?: RegistryRef } {
  if (!inp.bool('skip-existing')) return {};
  if (!target) throw new ConfigError("Input 'target-registry' is required with 'skip-existing': its digests decide what to leave out");
  return { skipExistingIn: target };
}

/** What export and transfer carry besides the artifacts, and what each artifact must have. */
function referrerSettings(inp: Inputs): { referrers: ReferrerMode; requireReferrers: string[] } {
  return { referrers: inp.choice<ReferrerMode>('referrers')!, requireReferrers: artifactTypes(inp, 'require-referrers') };
}

function setup(inp: Inputs, c: CommonSettings): TransferSettings {
  const sides = nonEmpty(
    sidesOf(c, true).map((s): SetupSide => {
      const p = s.kind === 'export' ? c.exportPipeline : c.importPipeline;
      // sas-token mode: pipelines() proved the secret present with the container.
      return { ...s, container: p.storageUri!, accessTarget: c.storageAccessMode === 'sas-token' ? p.sasSecretUri! : p.storageUri! };
    }),
  );
  if (!sides) {
    throw new ConfigError(
      "Operation 'setup' needs 'source-registry' with 'export-storage-uri' (and 'export-sas-secret-uri'), or 'target-registry' with 'import-storage-uri' (and 'import-sas-secret-uri')",
    );
  }
  for (const s of sides) {
    const secret = (s.kind === 'export' ? c.exportPipeline : c.importPipeline).sasSecretUri;
    // setup stores a new version of the secret: a pipeline pinned to one version would never read it.
    if (c.storageAccessMode === 'sas-token' && secret !== undefined && /\/secrets\/[^/]+\/[0-9a-f]{32}$/i.test(new URL(secret).pathname)) {
      throw bad(
        `${s.kind}-sas-secret-uri`,
        secret,
        'setup stores a new version of the secret, which a pipeline pinned to one version never reads; give the URI without the version',
      );
    }
  }
  const sasSigning = inp.choice<SasSigning>('sas-signing') ?? 'user-delegation';
  const sasExpiryDays =
    inp.opt('sas-expiry-days') === undefined ? (sasSigning === 'user-delegation' ? USER_DELEGATION_MAX_DAYS : 30) : inp.int('sas-expiry-days', 1, 365);
  if (sasSigning === 'user-delegation' && sasExpiryDays > USER_DELEGATION_MAX_DAYS) {
    throw bad(
      'sas-expiry-days',
      String(sasExpiryDays),
      `a SAS signed with a user-delegation key (sas-signing: user-delegation) cannot outlive the key, which lives at most ${USER_DELEGATION_MAX_DAYS} days: set it to ${USER_DELEGATION_MAX_DAYS} or less and re-run setup before the tokens expire, or set 'sas-signing' to account-key`,
    );
  }
  return { ...c, operation: 'setup', sides, sasSigning, sasExpiryDays, grantAccess: inp.bool('grant-access') };
}

function cleanup(inp: Inputs, c: CommonSettings): TransferSettings {
  const sides = nonEmpty(sidesOf(c, false));
  if (!sides)
    throw new ConfigError(
      "Operation 'cleanup' needs 'source-registry' (the export pipeline and its runs) or 'target-registry' (the import pipeline and its runs)",
    );
  let purgeUntaggedIn: RegistryRef | undefined;
  if (inp.bool('purge-untagged')) {
    if (!c.target) throw new ConfigError("Input 'target-registry' is required with 'purge-untagged': its repositories are purged");
    if (c.artifacts.length === 0)
      throw new ConfigError("Input 'artifacts' is required with 'purge-untagged': the repositories it names are the only ones purged");
    purgeUntaggedIn = c.target;
  }
  return {
    ...c,
    operation: 'cleanup',
    sides,
    olderThanDays: inp.int('older-than-days', 0, 3650),
    failedOnly: inp.bool('failed-only'),
    deleteBlobs: inp.bool('delete-blobs'),
    deletePipelines: inp.bool('delete-pipelines'),
    ...definedOnly<{ purgeUntaggedIn?: RegistryRef }>({ purgeUntaggedIn }),
  };
}

/** Reads and checks every input once; throws ConfigError on the first bad one, before anything talks to Azure. */
export function parseSettings(reader: InputReader): TransferSettings {
  const inp = new Inputs(reader);
  const operation = inp.choice<Operation>('operation');
  if (operation === undefined) throw new ConfigError(`Input 'operation' is required: one of ${OPERATIONS.join(', ')}`);
  const c = common(inp, operation);
  // The fields `required` proved present, for the operations that need them.
  const { source, target } = c;
  const artifacts = nonEmpty(c.artifacts);
  switch (operation) {
    case 'export':
      return { ...c, operation, source: source!, artifacts: artifacts!, ...skipExistingIn(inp, target), ...referrerSettings(inp) };
    case 'transfer':
      return { ...c, operation, source: source!, target: target!, artifacts: artifacts!, ...skipExistingIn(inp, target), ...referrerSettings(inp) };
    case 'import':
      if (c.blobs.length === 0 && !c.dryRun && !c.sourceTrigger)
        throw new ConfigError("Input 'blobs' is required for operation 'import' (the blob names the export wrote), unless 'source-trigger' is enabled");
      return { ...c, operation, target: target! };
    case 'copy':
      if (c.exportPipeline.storageUri === undefined && !source)
        throw new ConfigError("Input 'export-storage-uri' is required for operation 'copy' (or 'source-registry' with an existing export pipeline)");
      if (c.importPipeline.storageUri === undefined && !target)
        throw new ConfigError("Input 'import-storage-uri' is required for operation 'copy' (or 'target-registry' with an existing import pipeline)");
      return { ...c, operation, blobs: nonEmpty(c.blobs)! };
    case 'setup':
      return setup(inp, c);
    case 'check':
      return { ...c, operation };
    case 'cleanup':
      return cleanup(inp, c);
  }
}

/** The registries an operation touches, source first: those given whose input the operation reads (the table's usedBy). */
export function registriesOf(settings: TransferSettings): { side: 'source' | 'target'; reg: RegistryRef }[] {
  const out: { side: 'source' | 'target'; reg: RegistryRef }[] = [];
  if (settings.source && usesInput(settings.operation, 'source-registry')) out.push({ side: 'source', reg: settings.source });
  if (settings.target && usesInput(settings.operation, 'target-registry')) out.push({ side: 'target', reg: settings.target });
  return out;
}

/** Values that must be masked before anything logs (client secret, certificate, creds JSON). */
export function secretValues(reader: InputReader): string[] {
  return INPUTS.filter((i) => i.secret)
    .map((i) => reader.get(i.name)?.trim())
    .filter((v): v is string => !!v);
}
