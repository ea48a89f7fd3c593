/** Entry point of the task (bundled to dist/index.js): runs it, then exits, so no keep-alive socket or stray timer holds the step open. */
import { run } from './main';

void run().finally(() => process.exit());
