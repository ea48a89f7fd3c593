import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readmeRows, renderActionYml, tableRowsBetween, yamlString } from '../../action/action-yml';
import { INPUTS } from '../../core/inputs';
import { OUTPUTS } from '../../core/outputs';

const committed = readFileSync(path.join(__dirname, '..', '..', 'action.yml'), 'utf8');

/** The few facts of action.yml the runner uses, read with a parser for exactly this layout (two-level maps, quoted scalars). */
function readActionYml(text: string): {
  inputs: Map<string, Record<string, string>>;
  outputs: Map<string, Record<string, string>>;
  top: Record<string, string>;
} {
  const inputs = new Map<string, Record<string, string>>();
  const outputs = new Map<string, Record<string, string>>();
  const top: Record<string, string> = {};
  let section = '';
  let current: Record<string, string> | undefined;
  const scalar = (v: string): string => (v.startsWith("'") ? v.slice(1, -1).replace(/''/g, "'") : v.startsWith('"') ? (JSON.parse(v) as string) : v);
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const m = /^( *)([\w-]+):(?: (.*))?$/.exec(line);
    if (!m) throw new Error(`unexpected action.yml line: ${line}`);
    const [, indent = '', key = '', value] = m;
    if (indent.length === 0) {
      section = key;
      if (value !== undefined) top[key] = scalar(value);
    } else if (indent.length === 2 && value === undefined) {
      current = {};
      (section === 'inputs' ? inputs : outputs).set(key, current);
    } else if (indent.length === 2) top[`${section}.${key}`] = scalar(value ?? '');
    else if (current && value !== undefined) current[key] = scalar(value);
  }
  return { inputs, outputs, top };
}

describe('action.yml', () => {
  it('is exactly what `npm run gen:action` renders from core/inputs.ts (run it after changing INPUTS or OUTPUTS)', () => {
    expect(committed).toBe(renderActionYml());
  });

  it('declares every input of INPUTS with its description and default, and nothing else', () => {
    const { inputs } = readActionYml(committed);
    expect([...inputs.keys()]).toEqual(INPUTS.map((i) => i.name));
    for (const i of INPUTS) {
      const y = inputs.get(i.name)!;
      expect(y['description']).toBe(i.description);
      expect(y['default']).toBe(i.default);
      expect(y['required']).toBe(i.name === 'operation' ? 'true' : 'false');
    }
  });

  it('declares every output of OUTPUTS', () => {
    const { outputs } = readActionYml(committed);
    expect([...outputs.keys()]).toEqual(OUTPUTS.map((o) => o.name));
    for (const o of OUTPUTS) expect(outputs.get(o.name)!['description']).toBe(o.description);
  });

  it('runs dist/index.js on node24 and has the metadata the Marketplace needs', () => {
    const { top } = readActionYml(committed);
    expect(top['runs.using']).toBe('node24');
    expect(top['runs.main']).toBe('dist/index.js');
    for (const k of ['name', 'description', 'author', 'branding.icon', 'branding.color']) expect(top[k]).toBeTruthy();
    expect(['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark']).toContain(top['branding.color']);
  });

  it('uses input ids GitHub accepts (letter or _ first; letters, digits, - and _)', () => {
    for (const i of INPUTS) expect(i.name).toMatch(/^[a-z_][a-z0-9_-]*$/);
  });

  it('quotes scalars so that YAML reads them back unchanged', () => {
    expect(yamlString("it's")).toBe(`"it's"`);
    expect(yamlString('a: b')).toBe(`'a: b'`);
    expect(yamlString(`both ' and "`)).toBe(`'both '' and "'`);
    expect(yamlString('x\ny')).toBe('"x\\ny"');
  });
});

describe('README', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

  it('lists every input and output of action.yml, with its default and description (run `npm run gen:action`)', () => {
    const rows = readmeRows();
    expect(tableRowsBetween(readme, 'action-inputs')).toEqual(rows.inputs);
    expect(tableRowsBetween(readme, 'action-outputs')).toEqual(rows.outputs);
    expect(rows.inputs.map((r) => r[0])).toEqual(INPUTS.map((i) => `\`${i.name}\``));
  });
});
