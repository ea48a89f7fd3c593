/** Many tags cheaply: one small image per repository, then its manifest PUT under more tags (the backend registry, no auth). */
import { seedImages } from '../local-azure/seed';

export async function seedTags(backendUrl: string, repos: readonly string[], tags: number): Promise<void> {
  const images = await seedImages(
    backendUrl,
    repos.map((repo) => ({ repo, tag: 't0' })),
  );
  const manifests = new Map<string, { body: Buffer; type: string }>();
  for (const img of images) {
    const res = await fetch(`${backendUrl}/v2/${img.ref.replace(':', '/manifests/')}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    manifests.set(img.digest, { body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' });
  }
  const puts = images.flatMap((img, i) => Array.from({ length: tags - 1 }, (_, t) => ({ repo: repos[i]!, digest: img.digest, tag: `t${t + 1}` })));
  for (let i = 0; i < puts.length; i += 32) {
    await Promise.all(
      puts.slice(i, i + 32).map(async (p) => {
        const m = manifests.get(p.digest)!;
        const res = await fetch(`${backendUrl}/v2/${p.repo}/manifests/${p.tag}`, { method: 'PUT', body: m.body, headers: { 'content-type': m.type } });
        if (res.status !== 201) throw new Error(`tagging ${p.repo}:${p.tag}: HTTP ${res.status}`);
      }),
    );
  }
}
