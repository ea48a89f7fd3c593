import { createHash } from 'node:crypto';
import type { ManifestInfo, ManifestSummary, ReferrerDescriptor, RegistryDataPlane, RegistryDataPlaneFactory } from '../../../core/ports';

export const digestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** One registry's data plane: repositories, tags and manifests in memory. */
export class FakeRegistry implements RegistryDataPlane {
  readonly tags = new Map<string, Map<string, string>>();
  readonly manifests = new Map<string, Set<string>>();
  /** Manifest bodies by digest; a digest without one is an image with one 1 KiB layer. */
  readonly bodies = new Map<string, Omit<ManifestInfo, 'digest'>>();
  readonly deleted: string[] = [];
  readonly calls = { listRepositories: 0, listTags: 0, manifestDigest: 0, getManifest: 0, listManifests: 0, listReferrers: 0, prepare: 0 };
  /** Repositories `prepare` was asked for, in order. */
  readonly prepared: string[] = [];

  constructor(readonly loginServer: string) {}

  /** Tags `repo:tag` with `digest` (by default one derived from the name) and returns the digest. */
  push(repository: string, tag: string, digest = digestOf(`${repository}:${tag}`)): string {
    if (!this.tags.has(repository)) this.tags.set(repository, new Map());
    this.tags.get(repository)!.set(tag, digest);
    this.pushManifest(repository, digest);
    return digest;
  }

  pushManifest(repository: string, digest: string): void {
    if (!this.manifests.has(repository)) this.manifests.set(repository, new Set());
    this.manifests.get(repository)!.add(digest);
    if (!this.tags.has(repository)) this.tags.set(repository, new Map());
  }

  /** Pushes an OCI 1.1 artifact manifest (untagged) whose subject is `subject`; returns its digest. */
  attach(repository: string, subject: string, artifactType: string, name = ''): string {
    const digest = digestOf(`${repository}@${subject} ${artifactType} ${name}`);
    this.bodies.set(digest, { layers: [{ digest: digestOf(`blob ${digest}`), size: 10, mediaType: artifactType }], manifests: [], subject, artifactType });
    this.pushManifest(repository, digest);
    return digest;
  }

  listReferrers(repository: string, digest: string, artifactType?: string): Promise<ReferrerDescriptor[]> {
    this.calls.listReferrers++;
    const out: ReferrerDescriptor[] = [];
    for (const d of this.manifests.get(repository) ?? []) {
      const b = this.bodies.get(d);
      if (b?.subject === digest && (artifactType === undefined || b.artifactType === artifactType))
        out.push({ digest: d, ...(b.artifactType !== undefined ? { artifactType: b.artifactType } : {}) });
    }
    return Promise.resolve(out);
  }

  prepare(repositories: readonly string[]): Promise<void> {
    this.calls.prepare++;
    this.prepared.push(...repositories);
    return Promise.resolve();
  }

  listRepositories(): Promise<string[]> {
    this.calls.listRepositories++;
    return Promise.resolve([...this.tags.keys()].sort());
  }

  listTags(repository: string): Promise<string[]> {
    this.calls.listTags++;
    return Promise.resolve([...(this.tags.get(repository)?.keys() ?? [])]);
  }

  getManifest(repository: string, reference: string): Promise<ManifestInfo | undefined> {
    this.calls.getManifest++;
    const digest = reference.startsWith('sha256:')
      ? this.manifests.get(repository)?.has(reference)
        ? reference
        : undefined
      : this.tags.get(repository)?.get(reference);
    if (digest === undefined) return Promise.resolve(undefined);
    const body = this.bodies.get(digest) ?? { layers: [{ digest: digestOf(`layer ${digest}`), size: 1024 }], manifests: [] };
    return Promise.resolve({ digest, ...body });
  }

  listManifests(repository: string): Promise<ManifestSummary[]> {
    this.calls.listManifests++;
    const tags = [...(this.tags.get(repository)?.entries() ?? [])];
    return Promise.resolve(
      [...(this.manifests.get(repository) ?? [])].map((digest) => ({ digest, tags: tags.filter(([, d]) => d === digest).map(([t]) => t) })),
    );
  }

  deleteManifest(repository: string, digest: string): Promise<void> {
    this.deleted.push(`${repository}@${digest}`);
    this.manifests.get(repository)?.delete(digest);
    for (const [t, d] of this.tags.get(repository) ?? []) if (d === digest) this.tags.get(repository)!.delete(t);
    return Promise.resolve();
  }

  manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    this.calls.manifestDigest++;
    if (reference.startsWith('sha256:')) return Promise.resolve(this.manifests.get(repository)?.has(reference) ? reference : undefined);
    return Promise.resolve(this.tags.get(repository)?.get(reference));
  }
}

export class FakeRegistries implements RegistryDataPlaneFactory {
  constructor(private readonly byLoginServer: ReadonlyMap<string, FakeRegistry>) {}

  forLoginServer(loginServer: string): RegistryDataPlane {
    const r = this.byLoginServer.get(loginServer);
    if (!r) throw new Error(`no fake registry ${loginServer}`);
    return r;
  }
}
