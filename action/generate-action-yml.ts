/** `npm run gen:action`: writes action.yml from core/inputs.ts (see action-yml.ts). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { INPUTS, OUTPUTS } from '../core/inputs';
import { renderActionYml } from './action-yml';

// action/ is an ES-module folder (package.json "type": "module"), so no __dirname here.
const target = fileURLToPath(new URL('../action.yml', import.meta.url));
writeFileSync(target, renderActionYml());
process.stdout.write(`wrote ${target} (${INPUTS.length} inputs, ${OUTPUTS.length} outputs)\n`);
