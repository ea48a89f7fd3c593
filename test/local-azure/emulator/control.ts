import { readFileSync } from 'node:fs';
import { defaultKnobs, type Emulator, type Fault, type Knobs, type RunFailure } from './context';
import { HttpError, readJson, sendJson } from './http';
import { nowSeconds } from './jwt';
import type { Router } from './router';

const FAULT_KINDS: readonly Fault['kind'][] = ['429', '429-no-retry-after', '500', '503', 'reset', 'delay'];
const SCALAR_KNOBS = [
  'lroStyle',
  'asyncRetryAfterSeconds',
  'pipelineProvisioningMs',
  'runBaseMs',
  'runPerMbMs',
  'triggerIntervalMs',
  'idTokenLifetimeSeconds',
  'accessTokenLifetimeSeconds',
  'enforceAccess',
  'grantDelayMs',
  'tokensIssuedBefore',
] as const;

/** The control API's error: `{"error":{"code":"BadControlRequest",message}}`, for every control route. */
export function controlError(status: number, message: string): HttpError {
  return new HttpError(status, { error: { code: 'BadControlRequest', message } });
}

const bad = (message: string): HttpError => controlError(400, message);

/**
 * The control API (`{controlUrl}`): knobs for tests and benchmarks.
 * - GET/PATCH /_control/knobs — read or change knobs (scalars; `faults` and `runFailures` are appended to).
 * - POST /_control/faults — append one fault `{service?, method?, path, kind, count, retryAfterSeconds?, delayMs?}`.
 * - POST /_control/run-failures — append `{match, message, count}`.
 * - POST /_control/forget-tokens — every Entra access token issued until now is refused from now on (401
 *   InvalidAuthenticationToken), as after a revoked session; tokens issued later pass.
 * - POST /_control/reset — knobs back to defaults.
 * - GET /_control/requests — the JSON-lines request log.
 */
export function registerControl(router: Router, emu: Emulator): void {
  router.add('control', 'GET', /^\/_control\/knobs$/, (_req, res) => sendJson(res, 200, emu.knobs));
  router.add('control', 'PATCH', /^\/_control\/knobs$/, async (req, res) => {
    const body = (await readJson(req)) as Partial<Knobs> | undefined;
    if (!body || typeof body !== 'object') throw bad('body must be a JSON object');
    for (const [k, v] of Object.entries(body)) {
      if (k === 'faults') (v as Fault[]).forEach((f) => emu.knobs.faults.push(checkFault(f)));
      else if (k === 'runFailures') (v as RunFailure[]).forEach((f) => emu.knobs.runFailures.push(checkRunFailure(f)));
      else if ((SCALAR_KNOBS as readonly string[]).includes(k)) {
        const expected = typeof defaultKnobs()[k as (typeof SCALAR_KNOBS)[number]];
        if (typeof v !== expected) throw bad(`knob ${k} must be a ${expected}`);
        if (k === 'lroStyle' && v !== 'sync' && v !== 'async') throw bad('knob lroStyle must be sync or async');
        (emu.knobs as unknown as Record<string, unknown>)[k] = v;
      } else throw bad(`unknown knob ${k}; known: ${[...SCALAR_KNOBS, 'faults', 'runFailures'].join(', ')}`);
    }
    saveKnobs(emu);
    sendJson(res, 200, emu.knobs);
  });
  router.add('control', 'POST', /^\/_control\/faults$/, async (req, res) => {
    emu.knobs.faults.push(checkFault((await readJson(req)) as Fault));
    sendJson(res, 200, emu.knobs.faults);
  });
  router.add('control', 'POST', /^\/_control\/run-failures$/, async (req, res) => {
    emu.knobs.runFailures.push(checkRunFailure((await readJson(req)) as RunFailure));
    sendJson(res, 200, emu.knobs.runFailures);
  });
  router.add('control', 'POST', /^\/_control\/forget-tokens$/, (_req, res) => {
    // Whole seconds (iat): everything issued up to the end of this second is forgotten.
    emu.knobs.tokensIssuedBefore = nowSeconds() + 1;
    sendJson(res, 200, { tokensIssuedBefore: emu.knobs.tokensIssuedBefore });
  });
  router.add('control', 'POST', /^\/_control\/reset$/, (_req, res) => {
    Object.assign(emu.knobs, defaultKnobs());
    saveKnobs(emu);
    sendJson(res, 200, emu.knobs);
  });
  router.add('control', 'GET', /^\/_control\/requests$/, (_req, res) => {
    const text = readFileSync(emu.config.requestLogPath, 'utf8');
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end(text);
  });
}

/** The scalar knobs survive a restart (faults and run failures are one-shot and do not). */
function saveKnobs(emu: Emulator): void {
  emu.disk.write('control', 'knobs', Object.fromEntries(SCALAR_KNOBS.map((k) => [k, emu.knobs[k]])));
}

function checkFault(f: Fault): Fault {
  if (!f || typeof f !== 'object') throw bad('a fault must be an object');
  if (!FAULT_KINDS.includes(f.kind)) throw bad(`fault kind must be one of ${FAULT_KINDS.join(', ')}`);
  if (typeof f.path !== 'string') throw bad('fault path must be a regular expression string');
  try {
    new RegExp(f.path);
  } catch {
    throw bad(`fault path is not a valid regular expression: ${f.path}`);
  }
  if (!Number.isInteger(f.count) || f.count < 1) throw bad('fault count must be a positive integer');
  return { ...f };
}

function checkRunFailure(f: RunFailure): RunFailure {
  if (!f || typeof f.match !== 'string' || typeof f.message !== 'string') throw bad('a run failure needs match and message strings');
  return { match: f.match, message: f.message, count: Number.isInteger(f.count) && f.count > 0 ? f.count : 1 };
}
