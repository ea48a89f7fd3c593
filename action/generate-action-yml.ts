/** `npm run gen:action`: writes action.yml and the README's inputs and outputs tables from core/inputs.ts (see action-yml.ts). */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { INPUTS } from '../core/inputs';
import { OUTPUTS } from '../core/outputs';
import { renderActionYml, withReadmeTables } from './action-yml';

// action/ is an ES-module folder (package.json "type": "module"), so no __dirname here.
const target = fileURLToPath(new URL('../action.yml', import.meta.url));
const readme = fileURLToPath(new URL('../README.md', import.meta.url));
writeFileSync(target, renderActionYml());
writeFileSync(readme, withReadmeTables(readFileSync(readme, 'utf8')));
// Prettier lays the tables out, so that `prettier --check` agrees with what was generated.
const prettier = createRequire(import.meta.url).resolve('prettier/bin/prettier.cjs');
const r = spawnSync(process.execPath, [prettier, '--write', '--log-level', 'warn', readme], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(`prettier failed: ${r.stderr}`);
process.stdout.write(`wrote ${target} (${INPUTS.length} inputs, ${OUTPUTS.length} outputs) and the README tables\n`);
