/**
 * The public interface: every input and output, named once here. action.yml, the ADO task.json and the
 * README tables are checked against this table by tests (docs/interface.md describes how they fit together).
 */
export const OPERATIONS = ['export', 'import', 'copy', 'transfer', 'setup', 'check', 'cleanup'] as const;
export type Operation = (typeof OPERATIONS)[number];

export type InputGroup = 'auth' | 'registries' | 'pipelines' | 'run' | 'setup' | 'cleanup';

export interface InputSpec {
  /** kebab-case (GitHub); ADO uses camelCase(name). */
  readonly name: string;
  readonly description: string;
  readonly default?: string;
  readonly group: InputGroup;
  /** Masked as soon as it is read. */
  readonly secret?: boolean;
  /** GitHub only: on ADO the AzureRM service connection supplies authentication. */
  readonly githubOnly?: boolean;
}

export const INPUTS: readonly InputSpec[] = [
  { name: 'operation', group: 'run', description: 'What to do: export, import, copy, transfer, setup, check or cleanup.' },
  // Authentication (GitHub; on ADO the service connection).
  {
    name: 'auth-type',
    group: 'auth',
    default: 'auto',
    githubOnly: true,
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
  { name: 'environment', group: 'auth', default: 'AzureCloud', githubOnly: true, description: 'AzureCloud, AzureUSGovernment, AzureChinaCloud or AzureStack.' },
  {
    name: 'resource-manager-endpoint',
    group: 'auth',
    githubOnly: true,
    description: 'A custom ARM endpoint (Azure Stack Hub, air-gapped clouds); authority host and audience come from its metadata/endpoints document.',
  },
  { name: 'authority-host', group: 'auth', githubOnly: true, description: 'Override the Entra authority host.' },
  // Registries and pipelines.
  { name: 'subscription-id', group: 'registries', description: 'Subscription of the registries (a full resource id overrides it).' },
  { name: 'source-registry', group: 'registries', description: 'Source registry: a name (with source-resource-group) or a full ARM resource id.' },
  { name: 'source-resource-group', group: 'registries', description: 'Resource group of the source registry.' },
  { name: 'target-registry', group: 'registries', description: 'Target registry: a name (with target-resource-group) or a full ARM resource id.' },
  { name: 'target-resource-group', group: 'registries', description: 'Resource group of the target registry.' },
  { name: 'export-pipeline', group: 'pipelines', default: 'acrtransferexport', description: 'Export pipeline name (5-50 letters or digits).' },
  { name: 'export-storage-uri', group: 'pipelines', description: 'Export blob container URL; when given, the export pipeline is created or updated to match.' },
  { name: 'export-sas-secret-uri', group: 'pipelines', description: 'Key Vault secret URI holding the export SAS token (sas-token mode).' },
  { name: 'export-options', group: 'pipelines', description: 'OverwriteBlobs, ContinueOnErrors (comma- or newline-separated).' },
  { name: 'import-pipeline', group: 'pipelines', default: 'acrtransferimport', description: 'Import pipeline name (5-50 letters or digits).' },
  { name: 'import-storage-uri', group: 'pipelines', description: 'Import blob container URL; when given, the import pipeline is created or updated to match.' },
  { name: 'import-sas-secret-uri', group: 'pipelines', description: 'Key Vault secret URI holding the import SAS token (sas-token mode).' },
  { name: 'import-options', group: 'pipelines', description: 'OverwriteTags, DeleteSourceBlobOnSuccess, ContinueOnErrors (comma- or newline-separated).' },
  {
    name: 'source-trigger',
    group: 'pipelines',
    default: 'disabled',
    description: 'enabled lets the service import new blobs by itself; import then waits for those runs instead of starting its own.',
  },
  { name: 'storage-access-mode', group: 'pipelines', default: 'sas-token', description: 'sas-token or managed-identity (no Key Vault).' },
  { name: 'pipeline-identity', group: 'pipelines', default: 'system', description: 'system, or the resource id of a user-assigned identity.' },
  { name: 'api-version', group: 'pipelines', default: '2025-06-01-preview', description: 'The ARM api-version for pipeline resources.' },
  // The run.
  {
    name: 'artifacts',
    group: 'run',
    description:
      'Newline- or comma-separated: repo (= repo:latest), repo:tag, repo@sha256:..., and patterns expanded against the source registry: repo:*, repo:v1.*, team/*:latest.',
  },
  {
    name: 'blob-name',
    group: 'run',
    description: 'Base name of export blobs; batches get -1, -2, ... Default: derived from the artifact set, so a re-run resumes.',
  },
  { name: 'blobs', group: 'run', description: "Blob names to import or copy (import, copy); in transfer, the export's blobs." },
  { name: 'max-artifacts-per-run', group: 'run', default: '50', description: 'Artifacts per pipeline run, at most 50 (the service limit).' },
  { name: 'max-parallel-runs', group: 'run', default: '5', description: 'Pipeline runs in flight at once.' },
  { name: 'skip-existing', group: 'run', default: 'false', description: 'Leave out artifacts whose digest the target registry already has under that tag.' },
  { name: 'verify', group: 'run', default: 'true', description: 'After import, check every artifact in the target registry by digest.' },
  { name: 'timeout-minutes', group: 'run', default: '60', description: 'For the whole operation; on time-out the report says what is still running.' },
  { name: 'dry-run', group: 'run', default: 'false', description: 'Resolve, plan and check; print the plan (batches, blob and run names); change nothing.' },
  { name: 'preflight', group: 'run', default: 'true', description: 'Run the applicable check items first.' },
  // setup and cleanup.
  {
    name: 'sas-expiry-days',
    group: 'setup',
    description:
      'setup: lifetime of the SAS tokens it creates, in days. Default: 7 with sas-signing user-delegation (a user-delegation SAS cannot outlive its key, at most 7 days), 30 with account-key.',
  },
  {
    name: 'sas-signing',
    group: 'setup',
    default: 'user-delegation',
    description:
      "setup: sign the SAS tokens with a user-delegation key (Entra, at most 7 days) or, only when asked, with the storage account's key (account-key).",
  },
  {
    name: 'grant-access',
    group: 'setup',
    default: 'false',
    description: 'setup: grant the pipeline identity access to the vault (or, in managed-identity mode, to storage) and wait until it works.',
  },
  { name: 'older-than-days', group: 'cleanup', default: '30', description: 'cleanup: delete pipeline runs older than this.' },
  { name: 'failed-only', group: 'cleanup', default: 'false', description: 'cleanup: only failed pipeline runs.' },
  { name: 'delete-blobs', group: 'cleanup', default: 'false', description: 'cleanup: also delete the transferred blobs.' },
  { name: 'delete-pipelines', group: 'cleanup', default: 'false', description: 'cleanup: also delete the pipelines.' },
  {
    name: 'purge-untagged',
    group: 'cleanup',
    default: 'false',
    description: 'cleanup: delete manifests no tag references in the touched target repositories.',
  },
];

export interface OutputSpec {
  readonly name: string;
  readonly description: string;
}

export const OUTPUTS: readonly OutputSpec[] = [
  { name: 'runs', description: 'JSON array of pipeline runs: {name, pipeline, kind, status, blob, artifacts, startTime, finishTime, error}.' },
  { name: 'blobs', description: 'JSON array of export blob names.' },
  { name: 'imported-artifacts', description: 'JSON array of repo:tag@sha256:... verified in the target registry.' },
  { name: 'failed-artifacts', description: 'JSON array of {artifact, reason}.' },
  { name: 'report-path', description: 'Path of the JSON report file (the same data as the job summary).' },
  { name: 'checks', description: 'JSON array of check items (check, and the preflight of the other operations): {id, title, status, detail, fix}.' },
  {
    name: 'changes',
    description: 'JSON array of what setup and cleanup changed or, in a dry run, would change: {kind, name, scope, action, status, detail, error}.',
  },
];

/** ADO task input and output-variable names: `export-options` ↔ `exportOptions`. */
export function camelCase(kebab: string): string {
  return kebab.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
