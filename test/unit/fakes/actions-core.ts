/**
 * The stand-in jest.config.js maps `@actions/core` to (3.x is ESM-only; Jest's CommonJS runtime cannot load it).
 * It implements the functions the action uses, reads inputs from INPUT_<NAME> like the real getInput, and records
 * every call in order in `fake.calls`, so tests can check what a workflow would see and in which order.
 */
export type Call = readonly [name: string, ...args: unknown[]];

export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
  endLine?: number;
  startColumn?: number;
  endColumn?: number;
}

export const fake = {
  calls: [] as Call[],
  summaryText: '',
  debug: false,
  reset(): void {
    fake.calls = [];
    fake.summaryText = '';
    fake.debug = false;
    pending = '';
  },
  /** The arguments of each call of `name`. */
  of(name: string): unknown[][] {
    return fake.calls.filter((c) => c[0] === name).map((c) => c.slice(1));
  },
  /** setOutput calls as a map, later values winning. */
  outputs(): Record<string, string> {
    return Object.fromEntries(fake.of('setOutput').map(([k, v]) => [k as string, String(v)]));
  },
};

const record = (name: string, ...args: unknown[]): void => {
  fake.calls.push([name, ...args]);
};

export function getInput(name: string, options?: { required?: boolean; trimWhitespace?: boolean }): string {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '';
  if (options?.required && !value) throw new Error(`Input required and not supplied: ${name}`);
  return options?.trimWhitespace === false ? value : value.trim();
}

export const setSecret = (secret: string): void => record('setSecret', secret);
export const setOutput = (name: string, value: unknown): void => record('setOutput', name, value);
export const saveState = (name: string, value: unknown): void => record('saveState', name, value);
export const exportVariable = (name: string, value: unknown): void => record('exportVariable', name, value);
export const info = (message: string): void => record('info', message);
export const debug = (message: string): void => record('debug', message);
export const warning = (message: string | Error, properties?: AnnotationProperties): void => record('warning', String(message), properties);
export const error = (message: string | Error, properties?: AnnotationProperties): void => record('error', String(message), properties);
export const notice = (message: string | Error, properties?: AnnotationProperties): void => record('notice', String(message), properties);
export const isDebug = (): boolean => fake.debug;
export const startGroup = (name: string): void => record('group', name);
export const endGroup = (): void => record('endgroup');

export function setFailed(message: string | Error): void {
  process.exitCode = 1;
  record('setFailed', String(message));
}

export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  startGroup(name);
  try {
    return await fn();
  } finally {
    endGroup();
  }
}

export async function getIDToken(audience?: string): Promise<string> {
  record('getIDToken', audience);
  return 'fake-id-token';
}

let pending = '';

interface FakeSummary {
  addRaw(text: string, addEOL?: boolean): FakeSummary;
  write(): Promise<FakeSummary>;
}

export const summary: FakeSummary = {
  addRaw(text, addEOL = false) {
    pending += text + (addEOL ? '\n' : '');
    return summary;
  },
  async write() {
    record('summary.write', pending);
    fake.summaryText += pending;
    pending = '';
    return summary;
  },
};
