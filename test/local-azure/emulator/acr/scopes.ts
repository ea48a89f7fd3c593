/**
 * Access scopes as ACR (and distribution's token auth) writes them, `repository:name:pull,push`: what a token
 * grants, and what a /v2/ request needs.
 */

/** One resource access as in ACR (and distribution) tokens: `repository:name:pull,push`. */
export interface Access {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

const REPOSITORY_ACTIONS = new Set(['pull', 'push', 'delete', 'metadata_read', 'metadata_write', 'deleted_read', 'deleted_restore', '*']);

/** Distribution's repository name grammar; also keeps `..` and other path tricks out of the storage lookup. */
export const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** `type:name:actions`; names may hold slashes (and, for plugins, colons), so split at the first and last colon. */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first + 1) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

export function formatScope(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(',')}`;
}

/** The access a service principal with full rights gets for the scopes it asked for; unknown ones are dropped. */
export function grant(scopes: readonly string[]): Access[] {
  const merged = new Map<string, Set<string>>();
  for (const a of scopes.flatMap((s) => s.split(' ')).map(parseScope)) {
    if (!a) continue;
    const allowed =
      a.type === 'repository'
        ? a.actions.filter((x) => REPOSITORY_ACTIONS.has(x))
        : a.type === 'registry' && a.name === 'catalog'
          ? a.actions.filter((x) => x === '*')
          : [];
    if (allowed.length === 0) continue;
    const key = `${a.type}:${a.name}`;
    const set = merged.get(key) ?? new Set<string>();
    allowed.forEach((x) => set.add(x));
    merged.set(key, set);
  }
  return [...merged].map(([key, actions]) => {
    const i = key.indexOf(':');
    return { type: key.slice(0, i), name: key.slice(i + 1), actions: [...actions] };
  });
}

const REPO_ROUTES: ReadonlyArray<RegExp> = [
  /^\/v2\/(?<repo>.+)\/manifests\/[^/]+$/,
  /^\/v2\/(?<repo>.+)\/blobs\/uploads\/[^/]*$/,
  /^\/v2\/(?<repo>.+)\/blobs\/[^/]+$/,
  /^\/v2\/(?<repo>.+)\/tags\/list$/,
  /^\/v2\/(?<repo>.+)\/referrers\/[^/]+$/,
];

/** The repository a /v2/ path is about, if any. */
export function repositoryOf(pathname: string): string | undefined {
  for (const re of REPO_ROUTES) {
    const m = re.exec(pathname);
    if (m?.groups?.['repo']) return m.groups['repo'];
  }
  return undefined;
}

/** What a /v2/ request needs, as distribution's token auth has it: reads pull, writes pull+push, DELETE delete, mounts pull on `from`. */
export function requiredAccess(method: string, url: URL): Access[] {
  if (url.pathname === '/v2/_catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  const repo = repositoryOf(url.pathname);
  if (!repo) return [];
  const actions = method === 'GET' || method === 'HEAD' ? ['pull'] : method === 'DELETE' ? ['delete'] : ['pull', 'push'];
  const need: Access[] = [{ type: 'repository', name: repo, actions }];
  const from = url.searchParams.get('from');
  if (method === 'POST' && from && url.searchParams.has('mount') && from !== repo) need.push({ type: 'repository', name: from, actions: ['pull'] });
  return need;
}

export function isGranted(access: readonly Access[], need: Access): boolean {
  return need.actions.every((action) =>
    access.some((a) => a.type === need.type && a.name === need.name && (a.actions.includes(action) || a.actions.includes('*'))),
  );
}
