/**
 * ADO names for the one input table: `export-options` ↔ `exportOptions`. The core's messages and descriptions name inputs in
 * kebab-case (GitHub); a pipeline author on ADO writes camelCase, so text shown on ADO is translated.
 */
import { camelCase, INPUTS, type InputSpec } from '../core/inputs';

/** The task's own input: the AzureRM service connection (its value is the connection's id). */
export const SERVICE_CONNECTION_INPUT = 'azureSubscription';

/** The inputs the ADO task exposes: all but the GitHub-only authentication inputs (the service connection replaces them). */
export const ADO_INPUTS: readonly InputSpec[] = INPUTS.filter((i) => !i.githubOnly);

// Longest first, so that `source-resource-group` is not half-replaced by a shorter name.
const HYPHENATED = INPUTS.map((i) => i.name)
  .filter((n) => n.includes('-'))
  .sort((a, b) => b.length - a.length);
const PATTERN = new RegExp(`(?<![\\w-])(${HYPHENATED.map((n) => n.replace(/[-]/g, '\\-')).join('|')})(?![\\w-])`, 'g');

/** Rewrites kebab-case input names in `text` to the task's camelCase names; other words (values such as sas-token) stay. */
export function adoText(text: string): string {
  return text.replace(PATTERN, (name) => camelCase(name));
}
