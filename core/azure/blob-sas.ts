/**
 * Container SAS tokens, https only and masked before they are returned: signed with a storage account key, or with a
 * user-delegation key of the caller's Entra identity. A server-side copy between accounts needs one on the source
 * (https://learn.microsoft.com/rest/api/storageservices/copy-blob-from-url): the `sourceSas` provider gives one (the
 * export SAS from Key Vault), else a short-lived user-delegation SAS is made and cached.
 */
import { ContainerSASPermissions, generateBlobSASQueryParameters, SASProtocol, StorageSharedKeyCredential } from '@azure/storage-blob';
import { withoutTrailingSlash } from '../domain/urls';
import { AzureRequestError, redact } from '../errors';
import type { SasRequest } from '../ports';
import type { BlobCalls } from './blob-calls';

const USER_DELEGATION_SAS_MS = 60 * 60_000;
const ACCOUNT_KEY_SAS_VERSION = '2025-05-05';
/** Storage rejects a SAS whose start lies in its future; allow for clock skew. */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface BlobSasOptions {
  /** A SAS (with or without the leading '?') that lets the copy read from this container; undefined → user-delegation SAS. */
  readonly sourceSas?: (containerUri: string) => Promise<string | undefined>;
  readonly mask: (secret: string) => void;
}

/** Splits `https://host[:port]/[account/]container` into the service URL and the container name. */
export function splitContainerUri(containerUri: string): { serviceUrl: string; container: string } {
  const u = new URL(containerUri);
  u.search = '';
  const segments = u.pathname.split('/').filter(Boolean);
  const container = segments.pop();
  if (!container) throw new AzureRequestError(`use container '${redact(containerUri)}'`, 0, 'InvalidUri', 'the URL names no blob container');
  u.pathname = segments.length ? `/${segments.join('/')}` : '/';
  return { serviceUrl: withoutTrailingSlash(u.toString()), container };
}

export class BlobSas {
  private readonly cache = new Map<string, { sas: string; expiresAt: number }>();

  constructor(
    private readonly calls: BlobCalls,
    private readonly o: BlobSasOptions,
  ) {}

  /** A container SAS as asked for (SasRequest), signed with the account key if given, else with a user-delegation key. */
  async create(containerUri: string, o: SasRequest): Promise<string> {
    if (o.accountKey === undefined) {
      // The key must cover the SAS's whole life; the service refuses keys longer than 7 days.
      return this.delegated(containerUri, o.permissions, o.startsOn, o.expiresOn, {
        what: 'get a user delegation key',
        fix: `The signed-in identity needs a role that can create user delegation keys on the account (e.g. Storage Blob Data Contributor or Storage Blob Delegator), or set 'sas-signing' to account-key`,
      });
    }
    const { serviceUrl, container } = splitContainerUri(containerUri);
    const service = this.calls.service(serviceUrl);
    const permissions = ContainerSASPermissions.parse(o.permissions);
    this.o.mask(o.accountKey);
    // A version both Azure and Azurite 3.35 know (the SDK's newest, 2026-04-06, is refused by Azurite).
    const sas = generateBlobSASQueryParameters(
      {
        containerName: container,
        permissions,
        protocol: SASProtocol.Https,
        startsOn: o.startsOn,
        expiresOn: o.expiresOn,
        version: ACCOUNT_KEY_SAS_VERSION,
      },
      new StorageSharedKeyCredential(service.accountName, o.accountKey),
    ).toString();
    this.o.mask(sas);
    return sas;
  }

  /** The SAS that lets a copy read the source container: the provider's, or a user-delegation SAS (read+list, 1 h, https). */
  async forSource(containerUri: string, what: string): Promise<string> {
    const given = await this.o.sourceSas?.(containerUri);
    if (given) {
      const sas = given.replace(/^\?/, '');
      this.o.mask(sas);
      return sas;
    }
    const hit = this.cache.get(containerUri);
    if (hit && hit.expiresAt - CLOCK_SKEW_MS > this.calls.clock.now()) return hit.sas;
    const now = this.calls.clock.now();
    const expiresOn = new Date(now + USER_DELEGATION_SAS_MS);
    const sas = await this.delegated(containerUri, 'rl', new Date(now - CLOCK_SKEW_MS), expiresOn, {
      what: `${what}: get a user delegation key`,
      fix: `The signed-in identity needs a role that can create user delegation keys on the source account (e.g. Storage Blob Data Reader or Storage Blob Delegator), or give the export SAS through Key Vault ('export-sas-secret-uri')`,
    });
    this.cache.set(containerUri, { sas, expiresAt: expiresOn.getTime() });
    return sas;
  }

  /** A SAS signed with a user-delegation key of the caller; `key.what` names the key request in errors, `key.fix` helps on 403. */
  private async delegated(
    containerUri: string,
    permissions: string,
    startsOn: Date,
    expiresOn: Date,
    key: { readonly what: string; readonly fix: string },
  ): Promise<string> {
    const { serviceUrl, container } = splitContainerUri(containerUri);
    const service = this.calls.service(serviceUrl);
    const parsed = ContainerSASPermissions.parse(permissions);
    const k = await this.calls.retrying(`${key.what} from ${serviceUrl}`, (a) => service.getUserDelegationKey(startsOn, expiresOn, a), {
      403: key.fix,
    });
    this.o.mask(k.value);
    const sas = generateBlobSASQueryParameters(
      // Sign in the version the service issued the key for: Azure answers the request's x-ms-version, and a service that
      // does not know the SDK's newest SAS layout (Azurite 3.35 rejects sv=2026-04-06) still verifies the signature.
      {
        containerName: container,
        permissions: parsed,
        protocol: SASProtocol.Https,
        startsOn,
        expiresOn,
        ...(k.signedVersion ? { version: k.signedVersion } : {}),
      },
      k,
      service.accountName,
    ).toString();
    this.o.mask(sas);
    return sas;
  }
}
