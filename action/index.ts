/** Entry point of dist/index.js: runs the action, then exits, so that no keep-alive socket or stray timer holds the step open. */
import { run } from './main';

run().then(
  () => process.exit(),
  (e: unknown) => {
    // run() reports its own failures; reaching here is a bug, and must not pass for success.
    process.stdout.write(`::error::acr-transfer crashed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
