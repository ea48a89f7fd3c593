/**
 * PUT of export and import pipelines (ExportPipelines_Create, ImportPipelines_Create): the two share all but their
 * storage side (`target` / `source`), their options, the export policy and the import's source trigger. A PUT on an
 * existing pipeline replaces it (open question 6); no identity means a system-assigned one (open question 7).
 */
import type { Json, PipelineKind } from '../context';
import { render } from './api-versions';
import { type ArmAnswer, badRequest, readArmBody } from './frame';
import { asyncHeaders, inProgressConflict, type OperationView } from './lro';
import { buildIdentity, checkOptions, checkStorageSide, checkTrigger, type PipelineIn } from './pipeline-body';
import { requireExportPolicy, requirePremium } from './registries';
import type { ItemCall } from './registry-scope';
import { type ArmState, COLLECTIONS, type PipelineEntry, props, systemData } from './state';

/** `PUT …/{exportPipelines|importPipelines}/{name}` */
export async function putPipeline(call: ItemCall): Promise<ArmAnswer> {
  const { emu, state, operations, reg, caller, apiVersion, collection, name } = call;
  const kind: PipelineKind = collection === 'exportPipelines' ? 'export' : 'import';
  const body = (await readArmBody(call.req, kind === 'export' ? 'ExportPipeline' : 'ImportPipeline')) as PipelineIn;
  if (!body.properties)
    throw badRequest(
      'InvalidRequestContent',
      "The request content was invalid and could not be deserialized: 'Required property 'properties' is missing. Path 'properties'.'",
      'properties',
    );
  requirePremium(reg);
  if (kind === 'export') requireExportPolicy(reg);
  const existing = state.pipelineEntry(reg.name, kind, name);
  if (existing && (existing.deleteAt !== undefined || existing.readyAt !== undefined)) {
    throw inProgressConflict(`The ${kind} pipeline '${existing.name}'`, String(props(existing.resource)['provisioningState']));
  }
  const sideName = kind === 'export' ? 'target' : 'source';
  const side = checkStorageSide(body.properties[sideName], `properties.${sideName}`, apiVersion);
  const options = checkOptions(kind, body.properties.options);
  const { identity, systemPrincipalId } = buildIdentity(emu, body.identity, side.mode, existing);
  const isAsync = emu.knobs.lroStyle === 'async';
  const now = new Date().toISOString();
  const provisioningState = isAsync ? (existing ? 'Updating' : 'Creating') : 'Succeeded';
  const created = (existing?.resource['systemData'] as Json | undefined)?.['createdAt'];
  const resourceName = existing?.name ?? name;
  const resource: Json = {
    id: state.resourceId(reg, collection, resourceName),
    name: resourceName,
    type: COLLECTIONS[collection].type,
    systemData: systemData(caller, typeof created === 'string' ? created : now, { ...caller, at: now }),
    ...(body.location ? { location: body.location } : {}),
    ...(identity ? { identity } : {}),
    properties: {
      [sideName]: side.out,
      ...(kind === 'import' ? { trigger: checkTrigger(body.properties.trigger) } : {}),
      ...(options ? { options } : {}),
      provisioningState,
    },
  };
  const readyAt = isAsync ? Date.now() + emu.knobs.pipelineProvisioningMs : undefined;
  const entry = state.putPipeline(reg.name, kind, name, resource, {
    ...(systemPrincipalId ? { systemPrincipalId } : {}),
    ...(readyAt !== undefined ? { readyAt } : {}),
  });
  if (!isAsync) return { status: 200, body: render(resource, apiVersion) };
  const generation = entry.putGeneration;
  const op = operations.create(collection, String(resource['id']), 'async', () => pipelinePutView(state, entry, generation));
  return { status: existing ? 200 : 201, body: render(resource, apiVersion), headers: asyncHeaders(emu, operations, op, apiVersion, 'azure-asyncoperation') };
}

function pipelinePutView(state: ArmState, entry: PipelineEntry, generation: number): OperationView {
  const current = state.pipelineEntry(entry.registry, entry.kind, entry.name);
  if (!current || current.putGeneration !== generation || current.deleteAt !== undefined) return { status: 'Canceled' };
  return { status: current.readyAt === undefined ? 'Succeeded' : 'InProgress' };
}
