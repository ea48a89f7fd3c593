/** The operations and the values of the inputs that take choices: the words users write, typed. */
export const OPERATIONS = ['export', 'import', 'copy', 'transfer', 'setup', 'check', 'cleanup'] as const;
export type Operation = (typeof OPERATIONS)[number];

export type InputGroup = 'auth' | 'registries' | 'pipelines' | 'run' | 'setup' | 'cleanup';

export const AUTH_TYPES = ['auto', 'oidc', 'azure-cli', 'service-principal', 'managed-identity'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];
export const CLOUDS = ['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud', 'AzureStack'] as const;
export type CloudName = (typeof CLOUDS)[number];
export const EXPORT_OPTIONS = ['OverwriteBlobs', 'ContinueOnErrors'] as const;
export type ExportOption = (typeof EXPORT_OPTIONS)[number];
export const IMPORT_OPTIONS = ['OverwriteTags', 'DeleteSourceBlobOnSuccess', 'ContinueOnErrors'] as const;
export type ImportOption = (typeof IMPORT_OPTIONS)[number];
export const SAS_SIGNINGS = ['user-delegation', 'account-key'] as const;
export type SasSigning = (typeof SAS_SIGNINGS)[number];
export const STORAGE_ACCESS_MODES = ['sas-token', 'managed-identity'] as const;
export type StorageAccessMode = (typeof STORAGE_ACCESS_MODES)[number];
export const TRIGGER_STATES = ['disabled', 'enabled'] as const;
export const REFERRER_MODES = ['include', 'skip'] as const;
export type ReferrerMode = (typeof REFERRER_MODES)[number];
