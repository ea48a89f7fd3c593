/**
 * Every input, named once with every fact about it (who uses or needs it, its choices, how it is shown): action.yml,
 * task.json, the README tables, the parser and "which operation touches what" derive from it (docs/interface.md).
 */
import {
  type InputGroup,
  AUTH_TYPES,
  CLOUDS,
  EXPORT_OPTIONS,
  IMPORT_OPTIONS,
  type Operation,
  OPERATIONS,
  REFERRER_MODES,
  SAS_SIGNINGS,
  STORAGE_ACCESS_MODES,
  TRIGGER_STATES,
} from './vocabulary';

export interface InputSpec {
  /** kebab-case (GitHub); ADO uses camelCase(name). */
  readonly name: string;
  readonly description: string;
  readonly default?: string;
  readonly group: InputGroup;
  /** The operations that read it (ADO shows it only for those). Absent: every operation. */
  readonly usedBy?: readonly Operation[];
  /** The operations that cannot start without it. */
  readonly requiredFor?: readonly Operation[];
  /** The values it takes, matched without case (an ADO pick list). */
  readonly choices?: readonly string[];
  /** With choices: a comma- or newline-separated list of them. */
  readonly multiChoice?: boolean;
  /** One entry per line (an ADO multi-line box). */
  readonly multiline?: boolean;
  /** A tuning knob with a good default: ADO shows it in the collapsed Advanced group. */
  readonly advanced?: boolean;
  /** Masked as soon as it is read. */
  readonly secret?: boolean;
  /** GitHub only: on ADO the AzureRM service connection supplies authentication. */
  readonly githubOnly?: boolean;
}

const SOURCE_SIDE: readonly Operation[] = ['export', 'transfer', 'setup', 'check', 'cleanup'];
const TARGET_SIDE: readonly Operation[] = ['import', 'transfer', 'setup', 'check', 'cleanup'];
const MOVING: readonly Operation[] = ['export', 'import', 'copy', 'transfer'];

export const INPUTS: readonly InputSpec[] = [
  {
    name: 'operation',
    group: 'run',
    requiredFor: OPERATIONS,
    choices: OPERATIONS,
    description: 'What to do: export, import, copy, transfer, setup, check or cleanup.',
  },
  // Authentication (GitHub; on ADO the service connection).
  {
    name: 'auth-type',
    group: 'auth',
    default: 'auto',
    githubOnly: true,
    choices: AUTH_TYPES,
    description: 'oidc, azure-cli, service-principal, managed-identity or auto (the first whose inputs or environment are present).',
  },
  { name: 'client-id', group: 'auth', githubOnly: true, description: 'Client id of the Entra application or user-assigned identity.' },
  { name: 'tenant-id', group: 'auth', githubOnly: true, description: 'Entra tenant id.' },
  { name: 'client-secret', group: 'auth', githubOnly: true, secret: true, description: 'Client secret of a service principal (masked).' },
  {
    name: 'client-certificate',
    group: 'auth',
    githubOnly: true,
    secret: true,
    description: 'PEM (certificate and private key) or the path of a PEM file, for a service principal with a certificate (masked).',
  },
  {
    name: 'creds',
    group: 'auth',
    githubOnly: true,
    secret: true,
    description: 'azure/login-style JSON: clientId, clientSecret, tenantId, subscriptionId, resourceManagerEndpointUrl (masked).',
  },
  {
    name: 'audience',
    group: 'auth',
    default: 'api://AzureADTokenExchange',
    githubOnly: true,
    description: "OIDC audience (the cloud's own value in sovereign clouds).",
  },
  {
    name: 'environment',
    group: 'auth',
    default: 'AzureCloud',
    githubOnly: true,
    choices: CLOUDS,
    description: 'AzureCloud, AzureUSGovernment, AzureChinaCloud or AzureStack.',
  },
  {
    name: 'resource-manager-endpoint',
    group: 'auth',
    githubOnly: true,
    description: 'A custom ARM endpoint (Azure Stack Hub, air-gapped clouds); authority host and audience come from its metadata/endpoints document.',
  },
  { name: 'authority-host', group: 'auth', githubOnly: true, description: 'Override the Entra authority host.' },
  // Registries and pipelines.
  { name: 'subscription-id', group: 'registries', description: 'Subscription of the registries (a full resource id overrides it).' },
  {
    name: 'source-registry',
    group: 'registries',
    usedBy: SOURCE_SIDE,
    requiredFor: ['export', 'transfer'],
    description: 'Source registry: a name (with source-resource-group) or a full ARM resource id.',
  },
  { name: 'source-resource-group', group: 'registries', usedBy: SOURCE_SIDE, description: 'Resource group of the source registry.' },
  {
    name: 'target-registry',
    group: 'registries',
    usedBy: TARGET_SIDE,
    requiredFor: ['import', 'transfer'],
    description: 'Target registry: a name (with target-resource-group) or a full ARM resource id.',
  },
  { name: 'target-resource-group', group: 'registries', usedBy: TARGET_SIDE, description: 'Resource group of the target registry.' },
  {
    name: 'export-pipeline',
    group: 'pipelines',
    default: 'acrtransferexport',
    usedBy: SOURCE_SIDE,
    description: 'Export pipeline name (5-50 letters or digits).',
  },
  {
    name: 'export-storage-uri',
    group: 'pipelines',
    usedBy: ['export', 'copy', 'transfer', 'setup', 'check', 'cleanup'],
    description: 'Export blob container URL; when given, the export pipeline is created or updated to match.',
  },
  {
    name: 'export-sas-secret-uri',
    group: 'pipelines',
    usedBy: ['export', 'copy', 'transfer', 'setup', 'check', 'cleanup'],
    description: 'Key Vault secret URI holding the export SAS token (sas-token mode).',
  },
  {
    name: 'export-options',
    group: 'pipelines',
    usedBy: ['export', 'transfer', 'setup', 'check'],
    choices: EXPORT_OPTIONS,
    multiChoice: true,
    description: 'OverwriteBlobs, ContinueOnErrors (comma- or newline-separated).',
  },
  {
    name: 'import-pipeline',
    group: 'pipelines',
    default: 'acrtransferimport',
    usedBy: TARGET_SIDE,
    description: 'Import pipeline name (5-50 letters or digits).',
  },
  {
    name: 'import-storage-uri',
    group: 'pipelines',
    usedBy: ['import', 'copy', 'transfer', 'setup', 'check', 'cleanup'],
    description: 'Import blob container URL; when given, the import pipeline is created or updated to match.',
  },
  {
    name: 'import-sas-secret-uri',
    group: 'pipelines',
    usedBy: ['import', 'copy', 'transfer', 'setup', 'check', 'cleanup'],
    description: 'Key Vault secret URI holding the import SAS token (sas-token mode).',
  },
  {
    name: 'import-options',
    group: 'pipelines',
    usedBy: ['import', 'transfer', 'setup', 'check'],
    choices: IMPORT_OPTIONS,
    multiChoice: true,
    description: 'OverwriteTags, DeleteSourceBlobOnSuccess, ContinueOnErrors (comma- or newline-separated).',
  },
  {
    name: 'source-trigger',
    group: 'pipelines',
    usedBy: ['import', 'transfer', 'setup', 'check'],
    choices: TRIGGER_STATES,
    description: 'enabled: the service imports new blobs by itself; import waits for those runs. Unset: new pipelines get disabled, existing ones keep theirs.',
  },
  {
    name: 'update-pipelines',
    group: 'pipelines',
    default: 'true',
    usedBy: ['export', 'import', 'transfer', 'setup', 'check'],
    description: 'false: an existing pipeline that differs from the inputs fails the operation (naming each field) instead of being updated.',
  },
  {
    name: 'storage-access-mode',
    group: 'pipelines',
    default: 'sas-token',
    choices: STORAGE_ACCESS_MODES,
    description: 'sas-token or managed-identity (no Key Vault).',
  },
  {
    name: 'pipeline-identity',
    group: 'pipelines',
    default: 'system',
    usedBy: ['export', 'import', 'transfer', 'setup', 'check'],
    advanced: true,
    description: 'system, or the resource id of a user-assigned identity.',
  },
  {
    name: 'api-version',
    group: 'pipelines',
    default: '2025-06-01-preview',
    usedBy: ['export', 'import', 'transfer', 'setup', 'check', 'cleanup'],
    advanced: true,
    description: 'The ARM api-version for pipeline resources.',
  },
  // The run.
  {
    name: 'artifacts',
    group: 'run',
    usedBy: ['export', 'transfer', 'check', 'cleanup'],
    requiredFor: ['export', 'transfer'],
    multiline: true,
    description:
      'Newline- or comma-separated: repo (= repo:latest), repo:tag, repo@sha256:..., and patterns expanded against the source registry: repo:*, repo:v1.*, team/*:latest. At most 10,000 artifacts per step after expansion.',
  },
  {
    name: 'blob-name',
    group: 'run',
    usedBy: ['export', 'transfer'],
    description: 'Base name of export blobs; batches get -1, -2, ... Default: derived from the artifact set, so a re-run resumes.',
  },
  {
    name: 'blobs',
    group: 'run',
    usedBy: ['import', 'copy', 'check', 'cleanup'],
    requiredFor: ['copy'],
    multiline: true,
    description: "Blob names to import or copy (import, copy); in transfer, the export's blobs.",
  },
  {
    name: 'max-artifacts-per-run',
    group: 'run',
    default: '50',
    usedBy: ['export', 'transfer'],
    advanced: true,
    description: 'Artifacts per pipeline run, at most 50 (the service limit).',
  },
  {
    name: 'max-parallel-runs',
    group: 'run',
    default: '5',
    usedBy: MOVING,
    advanced: true,
    description: 'Pipeline runs in flight at once on each registry (exports on the source, imports on the target).',
  },
  {
    name: 'skip-existing',
    group: 'run',
    default: 'false',
    usedBy: ['export', 'transfer'],
    description: 'Leave out artifacts whose digest the target registry already has under that tag.',
  },
  {
    name: 'referrers',
    group: 'run',
    default: 'include',
    usedBy: ['export', 'transfer'],
    choices: REFERRER_MODES,
    description:
      'include: carry what refers to each artifact (signatures, SBOMs, attestations: the OCI referrers API and cosign tags), recursively, in the same runs; skip: the artifacts alone.',
  },
  {
    name: 'require-referrers',
    group: 'run',
    usedBy: ['export', 'transfer'],
    multiline: true,
    description:
      'Artifact types (e.g. application/vnd.cncf.notary.signature) each artifact must have a referrer of; one lacking any is refused before any run. Checks presence, not signatures.',
  },
  {
    name: 'verify',
    group: 'run',
    default: 'true',
    usedBy: ['import', 'copy', 'transfer'],
    description: 'After import, check every artifact in the target registry by digest.',
  },
  {
    name: 'timeout-minutes',
    group: 'run',
    default: '60',
    advanced: true,
    description: 'For the whole operation; on time-out the report says what is still running.',
  },
  { name: 'dry-run', group: 'run', default: 'false', description: 'Resolve, plan and check; print the plan (batches, blob and run names); change nothing.' },
  { name: 'preflight', group: 'run', default: 'true', usedBy: MOVING, advanced: true, description: 'Run the applicable check items first.' },
  // setup and cleanup.
  {
    name: 'sas-expiry-days',
    group: 'setup',
    usedBy: ['setup'],
    description:
      'setup: lifetime of the SAS tokens it creates, in days. Default: 7 with sas-signing user-delegation (a user-delegation SAS cannot outlive its key, at most 7 days), 30 with account-key.',
  },
  {
    name: 'sas-signing',
    group: 'setup',
    default: 'user-delegation',
    usedBy: ['setup'],
    choices: SAS_SIGNINGS,
    description:
      "setup: sign the SAS tokens with a user-delegation key (Entra, at most 7 days) or, only when asked, with the storage account's key (account-key).",
  },
  {
    name: 'grant-access',
    group: 'setup',
    default: 'false',
    usedBy: ['setup'],
    description: 'setup: grant the pipeline identity access to the vault (or, in managed-identity mode, to storage) and wait until it works.',
  },
  { name: 'older-than-days', group: 'cleanup', default: '30', usedBy: ['cleanup'], description: 'cleanup: delete pipeline runs older than this.' },
  { name: 'failed-only', group: 'cleanup', default: 'false', usedBy: ['cleanup'], description: 'cleanup: only failed pipeline runs.' },
  { name: 'delete-blobs', group: 'cleanup', default: 'false', usedBy: ['cleanup'], description: 'cleanup: also delete the transferred blobs.' },
  { name: 'delete-pipelines', group: 'cleanup', default: 'false', usedBy: ['cleanup'], description: 'cleanup: also delete the pipelines.' },
  {
    name: 'purge-untagged',
    group: 'cleanup',
    default: 'false',
    usedBy: ['cleanup'],
    description: 'cleanup: delete manifests no tag references in the touched target repositories.',
  },
];

/** The input spec of a name in INPUTS; a name that is not there is a bug, not an input error. */
export function inputSpec(name: string): InputSpec {
  const spec = INPUTS.find((i) => i.name === name);
  if (!spec) throw new Error(`no input '${name}' in core/inputs.ts`);
  return spec;
}

/** Inputs without which no operation starts (the host marks them required); the rest depend on the operation. */
export function requiredByAll(input: InputSpec): boolean {
  return OPERATIONS.every((o) => input.requiredFor?.includes(o));
}

/** Whether `operation` reads the input (the table's usedBy; absent means every operation). */
export function usesInput(operation: Operation, name: string): boolean {
  return inputSpec(name).usedBy?.includes(operation) ?? true;
}

/** ADO task input and output-variable names: `export-options` ↔ `exportOptions`. */
export function camelCase(kebab: string): string {
  return kebab.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
