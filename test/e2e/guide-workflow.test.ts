/**
 * @live
 * The guide's workflow (docs/rehearse.md) on a push to main, as written: its local-azure step is skipped and the same
 * acr-transfer step promotes from the repository's variables and secrets. The Azure they name is the suite's local Azure
 * here (signing in with OIDC, the runner's issuer standing in for GitHub's) and, under `npm run test:live`, the Azure of
 * the settings file (with its service principal's secret).
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { localAzureDir } from '../local-azure/config';
import type { SeededImage } from '../local-azure/seed';
import { type ActionFixture, containerUri, createActionFixture, seed, targetDigest } from './support/action-fixture';
import { isLive } from './support/live';
import { endJob, runGuideWorkflow } from './support/rehearsal';
import { describeSteps, type WorkflowResult } from './support/workflow';

jest.setTimeout(600_000);

const sha = randomBytes(20).toString('hex');
let f: ActionFixture;
let images: SeededImage[];
let r: WorkflowResult;

beforeAll(async () => {
  f = await createActionFixture('gw');
  // What the build pushed: the images the workflow names after the commit.
  images = await seed(f, [
    { repo: 'team/api', tag: sha },
    { repo: 'team/web', tag: sha },
  ]);
  const { env } = f;
  r = await runGuideWorkflow({
    event: { name: 'push' },
    sha,
    vars: {
      ...(isLive() ? { AZURE_AUTH_TYPE: 'service-principal' } : {}),
      AZURE_CLIENT_ID: env.clientId,
      AZURE_TENANT_ID: env.tenantId,
      AZURE_SUBSCRIPTION_ID: env.subscriptionId,
      AZURE_RESOURCE_MANAGER_ENDPOINT: env.armEndpoint,
      ACR_SOURCE_REGISTRY: env.registries.source.resourceId,
      ACR_TARGET_REGISTRY: env.registries.target.resourceId,
      ACR_EXPORT_STORAGE_URI: containerUri(f.exportStorage),
      ACR_EXPORT_SAS_SECRET_URI: f.exportSecretUri,
      ACR_IMPORT_STORAGE_URI: containerUri(f.importStorage),
      ACR_IMPORT_SAS_SECRET_URI: f.importSecretUri,
      // This run's own pipelines (live mode deletes them after the file).
      ACR_EXPORT_PIPELINE: f.exportPipeline,
      ACR_IMPORT_PIPELINE: f.importPipeline,
    },
    secrets: isLive() ? { AZURE_CLIENT_SECRET: env.clientSecret } : {},
    ...(isLive() ? {} : { oidc: path.join(localAzureDir(), 'env.json') }),
  });
});
afterAll(() => endJob(r));

it('skips the rehearsal and promotes with the same step, from the repository variables', () => {
  expect({ steps: r.steps.map((s) => [s.name, s.outcome]), log: r.conclusion === 'success' ? '' : describeSteps(r) }).toEqual({
    steps: [
      ['Rehearse on a local Azure', 'skipped'],
      ['Promote', 'success'],
      ['Hand on the pinned references', 'success'],
    ],
    log: '',
  });
  expect(r.steps[1]!.inputs).toMatchObject({
    'auth-type': isLive() ? 'service-principal' : 'oidc',
    'client-id': f.env.clientId,
    'client-secret': isLive() ? f.env.clientSecret : '',
    'source-registry': f.env.registries.source.resourceId,
    'export-pipeline': f.exportPipeline,
  });
});

it('puts every image into the target registry with the digest the build pushed', async () => {
  const pinned = images.map((i) => `${i.ref}@${i.digest}`);
  expect(JSON.parse(r.steps[1]!.outputs['imported-artifacts'] ?? '[]')).toEqual(pinned);
  for (const i of images) expect(await targetDigest(f, i.ref)).toBe(i.digest);
  expect(r.steps[2]!.log).toContain(`promoted ${JSON.stringify(pinned)}`);
});
