/**
 * The GitHub Action: read and check the inputs (masking secrets first), run the operation in the core, render its
 * report. Cancellation (SIGINT/SIGTERM) aborts the run and still leaves a report within 5 s.
 */
import * as core from '@actions/core';
import { createServices } from '../core/azure/services';
import { ConfigError, errorMessage, redact } from '../core/errors';
import { runOperation } from '../core/run';
import { parseSettings, secretValues, type TransferSettings } from '../core/settings';
import { type CancellationOptions, watchSignals } from '../core/cancellation';
import { githubHost, githubInputs, maskSecret, routeAzureSdkLogs } from './github-host';
import { cancelledMessage, stoppedReport } from '../core/outcome';
import { Publisher } from './publish';

export async function run(opts: CancellationOptions = {}): Promise<void> {
  const startTime = new Date();
  const cancel = watchSignals({ log: (m) => core.info(m), ...opts });
  try {
    // Masks go out before any other line, so no later log line (ours or an SDK's) can show a secret.
    secretValues(githubInputs).forEach(maskSecret);
    routeAzureSdkLogs();
    let settings: TransferSettings;
    try {
      settings = parseSettings(githubInputs);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      core.setFailed(redact(e.message)); // one line naming the input, the value and what is allowed; no stack
      return;
    }
    [settings.auth.clientSecret, settings.auth.clientCertificate].forEach((s) => s && !s.startsWith('@file:') && maskSecret(s));

    const host = githubHost(cancel.signal);
    const publisher = new Publisher(host.tempDir);
    cancel.onDeadline(() => publisher.publish(stoppedReport(settings, startTime, 'cancelled', cancelledMessage(cancel.received))));
    try {
      const { services } = await createServices(settings, host);
      await publisher.publish(await runOperation(settings, host, services));
    } catch (e) {
      core.debug(redact((e as Error).stack ?? String(e)));
      const outcome = cancel.received ? 'cancelled' : 'failed';
      await publisher.publish(stoppedReport(settings, startTime, outcome, cancel.received ? cancelledMessage(cancel.received) : errorMessage(e)));
    }
  } catch (e) {
    core.debug(redact((e as Error).stack ?? String(e)));
    core.setFailed(redact(errorMessage(e)));
  } finally {
    cancel.dispose();
  }
}
