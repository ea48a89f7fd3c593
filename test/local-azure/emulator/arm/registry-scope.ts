/**
 * Calls under one registry (`…/registries/{registry}` and its transfer resources): after the frame, the checks
 * every Microsoft.ContainerRegistry call gets, in ARM's order (resource group, api-version, registry name, the
 * registry itself, the child's name), and the context the registry's handlers get.
 */
import type { Emulator } from '../context';
import { HttpError } from '../http';
import type { Claims } from '../jwt';
import { checkRegistryApiVersion, supportedVersionsHeader } from './api-versions';
import { type ArmAnswer, type ArmHandler, type ArmRequest, badRequest, checkScope, RESOURCE_GROUP, resourceNotFound } from './frame';
import type { Operations } from './lro';
import type { ArmState, Collection, RegistryState } from './state';
import { parameter } from './swagger';

/** The registry path, with the groups `sub`, `rg` and `registry`. */
export const REGISTRY = String.raw`${RESOURCE_GROUP}/providers/Microsoft\.ContainerRegistry/registries/(?<registry>[^/]+)`;

export interface Caller {
  readonly by: string;
  readonly type: string;
}

/** Everything a registry handler needs once the common checks have passed. */
export interface RegistryCall {
  readonly emu: Emulator;
  readonly state: ArmState;
  readonly operations: Operations;
  readonly req: ArmRequest;
  /** The api-version, lower case. */
  readonly apiVersion: string;
  readonly caller: Caller;
  readonly reg: RegistryState;
}

/** A call on a transfer resource type of the registry, or on one of its resources. */
export interface ItemCall extends RegistryCall {
  readonly collection: Collection;
  /** The resource's name (the path's `name` group); '' for the collection itself. */
  readonly name: string;
}

type Answers<C> = (call: C) => Promise<ArmAnswer> | ArmAnswer;

const NAME_PARAMETER: Readonly<Record<Collection, string>> = {
  exportPipelines: 'exportPipelineName',
  importPipelines: 'importPipelineName',
  pipelineRuns: 'pipelineRunName',
};

function callerOf(claims: Claims): Caller {
  const user = claims['upn'] ?? claims['unique_name'] ?? claims['preferred_username'];
  if (typeof user === 'string') return { by: user, type: 'User' };
  const app = claims['appid'] ?? claims['azp'] ?? claims['oid'] ?? claims.sub;
  return { by: typeof app === 'string' ? app : 'unknown', type: claims['xms_mirid'] !== undefined ? 'ManagedIdentity' : 'Application' };
}

/** Path names follow the swagger's parameter rules (5–50 chars, `^[a-zA-Z0-9]*$`). */
function checkName(parameterName: string, value: string): void {
  const p = parameter(parameterName);
  const okLength = (p.minLength === undefined || value.length >= p.minLength) && (p.maxLength === undefined || value.length <= p.maxLength);
  const okPattern = p.pattern === undefined || new RegExp(p.pattern).test(value);
  if (okLength && okPattern) return;
  throw badRequest(
    'InvalidResourceName',
    `The value '${value}' of parameter '${parameterName}' is invalid: it must be ${p.minLength ?? 0} to ${p.maxLength ?? '∞'} characters long and match the pattern '${p.pattern ?? '.*'}'.`,
    parameterName,
  );
}

export function registryTypePath(reg: RegistryState | string): string {
  return `Microsoft.ContainerRegistry/registries/${typeof reg === 'string' ? reg : reg.name}`;
}

/** 404 for the transfer resource the call names. */
export function itemNotFound(call: ItemCall): HttpError {
  return resourceNotFound(call.req.params['rg'] ?? '', `${registryTypePath(call.reg)}/${call.collection}/${call.name}`);
}

/**
 * The ARM handlers of paths under a registry: `registry(handler)` for the registry itself and its actions,
 * `items(collection, handler)` for a transfer resource type and its resources.
 */
export function registryScope(
  emu: Emulator,
  state: ArmState,
  operations: Operations,
): { registry: (handler: Answers<RegistryCall>) => ArmHandler; items: (collection: Collection, handler: Answers<ItemCall>) => ArmHandler } {
  /** ARM's own checks, in its order: the scope, then whether the provider serves the type in that api-version. */
  const front = (req: ArmRequest, collection: Collection | undefined): void => {
    checkScope(emu, req.params['sub'] ?? '', req.params['rg'] ?? '');
    checkRegistryApiVersion(emu, req.apiVersion.toLowerCase(), collection);
  };
  /** The provider's checks; `collection` decides the name rule of the path's `name`. */
  const check = (req: ArmRequest, collection: Collection | undefined): RegistryCall => {
    const apiVersion = req.apiVersion.toLowerCase();
    const { rg = '', registry = '', name } = req.params;
    checkName('registryName', registry);
    const reg = state.registry(registry);
    if (!reg) throw resourceNotFound(rg, registryTypePath(registry));
    if (collection && name !== undefined) checkName(NAME_PARAMETER[collection], name);
    state.sweep();
    return { emu, state, operations, req, apiVersion, caller: callerOf(req.claims), reg };
  };
  /** Once ARM passed the call to the provider, every answer (errors too) names the versions of the resource type. */
  const withVersions = async (req: ArmRequest, collection: Collection | undefined, answer: () => Promise<ArmAnswer> | ArmAnswer): Promise<ArmAnswer> => {
    front(req, collection);
    const header = supportedVersionsHeader(collection);
    try {
      const a = await answer();
      return { ...a, headers: { ...header, ...a.headers } };
    } catch (e) {
      if (e instanceof HttpError) throw new HttpError(e.status, e.body, { ...header, ...e.headers });
      throw e;
    }
  };
  return {
    registry: (handler) => (req) => withVersions(req, undefined, () => handler(check(req, undefined))),
    items: (collection, handler) => (req) =>
      withVersions(req, collection, () => handler({ ...check(req, collection), collection, name: req.params['name'] ?? '' })),
  };
}
