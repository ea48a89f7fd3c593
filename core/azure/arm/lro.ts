/**
 * Long-running operations (PUT and DELETE of pipelines and runs), as the service really answers
 * (docs/azure-service.md#long-running-operations). `lroMode` reads the first answer and decides how the operation ends,
 * as @azure/core-lro's inferLroMode does; `longRunning` carries that out with core/retry.ts's pollUntil:
 * - PUT 200 with a terminal provisioningState: done;
 * - PUT 200/201 with a non-terminal provisioningState and no header: poll GET of the resource;
 * - 200/201/202 with Azure-AsyncOperation: poll that URL (opaque: ACR signs it) until Succeeded/Failed/Canceled;
 * - 202 with Location: poll it until it stops answering 202;
 * - DELETE 202 without either header: GET the resource until it answers 404.
 */
import type { HttpHeaders } from '@azure/core-rest-pipeline';
import { definedOnly } from '../../domain/objects';
import { AzureRequestError } from '../../errors';
import { pollUntil } from '../../retry';
import { describe, fixFor, responseError, type Target } from './errors';
import type { AsyncOperationStatus } from './models';
import type { ArmResponse, ArmTransport } from './transport';

export type LroMethod = 'PUT' | 'DELETE';

/** After a monitor URL says the operation is over: a PUT reads its resource (final-state-via original-uri), a DELETE is done. */
type Then = 'poll-resource' | 'done';

export type LroMode =
  /** Not an answer an operation starts with. */
  | { readonly mode: 'error' }
  /** Over already: a PUT's body is the final resource. */
  | { readonly mode: 'done' }
  | { readonly mode: 'azure-async-operation'; readonly url: string; readonly then: Then }
  | { readonly mode: 'location'; readonly url: string; readonly then: Then }
  /** GET the resource until its provisioningState is terminal. */
  | { readonly mode: 'poll-resource' }
  /** GET the resource until it answers 404. */
  | { readonly mode: 'until-gone' };

const TERMINAL_STATES: readonly string[] = ['succeeded', 'failed', 'canceled', 'cancelled'];

function isTerminalState(state: string | undefined): boolean {
  return state !== undefined && TERMINAL_STATES.includes(state.toLowerCase());
}

function provisioningState(body: unknown): string | undefined {
  const p = (body as { properties?: { provisioningState?: unknown } } | undefined)?.properties?.provisioningState;
  return typeof p === 'string' ? p : undefined;
}

/** How the operation that `method` started ends, from its first answer. */
export function lroMode(method: LroMethod, res: { readonly status: number; readonly headers: Pick<HttpHeaders, 'get'>; readonly body: unknown }): LroMode {
  if (method === 'DELETE' && res.status === 204) return { mode: 'done' };
  if (res.status < 200 || res.status > 202) return { mode: 'error' };
  if (method === 'PUT' && isTerminalState(provisioningState(res.body))) return { mode: 'done' };
  const then: Then = method === 'PUT' ? 'poll-resource' : 'done';
  const asyncUrl = res.headers.get('azure-asyncoperation');
  if (asyncUrl) return { mode: 'azure-async-operation', url: asyncUrl, then };
  const location = res.headers.get('location');
  if (location && res.status === 202) return { mode: 'location', url: location, then };
  if (method === 'PUT') return { mode: 'poll-resource' };
  return res.status === 202 ? { mode: 'until-gone' } : { mode: 'done' };
}

/** Sends a PUT or DELETE and waits for its operation to end; returns the final resource (PUT) or undefined (DELETE). */
export async function longRunning(http: ArmTransport, method: LroMethod, url: string, body: unknown, t: Target): Promise<unknown> {
  const res = await http.send(method, url, body, t);
  const m = lroMode(method, res);
  switch (m.mode) {
    case 'error':
      throw responseError(res, t);
    case 'done':
      return method === 'PUT' ? res.body : undefined;
    case 'poll-resource':
      return pollResource(http, url, t);
    case 'until-gone':
      await pollUntil(
        async () => ({ value: (await http.send('GET', url, undefined, t)).status === 404 }),
        http.pollOptions(t, (gone: boolean) => gone),
      );
      return undefined;
    case 'azure-async-operation':
      await pollAsyncOperation(http, http.checkedUrl(m.url, t), t, http.retryAfter(res));
      break;
    case 'location':
      await pollLocation(http, http.checkedUrl(m.url, t), t, http.retryAfter(res));
      break;
  }
  return m.then === 'poll-resource' ? pollResource(http, url, t) : undefined;
}

/** A poll's value with the Retry-After its answer carried, if any. */
function polled<T>(value: T, http: ArmTransport, res: ArmResponse): { value: T; retryAfterMs?: number } {
  return { value, ...definedOnly<{ retryAfterMs?: number }>({ retryAfterMs: http.retryAfter(res) }) };
}

async function firstWait(http: ArmTransport, ms: number | undefined): Promise<void> {
  if (ms !== undefined) await http.clock.sleep(Math.min(ms, http.poll.maxIntervalMs), http.signal);
}

/** Final state via GET of the resource (final-state-via: azure-async-operation / original-uri). */
async function pollResource(http: ArmTransport, url: string, t: Target): Promise<unknown> {
  const get: Target = { ...t, method: 'GET' };
  return pollUntil(
    async () => {
      const r = await http.send('GET', url, undefined, get);
      if (r.status !== 200) throw responseError(r, get);
      return polled(r.body, http, r);
    },
    http.pollOptions(t, (v: unknown) => isTerminalState(provisioningState(v))),
  );
}

async function pollAsyncOperation(http: ArmTransport, url: string, t: Target, firstWaitMs: number | undefined): Promise<void> {
  await firstWait(http, firstWaitMs);
  const op = await pollUntil(
    async () => {
      const r = await http.send('GET', url, undefined, { ...t, method: 'GET' });
      if (r.status !== 200 && r.status !== 202) throw responseError(r, t);
      return polled((r.body ?? {}) as AsyncOperationStatus, http, r);
    },
    http.pollOptions(t, (s: AsyncOperationStatus) => isTerminalState(s.status)),
  );
  if (op.status?.toLowerCase() !== 'succeeded') {
    const code = op.error?.code ?? op.status ?? 'Failed';
    throw new AzureRequestError(
      describe(t),
      200,
      code,
      op.error?.message ?? `the operation ended ${op.status ?? 'without a status'}`,
      undefined,
      fixFor(200, code, op.error?.message ?? '', t),
    );
  }
}

async function pollLocation(http: ArmTransport, url: string, t: Target, firstWaitMs: number | undefined): Promise<void> {
  await firstWait(http, firstWaitMs);
  await pollUntil(
    async () => {
      const r = await http.send('GET', url, undefined, { ...t, method: 'GET' });
      if (r.status === 202) return polled(false, http, r);
      // The operation's resource is gone: for a DELETE that is the point.
      if (r.status === 404 && t.method === 'DELETE') return { value: true };
      if (r.status >= 200 && r.status < 300) return { value: true };
      throw responseError(r, t);
    },
    http.pollOptions(t, (finished: boolean) => finished),
  );
}
