/**
 * The ADO task's metadata stays in step with the one input table (core/inputs.ts): task.json is what the generator renders,
 * every shared input is there in camelCase with its default, and the extension manifest ships the task folder.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { iconPng } from '../../ado-task/make-icon';
import { adoText, ADO_INPUTS } from '../../ado-task/names';
import {
  inputsTableRows,
  label,
  MINIMUM_AGENT_VERSION,
  renderTaskJson,
  TABLE_DOCS,
  TASK_FOLDER,
  TASK_ID,
  TASK_JSON_PATH,
  TASK_TARGET,
  TASK_VERSION,
} from '../../ado-task/task-json';
import { camelCase, INPUTS } from '../../core/inputs';
import { OUTPUTS } from '../../core/outputs';
import { OPERATIONS } from '../../core/vocabulary';
import { tableRowsBetween } from '../../action/action-yml';

interface TaskInput {
  name: string;
  type: string;
  label: string;
  defaultValue?: string;
  required: boolean;
  groupName?: string;
  visibleRule?: string;
  helpMarkDown: string;
  options?: Record<string, string>;
}
interface TaskJson {
  id: string;
  name: string;
  friendlyName: string;
  instanceNameFormat: string;
  version: { Major: number; Minor: number; Patch: number };
  minimumAgentVersion: string;
  groups: { name: string }[];
  inputs: TaskInput[];
  outputVariables: { name: string; description: string }[];
  execution: Record<string, { target: string }>;
}

const dir = path.join(__dirname, '..', '..', 'ado-task');
const task = JSON.parse(readFileSync(TASK_JSON_PATH, 'utf8')) as TaskJson;

describe('ado-task/task.json', () => {
  it('is exactly what `npm run build:ado` renders from core/inputs.ts', () => {
    // On failure: run `npm run build:ado` (or node --import tsx ado-task/task-json.ts) and commit task.json.
    expect(readFileSync(TASK_JSON_PATH, 'utf8')).toBe(renderTaskJson());
  });

  it('has its fixed id, a valid name, a short friendly name and an instance name', () => {
    expect(task.id).toBe(TASK_ID);
    expect(task.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(task.name).toBe('AcrTransfer');
    expect(task.friendlyName.length).toBeLessThanOrEqual(40);
    expect(task.instanceNameFormat).toContain('$(operation)');
    expect(task.version.Major).toBe(1);
  });

  it('runs one bundle under Node20_1 and Node24, with an agent version that has Node20_1', () => {
    expect(task.execution).toEqual({ Node20_1: { target: TASK_TARGET, argumentFormat: '' }, Node24: { target: TASK_TARGET, argumentFormat: '' } });
    expect(task.minimumAgentVersion).toBe(MINIMUM_AGENT_VERSION);
    expect(task.minimumAgentVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('takes an AzureRM service connection and every shared input in camelCase, with the same defaults, and no GitHub-only auth input', () => {
    const [conn, ...rest] = task.inputs;
    expect(conn).toMatchObject({ name: 'azureSubscription', type: 'connectedService:AzureRM', required: true });
    expect(rest.map((i) => i.name)).toEqual(ADO_INPUTS.map((i) => camelCase(i.name)));
    for (const spec of ADO_INPUTS) {
      const input = rest.find((i) => i.name === camelCase(spec.name))!;
      expect(input.name).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(input.defaultValue).toBe(spec.default);
      expect(input.helpMarkDown).toContain(adoText(spec.description));
    }
    for (const gh of INPUTS.filter((i) => i.githubOnly)) expect(task.inputs.map((i) => i.name)).not.toContain(camelCase(gh.name));
  });

  it('groups inputs into registries, pipelines, run and advanced, and shows each only for the operations that use it', () => {
    expect(task.groups.map((g) => g.name)).toEqual(['registries', 'pipelines', 'run', 'advanced']);
    const groups = new Set(task.groups.map((g) => g.name));
    for (const i of task.inputs) if (i.groupName !== undefined) expect(groups.has(i.groupName)).toBe(true);
    const operation = task.inputs.find((i) => i.name === 'operation')!;
    expect(operation).toMatchObject({ type: 'pickList', required: true });
    expect(Object.keys(operation.options!)).toEqual([...OPERATIONS]);
    for (const i of task.inputs.filter((x) => x.visibleRule !== undefined)) {
      for (const clause of i.visibleRule!.split(' || ')) expect(OPERATIONS.map((o) => `operation = ${o}`)).toContain(clause);
    }
    const rule = (name: string): string | undefined => task.inputs.find((i) => i.name === name)!.visibleRule;
    expect(rule('sasExpiryDays')).toBe('operation = setup');
    expect(rule('purgeUntagged')).toBe('operation = cleanup');
    expect(rule('blobs')).toBe('operation = import || operation = copy || operation = check || operation = cleanup');
    expect(rule('artifacts')).toContain('operation = transfer');
    expect(task.inputs.find((i) => i.name === 'verify')!.type).toBe('boolean');
    expect(task.inputs.find((i) => i.name === 'artifacts')!.type).toBe('multiLine');
  });

  it('documents every output as an output variable in camelCase', () => {
    expect(task.outputVariables).toEqual(OUTPUTS.map((o) => ({ name: camelCase(o.name), description: o.description })));
  });
});

describe('the inputs tables', () => {
  it.each(TABLE_DOCS.map((d) => [path.basename(d), d]))('%s lists every task input as core/inputs.ts has it', (_name, doc) => {
    // Cells as Prettier leaves them (it pads columns), without the header and the separator row.
    const rows = tableRowsBetween(readFileSync(doc, 'utf8'), 'ado-inputs');
    expect(rows).toEqual(inputsTableRows());
  });
});

describe('ADO names and text', () => {
  it('rewrites kebab-case input names to camelCase and leaves values alone', () => {
    expect(adoText("Input 'max-parallel-runs' is 'x' when 'storage-access-mode' is sas-token")).toBe(
      "Input 'maxParallelRuns' is 'x' when 'storageAccessMode' is sas-token",
    );
    expect(adoText('Source registry: a name (with source-resource-group)')).toBe('Source registry: a name (with sourceResourceGroup)');
    expect(adoText('re-run the export-pipeline-x')).toBe('re-run the export-pipeline-x');
  });

  it('labels inputs in words', () => {
    expect(label('export-sas-secret-uri')).toBe('Export SAS secret URI');
    expect(label('api-version')).toBe('API version');
  });
});

describe('the extension', () => {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'vss-extension.json'), 'utf8')) as {
    version: string;
    files: { path: string }[];
    contributions: { type: string; properties: { name: string } }[];
    icons: { default: string };
  };

  it('ships the task folder as a build task contribution, at the task version', () => {
    expect(manifest.contributions).toEqual([expect.objectContaining({ type: 'ms.vss-distributed-task.task', properties: { name: TASK_FOLDER } })]);
    expect(manifest.files.map((f) => f.path)).toContain(TASK_FOLDER);
    expect(manifest.version).toBe(`${TASK_VERSION.Major}.${TASK_VERSION.Minor}.${TASK_VERSION.Patch}`);
  });

  it('has the 128x128 icon make-icon.ts draws', () => {
    const png = readFileSync(path.join(dir, 'icon.png'));
    expect(png.equals(iconPng())).toBe(true);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([128, 128]);
  });
});
