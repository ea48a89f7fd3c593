'use strict';
// Preloaded into the action's process by the benchmark: at exit, its peak resident memory goes to BENCH_RSS_FILE.
process.on('exit', () => {
  if (process.env.BENCH_RSS_FILE) require('node:fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS * 1024));
});
