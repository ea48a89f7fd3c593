/**
 * The emulator's state on disk, under `config.stateDir`, so that a restarted emulator remembers what Azure never forgets
 * (docs/local-azure.md#state-on-disk): one JSON file per record, `<stateDir>/<kind>/<key>.json`, each written whole
 * (a temporary file, then a rename) and read back at start.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export class DiskState {
  private seq = 0;

  constructor(private readonly dir: string) {}

  private folder(kind: string): string {
    const d = path.join(this.dir, kind);
    mkdirSync(d, { recursive: true });
    return d;
  }

  private file(kind: string, key: string): string {
    return path.join(this.folder(kind), `${encodeURIComponent(key.toLowerCase())}.json`);
  }

  /** Every record of `kind`, by key (lower case); a file that is not JSON (a crash mid-write cannot make one) is skipped. */
  readAll<T>(kind: string): Map<string, T> {
    const out = new Map<string, T>();
    const d = this.folder(kind);
    for (const f of readdirSync(d)) {
      if (!f.endsWith('.json')) continue;
      try {
        out.set(decodeURIComponent(f.slice(0, -'.json'.length)), JSON.parse(readFileSync(path.join(d, f), 'utf8')) as T);
      } catch {
        /* a temporary file's leftovers never end in .json; anything else unreadable is not ours */
      }
    }
    return out;
  }

  read<T>(kind: string, key: string): T | undefined {
    try {
      return JSON.parse(readFileSync(this.file(kind, key), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** Writes the record whole: readers see the old file or the new one, never half of one. */
  write(kind: string, key: string, value: unknown): void {
    const target = this.file(kind, key);
    const tmp = `${target}.${process.pid}.${++this.seq}.tmp`;
    writeFileSync(tmp, JSON.stringify(value));
    renameSync(tmp, target);
  }

  remove(kind: string, key: string): void {
    rmSync(this.file(kind, key), { force: true });
  }

  /** A value made once and kept (signing keys, opaque tokens): the same after a restart as before it. */
  kept(name: string, make: () => string): string {
    const known = this.read<{ value: string }>('keys', name);
    if (known) return known.value;
    const value = make();
    this.write('keys', name, { value });
    return value;
  }
}
