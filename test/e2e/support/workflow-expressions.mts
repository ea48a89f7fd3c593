/**
 * GitHub's expression language, evaluated by GitHub's own implementation (@actions/expressions, the parser behind the
 * workflow language service; ESM-only, hence this .mts run under tsx): `${{ … }}` in values, bare expressions in `if:`.
 * https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
 */
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import { truthy } from '@actions/expressions/result';

/** The contexts a step sees (github, env, vars, secrets, inputs, steps, runner, job), as plain JSON. */
export type Contexts = Readonly<Record<string, unknown>>;

/** The status functions; a job here stops at its first failing step, so before that every step sees success. */
function statusFunctions(failed: boolean): Map<string, { name: string; minArgs: number; maxArgs: number; call: () => data.ExpressionData }> {
  const fns: Record<string, boolean> = { success: !failed, failure: failed, always: true, cancelled: false };
  return new Map(Object.entries(fns).map(([name, v]) => [name, { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(v) }]));
}

function evaluate(expression: string, contexts: Contexts, failed = false): data.ExpressionData {
  const fns = statusFunctions(failed);
  const tree = new Parser(new Lexer(expression).lex().tokens, Object.keys(contexts), [...fns.values()]).parse();
  const ctx = JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary;
  return new Evaluator(tree, ctx, fns).evaluate();
}

/** A value with `${{ … }}` parts replaced by their string forms (null is '', as the runner writes it). */
export function interpolate(text: string, contexts: Contexts): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expr: string) => {
    const v = evaluate(expr.trim(), contexts);
    return v.kind === data.Kind.Null ? '' : v.coerceString();
  });
}

/** An `if:` condition: a bare expression or one in `${{ }}`; a condition without a status function means `success() && (…)`. */
export function condition(text: string | undefined, contexts: Contexts, failed: boolean): boolean {
  const expr = (text ?? 'success()')
    .trim()
    .replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
    .trim();
  const full = /\b(success|failure|always|cancelled)\(\)/.test(expr) ? expr : `success() && (${expr})`;
  return truthy(evaluate(full, contexts, failed));
}

/** Every string of a mapping interpolated (step `env:`, `with:`). */
export function interpolateAll(values: Readonly<Record<string, unknown>> | undefined, contexts: Contexts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values ?? {})) out[k] = interpolate(typeof v === 'string' ? v : JSON.stringify(v), contexts);
  return out;
}
