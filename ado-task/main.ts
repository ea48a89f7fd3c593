/**
 * The Azure DevOps task: read the service connection and the inputs (masking secrets first), build the credential from the
 * connection, run the operation in the core, render its report. Cancellation (SIGINT/SIGTERM from the agent) aborts the
 * run and still leaves a report within 5 s.
 */
import { createDefaultHttpClient } from '@azure/core-rest-pipeline';
import * as tl from 'azure-pipelines-task-lib/task';
import { createServices } from '../core/azure/services';
import { ConfigError, errorMessage, redact } from '../core/errors';
import { runOperation } from '../core/run';
import { parseSettings, secretValues, type TransferSettings } from '../core/settings';
import { adoHost, adoInputs, adoLine, adoLogger, agentTempDir, maskSecret, routeAzureSdkLogs } from './ado-host';
import { type CancellationOptions, watchSignals } from '../core/cancellation';
import { type HostCredential, hostCredential } from './credential';
import { SERVICE_CONNECTION_INPUT } from './names';
import { readServiceConnection, type ServiceConnection } from './service-connection';
import { cancelledMessage, stoppedReport } from '../core/outcome';
import { Publisher } from './publish';

/** A bad input or service connection: one line naming what is wrong and what is allowed; no stack. */
function failConfig(e: ConfigError): void {
  tl.setResult(tl.TaskResult.Failed, adoLine(e.message));
}

export async function run(opts: CancellationOptions = {}): Promise<void> {
  const startTime = new Date();
  const logger = adoLogger();
  const watch = watchSignals({ log: (m) => logger.info(m), ...opts });
  try {
    routeAzureSdkLogs();
    let settings: TransferSettings;
    let connection: ServiceConnection;
    try {
      const id = tl.getInput(SERVICE_CONNECTION_INPUT, false)?.trim();
      if (!id) throw new ConfigError(`Input '${SERVICE_CONNECTION_INPUT}' is required: the Azure Resource Manager service connection to use`);
      connection = readServiceConnection(id);
      // Masks go out before any other line of ours, so nothing printed later can show a secret.
      [connection.servicePrincipalKey, connection.certificate, connection.systemAccessToken].forEach((s) => s && maskSecret(s));
      const inputs = adoInputs(connection.subscriptionId);
      secretValues(inputs).forEach(maskSecret);
      settings = parseSettings(inputs);
    } catch (e) {
      if (e instanceof ConfigError) return failConfig(e);
      throw e;
    }

    let credential: HostCredential;
    try {
      const built = await hostCredential(connection, { httpClient: createDefaultHttpClient(), signal: watch.signal, log: (m) => logger.info(m) });
      credential = built.hostCredential;
      logger.info(`Authenticating with service connection '${connection.id}': ${built.description}`);
    } catch (e) {
      if (e instanceof ConfigError) return failConfig(e);
      throw e;
    }

    const host = adoHost(watch.signal, credential, logger);
    const publisher = new Publisher(agentTempDir());
    watch.onDeadline(() => publisher.publish(stoppedReport(settings, startTime, 'cancelled', cancelledMessage(watch.received))));
    try {
      const { services } = await createServices(settings, host);
      await publisher.publish(await runOperation(settings, host, services));
    } catch (e) {
      tl.debug(redact((e as Error).stack ?? String(e)));
      const cancelled = watch.received !== undefined;
      await publisher.publish(
        stoppedReport(settings, startTime, cancelled ? 'cancelled' : 'failed', cancelled ? cancelledMessage(watch.received) : errorMessage(e)),
      );
    }
  } catch (e) {
    tl.debug(redact((e as Error).stack ?? String(e)));
    tl.setResult(tl.TaskResult.Failed, adoLine(errorMessage(e)));
  } finally {
    watch.dispose();
  }
}
