/**
 * action.yml as a function of core/inputs.ts (INPUTS, OUTPUTS), so the action's metadata never drifts from the one
 * table of input names, defaults and descriptions. generate-action-yml.ts writes it (`npm run gen:action`);
 * test/unit/action-yml.test.ts fails when the committed action.yml differs from what this renders.
 */
import { INPUTS, OUTPUTS } from '../core/inputs';

/** Inputs without which no operation can start; the rest have defaults or depend on the operation (checked in code). */
const REQUIRED = new Set(['operation']);

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
    lines.push(`    required: ${REQUIRED.has(input.name)}`);
    if (input.default !== undefined) lines.push(`    default: ${yamlString(input.default)}`);
  }
  lines.push('outputs:');
  for (const output of OUTPUTS) lines.push(`  ${output.name}:`, `    description: ${yamlString(output.description)}`);
  lines.push('runs:', `  using: ${yamlString('node24')}`, `  main: ${yamlString('dist/index.js')}`);
  return `${lines.join('\n')}\n`;
}
