/**
 * The local Azure emulator: one HTTPS port for ARM, Entra, Key Vault, the GitHub-style OIDC issuer and
 * the control API, and one HTTPS port per registry for its ACR data plane.
 * Usage: node --import tsx main.ts <path of emulator.json>
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorConfig, Side } from '../config';
import { registerAcr } from './acr/front-end';
import { registerArm } from './arm/routes';
import { type Emulator, defaultKnobs, type Fault } from './context';
import { registerControl } from './control';
import { registerEntra } from './entra/routes';
import { correlationHeaders } from './arm/frame';
import { HttpError, redactedPath, sendJson } from './http';
import { Router, type Service } from './router';
import { registerKeyVault } from './keyvault';
import { createRunExecutor } from './transfer/runner';
import { startSourceTriggers } from './transfer/trigger';

export interface RequestLogEntry {
  readonly time: string;
  readonly port: number;
  readonly service: Service | 'unknown';
  readonly method: string;
  readonly path: string;
  /** The status the emulator answered; 0 when it never handled the request (the client went away first). */
  readonly status: number;
  readonly ms: number;
  readonly fault?: Fault['kind'];
  /** The client closed the connection before the whole answer reached it. */
  readonly clientGone?: true;
}

function takeFault(emu: Emulator, service: Service, method: string, pathname: string): Fault | undefined {
  const f = emu.knobs.faults.find(
    (x) =>
      x.count > 0 &&
      (x.service === undefined || x.service === '*' || x.service === service) &&
      (x.method === undefined || x.method.toUpperCase() === method) &&
      new RegExp(x.path).test(pathname),
  );
  if (f) f.count -= 1;
  emu.knobs.faults = emu.knobs.faults.filter((x) => x.count > 0);
  return f;
}

/**
 * The body and headers an injected failure gets, in the shape of the service it hits: the ACR data plane answers with
 * the registry API's `{"errors":[{code,message,detail}]}` (distribution's TOOMANYREQUESTS / UNKNOWN / UNAVAILABLE codes),
 * everything else with ARM's `{"error":{code,message}}`; ARM and Key Vault answers carry their request ids, as real ones do.
 */
function faultAnswer(
  service: Service,
  raw: IncomingMessage,
  code: string,
  acrCode: string,
  message: string,
): { body: unknown; headers: Record<string, string> } {
  if (service === 'acr')
    return { body: { errors: [{ code: acrCode, message, detail: null }] }, headers: { 'docker-distribution-api-version': 'registry/2.0' } };
  const headers = service === 'arm' ? correlationHeaders(raw) : service === 'keyvault' ? { 'x-ms-request-id': randomUUID() } : {};
  return { body: { error: { code, message } }, headers };
}

/** Answers with the fault; returns true when the request must not be handled any further. */
async function applyFault(f: Fault, service: Service, raw: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const answer = (status: number, code: string, acrCode: string, message: string, extra: Record<string, string> = {}): true => {
    const a = faultAnswer(service, raw, code, acrCode, message);
    sendJson(res, status, a.body, { ...a.headers, ...extra });
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
      return answer(429, 'TooManyRequests', 'TOOMANYREQUESTS', 'Injected throttling (local Azure fault).', { 'retry-after': String(f.retryAfterSeconds ?? 1) });
    case '429-no-retry-after':
      return answer(429, 'TooManyRequests', 'TOOMANYREQUESTS', 'Injected throttling without Retry-After (local Azure fault).');
    case '500':
      return answer(500, 'InternalServerError', 'UNKNOWN', 'Injected server error (local Azure fault).');
    case '503':
      return answer(
        503,
        'ServiceUnavailable',
        'UNAVAILABLE',
        'Injected unavailability (local Azure fault).',
        f.retryAfterSeconds !== undefined ? { 'retry-after': String(f.retryAfterSeconds) } : {},
      );
  }
}

function serve(emu: Emulator, router: Router, port: number, log: (e: RequestLogEntry) => void): Server {
  const tls = { cert: readFileSync(emu.config.certPath), key: readFileSync(emu.config.keyPath) };
  const server = createServer(tls, (raw: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const url = new URL(raw.url ?? '/', `https://${raw.headers.host ?? `${emu.config.host}:${port}`}`);
    const method = (raw.method ?? 'GET').toUpperCase();
    const found = router.match(method, url.pathname);
    const service: Service | 'unknown' = 'route' in found ? found.route.service : 'unknown';
    let faultKind: Fault['kind'] | undefined;
    // Set once a handler has produced its answer, even if a held (delay fault) answer never reaches the client.
    let handled = false;
    res.on('finish', () =>
      log({
        time: new Date(started).toISOString(),
        port,
        service,
        method,
        path: redactedPath(url),
        status: res.statusCode,
        ms: Date.now() - started,
        ...(faultKind ? { fault: faultKind } : {}),
      }),
    );
    res.on('close', () => {
      if (!res.writableFinished)
        log({
          time: new Date(started).toISOString(),
          port,
          service,
          method,
          path: redactedPath(url),
          status: handled ? res.statusCode : 0,
          ms: Date.now() - started,
          ...(faultKind ? { fault: faultKind } : {}),
          clientGone: true,
        });
    });
    void (async () => {
      try {
        if (!('route' in found)) {
          if (found.pathMatched) throw new HttpError(405, { error: { code: 'MethodNotAllowed', message: `${method} is not supported on ${url.pathname}` } });
          throw new HttpError(404, { error: { code: 'NotFound', message: `No local Azure endpoint at ${url.pathname}` } });
        }
        if (found.route.service !== 'control') {
          const fault = takeFault(emu, found.route.service, method, url.pathname);
          if (fault) {
            faultKind = fault.kind;
            if (await applyFault(fault, found.route.service, raw, res)) return;
          }
        }
        await found.route.handler({ service: found.route.service, method, url, headers: raw.headers, raw, params: found.params }, res);
        handled = true;
      } catch (e) {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (e instanceof HttpError) {
          if (typeof e.body === 'string') {
            res.writeHead(e.status, { 'content-type': 'text/plain', ...e.headers });
            res.end(e.body);
          } else sendJson(res, e.status, e.body, { ...e.headers });
        } else {
          process.stderr.write(`emulator error on ${method} ${url.pathname}: ${(e as Error).stack ?? String(e)}\n`);
          sendJson(res, 500, { error: { code: 'InternalServerError', message: (e as Error).message } });
        }
      }
    })();
  });
  server.keepAliveTimeout = 5000;
  server.listen(port, emu.config.host);
  return server;
}

export function startEmulator(config: EmulatorConfig): { emu: Emulator; close: () => Promise<void> } {
  const logStream = createWriteStream(config.requestLogPath, { flags: 'a' });
  const log = (e: RequestLogEntry): void => void logStream.write(`${JSON.stringify(e)}\n`);
  // The parts fill in their services when they register; the placeholders fail loudly if one is missing.
  const missing = (what: string) => () => {
    throw new Error(`emulator part not registered: ${what}`);
  };
  const emu: Emulator = {
    config,
    knobs: defaultKnobs(),
    baseUrl: `https://${config.host}:${config.port}`,
    tokens: { verifyAccessToken: missing('tokens') },
    secrets: { readSecret: missing('secrets') },
    arm: { getPipeline: missing('arm'), listPipelines: missing('arm'), createTriggeredRun: missing('arm') },
    runs: { start: missing('runs') },
    access: {
      secretGetDenial: missing('access'),
      blobDenial: missing('access'),
      vault: { name: config.keyVaultName, uri: `https://${config.host}:${config.port}/` },
    },
  };
  const main = new Router();
  registerControl(main, emu);
  registerEntra(main, emu);
  registerKeyVault(main, emu);
  registerArm(main, emu);
  emu.runs = createRunExecutor(emu);
  const servers = [serve(emu, main, config.port, log)];
  for (const side of ['source', 'target'] as Side[]) {
    const r = new Router();
    registerAcr(r, emu, config.registries[side]);
    servers.push(serve(emu, r, config.registries[side].port, log));
  }
  const stopTriggers = startSourceTriggers(emu);
  return {
    emu,
    close: async () => {
      stopTriggers();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      logStream.end();
    },
  };
}

if (require.main === module) {
  const configPath = process.argv[2];
  if (!configPath) {
    process.stderr.write('usage: main.ts <emulator.json>\n');
    process.exit(2);
  }
  const { close } = startEmulator(JSON.parse(readFileSync(configPath, 'utf8')) as EmulatorConfig);
  const stop = (): void => void close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
