/**
 * How the transfer service reaches the pipeline's blob container: with the SAS token from Key Vault (SasToken mode,
 * docs/azure-service.md#storage-access-and-the-sas-secret), or, in ManagedIdentity mode, as the identity would (here: the account key, after the emulator's own
 * role check). Azurite enforces SAS tokens (docs/local-azure.md#what-is-real-and-what-is-emulated), so its 403s are turned into messages that name the fix.
 * With the `enforceAccess` knob on, the pipeline's identity (as ARM has it now) also needs secrets `get` on the vault
 * (SasToken) or a blob data role on the storage account (ManagedIdentity), as in Azure (docs/azure-service.md#failure-modes-and-fixes).
 */
import {
  AnonymousCredential,
  BlobClient,
  BlockBlobClient,
  ContainerClient,
  RestError,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { type Emulator, type Json, obj, type PipelineRecord } from '../context';
import { azuriteUrlOf } from '../storage-front';

export type TransferKind = 'export' | 'import';
export type SasPermission = 'add' | 'read' | 'write' | 'list' | 'delete';
const PERMISSION_LETTER: Readonly<Record<SasPermission, string>> = { add: 'a', read: 'r', write: 'w', list: 'l', delete: 'd' };

/** A run problem the user can act on; its message becomes pipelineRunErrorMessage. */
export class RunError extends Error {}

/** The storage part of a pipeline: `properties.target` (export) or `properties.source` (import). */
export interface PipelineStorage {
  readonly kind: TransferKind;
  /** Container URL, without a trailing slash. */
  readonly containerUri: string;
  readonly keyVaultUri?: string;
  readonly storageAccessMode: 'SasToken' | 'ManagedIdentity';
}

export function pipelineStorage(kind: TransferKind, resource: Json): PipelineStorage {
  const props = (resource['properties'] ?? {}) as Json;
  const s = (props[kind === 'export' ? 'target' : 'source'] ?? {}) as Json;
  const uri = typeof s['uri'] === 'string' ? s['uri'].replace(/\/+$/, '') : '';
  if (!uri) throw new RunError(`The ${kind} pipeline has no storage container URI (properties.${kind === 'export' ? 'target' : 'source'}.uri).`);
  const mode = typeof s['storageAccessMode'] === 'string' && s['storageAccessMode'].toLowerCase() === 'managedidentity' ? 'ManagedIdentity' : 'SasToken';
  return {
    kind,
    containerUri: uri,
    storageAccessMode: mode,
    ...(typeof s['keyVaultUri'] === 'string' && s['keyVaultUri'] ? { keyVaultUri: s['keyVaultUri'] } : {}),
  };
}

/** What the run reports as response.source / response.target. */
export function storageResponse(st: PipelineStorage, blobName: string): Json {
  return {
    type: 'AzureStorageBlob',
    uri: `${st.containerUri}/${blobName}`,
    ...(st.keyVaultUri ? { keyVaultUri: st.keyVaultUri } : {}),
    storageAccessMode: st.storageAccessMode,
  };
}

interface Sas {
  readonly token: string;
  readonly params: URLSearchParams;
}

/** Principal ids of the pipeline's identities (system-assigned first), read from ARM now: an identity may change after the run started. */
export function pipelinePrincipals(emu: Emulator, pipeline: PipelineRecord): string[] {
  const current = emu.arm.getPipeline(pipeline.registry, pipeline.kind, pipeline.name) ?? pipeline;
  const identity = obj(current.resource['identity']);
  const ids = typeof identity['principalId'] === 'string' ? [identity['principalId']] : [];
  for (const uai of Object.values(obj(identity['userAssignedIdentities']))) {
    const id = obj(uai)['principalId'];
    if (typeof id === 'string') ids.push(id);
  }
  return ids;
}

/** ManagedIdentity mode: whose roles to check, on which account and container. */
interface IdentityAccess {
  readonly emu: Emulator;
  readonly pipeline: PipelineRecord;
  readonly account: string;
  readonly container: string;
}

/** Credentials for one container, and the knowledge needed to explain a refusal. */
export class ContainerAccess {
  private constructor(
    private readonly emu: Emulator,
    readonly storage: PipelineStorage,
    private readonly sas: Sas | undefined,
    private readonly keyCredential: StorageSharedKeyCredential | undefined,
    private readonly identity?: IdentityAccess,
  ) {}

  /** Reads the SAS from Key Vault (SasToken mode) or finds the account key (ManagedIdentity mode), as `pipeline`'s identity. */
  static open(emu: Emulator, storage: PipelineStorage, pipeline: PipelineRecord): ContainerAccess {
    if (storage.storageAccessMode === 'ManagedIdentity') {
      const account = [emu.config.storage.source, emu.config.storage.target].find((s) => storage.containerUri.startsWith(s.blobEndpoint.replace(/\/+$/, '')));
      if (!account) throw new RunError(`The storage container '${storage.containerUri}' is not in a storage account the local Azure knows.`);
      const container = storage.containerUri.slice(account.blobEndpoint.replace(/\/+$/, '').length + 1).split('/')[0] ?? '';
      return new ContainerAccess(emu, storage, undefined, new StorageSharedKeyCredential(account.account, account.key), {
        emu,
        pipeline,
        account: account.account,
        container,
      });
    }
    if (!storage.keyVaultUri) throw new RunError(`The ${storage.kind} pipeline uses SasToken access but names no Key Vault secret (keyVaultUri).`);
    if (emu.knobs.enforceAccess) {
      // Key Vault checks the caller before it looks for the secret, so a missing grant hides a missing secret.
      const denial = emu.access.secretGetDenial(pipelinePrincipals(emu, pipeline));
      if (denial) {
        const name = /\/secrets\/([^/?#]+)/.exec(storage.keyVaultUri)?.[1] ?? storage.keyVaultUri;
        throw new RunError(
          `Failed to get secret '${name}' from Key Vault '${emu.access.vault.uri}': ${denial.status} Forbidden (${denial.code}): ${denial.message}${denial.innerCode ? ` (${denial.innerCode})` : ''}`,
        );
      }
    }
    const secret = emu.secrets.readSecret(storage.keyVaultUri);
    if (!secret.ok)
      throw new RunError(
        `Could not read the SAS token from Key Vault secret '${storage.keyVaultUri}': Key Vault answered ${secret.status} ${secret.code}: ${secret.message}`,
      );
    // Docs store it with a leading '?'; the CLI's own test stored it without (docs/azure-service.md#storage-access-and-the-sas-secret): accept both.
    const token = secret.value.trim().replace(/^\?/, '');
    return new ContainerAccess(emu, storage, { token, params: new URLSearchParams(token) }, undefined);
  }

  /**
   * ManagedIdentity mode with `enforceAccess`: throws storage's 403 unless the identity holds a blob data role for
   * `needed` (read and list: Reader or above; add, write, delete: Contributor or above). SasToken access is Azurite's to judge.
   */
  authorize(what: string, needed: SasPermission): void {
    const id = this.identity;
    if (!id || !id.emu.knobs.enforceAccess) return;
    const principals = pipelinePrincipals(id.emu, id.pipeline);
    const denial = id.emu.access.blobDenial(principals, id.account, id.container, needed !== 'read' && needed !== 'list');
    if (!denial) return;
    throw new RunError(
      `${what} was refused by storage: ${denial.status} ${denial.code}: ${denial.message} The ${this.storage.kind} pipeline's managed identity (oid=${principals[0] ?? 'none'}) needs the ${denial.role ?? 'Storage Blob Data Contributor'} role on the storage account '${id.account}' (or on its container, resource group or subscription).`,
    );
  }

  /** The service reaches the container inside the cloud: straight at Azurite, not through the accounts' public endpoints. */
  private url(blobName?: string): string {
    const path = blobName === undefined ? '' : `/${blobName.split('/').map(encodeURIComponent).join('/')}`;
    return `${azuriteUrlOf(this.emu, this.storage.containerUri)}${path}${this.sas ? `?${this.sas.token}` : ''}`;
  }

  private options(): StoragePipelineOptions {
    return { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 } };
  }

  // Only the SAS in the URL authorises SasToken access: the SDK's AnonymousCredential adds nothing.
  private credential(): StorageSharedKeyCredential | AnonymousCredential {
    return this.keyCredential ?? new AnonymousCredential();
  }

  blockBlob(blobName: string): BlockBlobClient {
    return new BlockBlobClient(this.url(blobName), this.credential(), this.options());
  }

  blob(blobName: string): BlobClient {
    return new BlobClient(this.url(blobName), this.credential(), this.options());
  }

  container(): ContainerClient {
    return new ContainerClient(this.url(), this.credential(), this.options());
  }

  /**
   * Turns a storage failure into a RunError: a 403 names the expired SAS or the permission it lacks; a 404 names the
   * missing container or blob. `needed` is the permission the failed operation needs.
   */
  explain(e: unknown, what: string, needed: SasPermission, blobName?: string): RunError {
    if (!(e instanceof RestError)) return new RunError(`${what} failed: ${(e as Error).message}`);
    const code = e.code ?? '';
    if (e.statusCode === 404 && code === 'ContainerNotFound') return new RunError(`The storage container '${this.storage.containerUri}' does not exist.`);
    if (e.statusCode === 404 && blobName !== undefined)
      return new RunError(`The blob '${blobName}' does not exist in the storage container '${this.storage.containerUri}'.`);
    if (e.statusCode === 403) return new RunError(this.explainForbidden(what, needed, code));
    return new RunError(`${what} failed: storage answered ${e.statusCode ?? 'no status'} ${code}: ${firstLine(e.message)}`);
  }

  private explainForbidden(what: string, needed: SasPermission, code: string): string {
    const kind = this.storage.kind;
    if (!this.sas)
      return `${what} was refused by storage (403 ${code}): the ${kind} pipeline's managed identity needs the Storage Blob Data Contributor role on the storage account.`;
    const token = `The ${kind} SAS token in secret '${this.storage.keyVaultUri ?? ''}'`;
    const p = this.sas.params;
    const se = p.get('se');
    if (se && Date.parse(se) <= Date.now()) return `${token} expired at ${se}; store a new SAS token in the secret.`;
    const st = p.get('st');
    if (st && Date.parse(st) > Date.now()) return `${token} is not valid before ${st}.`;
    const sp = p.get('sp') ?? '';
    if (!sp.includes(PERMISSION_LETTER[needed])) return `${token} does not allow ${needed} (sp=${sp}); ${requiredPermissions(kind)}`;
    return `${what} was refused by storage (403 ${code}) with ${token.charAt(0).toLowerCase()}${token.slice(1)}: check that it is a SAS for this container signed with the account's current key, and that it allows https (spr=https).`;
  }
}

function requiredPermissions(kind: TransferKind): string {
  return kind === 'export'
    ? 'export SAS tokens need add, list, read and write (sp=alrw).'
    : 'import SAS tokens need read and list (sp=lr), and delete for DeleteSourceBlobOnSuccess (sp=dlr).';
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

export function restCode(e: unknown): { status: number | undefined; code: string | undefined } {
  return e instanceof RestError ? { status: e.statusCode, code: e.code } : { status: undefined, code: undefined };
}
