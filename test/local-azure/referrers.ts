/**
 * Supply-chain artifacts for seeding, shaped as the tools that make them push them, without real keys (what the
 * transfer carries is bytes and links, not trust):
 * - notation: an OCI 1.1 image manifest with artifactType application/vnd.cncf.notary.signature, the empty config and
 *   a JWS envelope layer, and `subject` (https://github.com/notaryproject/specifications/blob/main/specs/signature-specification.md);
 * - sbom: artifactType application/spdx+json with an SPDX 2.3 document as its layer, and `subject` (as `oras attach` pushes it);
 * - signed-sbom: that SBOM and a notation signature of it (a referrer of a referrer);
 * - cosign: cosign's tag scheme, an image manifest tagged `sha256-<hex>.sig` with a simple-signing payload and no subject
 *   (https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md).
 */
import { createHash } from 'node:crypto';
import { type ManifestBytes, OCI_MANIFEST, type RegistryClient, sha256Digest } from './emulator/transfer/registry-client';

export type ReferrerKind = 'notation' | 'sbom' | 'signed-sbom' | 'cosign';

export const NOTATION_SIGNATURE = 'application/vnd.cncf.notary.signature';
export const SPDX_JSON = 'application/spdx+json';
export const COSIGN_SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', bytes: Buffer.from('{}') };
const CREATED = '2024-01-01T00:00:00Z';

export interface BuiltReferrer {
  readonly subject: string;
  readonly artifactType: string;
  readonly manifest: ManifestBytes;
  /** cosign's: pushed under this tag, not by digest. */
  readonly tag?: string;
  readonly blobs: readonly Buffer[];
}

export interface SeededReferrer {
  readonly subject: string;
  readonly artifactType: string;
  readonly digest: string;
  readonly tag?: string;
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const descriptor = (mediaType: string, bytes: Buffer): { mediaType: string; digest: string; size: number } => ({
  mediaType,
  digest: sha256Digest(bytes),
  size: bytes.length,
});
const fakeSignature = (text: string): string => createHash('sha512').update(`not a real signature: ${text}`).digest('base64url');

/** An OCI 1.1 artifact: the empty config, one layer, and the subject it refers to. */
function artifact(
  subject: ManifestBytes,
  artifactType: string,
  layer: { mediaType: string; bytes: Buffer },
  annotations: Record<string, string>,
): BuiltReferrer {
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: descriptor(EMPTY.mediaType, EMPTY.bytes),
    layers: [descriptor(layer.mediaType, layer.bytes)],
    subject: descriptor(subject.mediaType, subject.bytes),
    annotations: { 'org.opencontainers.image.created': CREATED, ...annotations },
  });
  return {
    subject: subject.digest,
    artifactType,
    manifest: { bytes: manifest, mediaType: OCI_MANIFEST, digest: sha256Digest(manifest) },
    blobs: [EMPTY.bytes, layer.bytes],
  };
}

function notation(subject: ManifestBytes, seed: string): BuiltReferrer {
  const payload = Buffer.from(JSON.stringify({ targetArtifact: descriptor(subject.mediaType, subject.bytes) })).toString('base64url');
  const envelope = json({
    payload,
    protected: Buffer.from('{"alg":"PS256","cty":"application/vnd.cncf.notary.payload.v1+json"}').toString('base64url'),
    signature: fakeSignature(`${seed} ${subject.digest}`),
  });
  return artifact(
    subject,
    NOTATION_SIGNATURE,
    { mediaType: 'application/jose+json', bytes: envelope },
    {
      'io.cncf.notary.x509chain.thumbprint#S256': JSON.stringify([createHash('sha256').update(`cert ${seed}`).digest('hex')]),
    },
  );
}

function sbom(repo: string, subject: ManifestBytes, seed: string): BuiltReferrer {
  const doc = json({
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${repo}@${subject.digest}`,
    documentNamespace: `https://example.invalid/spdx/${seed}/${subject.digest}`,
    creationInfo: { created: CREATED, creators: ['Tool: acr-transfer-seed'] },
    packages: [{ SPDXID: 'SPDXRef-app', name: 'app', versionInfo: seed, downloadLocation: 'NOASSERTION' }],
  });
  return artifact(subject, SPDX_JSON, { mediaType: SPDX_JSON, bytes: doc }, {});
}

function cosign(repo: string, subject: ManifestBytes, seed: string): BuiltReferrer {
  const payload = json({
    critical: { identity: { 'docker-reference': repo }, image: { 'docker-manifest-digest': subject.digest }, type: 'cosign container image signature' },
    optional: null,
  });
  const config = json({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [sha256Digest(payload)] } });
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor('application/vnd.oci.image.config.v1+json', config),
    layers: [
      { ...descriptor(COSIGN_SIMPLESIGNING, payload), annotations: { 'dev.cosignproject.cosign/signature': fakeSignature(`${seed} ${subject.digest}`) } },
    ],
  });
  return {
    subject: subject.digest,
    artifactType: COSIGN_SIMPLESIGNING,
    manifest: { bytes: manifest, mediaType: OCI_MANIFEST, digest: sha256Digest(manifest) },
    tag: `${subject.digest.replace(':', '-')}.sig`,
    blobs: [config, payload],
  };
}

/** The referrers of `subject`, parents first (a signed SBOM: the SBOM, then its signature). */
export function buildReferrers(repo: string, subject: ManifestBytes, kinds: readonly ReferrerKind[], seed: string): BuiltReferrer[] {
  return kinds.flatMap((k): BuiltReferrer[] => {
    if (k === 'notation') return [notation(subject, seed)];
    if (k === 'sbom') return [sbom(repo, subject, seed)];
    if (k === 'cosign') return [cosign(repo, subject, seed)];
    if (k === 'signed-sbom') {
      const s = sbom(repo, subject, seed);
      return [s, notation(s.manifest, seed)];
    }
    throw new Error(`unknown referrer kind '${String(k)}' (known: notation, sbom, signed-sbom, cosign)`);
  });
}

export async function pushReferrers(client: RegistryClient, repo: string, referrers: readonly BuiltReferrer[]): Promise<void> {
  for (const r of referrers) {
    for (const b of r.blobs) await client.pushBlob(repo, sha256Digest(b), b.length, b);
    await client.putManifest(repo, r.tag ?? r.manifest.digest, r.manifest);
  }
}

export function seededReferrer(r: BuiltReferrer): SeededReferrer {
  return { subject: r.subject, artifactType: r.artifactType, digest: r.manifest.digest, ...(r.tag !== undefined ? { tag: r.tag } : {}) };
}
