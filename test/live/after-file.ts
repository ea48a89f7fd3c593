/**
 * Loaded after the test framework in every file of a live run (jest.live.config.js): deletes what the file made on the
 * live Azure (support/live.ts) and says what it deleted and what it could not.
 */
import { cleanupLive } from '../e2e/support/live';

afterAll(async () => {
  const lines = await cleanupLive();
  if (lines.length > 0) process.stderr.write(`live clean-up:\n  ${lines.join('\n  ')}\n`);
}, 300_000);
