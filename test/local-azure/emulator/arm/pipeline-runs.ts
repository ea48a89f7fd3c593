/**
 * PUT of pipeline runs (PipelineRuns_Create): the request is checked at once (run-request.ts), then the run starts
 * (transfer/runner.ts) and answers 200 in progress (`sync` style, polled by GET) or 201 + Azure-AsyncOperation
 * (`async` style), whose operation fails with the run's pipelineRunErrorMessage if the run fails (open question 1).
 */
import type { Json } from '../context';
import { render } from './api-versions';
import { type ArmAnswer, armError, badRequest, readArmBody } from './frame';
import { asyncHeaders, inProgressConflict, type OperationView } from './lro';
import { requirePremium } from './registries';
import type { ItemCall } from './registry-scope';
import { checkRunRequest, runPipeline, type RunRequestIn } from './run-request';
import { type ArmState, COLLECTIONS, fingerprintOf, isTerminal, props, type RunEntry, systemData } from './state';

interface RunIn {
  properties?: { request?: RunRequestIn; forceUpdateTag?: string };
}

/** `PUT …/pipelineRuns/{name}` */
export async function putRun(call: ItemCall): Promise<ArmAnswer> {
  const { emu, state, operations, reg, caller, apiVersion, name } = call;
  const body = (await readArmBody(call.req, 'PipelineRun')) as RunIn;
  requirePremium(reg);
  const request = body.properties?.request;
  if (!request) throw badRequest('InvalidParameter', 'properties.request is required: the pipeline to run and what to transfer.', 'properties.request');
  const pipeline = runPipeline(call, request.pipelineResourceId);
  const normalized = checkRunRequest(call, pipeline, request);
  const forceUpdateTag = body.properties?.forceUpdateTag;
  const fingerprint = fingerprintOf(normalized, forceUpdateTag);
  const existing = state.runEntry(reg.name, name);
  if (existing?.deleteAt !== undefined) throw inProgressConflict(`The pipeline run '${existing.name}'`, 'Deleting');
  // Same request and forceUpdateTag: nothing to do (docs/azure-service.md#forceupdatetag).
  if (existing && existing.fingerprint === fingerprint) return { status: 200, body: render(existing.resource, apiVersion) };
  if (existing && !isTerminal(existing.resource)) {
    throw armError(
      409,
      'Conflict',
      `The pipeline run '${existing.name}' is still in progress (provisioningState '${String(props(existing.resource)['provisioningState'])}'); wait for it to finish before running it again.`,
    );
  }
  const now = new Date().toISOString();
  const runName = existing?.name ?? name;
  const created = (existing?.resource['systemData'] as Json | undefined)?.['createdAt'];
  const resource: Json = {
    id: state.resourceId(reg, 'pipelineRuns', runName),
    name: runName,
    type: COLLECTIONS.pipelineRuns.type,
    systemData: systemData(caller, typeof created === 'string' ? created : now, { ...caller, at: now }),
    properties: {
      request: normalized,
      ...(forceUpdateTag !== undefined ? { forceUpdateTag } : {}),
      provisioningState: existing ? 'Updating' : 'Creating',
      response: { status: 'Running', progress: { percentage: '0' }, startTime: now },
    },
  };
  const entry = state.startRun(reg.name, runName, resource, fingerprint, pipeline);
  if (emu.knobs.lroStyle !== 'async') return { status: 200, body: render(entry.resource, apiVersion) };
  const generation = entry.generation;
  const op = operations.create('pipelineRuns', String(resource['id']), 'async', () => runPutView(state, entry, generation));
  return {
    status: existing ? 200 : 201,
    body: render(entry.resource, apiVersion),
    headers: asyncHeaders(emu, operations, op, apiVersion, 'azure-asyncoperation'),
  };
}

function runPutView(state: ArmState, entry: RunEntry, generation: number): OperationView {
  if (state.runEntry(entry.registry, entry.name) !== entry || entry.generation !== generation || entry.deleteAt !== undefined) return { status: 'Canceled' };
  const p = props(entry.resource);
  const response = (p['response'] ?? {}) as Json;
  const finishTime = typeof response['finishTime'] === 'string' ? { endTime: response['finishTime'] } : {};
  switch (p['provisioningState']) {
    case 'Succeeded':
      return { status: 'Succeeded', ...finishTime };
    case 'Canceled':
      return { status: 'Canceled', ...finishTime };
    case 'Failed': {
      const message = typeof response['pipelineRunErrorMessage'] === 'string' ? response['pipelineRunErrorMessage'] : 'The pipeline run failed.';
      return { status: 'Failed', ...finishTime, error: { code: 'PipelineRunFailed', message } };
    }
    default:
      return { status: 'InProgress' };
  }
}
