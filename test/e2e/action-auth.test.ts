/**
 * The bundled action signs in the ways users do, on Node 20 and (when test/node24.sh installed it) Node 24:
 * OIDC through the workflow's ID-token endpoint (auth-type oidc, a federated credential), a service principal with
 * a client secret, and an azure/login-style creds JSON. Each exports one image for real; no secret or token shows.
 */
import { type ActionFixture, createActionFixture, expectNoSecrets, jsonOutput, requestsSince, seed, stepInputs, type AuthMode } from './support/action-fixture';
import { describeRun, nodeBinaries, runAction } from './support/action-runner';

jest.setTimeout(300_000);

let f: ActionFixture;
const image = (mode: AuthMode, node: string): string => `act${f.u}/${mode}-${node.replace(/\W/g, '')}`;

beforeAll(async () => {
  f = await createActionFixture('au');
  await seed(
    f,
    nodeBinaries().flatMap((n) => (['oidc', 'service-principal', 'creds'] as const).map((mode) => ({ repo: image(mode, n.label), tag: 'v1' }))),
  );
});

describe.each(nodeBinaries())('on $label', ({ label, path: node }) => {
  it.each(['oidc', 'service-principal', 'creds'] as const)('signs in with %s and exports', async (mode) => {
    const started = Date.now();
    const run = await runAction({
      node,
      inputs: stepInputs(f, 'export', { artifacts: `${image(mode, label)}:v1`, 'blob-name': `auth-${mode}-${f.u}-${label.replace(/\W/g, '')}` }, mode),
      ...(mode === 'oidc' ? { oidc: f.env } : {}),
    });
    expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
    expect(run.report?.outcome).toBe('succeeded');
    expect(jsonOutput<string[]>(run, 'blobs')).toHaveLength(1);
    expectNoSecrets(run, f);

    const entra = (await requestsSince(f.env, started, ['/oauth2/v2.0/token', '/_oidc/token'])).map((e) => `${e.service} ${e.method} ${e.path.split('?')[0]}`);
    if (mode === 'oidc') {
      // The ID token came from the workflow's endpoint and was exchanged at Entra; no client secret was involved.
      expect(entra).toEqual(expect.arrayContaining(['oidc GET /_oidc/token', expect.stringMatching(/^entra POST \/.+\/oauth2\/v2\.0\/token$/)]));
      expect(run.masks.some((m) => m.startsWith('eyJ'))).toBe(true);
    } else {
      expect(entra.some((e) => e.startsWith('oidc '))).toBe(false);
      expect(run.masks).toEqual(expect.arrayContaining([f.env.clientSecret]));
    }
    run.cleanup();
  });
});

it('fails with one clear line when auth-type oidc is asked for but the job has no id-token permission', async () => {
  const run = await runAction({ inputs: stepInputs(f, 'export', { artifacts: `${image('oidc', nodeBinaries()[0]!.label)}:v1` }, 'oidc') });
  expect(run.exitCode).toBe(1);
  expect(run.errors.map((e) => e.message).join('\n')).toMatch(/id-token: write/);
  run.cleanup();
});

it('in a debug run, the Azure SDK log goes to ::debug:: lines only (never stderr) and shows no secret', async () => {
  const run = await runAction({
    inputs: stepInputs(f, 'export', { artifacts: `${image('service-principal', nodeBinaries()[0]!.label)}:v1`, 'blob-name': `auth-debug-${f.u}` }),
    env: { RUNNER_DEBUG: '1', AZURE_LOG_LEVEL: 'verbose' },
  });
  expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
  const sdk = run.commands.filter((c) => c.command === 'debug' && /^azure:/.test(c.message));
  expect(sdk.length).toBeGreaterThan(10);
  expect(run.stderr).toBe('');
  expect(run.log.split('\n').filter((l) => /^azure:/.test(l))).toEqual([]);
  expectNoSecrets(run, f);
  run.cleanup();
});
