/**
 * Key Vault access policies, the vault's permission model unless it uses RBAC: the policies of an
 * `accessPolicies/{add|replace|remove}` body, checked (Key Vault swagger, Permissions), and applied, keeping when each
 * permission was granted for the `grantDelayMs` knob (a grant takes effect that long after it was made, a removal at once).
 */
import { isObject, type Json } from '../context';
import { badRequest, GUID } from './frame';
import { lower } from './local-resources';

type Category = 'keys' | 'secrets' | 'certificates' | 'storage';
const CATEGORIES: readonly Category[] = ['keys', 'secrets', 'certificates', 'storage'];
const PERMISSIONS: Readonly<Record<Category, ReadonlySet<string>>> = {
  keys: new Set(
    'all encrypt decrypt wrapkey unwrapkey sign verify get list create update import delete backup restore recover purge release rotate getrotationpolicy setrotationpolicy'.split(
      ' ',
    ),
  ),
  secrets: new Set('all get list set delete backup restore recover purge'.split(' ')),
  certificates: new Set(
    'all get list delete create import update managecontacts getissuers listissuers setissuers deleteissuers manageissuers recover purge backup restore'.split(
      ' ',
    ),
  ),
  storage: new Set('all get list delete set update regeneratekey recover purge backup restore setsas listsas getsas deletesas'.split(' ')),
};

export interface Policy {
  readonly tenantId: string;
  readonly objectId: string;
  readonly applicationId?: string;
  /** Permission names as given, per category. */
  readonly permissions: Record<Category, string[]>;
  /** `category:permission` (lower case) → when it was granted (ms), for grantDelayMs. */
  readonly grantedAt: Map<string, number>;
}

export type PolicyOperation = 'add' | 'replace' | 'remove';

/** The vault as its creator leaves it: one policy giving the service principal every secret permission. */
export function creatorPolicy(tenantId: string, objectId: string): Policy {
  const all = ['get', 'list', 'set', 'delete', 'recover', 'backup', 'restore', 'purge'];
  return {
    tenantId,
    objectId,
    permissions: { keys: [], secrets: all, certificates: [], storage: [] },
    grantedAt: new Map(all.map((p) => [`secrets:${p}`, 0])),
  };
}

export function renderPolicy(p: Policy): Json {
  return {
    tenantId: p.tenantId,
    objectId: p.objectId,
    ...(p.applicationId ? { applicationId: p.applicationId } : {}),
    permissions: {
      keys: [...p.permissions.keys],
      secrets: [...p.permissions.secrets],
      certificates: [...p.permissions.certificates],
      ...(p.permissions.storage.length > 0 ? { storage: [...p.permissions.storage] } : {}),
    },
  };
}

/** `properties.accessPolicies` of an accessPolicies PUT, checked; names as given. */
export function parsePolicies(body: unknown): Policy[] {
  const list = isObject(body) && isObject(body['properties']) ? body['properties']['accessPolicies'] : undefined;
  if (!Array.isArray(list) || list.length === 0)
    throw badRequest(
      'BadRequest',
      'properties.accessPolicies is required: a non-empty array of {tenantId, objectId, permissions}.',
      'properties.accessPolicies',
    );
  return list.map((raw, i) => {
    const at = `properties.accessPolicies[${i}]`;
    if (!isObject(raw)) throw badRequest('BadRequest', `${at} must be an object.`, at);
    const { tenantId, objectId, applicationId, permissions } = raw;
    if (typeof tenantId !== 'string' || !GUID.test(tenantId))
      throw badRequest('BadRequest', `${at}.tenantId must be a GUID, not '${String(tenantId)}'.`, `${at}.tenantId`);
    if (typeof objectId !== 'string' || !GUID.test(objectId))
      throw badRequest('BadRequest', `${at}.objectId must be a GUID, not '${String(objectId)}'.`, `${at}.objectId`);
    if (applicationId !== undefined && applicationId !== null && (typeof applicationId !== 'string' || !GUID.test(applicationId)))
      throw badRequest('BadRequest', `${at}.applicationId must be a GUID.`, `${at}.applicationId`);
    if (!isObject(permissions)) throw badRequest('BadRequest', `${at}.permissions is required.`, `${at}.permissions`);
    const out: Record<Category, string[]> = { keys: [], secrets: [], certificates: [], storage: [] };
    for (const c of CATEGORIES) {
      const v = permissions[c];
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v)) throw badRequest('BadRequest', `${at}.permissions.${c} must be an array.`, `${at}.permissions.${c}`);
      v.forEach((perm, j) => {
        if (typeof perm !== 'string' || !PERMISSIONS[c].has(lower(perm)))
          throw badRequest('BadRequest', `Invalid value found at ${at}.permissions.${c}[${j}]: ${String(perm)}`, `${at}.permissions.${c}[${j}]`);
        if (!out[c].some((x) => lower(x) === lower(perm))) out[c].push(perm);
      });
    }
    return {
      tenantId,
      objectId,
      ...(typeof applicationId === 'string' ? { applicationId } : {}),
      permissions: out,
      grantedAt: new Map(),
    };
  });
}

function findPolicy(policies: readonly Policy[], p: Policy): Policy | undefined {
  return policies.find(
    (x) => lower(x.objectId) === lower(p.objectId) && lower(x.tenantId) === lower(p.tenantId) && lower(x.applicationId ?? '') === lower(p.applicationId ?? ''),
  );
}

/**
 * The policies after the operation: add unions into the matching policy (or a new one); replace makes its
 * permissions the given ones; remove takes them away (and the policy, once it holds none).
 */
export function applyPolicies(policies: readonly Policy[], operation: PolicyOperation, input: readonly Policy[]): Policy[] {
  let out = [...policies];
  const now = Date.now();
  for (const p of input) {
    const existing = findPolicy(out, p);
    if (operation === 'remove') {
      if (!existing) continue;
      for (const c of CATEGORIES) {
        const gone = new Set(p.permissions[c].map(lower));
        existing.permissions[c] = existing.permissions[c].filter((x) => !gone.has(lower(x)));
        for (const g of gone) existing.grantedAt.delete(`${c}:${g}`);
      }
      if (CATEGORIES.every((c) => existing.permissions[c].length === 0)) out = out.filter((x) => x !== existing);
      continue;
    }
    const target = existing ?? { ...p, permissions: { keys: [], secrets: [], certificates: [], storage: [] }, grantedAt: new Map<string, number>() };
    if (!existing) out.push(target);
    for (const c of CATEGORIES) {
      const next =
        operation === 'add'
          ? [...target.permissions[c], ...p.permissions[c].filter((x) => !target.permissions[c].some((y) => lower(y) === lower(x)))]
          : [...p.permissions[c]];
      const keep = new Set(next.map(lower));
      for (const key of [...target.grantedAt.keys()]) if (key.startsWith(`${c}:`) && !keep.has(key.slice(c.length + 1))) target.grantedAt.delete(key);
      // A permission already held keeps its grant time; a new one starts its propagation delay now.
      for (const perm of keep) if (!target.grantedAt.has(`${c}:${perm}`)) target.grantedAt.set(`${c}:${perm}`, now);
      target.permissions[c] = next;
    }
  }
  return out;
}
