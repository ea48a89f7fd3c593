import { createHash } from 'node:crypto';
import type { RegistryDataPlane, RegistryDataPlaneFactory } from '../../../core/ports';

export const digestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** One registry's data plane: repositories, tags and manifests in memory. */
export class FakeRegistry implements RegistryDataPlane {
  readonly tags = new Map<string, Map<string, string>>();
  readonly manifests = new Map<string, Set<string>>();
  readonly calls = { listRepositories: 0, listTags: 0, manifestDigest: 0 };

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

  listRepositories(): Promise<string[]> {
    this.calls.listRepositories++;
    return Promise.resolve([...this.tags.keys()].sort());
  }

  listTags(repository: string): Promise<string[]> {
    this.calls.listTags++;
    return Promise.resolve([...(this.tags.get(repository)?.keys() ?? [])]);
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
