/**
 * The action bundle: its size on disk, and its cold start — load, parse the inputs, fail on a bad operation, exit —
 * against a bare `node -e 0` on the same Node, the two interleaved so that machine load hits both alike.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function elapsedMs(node: string, args: readonly string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  spawnSync(node, args, { env, stdio: 'ignore' });
  return performance.now() - t;
}

export function bundleRows(distDir: string, nodes: readonly { label: string; bin: string }[], runs = 21): string[][] {
  const files = readdirSync(distDir).sort();
  const bytes = files.reduce((sum, f) => sum + statSync(path.join(distDir, f)).size, 0);
  const rows = [['action dist/ size', `${(bytes / 1e6).toFixed(2)} MB`, `${files.length} files: ${files.join(', ')}`]];
  // No NODE_OPTIONS: the test run's preloads would be measured too.
  const env = { PATH: process.env['PATH'] ?? '', INPUT_OPERATION: 'teleport' };
  for (const { label, bin } of nodes) {
    const bundle: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      bundle.push(elapsedMs(bin, [path.join(distDir, 'index.js')], env));
      bare.push(elapsedMs(bin, ['-e', '0'], env));
    }
    const ratio = median(bundle) / median(bare);
    rows.push([
      `cold start ÷ node -e 0 (${label}: bundle loads, parses inputs, fails on a bad operation)`,
      `${ratio.toFixed(2)}×`,
      `median of ${runs}: ${median(bundle).toFixed(0)} ms vs ${median(bare).toFixed(0)} ms`,
    ]);
  }
  return rows;
}
