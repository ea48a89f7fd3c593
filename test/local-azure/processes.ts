import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import * as path from 'node:path';

export interface Managed {
  readonly name: string;
  readonly pid: number;
}

/** Starts a long-lived server in its own process group, output to `logs/<name>.log`, pid to `pids/<name>.pid`. */
export function startProcess(dir: string, name: string, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Managed {
  const log = openSync(path.join(dir, 'logs', `${name}.log`), 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', log, log], detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  child.unref();
  writeFileSync(path.join(dir, 'pids', `${name}.pid`), String(child.pid));
  return { name, pid: child.pid };
}

/** Alive and not a zombie: PID 1 may reap orphans late, and kill(pid, 0) succeeds on zombies. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function runningProcesses(dir: string): Managed[] {
  const pids = path.join(dir, 'pids');
  if (!existsSync(pids)) return [];
  return readdirSync(pids)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => ({ name: f.slice(0, -4), pid: Number(readFileSync(path.join(pids, f), 'utf8')) }))
    .filter((m) => Number.isInteger(m.pid) && isAlive(m.pid));
}

/** SIGTERM each process group (or only those named), wait up to `graceMs` (Azurite drains keep-alive sockets), then SIGKILL. */
export async function stopProcesses(dir: string, graceMs = 10_000, only?: string): Promise<Managed[]> {
  const live = runningProcesses(dir).filter((m) => only === undefined || m.name === only);
  const signal = (m: Managed, sig: NodeJS.Signals): void => {
    try {
      process.kill(-m.pid, sig);
    } catch {
      try {
        process.kill(m.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  live.forEach((m) => signal(m, 'SIGTERM'));
  const deadline = Date.now() + graceMs;
  while (live.some((m) => isAlive(m.pid)) && Date.now() < deadline) await sleep(50);
  live.filter((m) => isAlive(m.pid)).forEach((m) => signal(m, 'SIGKILL'));
  while (live.some((m) => isAlive(m.pid))) await sleep(20);
  if (only === undefined) rmSync(path.join(dir, 'pids'), { recursive: true, force: true });
  else rmSync(path.join(dir, 'pids', `${only}.pid`), { force: true });
  return live;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Any HTTP answer at all means the server is up. */
function httpAnswers(url: string, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', ca, timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}

/** Polls every 50 ms until each URL answers; fails with the log tail of a server that died or never answered. */
export async function waitReady(dir: string, targets: ReadonlyArray<{ managed: Managed; url: string }>, ca: Buffer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    targets.map(async ({ managed, url }) => {
      for (;;) {
        if (await httpAnswers(url, ca)) return;
        if (!isAlive(managed.pid)) throw new Error(`${managed.name} exited during start-up:\n${logTail(dir, managed.name)}`);
        if (Date.now() > deadline) throw new Error(`${managed.name} did not answer at ${url} within ${timeoutMs} ms:\n${logTail(dir, managed.name)}`);
        await sleep(50);
      }
    }),
  );
}

export function logTail(dir: string, name: string, lines = 20): string {
  try {
    return readFileSync(path.join(dir, 'logs', `${name}.log`), 'utf8')
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no log)';
  }
}
