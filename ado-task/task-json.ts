/**
 * Writes ado-task/task.json, and the inputs tables of README.md and overview.md, from core/inputs.ts (INPUTS,
 * OUTPUTS), so the task's inputs never drift from the one table of names, defaults and descriptions. Run by
 * `npm run build:ado`; test/unit/ado-task-json.test.ts fails when the committed files differ from what this renders.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { camelCase, type InputSpec, requiredByAll } from '../core/inputs';
import { OUTPUTS } from '../core/outputs';
import { OPERATIONS } from '../core/vocabulary';
import { ADO_INPUTS, adoText, SERVICE_CONNECTION_INPUT } from './names';

export const TASK_JSON_PATH = path.join(__dirname, 'task.json');

/** Never change: a new id makes a new task, and pipelines that use `AcrTransfer@1` lose it. */
export const TASK_ID = '9ddf7062-846f-405b-8f0d-f6c8f5f4d759';
export const TASK_NAME = 'AcrTransfer';
/** The product's one version (package.json): the extension, the task and the action's tags all carry it. */
export const PRODUCT_VERSION = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The task's version is the product's: agents cache task code by version, so every release (a new package.json version)
 * is also a new task version (docs/hosts.md#task-versioning). Major stays 1: it is part of the YAML name, AcrTransfer@1.
 */
export const TASK_VERSION = taskVersion(PRODUCT_VERSION);

export function taskVersion(version: string): { readonly Major: number; readonly Minor: number; readonly Patch: number } {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`package.json version '${version}' is not major.minor.patch`);
  return { Major: Number(m[1]), Minor: Number(m[2]), Patch: Number(m[3]) };
}
/** The folder the extension ships the task in (vss-extension.json contributions[].properties.name). */
export const TASK_FOLDER = `${TASK_NAME}V${TASK_VERSION.Major}`;
export const TASK_TARGET = 'dist/index.js';
/** Node20_1 came with agent 3.232.1; agents that also know Node24 (3.250+) prefer it, older ones fall back to Node20_1. */
export const MINIMUM_AGENT_VERSION = '3.232.1';

type GroupName = 'registries' | 'pipelines' | 'run' | 'advanced';
const GROUPS: ReadonlyArray<{ name: GroupName; displayName: string; isExpanded: boolean; visibleRule?: string }> = [
  // No visibleRule on a group: it would hide inputs every operation uses (subscriptionId); each input has its own rule.
  { name: 'registries', displayName: 'Registries', isExpanded: true },
  { name: 'pipelines', displayName: 'Transfer pipelines and storage', isExpanded: true },
  { name: 'run', displayName: 'Run', isExpanded: true },
  { name: 'advanced', displayName: 'Advanced', isExpanded: false },
];

/** What the task says beyond the shared description (the service connection supplies what GitHub asks for). */
const ADO_HELP: Readonly<Record<string, string>> = {
  'subscription-id': " Default: the service connection's subscription.",
};

const WORDS: Readonly<Record<string, string>> = { api: 'API', sas: 'SAS', uri: 'URI', id: 'ID' };

/** `export-sas-secret-uri` → `Export SAS secret URI`. */
export function label(name: string): string {
  const words = name.split('-').map((w) => WORDS[w] ?? w);
  const first = words[0] ?? '';
  return [first.charAt(0).toUpperCase() + first.slice(1), ...words.slice(1)].join(' ');
}

/** The task shows an input only for the operations that use it (the table's usedBy). */
function visibleRule(input: InputSpec): string | undefined {
  const ops = input.usedBy;
  if (ops === undefined || ops.length === OPERATIONS.length) return undefined;
  return ops.map((o) => `operation = ${o}`).join(' || ');
}

function groupOf(input: InputSpec): GroupName | undefined {
  if (input.name === 'operation') return undefined;
  if (input.advanced) return 'advanced';
  if (input.group === 'registries' || input.group === 'pipelines') return input.group;
  return 'run';
}

type Json = string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json | undefined };

function taskInput(input: InputSpec): Json {
  const name = camelCase(input.name);
  const isBool = input.default === 'true' || input.default === 'false';
  const pick = input.choices;
  const type = isBool ? 'boolean' : pick ? 'pickList' : input.multiline ? 'multiLine' : 'string';
  const group = groupOf(input);
  const rule = visibleRule(input);
  return {
    name,
    type,
    label: label(input.name),
    ...(input.default !== undefined ? { defaultValue: input.default } : {}),
    required: requiredByAll(input),
    ...(group ? { groupName: group } : {}),
    ...(rule ? { visibleRule: rule } : {}),
    helpMarkDown: adoText(input.description) + (ADO_HELP[input.name] ?? ''),
    ...(pick ? { options: Object.fromEntries(pick.map((o) => [o, o])) } : {}),
    ...(input.multiChoice ? { properties: { EditableOptions: 'True', MultiSelectFlatList: 'True' } } : {}),
    // tasks.schema.json: resizable is a boolean, rows a string of digits.
    ...(type === 'multiLine' ? { properties: { resizable: true, rows: '4' } } : {}),
  };
}

export function taskJson(): Json {
  return {
    $schema: 'https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json',
    id: TASK_ID,
    name: TASK_NAME,
    friendlyName: 'ACR transfer',
    description:
      'Move container images between Azure Container Registries with ACR transfer pipelines: export, copy, import and verify, across clouds and air gaps.',
    helpUrl: 'https://learn.microsoft.com/azure/container-registry/container-registry-transfer-images',
    helpMarkDown:
      'Runs ACR transfer pipelines with an Azure Resource Manager service connection (service principal, managed identity or workload identity federation). ' +
      'Operations: export, import, copy, transfer, setup, check, cleanup. See the extension overview for pipeline examples.',
    category: 'Deploy',
    runsOn: ['Agent', 'DeploymentGroup'],
    author: 'acr-transfer',
    version: { ...TASK_VERSION },
    minimumAgentVersion: MINIMUM_AGENT_VERSION,
    instanceNameFormat: 'ACR transfer: $(operation)',
    showEnvironmentVariables: true,
    groups: GROUPS.map((g) => ({ ...g })),
    inputs: [
      {
        name: SERVICE_CONNECTION_INPUT,
        type: 'connectedService:AzureRM',
        label: 'Azure Resource Manager connection',
        required: true,
        helpMarkDown:
          'The Azure Resource Manager service connection to authenticate with: service principal (secret or certificate), managed identity, or workload identity federation. ' +
          'Its cloud (environment, authority, ARM URL) is used for every call.',
      },
      ...ADO_INPUTS.map(taskInput),
    ],
    outputVariables: OUTPUTS.map((o) => ({ name: camelCase(o.name), description: o.description })),
    execution: {
      Node20_1: { target: TASK_TARGET, argumentFormat: '' },
      Node24: { target: TASK_TARGET, argumentFormat: '' },
    },
  };
}

/** JSON the way Prettier prints it (objects expanded, short arrays of scalars on one line), so `prettier --check` agrees. */
export function formatJson(value: Json, indent = '', width = 160): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const items = value as readonly Json[];
    if (items.length === 0) return '[]';
    if (items.every((v) => v === null || typeof v !== 'object')) {
      const flat = `[${items.map((v) => JSON.stringify(v)).join(', ')}]`;
      if (indent.length + flat.length + 40 <= width) return flat;
    }
    return `[\n${items.map((v) => inner + formatJson(v, inner, width)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, Json | undefined>).filter((e): e is [string, Json] => e[1] !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner, width)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

export function renderTaskJson(): string {
  return `${formatJson(taskJson())}\n`;
}

/** The documents that carry the inputs table: the README and the Marketplace overview. */
export const TABLE_DOCS = [path.join(__dirname, '..', 'README.md'), path.join(__dirname, 'overview.md')];
const TABLE_START = '<!-- ado-inputs:start -->';
const TABLE_END = '<!-- ado-inputs:end -->';

/** One row per task input: name, default, the operations that show it, and what it means (Markdown: `|` and `*` escaped). */
export function inputsTableRows(): string[][] {
  const rows = [['`azureSubscription`', '', 'all', 'The Azure Resource Manager service connection (required).']];
  for (const i of ADO_INPUTS) {
    const ops = i.usedBy;
    const shown = ops === undefined || ops.length === OPERATIONS.length ? 'all' : ops.join(', ');
    rows.push([
      `\`${camelCase(i.name)}\``,
      i.default !== undefined ? `\`${i.default}\`` : '',
      shown,
      (adoText(i.description) + (ADO_HELP[i.name] ?? '')).replace(/([|*])/g, '\\$1'),
    ]);
  }
  return rows;
}

export function renderInputsTable(): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(['input', 'default', 'operations', 'meaning']), line(['---', '---', '---', '---']), ...inputsTableRows().map(line)].join('\n');
}

/** Replaces the table between the markers of a document. */
export function withInputsTable(doc: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`the document has no ${TABLE_START} … ${TABLE_END} markers`);
  return `${doc.slice(0, start + TABLE_START.length)}\n\n${renderInputsTable()}\n\n${doc.slice(end)}`;
}

export const MANIFEST_PATH = path.join(__dirname, 'vss-extension.json');

/** vss-extension.json with the product's version (the rest of the manifest is written by hand). */
export function renderManifest(current: string): string {
  const manifest = JSON.parse(current) as Record<string, Json>;
  return `${formatJson({ ...manifest, version: PRODUCT_VERSION })}\n`;
}

/**
 * Writes task.json, the extension's version and the inputs tables (then lets Prettier lay the tables out, so
 * `prettier --check` agrees).
 */
export function generate(): void {
  writeFileSync(TASK_JSON_PATH, renderTaskJson());
  writeFileSync(MANIFEST_PATH, renderManifest(readFileSync(MANIFEST_PATH, 'utf8')));
  for (const doc of TABLE_DOCS) writeFileSync(doc, withInputsTable(readFileSync(doc, 'utf8')));
  const r = spawnSync(process.execPath, [require.resolve('prettier/bin/prettier.cjs'), '--write', '--log-level', 'warn', ...TABLE_DOCS], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prettier failed: ${r.stderr}`);
}

if (require.main === module) {
  generate();
  process.stdout.write(
    `wrote ${path.relative(process.cwd(), TASK_JSON_PATH)} (${ADO_INPUTS.length + 1} inputs, ${OUTPUTS.length} output variables) and the inputs tables\n`,
  );
}
