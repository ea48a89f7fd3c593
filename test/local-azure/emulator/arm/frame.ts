/**
 * The ARM request frame: what every ARM call of the local Azure goes through, whatever its resource type, so that
 * the resource routes (routes.ts) hold only what is theirs.
 * - Bearer auth with an ARM audience first (401 with ARM's WWW-Authenticate), then the api-version's presence; a
 *   resource's own checks (scope, api-version support, names) follow in its route, in ARM's order.
 * - (The request-tracking headers are the server's, on every answer: tracking.ts.)
 * - ARM's error body (common-types v6 ErrorResponse) and ARM's usual errors: subscription, resource group, resource not
 *   found, a body that does not match its swagger definition, and the answers for paths and methods no route serves.
 * A handler returns its answer; the frame sends it. Routes match case-insensitively, as ARM paths do.
 */
import { ARM_AUDIENCES, type Emulator, type Json } from '../context';
import { bearerToken, headerValue, HttpError, readJson, sendJson } from '../http';
import type { Claims } from '../jwt';
import type { Fallback, Handler, Request, Router } from '../router';
import { validate } from './schema';

export const RESOURCE_NOT_FOUND_HELP = 'For more details please go to https://aka.ms/ARMResourceNotFoundFix';
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Route pattern pieces (regular expression source) with the groups `sub` and `rg`. */
export const SUBSCRIPTION = String.raw`/subscriptions/(?<sub>[^/]+)`;
export const RESOURCE_GROUP = String.raw`${SUBSCRIPTION}/resourceGroups/(?<rg>[^/]+)`;

/** What a handler gets once the frame's checks have passed. */
export interface ArmRequest extends Request {
  readonly claims: Claims;
  /** The api-version query parameter as sent. */
  readonly apiVersion: string;
}

export interface ArmAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type ArmHandler = (req: ArmRequest) => Promise<ArmAnswer> | ArmAnswer;

// ---- errors

/** ARM's error body: `{"error":{"code","message","target"?}}`. */
export function armError(status: number, code: string, message: string, target?: string, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { error: { code, message, ...(target !== undefined ? { target } : {}) } }, headers);
}

export const badRequest = (code: string, message: string, target?: string): HttpError => armError(400, code, message, target);

export function resourceNotFound(rg: string, typePath: string): HttpError {
  return armError(404, 'ResourceNotFound', `The Resource '${typePath}' under resource group '${rg}' was not found. ${RESOURCE_NOT_FOUND_HELP}`);
}

export function missingApiVersion(): HttpError {
  return badRequest('MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
}

/** The answer to a path no route serves (404), or a method no route of that path serves (405). */
export const ARM_FALLBACK: Fallback = {
  service: 'arm',
  answer: (method, url, pathMatched) =>
    pathMatched
      ? armError(405, 'MethodNotAllowed', `${method} is not supported on ${url.pathname}`)
      : armError(404, 'NotFound', `No local Azure endpoint at ${url.pathname}`),
};

// ---- the request

function wwwAuthenticate(emu: Emulator, description: string): Record<string, string> {
  const d = description.replace(/["\\]/g, "'");
  return { 'www-authenticate': `Bearer authorization_uri="${emu.baseUrl}/${emu.config.tenantId}", error="invalid_token", error_description="${d}"` };
}

function authenticate(emu: Emulator, req: Request): Claims {
  if (!headerValue(req.headers.authorization)) {
    throw armError(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
      undefined,
      wwwAuthenticate(emu, "The authentication failed because of missing 'Authorization' header."),
    );
  }
  const token = bearerToken(req);
  if (!token) {
    const message = "Authentication failed. The 'Authorization' header is provided in an invalid format.";
    throw armError(401, 'AuthenticationFailedInvalidHeader', message, undefined, wwwAuthenticate(emu, message));
  }
  const r = emu.tokens.verifyAccessToken(token, ARM_AUDIENCES);
  if (!r.ok) throw armError(r.status, r.code, r.message, undefined, wwwAuthenticate(emu, r.message));
  return r.claims;
}

export function checkSubscription(emu: Emulator, sub: string): void {
  if (!GUID.test(sub)) throw badRequest('InvalidSubscriptionId', `The provided subscription identifier '${sub}' is malformed or invalid.`);
  if (sub.toLowerCase() !== emu.config.subscriptionId.toLowerCase())
    throw armError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
}

export function checkScope(emu: Emulator, sub: string, rg: string): void {
  checkSubscription(emu, sub);
  if (rg.toLowerCase() !== emu.config.resourceGroup.toLowerCase()) throw armError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
}

/** The path's subscription (`sub`) and, where the path has one, its resource group (`rg`), checked. */
export function checkPathScope(emu: Emulator, req: Request): void {
  const { sub = '', rg } = req.params;
  if (rg === undefined) checkSubscription(emu, sub);
  else checkScope(emu, sub, rg);
}

/** A body checked against its swagger definition (schema.ts); an empty or non-conforming one is 400 InvalidRequestContent. */
export async function readArmBody(req: Request, definition: string): Promise<Json> {
  const body = await readJson(req);
  if (body === undefined)
    throw badRequest(
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: the body is empty; a JSON ${definition} is required.`,
    );
  const errors = validate(definition, body, 'request');
  if (errors.length > 0) {
    const first = errors[0]!;
    const more = errors.length > 1 ? ` (${errors.length - 1} more problem${errors.length > 2 ? 's' : ''} in details)` : '';
    throw new HttpError(400, {
      error: {
        code: 'InvalidRequestContent',
        message: `The request content was invalid and could not be deserialized: '${first.message}. Path '${first.path}'.'${more}`,
        target: first.path,
        details: errors.map((e) => ({ code: 'InvalidRequestContent', target: e.path, message: `${e.message}. Path '${e.path}'.` })),
      },
    });
  }
  return body as Json;
}

// ---- routes

/** Wraps a handler in the frame: the checks every ARM call gets. */
function framed(emu: Emulator, handler: ArmHandler): Handler {
  return async (req, res) => {
    const claims = authenticate(emu, req);
    const apiVersion = req.url.searchParams.get('api-version');
    if (!apiVersion) throw missingApiVersion();
    const answer = await handler({ ...req, claims, apiVersion });
    sendJson(res, answer.status, answer.body, { ...answer.headers });
  };
}

/** `add(method, pattern, handler)` registers an ARM route; `pattern` is the whole path (regular expression source). */
export function armRoutes(router: Router, emu: Emulator): (method: string, pattern: string, handler: ArmHandler) => void {
  return (method, pattern, handler) => void router.add('arm', method, new RegExp(`^${pattern}$`, 'i'), framed(emu, handler));
}
