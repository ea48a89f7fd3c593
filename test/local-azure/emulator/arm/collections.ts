/**
 * What the three transfer resource types (exportPipelines, importPipelines, pipelineRuns) share: list (paged),
 * GET and DELETE. Their PUTs are their own (pipelines.ts, pipeline-runs.ts).
 */
import type { Json } from '../context';
import { render } from './api-versions';
import { type ArmAnswer, armError, badRequest } from './frame';
import { asyncHeaders, type OperationView } from './lro';
import { type ItemCall, itemNotFound } from './registry-scope';
import { type ArmState, type Collection, COLLECTIONS, type PipelineEntry, props, type RegistryState, type RunEntry } from './state';

const PAGE_SIZE = 20;

interface Item {
  readonly seq: number;
  readonly resource: Json;
}

function itemsOf(state: ArmState, reg: RegistryState, collection: Collection): Item[] {
  const kind = COLLECTIONS[collection].kind;
  return (kind ? state.pipelineEntries(reg.name, kind) : state.runEntries(reg.name)).sort((a, b) => a.seq - b.seq);
}

function findItem(state: ArmState, reg: RegistryState, collection: Collection, name: string): PipelineEntry | RunEntry | undefined {
  const kind = COLLECTIONS[collection].kind;
  return kind ? state.pipelineEntry(reg.name, kind, name) : state.runEntry(reg.name, name);
}

/** `GET …/{collection}`: oldest first (the CLI's `--top n` takes the last n); `$skipToken` is the position after the previous page. */
export function listItems(call: ItemCall): ArmAnswer {
  const { req, apiVersion } = call;
  const token = req.url.searchParams.get('$skipToken');
  let after = 0;
  if (token !== null) {
    const decoded = /^s(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!decoded) throw badRequest('InvalidSkipToken', `The $skipToken '${token}' is not valid; use the nextLink exactly as returned.`, '$skipToken');
    after = Number(decoded[1]);
  }
  const rest = itemsOf(call.state, call.reg, call.collection).filter((i) => i.seq > after);
  const page = rest.slice(0, PAGE_SIZE);
  const body: Json = { value: page.map((i) => render(i.resource, apiVersion)) };
  if (rest.length > PAGE_SIZE) {
    const q = new URLSearchParams({ 'api-version': apiVersion, $skipToken: Buffer.from(`s${page[page.length - 1]!.seq}`).toString('base64url') });
    body['nextLink'] = `${call.emu.baseUrl}${req.url.pathname}?${q.toString()}`;
  }
  return { status: 200, body };
}

/** `GET …/{collection}/{name}` */
export function getItem(call: ItemCall): ArmAnswer {
  const item = findItem(call.state, call.reg, call.collection, call.name);
  if (!item) throw itemNotFound(call);
  return { status: 200, body: render(item.resource, call.apiVersion) };
}

/**
 * `DELETE …/{collection}/{name}`: in `sync` style at once (200; 204 when there is nothing to delete), in `async` style
 * 202 + Location while the resource shows Deleting. A pipeline with runs in progress is 409 (open question 6).
 */
export function deleteItem(call: ItemCall): ArmAnswer {
  const { emu, state, operations, reg, apiVersion, collection, name } = call;
  const item = findItem(state, reg, collection, name);
  if (!item) return { status: 204 };
  const deleting = (): ArmAnswer => {
    const op = operations.create(collection, String(item.resource['id']), 'location', () => deleteView(state, reg, collection, item));
    return { status: 202, headers: asyncHeaders(emu, operations, op, apiVersion, 'location') };
  };
  if (item.deleteAt !== undefined) return deleting();
  const kind = COLLECTIONS[collection].kind;
  if (kind) {
    const active = state.activeRunsOf(item as PipelineEntry, String(item.resource['id']));
    if (active.length > 0) {
      throw armError(
        409,
        'Conflict',
        `The ${kind} pipeline '${(item as PipelineEntry).name}' has pipeline runs in progress (${active.map((r) => r.name).join(', ')}); wait for them to finish or delete them first.`,
      );
    }
  }
  if (emu.knobs.lroStyle !== 'async') {
    if (kind) state.removePipeline(item as PipelineEntry);
    else state.removeRun(item as RunEntry);
    return { status: 200 };
  }
  if (kind) delete (item as PipelineEntry).readyAt;
  // A run's record stays visible as Deleting, but its execution stops now (deleting a run is like deleting its log).
  else (item as RunEntry).generation += 1;
  item.deleteAt = Date.now() + emu.knobs.pipelineProvisioningMs;
  props(item.resource)['provisioningState'] = 'Deleting';
  if (kind) state.savePipeline(item as PipelineEntry);
  else state.saveRun(item as RunEntry, true);
  return deleting();
}

function deleteView(state: ArmState, reg: RegistryState, collection: Collection, item: PipelineEntry | RunEntry): OperationView {
  const name = (item as { name: string }).name;
  return { status: findItem(state, reg, collection, name) === item ? 'InProgress' : 'Succeeded' };
}
