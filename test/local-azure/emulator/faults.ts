/**
 * Fault injection: the faults `POST {controlUrl}/faults` sets (kind 429, 429-no-retry-after, 500, 503, reset, delay)
 * apply to the next `count` requests that match their service, method and path, on every port and every service but
 * the control API. The server calls `injectFault` before it hands a request to its route.
 */
import type { ServerResponse } from 'node:http';
import { registryError } from './acr/errors';
import { armError } from './arm/frame';
import type { Fault, Knobs } from './context';
import { identityError } from './entra/managed-identity';
import { HttpError, sendJson } from './http';
import { kvError } from './keyvault-errors';
import { storageError } from './storage-front';
import type { Service } from './router';

/** The runFailures knob: the first one matching the run or pipeline name is used up and gives the run's error message. */
export function takeRunFailure(knobs: Knobs, runName: string, pipelineName: string): string | undefined {
  const f = knobs.runFailures.find((x) => x.count > 0 && (new RegExp(x.match).test(runName) || new RegExp(x.match).test(pipelineName)));
  if (!f) return undefined;
  f.count -= 1;
  knobs.runFailures = knobs.runFailures.filter((x) => x.count > 0);
  return f.message;
}

/** The first fault that matches, counted down (and dropped once used up). */
function takeFault(knobs: Knobs, service: Service, method: string, pathname: string): Fault | undefined {
  const f = knobs.faults.find(
    (x) =>
      x.count > 0 &&
      (x.service === undefined || x.service === '*' || x.service === service) &&
      (x.method === undefined || x.method.toUpperCase() === method) &&
      new RegExp(x.path).test(pathname),
  );
  if (f) f.count -= 1;
  knobs.faults = knobs.faults.filter((x) => x.count > 0);
  return f;
}

/**
 * An injected failure in the shape of the service it hits: the ACR data plane answers with the registry API's
 * `{"errors":[{code,message,detail}]}` (distribution's TOOMANYREQUESTS / UNKNOWN / UNAVAILABLE codes), everything else
 * with `{"error":{code,message}}`, storage with its XML `<Error>`; the server has put the service's request ids on it
 * (tracking.ts), as on every answer.
 */
function injectedError(
  service: Service,
  status: number,
  codes: { readonly code: string; readonly acrCode: string; readonly storageCode: string },
  message: string,
  extra: Record<string, string> = {},
): HttpError {
  switch (service) {
    case 'acr':
      return registryError(status, codes.acrCode, message, null, extra);
    case 'arm':
      return armError(status, codes.code, message, undefined, extra);
    case 'keyvault':
      return kvError(status, codes.code, message, undefined, extra);
    case 'storage':
      return storageError(status, codes.storageCode, message, extra);
    case 'msi': {
      const e = identityError(status, message);
      return new HttpError(e.status, e.body, extra);
    }
    default:
      return armError(status, codes.code, message, undefined, extra);
  }
}

// Storage answers throttling as 503 ServerBusy; 429 and 500 keep their status with storage's nearest codes.
const THROTTLED = { code: 'TooManyRequests', acrCode: 'TOOMANYREQUESTS', storageCode: 'ServerBusy' };
const SERVER_ERROR = { code: 'InternalServerError', acrCode: 'UNKNOWN', storageCode: 'InternalError' };
const UNAVAILABLE = { code: 'ServiceUnavailable', acrCode: 'UNAVAILABLE', storageCode: 'ServerBusy' };

/** Answers with the fault; returns true when the request must not be handled any further. */
function applyFault(f: Fault, service: Service, res: ServerResponse): boolean {
  const answer = (status: number, codes: typeof THROTTLED, message: string, extra: Record<string, string> = {}): true => {
    const e = injectedError(service, status, codes, message, extra);
    if (typeof e.body === 'string') {
      res.writeHead(e.status, { ...e.headers });
      res.end(e.body);
    } else sendJson(res, e.status, e.body, { ...e.headers });
    return true;
  };
  switch (f.kind) {
    case 'delay': {
      // The request is handled at once and only its answer is held back, as when ARM accepted a PUT but the
      // client gave up waiting: the resource exists although the client never saw the response.
      const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        setTimeout(() => end(...args), f.delayMs ?? 1000);
        return res;
      }) as ServerResponse['end'];
      return false;
    }
    case 'reset':
      res.socket?.destroy();
      return true;
    case '429':
      return answer(429, THROTTLED, 'Injected throttling (local Azure fault).', { 'retry-after': String(f.retryAfterSeconds ?? 1) });
    case '429-no-retry-after':
      return answer(429, THROTTLED, 'Injected throttling without Retry-After (local Azure fault).');
    case '500':
      return answer(500, SERVER_ERROR, 'Injected server error (local Azure fault).');
    case '503':
      return answer(
        503,
        UNAVAILABLE,
        'Injected unavailability (local Azure fault).',
        f.retryAfterSeconds !== undefined ? { 'retry-after': String(f.retryAfterSeconds) } : {},
      );
  }
}

/**
 * Applies the next fault that matches the request, if any. Returns its kind (for the request log) and whether it
 * answered the request (or reset the connection), so that the request must not be handled any further.
 */
export function injectFault(
  knobs: Knobs,
  service: Service,
  method: string,
  pathname: string,
  res: ServerResponse,
): { readonly kind: Fault['kind']; readonly answered: boolean } | undefined {
  const f = takeFault(knobs, service, method, pathname);
  return f ? { kind: f.kind, answered: applyFault(f, service, res) } : undefined;
}
