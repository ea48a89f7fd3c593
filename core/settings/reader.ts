/** Reading inputs by their kebab-case name, with the table's defaults and choices, and the one-line error for a bad one. */
import { ConfigError, sanitize } from '../errors';
import { INPUTS, inputSpec } from '../inputs';

/** Where the front-end's inputs come from: GitHub's getInput or ADO's tl.getInput, by kebab-case name. */
export interface InputReader {
  /** The trimmed value, or undefined when the input is missing or empty. */
  get(name: string): string | undefined;
}

const DEFAULTS: ReadonlyMap<string, string> = new Map(INPUTS.filter((i) => i.default !== undefined).map((i) => [i.name, i.default!]));

/** One line: the input, its value (sanitised: no credentials, control characters escaped, long values cut), and what is allowed. */
export function bad(input: string, value: string, allowed: string): ConfigError {
  return new ConfigError(`Input '${input}' is '${sanitize(value)}': ${allowed}`);
}

export class Inputs {
  constructor(private readonly reader: InputReader) {}

  opt(name: string): string | undefined {
    const v = this.reader.get(name)?.trim();
    return v ? v : DEFAULTS.get(name);
  }

  /** One of the input's choices in the table, matched without case, spelled as the table spells it. */
  choice<T extends string>(name: string): T | undefined {
    const v = this.opt(name);
    if (v === undefined) return undefined;
    const allowed = inputSpec(name).choices ?? [];
    const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!hit) throw bad(name, v, `it must be one of ${allowed.join(', ')}`);
    return hit as T;
  }

  /** A list of the input's choices (comma- or newline-separated), each once. */
  choices<T extends string>(name: string): T[] {
    const allowed = inputSpec(name).choices ?? [];
    const out: T[] = [];
    for (const v of this.list(name)) {
      const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
      if (!hit) throw bad(name, v, `each option must be one of ${allowed.join(', ')}`);
      if (!out.includes(hit as T)) out.push(hit as T);
    }
    return out;
  }

  /** GitHub's YAML 1.2 core booleans (what getBooleanInput accepts). */
  bool(name: string): boolean {
    const v = this.opt(name) ?? 'false';
    if (['true', 'True', 'TRUE'].includes(v)) return true;
    if (['false', 'False', 'FALSE'].includes(v)) return false;
    throw bad(name, v, 'it must be true or false');
  }

  int(name: string, min: number, max: number, why = ''): number {
    const v = this.opt(name)!;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw bad(name, v, `it must be a whole number from ${min} to ${max}${why}`);
    return Number(v);
  }

  number(name: string, min: number, max: number): number {
    const v = this.opt(name)!;
    if (!/^\d+(\.\d+)?$/.test(v) || Number(v) <= min || Number(v) > max) throw bad(name, v, `it must be a number greater than ${min} and at most ${max}`);
    return Number(v);
  }

  /**
   * Comma- or newline-separated, blanks dropped; or a JSON array of strings, which is what the list outputs (`blobs`,
   * `imported-artifacts`) hold, so that one step's output can be the next step's input as it is.
   */
  list(name: string): string[] {
    const text = this.opt(name) ?? '';
    const items = text.startsWith('[') ? jsonList(name, text) : text.split(/[\n,]/);
    return items.map((s) => s.trim()).filter(Boolean);
  }
}

function jsonList(name: string, text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    throw bad(name, shown, 'a value starting with [ must be a JSON array of strings, e.g. ["a","b"] (or give a comma- or newline-separated list)');
  }
  return value;
}
