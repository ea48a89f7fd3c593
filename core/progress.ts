/**
 * Progress of a long list of per-artifact calls (resolve, verify): the Logger's progress() at most once per 10 %, so that
 * 10,000 artifacts give ten lines, not 10,000; short lists stay quiet.
 */
import type { Logger } from './ports';

/** Lists shorter than this finish too soon to need progress. */
const MIN_ITEMS = 200;

export function listProgress(log: Pick<Logger, 'progress'>, what: string): (done: number, total: number) => void {
  let shown = -1;
  return (done, total) => {
    if (total < MIN_ITEMS) return;
    const tenth = Math.floor((10 * done) / total);
    if (tenth === shown) return;
    shown = tenth;
    log.progress(10 * tenth, `${what}: ${done} of ${total}`);
  };
}
