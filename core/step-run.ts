/**
 * The part of a step after its inputs parsed (core/step.ts): open the host, set the run budget and its deadline, sign
 * in, run the operation, publish the report once — or, on cancel or time-out, what is known.
 */
import { runBudget } from './budget';
import type { Cancellation } from './cancellation';
import { CancelledError, ConfigError, errorMessage, redact } from './errors';
import { timedOutMessage } from './operation';
import { cancelledMessage, expiredMessage, stoppedReport } from './outcome';
import type { Logger } from './ports';
import { publishReport } from './publish';
import type { TransferReport } from './report';
import type { TransferSettings } from './settings';
import type { Frontend } from './step';

export async function runParsed(
  frontend: Frontend,
  settings: TransferSettings,
  cancel: Cancellation,
  start: Date,
  onLogger: (logger: Logger) => void,
): Promise<void> {
  let host;
  let opened;
  try {
    opened = await frontend.open();
    onLogger(opened.logger);
    const budget = runBudget({ signal: cancel.signal, timeoutMinutes: settings.timeoutMinutes, start: start.getTime() });
    const timeoutMinutes = settings.timeoutMinutes;
    // At the deadline every request, retry and poll stops (their signal aborts), and the step ends within graceMs.
    cancel.expireAt(budget.deadline, () => new CancelledError(timedOutMessage(timeoutMinutes), 'timeout', budget.inFlight.list()));
    host = await opened.host(budget);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    frontend.fail(redact(e.message)); // a service connection that cannot work, like a bad input: one line
    return;
  }
  const { sink } = opened;
  let published: Promise<void> | undefined;
  // The deadline path and the normal path may both publish: the first one wins.
  const publish = (report: TransferReport): Promise<void> => (published ??= publishReport(report, sink));
  const { logger } = host;
  // The hard stop's report, when the operation has not unwound in time to write its own.
  const stoppedNow = (): TransferReport =>
    cancel.expired
      ? stoppedReport(settings, start, 'timed-out', expiredMessage(cancel.signal))
      : stoppedReport(settings, start, 'cancelled', cancelledMessage(cancel.received));
  cancel.onDeadline(() => publish(stoppedNow()));
  try {
    // Loaded only now: a step that fails on its inputs never pays for the Azure SDKs (docs/hosts.md#bundling).
    const [{ createServices }, { runOperation }] = await Promise.all([import('./azure/services'), import('./run')]);
    const { services } = await createServices(settings, host);
    await publish(await runOperation(settings, host, services));
  } catch (e) {
    logger.debug(redact((e as Error).stack ?? String(e)));
    // A host that cannot be used as the inputs name it (e.g. a secret URI outside the cloud): one line, like any bad input.
    if (e instanceof ConfigError && !cancel.signal.aborted) {
      frontend.fail(redact(e.message));
      return;
    }
    await publish(cancel.received || cancel.expired ? stoppedNow() : stoppedReport(settings, start, 'failed', errorMessage(e)));
  }
}
