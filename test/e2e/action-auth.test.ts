/**
 * The bundled action signs in the ways users do, on Node 20 and (when test/node24.sh installed it) Node 24:
 * OIDC through the workflow's ID-token endpoint (auth-type oidc, a federated credential), a service principal with
 * a client secret, and an azure/login-style creds JSON. Each exports one image for real; no secret or token shows.
 * Then, on the newest Node, the three sign-ins that need something of the machine: a certificate registered on the
 * app, the machine's managed identity (IDENTITY_ENDPOINT style) and the session of an earlier `az login`; each
 * transfers one image end to end (export, copy, import, verified by digest).
 */
import type { SeededImage } from '../local-azure/seed';
import { itWith } from '../prerequisites';
import {
  type ActionFixture,
  type AuthMode,
  control,
  createActionFixture,
  expectNoSecrets,
  jsonOutput,
  requestsSince,
  seed,
  stepInputs,
  targetDigest,
} from './support/action-fixture';
import { type ActionRun, describeRun, nodeBinaries, runAction } from './support/action-runner';
import { AZ_INSTALL, azPath, azSession } from './support/azure-cli';
import { withTestCertificate } from './support/certificate';

jest.setTimeout(300_000);

let f: ActionFixture;
const image = (mode: AuthMode, node: string): string => `act${f.u}/${mode}-${node.replace(/\W/g, '')}`;

const MACHINE_MODES = ['certificate', 'managed-identity', 'azure-cli'] as const;
type MachineMode = (typeof MACHINE_MODES)[number];
const machineImages = new Map<MachineMode, SeededImage>();

beforeAll(async () => {
  f = await createActionFixture('au');
  await seed(
    f,
    nodeBinaries().flatMap((n) => (['oidc', 'service-principal', 'creds'] as const).map((mode) => ({ repo: image(mode, n.label), tag: 'v1' }))),
  );
  const seeded = await seed(
    f,
    MACHINE_MODES.map((mode) => ({ repo: `act${f.u}/${mode}`, tag: 'v1' })),
  );
  MACHINE_MODES.forEach((mode, i) => machineImages.set(mode, seeded[i]!));
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

describe(`sign-ins that need the machine, on ${nodeBinaries().at(-1)!.label}`, () => {
  const node = nodeBinaries().at(-1)!.path;

  /** A transfer of the mode's image, signed in with `auth` (the sign-in inputs) and `env`; the image must arrive intact. */
  async function transferWith(mode: MachineMode, auth: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
    const img = machineImages.get(mode)!;
    const inputs = stepInputs(f, 'transfer', { artifacts: img.ref, 'blob-name': `auth-${mode}-${f.u}` });
    for (const k of ['auth-type', 'client-id', 'tenant-id', 'client-secret']) delete inputs[k];
    const run = await runAction({ node, inputs: { ...inputs, ...auth }, env });
    expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
    expect(run.report?.outcome).toBe('succeeded');
    expect(jsonOutput<string[]>(run, 'imported-artifacts')).toEqual([`${img.ref}@${img.digest}`]);
    expect(await targetDigest(f, img.ref)).toBe(img.digest);
    return run;
  }

  it('client-certificate: a PEM whose certificate is registered on the app', () =>
    withTestCertificate('action-test', async ({ key, cert }) => {
      expect((await control(f.env, 'POST', '/app-certificates', { certificate: cert })).status).toBe(200);
      const started = Date.now();
      const run = await transferWith('certificate', {
        'auth-type': 'service-principal',
        'client-id': f.env.clientId,
        'tenant-id': f.env.tenantId,
        'client-certificate': key + cert,
      });
      expect(run.log).toMatch(/Azure sign-in: auth-type service-principal/);
      const tokens = await requestsSince(f.env, started, ['/oauth2/v2.0/token']);
      expect(tokens.length).toBeGreaterThan(0);
      expect(tokens.every((e) => e.status === 200)).toBe(true);
      // The private key never shows, line by line (what the runner masks) or whole.
      const keyLines = key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
      expectNoSecrets(run, f, [key, ...keyLines]);
      run.cleanup();
    }));

  it("managed-identity: the machine's user-assigned identity through IDENTITY_ENDPOINT", async () => {
    const mi = (await control<{ identityEndpoint: string; identityHeader: string; userAssigned: { clientId: string } }>(f.env, 'GET', '/managed-identity'))
      .body;
    const started = Date.now();
    const run = await transferWith(
      'managed-identity',
      { 'auth-type': 'managed-identity', 'client-id': mi.userAssigned.clientId },
      { IDENTITY_ENDPOINT: mi.identityEndpoint, IDENTITY_HEADER: mi.identityHeader },
    );
    const log = await requestsSince(f.env, started, ['/_msi/token', '/oauth2/v2.0/token']);
    // Every token came from the identity endpoint, none from Entra's token endpoint.
    expect(log.filter((e) => e.service === 'msi').length).toBeGreaterThan(0);
    expect(log.filter((e) => e.service === 'entra')).toEqual([]);
    expectNoSecrets(run, f, [mi.identityHeader]);
    run.cleanup();
  });

  itWith(
    azPath() !== undefined,
    'the Azure CLI (az)',
    AZ_INSTALL,
  )('azure-cli: the session of an earlier az login, shared through AZURE_CONFIG_DIR', async () => {
    const az = await azSession(f.env);
    try {
      await az.ok(['login', '--service-principal', '-u', f.env.clientId, '-p', f.env.clientSecret, '--tenant', f.env.tenantId, '-o', 'none']);
      const started = Date.now();
      const run = await transferWith('azure-cli', { 'auth-type': 'azure-cli', 'tenant-id': f.env.tenantId }, { ...az.env });
      expect(run.log).toMatch(/Azure sign-in: auth-type azure-cli/);
      // az account get-access-token answered from az's own token cache or Entra; the step itself never asked Entra with a secret.
      expect(run.masks).not.toContain(f.env.clientSecret);
      expect((await requestsSince(f.env, started, ['/_msi/token'])).length).toBe(0);
      expectNoSecrets(run, f);
      run.cleanup();
    } finally {
      az.cleanup();
    }
  });
});
