/**
 * The reference swagger (test/local-azure/spec/acr-2025-06-01-preview/pipelines.swagger.json) and the minimal
 * common-types v6 it refers to, as documents: loading, `$ref` resolution, and the swagger's operations and
 * parameters. schema.ts compiles their definitions into JSON Schema.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export type SwaggerSchema = Readonly<Record<string, unknown>>;
export interface SwaggerParameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly type?: string;
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly schema?: SwaggerSchema;
}

export interface SwaggerOperation {
  readonly operationId: string;
  readonly parameters: ReadonlyArray<SwaggerParameter | { readonly $ref: string }>;
  readonly responses: Readonly<Record<string, { readonly schema?: SwaggerSchema; readonly headers?: Record<string, unknown> }>>;
  readonly 'x-ms-examples'?: Readonly<Record<string, { readonly $ref: string }>>;
  readonly 'x-ms-long-running-operation'?: boolean;
}

export interface SwaggerDoc {
  readonly paths: Readonly<Record<string, Readonly<Record<string, SwaggerOperation>>>>;
  readonly definitions: Readonly<Record<string, SwaggerSchema>>;
  readonly parameters?: Readonly<Record<string, SwaggerParameter>>;
}

/** The spec subset, in the repository (test/local-azure/spec/, with its source and licence). */
const SPEC_DIR = path.resolve(__dirname, '..', '..', 'spec');
export const REFERENCE_DIR = path.join(SPEC_DIR, 'acr-2025-06-01-preview');
const SWAGGER_FILE = path.join(REFERENCE_DIR, 'pipelines.swagger.json');
const COMMON_FILE = path.join(SPEC_DIR, 'common-types-v6.json');
/** How the swagger spells the common-types file; relative to its upstream folder, so it cannot resolve from here. */
export const COMMON_PREFIX = '../../../../../../common-types/resource-management/v6/types.json';

function readJsonFile<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

let swaggerDoc: SwaggerDoc | undefined;
let commonDoc: SwaggerDoc | undefined;

export function swagger(): SwaggerDoc {
  swaggerDoc ??= readJsonFile<SwaggerDoc>(SWAGGER_FILE);
  return swaggerDoc;
}

export function common(): SwaggerDoc {
  commonDoc ??= readJsonFile<SwaggerDoc>(COMMON_FILE);
  return commonDoc;
}

/** A $ref of either document, as (document, definition name). */
export function parseRef(ref: string, inCommon: boolean): { common: boolean; name: string } {
  const m = /^(.*)#\/definitions\/([^/]+)$/.exec(ref);
  if (!m) throw new Error(`unsupported $ref ${ref}`);
  const file = m[1] ?? '';
  if (file === '') return { common: inCommon, name: m[2]! };
  if (file === COMMON_PREFIX) return { common: true, name: m[2]! };
  throw new Error(`unmapped external $ref ${ref}`);
}

export function definitionOf(ref: { common: boolean; name: string }): SwaggerSchema {
  const def = (ref.common ? common() : swagger()).definitions[ref.name];
  if (!def) throw new Error(`$ref to missing definition ${ref.name}`);
  return def;
}

export interface OperationInfo {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  readonly parameters: readonly SwaggerParameter[];
  /** The definition the body parameter refers to, if the operation has a body. */
  readonly bodyDefinition?: { readonly parameter: string; readonly definition: string };
  /** Status code → definition of its body (undefined: no body). Includes 'default'. */
  readonly responses: Readonly<Record<string, string | undefined>>;
  /** Example name → example file path, absolute. */
  readonly examples: Readonly<Record<string, string>>;
}

function resolveParameter(p: SwaggerParameter | { readonly $ref: string }): SwaggerParameter {
  if (!('$ref' in p)) return p;
  const m = /^(.*)#\/parameters\/([^/]+)$/.exec(p.$ref);
  const doc = m?.[1] === COMMON_PREFIX ? common() : m?.[1] === '' ? swagger() : undefined;
  const found = m && doc?.parameters?.[m[2]!];
  if (!found) throw new Error(`unresolvable parameter $ref ${p.$ref}`);
  return found;
}

function refName(s: SwaggerSchema | undefined): string | undefined {
  const ref = s?.['$ref'];
  return typeof ref === 'string' ? parseRef(ref, false).name : undefined;
}

/** Every operation of the swagger, with parameters resolved and body definitions named. */
export function operations(): OperationInfo[] {
  const out: OperationInfo[] = [];
  for (const [p, ops] of Object.entries(swagger().paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const parameters = op.parameters.map(resolveParameter);
      const body = parameters.find((x) => x.in === 'body');
      const bodyDef = refName(body?.schema);
      out.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        path: p,
        parameters,
        ...(body && bodyDef ? { bodyDefinition: { parameter: body.name, definition: bodyDef } } : {}),
        responses: Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, refName(r.schema)])),
        examples: Object.fromEntries(Object.entries(op['x-ms-examples'] ?? {}).map(([name, e]) => [name, path.resolve(REFERENCE_DIR, e.$ref)])),
      });
    }
  }
  return out;
}

/** A path or query parameter as the swagger declares it, e.g. `parameter('exportPipelineName')`. */
export function parameter(name: string): SwaggerParameter {
  for (const op of operations()) {
    const found = op.parameters.find((p) => p.name === name);
    if (found) return found;
  }
  throw new Error(`no parameter ${name} in the swagger`);
}
