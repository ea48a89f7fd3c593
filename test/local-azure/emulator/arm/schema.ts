/**
 * The ACR transfer REST contract as executable JSON Schema: the reference swagger
 * (test/local-azure/spec/acr-2025-06-01-preview/pipelines.swagger.json) compiled with ajv.
 * The emulator validates request bodies with it and the tests validate every response body with it.
 *
 * Swagger 2.0 is not JSON Schema, so definitions are converted per direction, following AutoRest/oav semantics:
 * - `x-ms-enum.modelAsString: true` enums are open strings (AutoRest models them as extensible; the examples rely on it).
 * - `readOnly` properties are ignored in requests (accepted with any value, never required) and checked in responses.
 * - `x-nullable: true` allows null; in responses, a property that is not required may also be null, as oav's
 *   response validation allows (the RegistryGet example returns `"status": null`).
 * - `allOf` parents (ProxyResource, TrackedResource) are merged into the child, so that `additionalProperties: false`
 *   can reject unknown members of pipeline and run bodies (client typos) without rejecting inherited ones.
 * - External `$ref`s to common-types v6 resolve to the local, minimal common-types-v6.json in test/local-azure/spec/.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { COMMON_PREFIX, common, definitionOf, parseRef, type SwaggerDoc, type SwaggerSchema, swagger } from './swagger';

export type Direction = 'request' | 'response';

export interface SchemaError {
  /** Where in the body, e.g. `properties.target.uri` or `properties.request.artifacts[3]`; '' is the body itself. */
  readonly path: string;
  readonly message: string;
}

type JsonSchema = Record<string, unknown> | boolean;

const SCHEMA_BASE = 'https://local-azure.test/schemas';
const MAIN_ID = 'containerregistry.json';
const COMMON_ID = 'common-types-v6.json';

/**
 * Request bodies of these definitions (everything reachable from the three PUT bodies) reject unknown members,
 * so that a client typo (`keyVaultUrl`, `artifact`) is a 400 instead of being silently dropped.
 */
const CLOSED_IN_REQUESTS = new Set([
  'ExportPipeline',
  'ExportPipelineProperties',
  'ExportPipelineTargetProperties',
  'ImportPipeline',
  'ImportPipelineProperties',
  'ImportPipelineSourceProperties',
  'PipelineTriggerProperties',
  'PipelineSourceTriggerProperties',
  'IdentityProperties',
  'UserIdentityProperties',
  'PipelineRun',
  'PipelineRunProperties',
  'PipelineRunRequest',
  'PipelineRunSourceProperties',
  'PipelineRunTargetProperties',
]);

/**
 * The one documented deviation from the swagger: the service returns identity `type` in camelCase
 * (`systemAssigned`, `userAssigned`) though ResourceIdentityType is a closed PascalCase enum
 * (docs/azure-service.md#identity-types-in-responses, observed in recorded traffic). Responses accept the camelCase spelling of
 * each value; requests keep the closed PascalCase enum.
 */
const RESPONSE_ENUM_EXTRAS: Readonly<Record<string, (values: readonly string[]) => string[]>> = {
  ResourceIdentityType: (values) => values.map((v) => v.split(', ').map(camelCase).join(', ')),
};

function camelCase(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

class Converter {
  constructor(private readonly direction: Direction) {}

  definition(name: string, def: SwaggerSchema, inCommon: boolean): JsonSchema {
    if (this.direction === 'request' && def['readOnly'] === true) return true;
    const out = this.schema(def, inCommon);
    if (typeof out === 'object' && Array.isArray(out['enum']) && RESPONSE_ENUM_EXTRAS[name] && this.direction === 'response') {
      const values = out['enum'] as string[];
      out['enum'] = [...new Set([...values, ...RESPONSE_ENUM_EXTRAS[name](values)])];
    }
    if (typeof out === 'object' && this.direction === 'request' && !inCommon && CLOSED_IN_REQUESTS.has(name) && out['additionalProperties'] === undefined) {
      out['additionalProperties'] = false;
    }
    return out;
  }

  /** A property (or array item): handles readOnly and nullability, which depend on where the schema sits. */
  private member(s: SwaggerSchema, inCommon: boolean, required: boolean): JsonSchema {
    if (this.direction === 'request' && s['readOnly'] === true) return true;
    const inner = this.schema(s, inCommon);
    const nullable = s['x-nullable'] === true || (this.direction === 'response' && !required && s['x-nullable'] !== false);
    return nullable ? { anyOf: [inner, { type: 'null' }] } : inner;
  }

  schema(s: SwaggerSchema, inCommon: boolean): JsonSchema {
    const ref = s['$ref'];
    if (typeof ref === 'string') {
      // Swagger 2.0 ignores $ref siblings other than the annotations handled by member().
      const target = parseRef(ref, inCommon);
      return { $ref: `${target.common ? COMMON_ID : MAIN_ID}#/definitions/${target.name}` };
    }
    const out: Record<string, unknown> = {};
    for (const k of ['type', 'format', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'uniqueItems'] as const) {
      if (s[k] !== undefined) out[k] = s[k];
    }
    const xmsEnum = s['x-ms-enum'] as { modelAsString?: boolean } | undefined;
    if (Array.isArray(s['enum']) && xmsEnum?.modelAsString !== true) out['enum'] = [...(s['enum'] as unknown[])];
    if (s['items'] !== undefined) out['items'] = this.member(s['items'] as SwaggerSchema, inCommon, true);
    this.objectParts(s, inCommon, out);
    return out;
  }

  /** properties / required / additionalProperties, with allOf parents merged in. */
  private objectParts(s: SwaggerSchema, inCommon: boolean, out: Record<string, unknown>): void {
    const props: Record<string, SwaggerSchema> = {};
    const required = new Set<string>();
    const collect = (x: SwaggerSchema, xCommon: boolean, own: boolean): void => {
      for (const parent of (x['allOf'] as SwaggerSchema[] | undefined) ?? []) {
        if (typeof parent['$ref'] === 'string') {
          const r = parseRef(parent['$ref'], xCommon);
          collect(definitionOf(r), r.common, false);
        } else collect(parent, xCommon, false);
      }
      for (const [k, v] of Object.entries((x['properties'] as Record<string, SwaggerSchema> | undefined) ?? {}))
        props[k] = own || xCommon === inCommon ? v : rebase(v, xCommon);
      for (const r of (x['required'] as string[] | undefined) ?? []) required.add(r);
    };
    collect(s, inCommon, true);
    const names = Object.keys(props);
    if (names.length > 0) {
      out['properties'] = Object.fromEntries(names.map((k) => [k, this.member(props[k]!, inCommon, required.has(k))]));
      if (out['type'] === undefined) out['type'] = 'object';
    }
    const req = [...required].filter((k) => !(this.direction === 'request' && props[k]?.['readOnly'] === true));
    if (req.length > 0) out['required'] = req;
    const ap = s['additionalProperties'];
    if (typeof ap === 'boolean') out['additionalProperties'] = ap;
    else if (ap && typeof ap === 'object') out['additionalProperties'] = this.member(ap as SwaggerSchema, inCommon, true);
  }
}

/** A property inherited from the other document: its internal $refs must point into that document. */
function rebase(s: SwaggerSchema, fromCommon: boolean): SwaggerSchema {
  const json = JSON.stringify(s, (k, v: unknown) => (k === '$ref' && typeof v === 'string' && v.startsWith('#/') && fromCommon ? `${COMMON_PREFIX}${v}` : v));
  return JSON.parse(json) as SwaggerSchema;
}

function buildDocument(doc: SwaggerDoc, id: string, direction: Direction, inCommon: boolean): Record<string, unknown> {
  const conv = new Converter(direction);
  const definitions = Object.fromEntries(Object.entries(doc.definitions).map(([name, def]) => [name, conv.definition(name, def, inCommon)]));
  return { $id: `${SCHEMA_BASE}/${direction}/${id}`, definitions };
}

/** Formats AutoRest knows beyond ajv-formats' set (https://github.com/Azure/autorest/blob/main/docs/openapi/howto/formats.md style names). */
function addAutorestFormats(ajv: Ajv): void {
  ajv.addFormat('arm-id', { type: 'string', validate: (v: string) => /^\/(subscriptions|providers|tenants)\//i.test(v) || v.startsWith('/') });
  ajv.addFormat('date-time-rfc1123', { type: 'string', validate: (v: string) => !Number.isNaN(Date.parse(v)) });
  ajv.addFormat('date-time-rfc7231', { type: 'string', validate: (v: string) => !Number.isNaN(Date.parse(v)) });
  ajv.addFormat('base64url', { type: 'string', validate: /^[A-Za-z0-9_-]*$/ });
  ajv.addFormat('unixtime', { type: 'number', validate: (v: number) => Number.isInteger(v) });
  ajv.addFormat('decimal', { type: 'number', validate: () => true });
  ajv.addFormat('char', { type: 'string', validate: (v: string) => v.length === 1 });
  ajv.addFormat('uint8', { type: 'number', validate: (v: number) => Number.isInteger(v) && v >= 0 && v <= 255 });
  ajv.addFormat('file', true);
}

let ajvInstance: Ajv | undefined;

function ajv(): Ajv {
  if (ajvInstance) return ajvInstance;
  // unicodeRegExp off: swagger patterns are plain ECMAScript regexes; allErrors so a 400 can list every problem.
  const a = new Ajv({ allErrors: true, allowUnionTypes: true, unicodeRegExp: false, strict: true });
  addFormats(a);
  addAutorestFormats(a);
  for (const direction of ['request', 'response'] as const) {
    a.addSchema(buildDocument(swagger(), MAIN_ID, direction, false));
    a.addSchema(buildDocument(common(), COMMON_ID, direction, true));
  }
  ajvInstance = a;
  return a;
}

const validators = new Map<string, ValidateFunction>();

function validatorFor(definitionName: string, direction: Direction): ValidateFunction {
  const key = `${direction}:${definitionName}`;
  let v = validators.get(key);
  if (v) return v;
  const doc = swagger().definitions[definitionName] ? MAIN_ID : common().definitions[definitionName] ? COMMON_ID : undefined;
  if (!doc) throw new Error(`no definition ${definitionName} in the swagger or common-types`);
  v = ajv().getSchema(`${SCHEMA_BASE}/${direction}/${doc}#/definitions/${definitionName}`);
  if (!v) throw new Error(`could not compile ${definitionName}`);
  validators.set(key, v);
  return v;
}

/** JSON pointer → `a.b[0]['/subscriptions/…']`, the way ARM names JSON paths in its messages. */
export function jsonPath(pointer: string, extra?: string): string {
  const parts =
    pointer === ''
      ? []
      : pointer
          .slice(1)
          .split('/')
          .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `['${p.replace(/'/g, "\\'")}']`;
  }
  return out;
}

/** The definition an error's schema path is in, e.g. ExportPipelineTargetProperties. */
function definitionIn(schemaPath: string): string | undefined {
  const all = [...schemaPath.matchAll(/definitions\/([^/]+)/g)];
  return all.length > 0 ? all[all.length - 1]![1] : undefined;
}

function describe(e: ErrorObject): SchemaError {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const member = String(p['additionalProperty']);
      const type = definitionIn(e.schemaPath);
      return { path: jsonPath(e.instancePath, member), message: `Could not find member '${member}'${type ? ` on object of type '${type}'` : ''}` };
    }
    case 'required':
      return { path: jsonPath(e.instancePath, String(p['missingProperty'])), message: `Required property '${String(p['missingProperty'])}' is missing` };
    case 'enum':
      return { path: jsonPath(e.instancePath), message: `must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { path: jsonPath(e.instancePath), message: e.message ?? e.keyword };
  }
}

/** Nullable wrappers make ajv report both branches; the null branch's complaint and the anyOf summary are noise. */
function isNoise(e: ErrorObject): boolean {
  return e.keyword === 'anyOf' || (e.keyword === 'type' && /\/anyOf\/1\/type$/.test(e.schemaPath));
}

/**
 * Validates `body` against a swagger (or common-types) definition, e.g. `validate('ExportPipeline', body, 'request')`.
 * Returns every problem found; an empty list means valid.
 */
export function validate(definitionName: string, body: unknown, direction: Direction): SchemaError[] {
  const v = validatorFor(definitionName, direction);
  if (v(body)) return [];
  // One entry per path: several keywords failing at one place (type and format, say) read better joined.
  const byPath = new Map<string, string[]>();
  for (const e of (v.errors ?? []).filter((x) => !isNoise(x))) {
    const d = describe(e);
    const messages = byPath.get(d.path) ?? [];
    if (!messages.includes(d.message)) messages.push(d.message);
    byPath.set(d.path, messages);
  }
  const out = [...byPath].map(([p, messages]) => ({ path: p, message: messages.join('; ') }));
  return out;
}
