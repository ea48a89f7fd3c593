/**
 * The storage accounts' blob endpoints as a cloud names them, https://<account>.blob.<suffix>:<port>/ (the account in
 * the host name, under the suffix metadata/endpoints declares), in front of the one Azurite that holds both accounts
 * (docs/local-azure.md#one-azurite-for-both-accounts). Requests and answers are streamed through untouched, except
 * for where they go:
 * - a request signed with the account key (SharedKey) keeps its host-style name: Azurite canonicalises the signed
 *   resource from the host, as the client did;
 * - every other request (bearer tokens, SAS) goes path-style to https://127.0.0.1:<azurite>/<account>/…, and a copy
 *   source on one of the accounts' hosts is rewritten the same way: Azurite verifies a copy source only on its own
 *   host:port, so a copy between the two accounts works only this way.
 * Every request is in the request log as service 'storage', so a test can prove that a step wrote nothing.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LOCAL_DNS_SUFFIX, type StorageEnv } from '../config';
import type { Emulator } from './context';
import { headerValue, HttpError } from './http';
import { HOP_BY_HOP, relay } from './relay';
import type { Fallback, Request, Router } from './router';

/** Storage's XML error body, with its code in x-ms-error-code as the service sends it. */
export function storageError(status: number, code: string, message: string, headers: Record<string, string> = {}): HttpError {
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  return new HttpError(status, body, { 'content-type': 'application/xml', 'x-ms-error-code': code, ...headers });
}

const escaped = LOCAL_DNS_SUFFIX.replace(/\./g, '\\.');
/** `https://<account>.blob.<suffix>:<port>` at the start of a URL. */
const ACCOUNT_ORIGIN = new RegExp(`^https://([a-z0-9]{3,24})\\.blob\\.${escaped}(?::(\\d+))?(?=/|\\?|$)`, 'i');

/** The account a host-style blob host names (`<account>.blob.<suffix>`), if it is one of the local Azure's. */
function accountOf(emu: Emulator, hostname: string): StorageEnv | undefined {
  const m = new RegExp(`^([a-z0-9]{3,24})\\.blob\\.${escaped}$`, 'i').exec(hostname);
  const name = m?.[1]?.toLowerCase();
  return [emu.config.storage.source, emu.config.storage.target].find((s) => s.account === name);
}

/**
 * A URL on one of the accounts' blob endpoints as Azurite's own path-style URL; any other URL unchanged. The emulator's
 * transfer service reads and writes blobs this way, straight at Azurite.
 */
export function azuriteUrlOf(emu: Emulator, url: string): string {
  return url.replace(ACCOUNT_ORIGIN, (whole, account: string, port: string | undefined) => {
    const known = [emu.config.storage.source, emu.config.storage.target].some((s) => s.account === account.toLowerCase());
    return known && (port === undefined || Number(port) === emu.config.storagePort) ? `${emu.config.azuriteUrl}/${account.toLowerCase()}` : whole;
  });
}

function forwardedHeaders(emu: Emulator, headers: IncomingHttpHeaders, host: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  out['host'] = host;
  const source = headerValue(headers['x-ms-copy-source']);
  if (source !== undefined) out['x-ms-copy-source'] = azuriteUrlOf(emu, source);
  return out;
}

function proxy(emu: Emulator, req: Request, res: ServerResponse): Promise<void> {
  const account = accountOf(emu, req.url.hostname);
  if (!account)
    throw storageError(400, 'InvalidUri', `The requested URI does not represent any resource on the server: '${req.url.hostname}' is not a blob endpoint.`);
  const azurite = new URL(emu.config.azuriteUrl);
  const sharedKey = /^SharedKey(Lite)?\s/i.test(headerValue(req.headers.authorization) ?? '');
  const raw = req.raw.url ?? '/';
  // SharedKey: the name the client signed; everything else: Azurite's own path-style address.
  const host = sharedKey ? `${req.url.hostname}:${azurite.port}` : azurite.host;
  const path = sharedKey ? raw : `/${account.account}${raw}`;
  return relay(req, res, {
    send: (onAnswer) =>
      httpsRequest({ hostname: azurite.hostname, port: azurite.port, method: req.method, path, headers: forwardedHeaders(emu, req.headers, host) }, onAnswer),
    headers: (upRes) => {
      const headers: string[] = [];
      for (let i = 0; i + 1 < upRes.rawHeaders.length; i += 2)
        if (!HOP_BY_HOP.has(upRes.rawHeaders[i]!.toLowerCase())) headers.push(upRes.rawHeaders[i]!, upRes.rawHeaders[i + 1]!);
      return headers;
    },
    unavailable: (e) => storageError(503, 'ServerBusy', `The storage backend did not answer: ${e.message}`),
  });
}

/** Never used in practice: the front serves every path of every method. */
export const STORAGE_FALLBACK: Fallback = {
  service: 'storage',
  answer: (_method, url) => storageError(400, 'InvalidUri', `The requested URI does not represent any resource on the server: ${url.pathname}`),
};

export function registerStorageFront(router: Router, emu: Emulator): void {
  router.add('storage', '*', /^\//, (req, res) => proxy(emu, req, res));
}
