/**
 * The local Azure made ready for a user's transfer, as `operation: setup` would leave real Azure: the images the user
 * named seeded in the source registry, and an export and an import SAS token stored in the Key Vault. Run by main.ts in a
 * child process, because the SDKs must trust the local CA and Node reads NODE_EXTRA_CA_CERTS only at process start
 * (docs/local-azure.md#node_extra_ca_certs-at-process-start).
 * Usage: prepare.ts <env.json> <export secret name> <import secret name> [image spec …]; prints a JSON object.
 */
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { ContainerSASPermissions, generateBlobSASQueryParameters, SASProtocol, StorageSharedKeyCredential } from '@azure/storage-blob';
import { readFileSync } from 'node:fs';
import type { LocalAzureEnv, StorageEnv } from '../test/local-azure/config';
import { parseImageSpec, seedImages } from '../test/local-azure/seed';

/** Export writes and lists; import reads, lists and may delete (DeleteSourceBlobOnSuccess): docs/azure-service.md#storage-access-and-the-sas-secret. */
const PERMISSIONS = { export: 'alrw', import: 'dlr' } as const;
const LIFETIME_MS = 24 * 3600_000;

function sas(s: StorageEnv, permissions: string): string {
  const now = Date.now();
  return generateBlobSASQueryParameters(
    {
      containerName: s.container,
      permissions: ContainerSASPermissions.parse(permissions),
      protocol: SASProtocol.Https,
      startsOn: new Date(now - 5 * 60_000),
      expiresOn: new Date(now + LIFETIME_MS),
    },
    new StorageSharedKeyCredential(s.account, s.key),
  ).toString();
}

async function main(): Promise<void> {
  const [envPath = '', exportName = '', importName = '', ...specs] = process.argv.slice(2);
  const env = JSON.parse(readFileSync(envPath, 'utf8')) as LocalAzureEnv;
  const images = await seedImages(env.registries.source.backendUrl, specs.map(parseImageSpec));
  const credential = new ClientSecretCredential(env.tenantId, env.clientId, env.clientSecret, {
    authorityHost: env.authorityHost,
    disableInstanceDiscovery: true,
  });
  const vault = new SecretClient(env.keyVaultUrl, credential);
  // With the leading '?', as the transfer docs store it; a new version, as setup writes one.
  await vault.setSecret(exportName, `?${sas(env.storage.source, PERMISSIONS.export)}`);
  await vault.setSecret(importName, `?${sas(env.storage.target, PERMISSIONS.import)}`);
  // Without a version: a pipeline pinned to one would never read a newer one (README, setup).
  const uri = (name: string): string => `${env.keyVaultUrl.replace(/\/+$/, '')}/secrets/${name}`;
  process.stdout.write(
    JSON.stringify({
      exportSecretUri: uri(exportName),
      importSecretUri: uri(importName),
      images: images.map((i) => ({ ref: i.ref, digest: i.digest })),
    }),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
