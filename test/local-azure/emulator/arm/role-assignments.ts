/**
 * Role assignments and the built-in role definitions (`Microsoft.Authorization`) at subscription, resource group,
 * vault, storage account (or container) and registry scope.
 * - Principals are not looked up in a directory: any GUID may be granted (pipeline identities are the emulator's own).
 * - An identical PUT of an existing role assignment (same name, scope, role, principal) answers 201 again (what ARM
 *   deployments rely on); the same trio under another name is 409 RoleAssignmentExists naming the existing one.
 */
import { isObject, type Json } from '../context';
import type { DiskState } from '../disk';
import { readJson } from '../http';
import { type ArmHandler, type ArmRequest, armError, badRequest, GUID } from './frame';
import { covers, type LocalResources, lower } from './local-resources';
import { BUILT_IN_ROLES, type RoleDefinition } from './roles';

export interface RoleAssignment {
  readonly name: string;
  readonly scope: string;
  readonly roleId: string;
  readonly principalId: string;
  readonly principalType: string;
  readonly description: string | null;
  readonly createdOn: string;
  readonly createdMs: number;
  readonly createdBy: string;
}

const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'];

export class RoleAssignments {
  private readonly assignments: Map<string, RoleAssignment>;

  constructor(
    private readonly resources: LocalResources,
    private readonly disk: DiskState,
  ) {
    this.assignments = disk.readAll<RoleAssignment>('roleAssignments');
  }

  all(): RoleAssignment[] {
    return [...this.assignments.values()];
  }

  /** A role definition id in either form ARM accepts (subscription-scoped or tenant-level); returns the role GUID. */
  private roleOf(id: unknown): string {
    const at = 'properties.roleDefinitionId';
    if (typeof id !== 'string' || id === '')
      throw badRequest('InvalidRequestContent', `${at} is required: /subscriptions/{id}/providers/Microsoft.Authorization/roleDefinitions/{guid}.`, at);
    const m = /^(?:\/subscriptions\/([^/]+))?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i.exec(id);
    if (!m) throw badRequest('InvalidRoleDefinitionId', `The role definition ID '${id}' is not valid.`, at);
    if (m[1] !== undefined && lower(m[1]) !== lower(this.resources.sub))
      throw badRequest('InvalidRoleDefinitionId', `The role definition ID '${id}' names another subscription.`, at);
    const guid = lower(m[2] ?? '');
    if (!BUILT_IN_ROLES.some((r) => r.id === guid))
      throw badRequest('RoleDefinitionDoesNotExist', `The specified role definition with ID '${m[2] ?? ''}' does not exist.`, at);
    return guid;
  }

  put(scope: string, name: string, body: unknown, by: string): RoleAssignment {
    if (!GUID.test(name)) throw badRequest('InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
    const props = isObject(body) && isObject(body['properties']) ? body['properties'] : undefined;
    if (!props)
      throw badRequest(
        'InvalidRequestContent',
        "The request content was invalid and could not be deserialized: 'Required property 'properties' is missing.'",
        'properties',
      );
    const roleId = this.roleOf(props['roleDefinitionId']);
    const principalId = props['principalId'];
    if (typeof principalId !== 'string' || !GUID.test(principalId))
      throw badRequest(
        'InvalidPrincipalId',
        `The principal ID '${String(principalId ?? '')}' is not valid. Principal ID must be a GUID.`,
        'properties.principalId',
      );
    const principalType = props['principalType'] ?? 'ServicePrincipal';
    if (typeof principalType !== 'string' || !PRINCIPAL_TYPES.includes(principalType))
      throw badRequest(
        'InvalidPrincipalType',
        `The principal type '${String(principalType)}' is not valid; use one of ${PRINCIPAL_TYPES.join(', ')}.`,
        'properties.principalType',
      );
    const same = (a: RoleAssignment): boolean => lower(a.scope) === lower(scope) && a.roleId === roleId && lower(a.principalId) === lower(principalId);
    const existing = this.assignments.get(lower(name));
    if (existing) {
      if (same(existing)) return existing;
      throw badRequest('RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
    }
    const duplicate = this.all().find(same);
    if (duplicate)
      throw armError(
        409,
        'RoleAssignmentExists',
        `The role assignment already exists. The ID of the existing role assignment is ${duplicate.name.replace(/-/g, '')}.`,
      );
    const a: RoleAssignment = {
      name: lower(name),
      scope,
      roleId,
      principalId,
      principalType,
      description: typeof props['description'] === 'string' ? props['description'] : null,
      createdOn: new Date().toISOString(),
      createdMs: Date.now(),
      createdBy: by,
    };
    this.assignments.set(a.name, a);
    this.disk.write('roleAssignments', a.name, a);
    return a;
  }

  /**
   * `$filter` as ARM reads it for role assignments: `atScope()` (at or above the scope), `principalId eq '{id}'` and
   * `assignedTo('{id}')` (that principal), joined by `and`. Without atScope() the list also holds assignments below the scope.
   */
  list(scope: string, filter: string | null): RoleAssignment[] {
    let atScope = false;
    let principal: string | undefined;
    for (const clause of (filter ?? '').split(/\s+and\s+/i).map((c) => c.trim())) {
      if (clause === '') continue;
      const m = /^principalId\s+eq\s+'([^']*)'$/i.exec(clause) ?? /^assignedTo\('([^']*)'\)$/i.exec(clause);
      if (/^atScope\(\)$/i.test(clause)) atScope = true;
      else if (m) principal = lower(m[1] ?? '');
      else
        throw badRequest(
          'UnsupportedQuery',
          `The $filter '${filter ?? ''}' is not supported: use atScope(), principalId eq '{id}' or assignedTo('{id}'), joined by 'and'.`,
          '$filter',
        );
    }
    return this.all()
      .filter((a) => covers(a.scope, scope) || (!atScope && covers(scope, a.scope)))
      .filter((a) => principal === undefined || lower(a.principalId) === principal)
      .sort((a, b) => a.createdMs - b.createdMs);
  }

  find(scope: string, name: string): RoleAssignment | undefined {
    const a = this.assignments.get(lower(name));
    return a && lower(a.scope) === lower(scope) ? a : undefined;
  }

  remove(a: RoleAssignment): void {
    this.assignments.delete(a.name);
    this.disk.remove('roleAssignments', a.name);
  }

  body(a: RoleAssignment): Json {
    return {
      properties: {
        roleDefinitionId: this.resources.roleDefinitionId(a.roleId),
        principalId: a.principalId,
        principalType: a.principalType,
        scope: a.scope,
        condition: null,
        conditionVersion: null,
        createdOn: a.createdOn,
        updatedOn: a.createdOn,
        createdBy: a.createdBy,
        updatedBy: a.createdBy,
        delegatedManagedIdentityResourceId: null,
        description: a.description,
      },
      id: `${a.scope}/providers/Microsoft.Authorization/roleAssignments/${a.name}`,
      type: 'Microsoft.Authorization/roleAssignments',
      name: a.name,
    };
  }
}

function roleDefinitionBody(resources: LocalResources, r: RoleDefinition): Json {
  return {
    id: resources.roleDefinitionId(r.id),
    name: r.id,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: r.name,
      type: 'BuiltInRole',
      description: r.description,
      assignableScopes: ['/'],
      permissions: [{ actions: [...r.actions], notActions: [], dataActions: [...r.dataActions], notDataActions: [] }],
    },
  };
}

type AuthorizationHandlers = Record<'listAssignments' | 'getAssignment' | 'putAssignment' | 'deleteAssignment' | 'listRoles' | 'getRole', ArmHandler>;

/** Handlers of `{scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}[/{name}]`. */
export function authorizationRoutes(resources: LocalResources, assignments: RoleAssignments): AuthorizationHandlers {
  const scopeOf = (req: ArmRequest): string => resources.canonicalScope(req.params['scope'] ?? '');
  const nameOf = (req: ArmRequest): string => req.params['name'] ?? '';
  return {
    listAssignments: (req) => {
      const scope = scopeOf(req);
      return { status: 200, body: { value: assignments.list(scope, req.url.searchParams.get('$filter')).map((a) => assignments.body(a)) } };
    },
    getAssignment: (req) => {
      const a = assignments.find(scopeOf(req), nameOf(req));
      if (!a) throw armError(404, 'RoleAssignmentNotFound', `The role assignment '${nameOf(req)}' is not found.`);
      return { status: 200, body: assignments.body(a) };
    },
    putAssignment: async (req) => {
      const scope = scopeOf(req);
      const by = req.claims['oid'] ?? req.claims.sub;
      return { status: 201, body: assignments.body(assignments.put(scope, nameOf(req), await readJson(req), typeof by === 'string' ? by : '')) };
    },
    deleteAssignment: (req) => {
      const a = assignments.find(scopeOf(req), nameOf(req));
      if (!a) return { status: 204 };
      assignments.remove(a);
      return { status: 200, body: assignments.body(a) };
    },
    listRoles: (req) => {
      scopeOf(req);
      const filter = req.url.searchParams.get('$filter');
      const byName = filter ? /^roleName\s+eq\s+'([^']*)'$/i.exec(filter.trim()) : null;
      if (filter && !byName) throw badRequest('UnsupportedQuery', `The $filter '${filter}' is not supported: use roleName eq '{name}'.`, '$filter');
      const roles = byName ? BUILT_IN_ROLES.filter((r) => lower(r.name) === lower(byName[1] ?? '')) : BUILT_IN_ROLES;
      return { status: 200, body: { value: roles.map((r) => roleDefinitionBody(resources, r)) } };
    },
    getRole: (req) => {
      scopeOf(req);
      const r = BUILT_IN_ROLES.find((x) => x.id === lower(nameOf(req)));
      if (!r) throw armError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${nameOf(req)}' does not exist.`);
      return { status: 200, body: roleDefinitionBody(resources, r) };
    },
  };
}
