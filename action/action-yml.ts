/**
 * action.yml as a function of core/inputs.ts (INPUTS, OUTPUTS), so the action's metadata never drifts from the one
 * table of input names, defaults and descriptions. generate-action-yml.ts writes it (`npm run gen:action`);
 * test/unit/action-yml.test.ts fails when the committed action.yml differs from what this renders.
 */
import { INPUTS, requiredByAll } from '../core/inputs';
import { OUTPUTS } from '../core/outputs';

/** A YAML scalar in the style Prettier keeps (singleQuote): single quotes, or double quotes when the text has a single quote. */
export function yamlString(text: string): string {
  if (/[\n\r\t\\]/.test(text)) return JSON.stringify(text);
  if (text.includes("'") && !text.includes('"')) return `"${text}"`;
  return `'${text.replace(/'/g, "''")}'`;
}

export function renderActionYml(): string {
  const lines = [
    '# Generated from core/inputs.ts by `npm run gen:action`; edit that table, not this file.',
    `name: ${yamlString('ACR transfer')}`,
    `description: ${yamlString('Move container images between Azure Container Registries with ACR transfer pipelines (export, copy, import, verify), across clouds and air gaps.')}`,
    `author: ${yamlString('acr-transfer')}`,
    'branding:',
    `  icon: ${yamlString('package')}`,
    `  color: ${yamlString('blue')}`,
    'inputs:',
  ];
  for (const input of INPUTS) {
    lines.push(`  ${input.name}:`, `    description: ${yamlString(input.description)}`);
    lines.push(`    required: ${requiredByAll(input)}`);
    if (input.default !== undefined) lines.push(`    default: ${yamlString(input.default)}`);
  }
  lines.push('outputs:');
  for (const output of OUTPUTS) lines.push(`  ${output.name}:`, `    description: ${yamlString(output.description)}`);
  lines.push('runs:', `  using: ${yamlString('node24')}`, `  main: ${yamlString('dist/index.js')}`);
  return `${lines.join('\n')}\n`;
}

/** README rows for the action's inputs and outputs: name, default, meaning (`|` escaped for Markdown tables). */
export function readmeRows(): { inputs: string[][]; outputs: string[][] } {
  const cell = (t: string): string => t.replace(/([|*_])/g, '\\$1');
  return {
    inputs: INPUTS.map((i) => [`\`${i.name}\``, i.default !== undefined ? `\`${i.default}\`` : '', cell(i.description)]),
    outputs: OUTPUTS.map((o) => [`\`${o.name}\``, cell(o.description)]),
  };
}

const table = (head: readonly string[], rows: readonly string[][]): string =>
  [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');

/** Puts the inputs and outputs tables between their markers in the README. */
export function withReadmeTables(doc: string): string {
  const { inputs, outputs } = readmeRows();
  let out = doc;
  for (const [marker, text] of [
    ['action-inputs', table(['input', 'default', 'meaning'], inputs)],
    ['action-outputs', table(['output', 'meaning'], outputs)],
  ] as const) {
    const start = out.indexOf(`<!-- ${marker}:start -->`);
    const end = out.indexOf(`<!-- ${marker}:end -->`);
    if (start < 0 || end < start) throw new Error(`README.md has no <!-- ${marker}:start --> … <!-- ${marker}:end --> markers`);
    out = `${out.slice(0, start)}<!-- ${marker}:start -->\n\n${text}\n\n${out.slice(end)}`;
  }
  return out;
}

/** The rows of the Markdown table between a marker pair, cells trimmed (layout-independent, as Prettier may realign it). */
export function tableRowsBetween(doc: string, marker: string): string[][] {
  const start = doc.indexOf(`<!-- ${marker}:start -->`);
  const end = doc.indexOf(`<!-- ${marker}:end -->`);
  return doc
    .slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .slice(2)
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}
