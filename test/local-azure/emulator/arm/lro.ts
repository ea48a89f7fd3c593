/**
 * Long-running operations, in both styles the `lroStyle` knob chooses between (docs/local-azure.md#open-questions,
 * open question 1): in `async` style a PUT answers with Azure-AsyncOperation and a DELETE with 202 + Location, both
 * pointing at `…/{resource}/operationStatuses/{operation}`; this file keeps those operations and serves that endpoint
 * (a status body for Azure-AsyncOperation, 202 until done and then 204 for Location).
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Emulator, Json } from '../context';
import type { DiskState } from '../disk';
import type { HttpError } from '../http';
import { type ArmAnswer, armError, badRequest } from './frame';
import { type ItemCall, registryTypePath } from './registry-scope';
import { type Collection, COLLECTIONS } from './state';

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

export interface OperationView {
  readonly status: OperationStatus;
  readonly endTime?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/** A long-running operation that an Azure-AsyncOperation or Location URL points at. */
export interface OperationEntry {
  /** `<prefix>-<guid>` */
  readonly name: string;
  /** The resource id it belongs to (the URL path up to /operationStatuses). */
  readonly resourceId: string;
  /** `async`: Azure-AsyncOperation status body; `location`: DELETE's Location (202 until done, then 204). */
  readonly style: 'async' | 'location';
  readonly startTime: string;
  readonly t: string;
  readonly view: () => OperationView;
}

const MAX_OPERATIONS = 2000;

export class Operations {
  private readonly operations = new Map<string, OperationEntry>();
  private readonly signingKey: Buffer;

  constructor(
    private readonly baseUrl: string,
    disk: DiskState,
  ) {
    this.signingKey = Buffer.from(
      disk.kept('lro', () => randomBytes(32).toString('base64')),
      'base64',
    );
  }

  create(collection: Collection, resourceId: string, style: OperationEntry['style'], view: () => OperationView): OperationEntry {
    const name = `${COLLECTIONS[collection].opPrefix}-${randomUUID()}`;
    let ended: OperationView | undefined;
    const op: OperationEntry = {
      name,
      resourceId,
      style,
      startTime: new Date().toISOString(),
      t: Date.now().toString(36),
      // Terminal views are frozen with their end time, so repeated polls agree.
      view: () => {
        if (ended) return ended;
        const v = view();
        if (v.status !== 'InProgress') ended = { ...v, endTime: v.endTime ?? new Date().toISOString() };
        return ended ?? v;
      },
    };
    this.operations.set(name.toLowerCase(), op);
    if (this.operations.size > MAX_OPERATIONS) this.operations.delete(this.operations.keys().next().value!);
    return op;
  }

  get(name: string): OperationEntry | undefined {
    return this.operations.get(name.toLowerCase());
  }

  /** The opaque `s` query value: clients must use the monitor URL as given, not rebuild it. */
  signature(op: OperationEntry): string {
    return createHmac('sha256', this.signingKey).update(`${op.name}|${op.t}`).digest('base64url');
  }

  url(op: OperationEntry, apiVersion: string): string {
    const q = new URLSearchParams({ 'api-version': apiVersion, t: op.t, s: this.signature(op) });
    return `${this.baseUrl}${op.resourceId}/operationStatuses/${op.name}?${q.toString()}`;
  }
}

/** The headers of an async-style answer: the monitor URL in `header`, and Retry-After. */
export function asyncHeaders(
  emu: Emulator,
  operations: Operations,
  op: OperationEntry,
  apiVersion: string,
  header: 'azure-asyncoperation' | 'location',
): Record<string, string> {
  return { [header]: operations.url(op, apiVersion), 'retry-after': String(emu.knobs.asyncRetryAfterSeconds) };
}

/** 409 while an operation on the resource is still in progress. */
export function inProgressConflict(what: string, state: string): HttpError {
  return armError(409, 'Conflict', `${what} is in provisioning state '${state}'; wait for the current operation to finish and retry.`);
}

/** `GET …/{collection}/{name}/operationStatuses/{op}` */
export function operationStatus(call: ItemCall): ArmAnswer {
  const { emu, state, operations, reg, collection, name } = call;
  const opName = call.req.params['op'] ?? '';
  state.sweep();
  const op = operations.get(opName);
  const resourceId = state.resourceId(reg, collection, name);
  if (!op || op.resourceId.toLowerCase() !== resourceId.toLowerCase()) {
    throw armError(404, 'OperationNotFound', `The operation '${opName}' was not found for '${registryTypePath(reg)}/${collection}/${name}'.`);
  }
  const q = call.req.url.searchParams;
  if (q.get('t') !== op.t || q.get('s') !== operations.signature(op)) {
    throw badRequest(
      'InvalidOperationStatusUrl',
      'The operation status URL is incomplete or was altered; poll the Azure-AsyncOperation/Location URL exactly as returned.',
    );
  }
  const v = op.view();
  const retry = { 'retry-after': String(emu.knobs.asyncRetryAfterSeconds) };
  if (op.style === 'location') {
    if (v.status === 'InProgress') return { status: 202, headers: { location: operations.url(op, call.apiVersion), ...retry } };
    return { status: 204 };
  }
  const body: Json = {
    id: `${op.resourceId}/operationStatuses/${op.name}`,
    name: op.name,
    status: v.status,
    startTime: op.startTime,
    ...(v.endTime !== undefined ? { endTime: v.endTime } : {}),
    ...(v.error ? { error: v.error } : {}),
  };
  return { status: 200, body, headers: v.status === 'InProgress' ? retry : {} };
}
