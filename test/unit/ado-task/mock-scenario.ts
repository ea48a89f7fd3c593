/**
 * One TaskMockRunner scenario for the ADO task, driven by `<this file>.json` (MockScenario): inputs, endpoint and agent variables,
 * and what the fakes answer. Compiled to CommonJS with the un-bundled task (the mock framework swaps modules through
 * require() hooks, which cannot reach into a bundle). The core's operation and @azure/identity are replaced by recorders,
 * so the scenario is offline: it shows what the task hands the core (settings, credential, cloud) and how it renders a
 * report, and prints that as one `ADO_MOCK_CALL <json>` line.
 */
import { TaskMockRunner } from 'azure-pipelines-task-lib/mock-run';
import { readFileSync } from 'node:fs';
import type { HttpClient, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import type { Host } from '../../../core/host';
import type { TransferReport } from '../../../core/report';
import type { TransferSettings } from '../../../core/settings';

export interface MockScenario {
  /** The compiled task entry (…/ado-task/index.js). */
  readonly taskPath: string;
  readonly inputs: Readonly<Record<string, string>>;
  /** ENDPOINT_*, SYSTEM_*, AGENT_* variables as the agent sets them. */
  readonly env: Readonly<Record<string, string>>;
  /** The report the fake operation returns. */
  readonly outcome?: TransferReport['outcome'];
  /** Answers of the fake HTTP client (by URL substring): the ARM metadata document for Azure Stack. */
  readonly http?: Readonly<Record<string, unknown>>;
}

/** What the fake operation saw. */
export interface MockCall {
  readonly settings: TransferSettings;
  readonly credential: {
    readonly type: string;
    readonly args: readonly unknown[];
    readonly armEndpoint: string;
    readonly armAudience?: string;
    readonly authorityHost?: string;
  };
  readonly signal: boolean;
}

// A file, not an environment variable: jest's sandboxed process.env does not reach the process MockTestRunner spawns.
const scenario = JSON.parse(readFileSync(`${__filename}.json`, 'utf8')) as MockScenario;
const tmr = new TaskMockRunner(scenario.taskPath);
for (const [name, value] of Object.entries(scenario.inputs)) tmr.setInput(name, value);
Object.assign(process.env, scenario.env);

/** Stands in for every @azure/identity credential: remembers its class and constructor arguments. */
function recorder(type: string): new (...args: unknown[]) => { type: string; args: unknown[]; getToken(): Promise<null> } {
  return class {
    readonly type = type;
    readonly args: unknown[];
    constructor(...args: unknown[]) {
      this.args = args;
    }
    getToken(): Promise<null> {
      return Promise.resolve(null);
    }
  };
}
tmr.registerMock('@azure/identity', {
  ClientSecretCredential: recorder('ClientSecretCredential'),
  ClientCertificateCredential: recorder('ClientCertificateCredential'),
  ManagedIdentityCredential: recorder('ManagedIdentityCredential'),
  AzurePipelinesCredential: recorder('AzurePipelinesCredential'),
});

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the real module, loaded before the mocks are on
const realPipeline = require('@azure/core-rest-pipeline') as typeof import('@azure/core-rest-pipeline');
const fakeHttp: HttpClient = {
  sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    const hit = Object.entries(scenario.http ?? {}).find(([url]) => request.url.includes(url));
    const status = hit ? 200 : 404;
    return Promise.resolve({ request, status, headers: realPipeline.createHttpHeaders(), bodyAsText: hit ? JSON.stringify(hit[1]) : 'not found' });
  },
};
tmr.registerMock('@azure/core-rest-pipeline', { ...realPipeline, createDefaultHttpClient: () => fakeHttp });

tmr.registerMock('./azure/services', { createServices: () => Promise.resolve({ services: {} }) });
tmr.registerMock('./run', {
  runOperation(settings: TransferSettings, host: Host): Promise<TransferReport> {
    const c = host.credential!;
    const cred = c.credential as unknown as { type: string; args: unknown[] };
    const call: MockCall = {
      settings,
      credential: {
        type: cred.type,
        args: cred.args,
        armEndpoint: c.armEndpoint,
        ...(c.armAudience ? { armAudience: c.armAudience } : {}),
        ...(c.authorityHost ? { authorityHost: c.authorityHost } : {}),
      },
      signal: host.budget.signal instanceof AbortSignal,
    };
    process.stdout.write(`ADO_MOCK_CALL ${JSON.stringify(call)}\n`);
    host.logger.progress(50, 'half way');
    host.logger.warning("careful with 'max-parallel-runs'");
    const outcome = scenario.outcome ?? 'succeeded';
    const now = new Date().toISOString();
    return Promise.resolve({
      operation: settings.operation,
      dryRun: settings.dryRun,
      outcome,
      startTime: now,
      finishTime: now,
      artifacts: [
        { artifact: 'app:v1', result: 'verified', sourceDigest: `sha256:${'a'.repeat(64)}`, targetDigest: `sha256:${'a'.repeat(64)}`, batch: 1 },
        ...(outcome === 'partial' ? [{ artifact: 'app:v2', result: 'failed' as const, reason: 'manifest unknown', batch: 1 }] : []),
      ],
      runs: [{ name: 'run1', pipeline: 'exp1', kind: 'export', status: 'succeeded', blob: 'blob-1', artifacts: ['app:v1'], startTime: now, finishTime: now }],
      blobs: [{ name: 'blob-1' }],
      checks: [],
      changes: [],
      usage: [],
      warnings: [],
    });
  },
});

tmr.run();
