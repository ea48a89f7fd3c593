/**
 * A bad input fails the step with one line naming the input, the value and what is allowed, before anything talks to
 * Azure. Every rule has its row in test/unit/settings.test.ts; these few prove the path through the bundle: the local
 * Azure's request log must show no request at all (no token, no ARM read, no PUT, no storage call) from the step, but
 * for the cloud's metadata document where the host check needs it. Test files run one at a time (jest maxWorkers 1),
 * so any request in the window would be the step's. A foreign host named as a Key Vault secret gets nothing at all, and
 * a host under the vault suffix whose challenge names another resource gets no token.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { localAzureDir } from '../local-azure/config';
import {
  type ActionFixture,
  containerUri,
  createActionFixture,
  expectNoSecrets,
  type RequestLogEntry,
  requestLog,
  seed,
  stepInputs,
} from './support/action-fixture';
import { describeRun, runAction } from './support/action-runner';

jest.setTimeout(120_000);

let f: ActionFixture;
/** A stranger's HTTPS server playing Key Vault: it records what reaches it and answers every request with a challenge for ARM. */
let attacker: { server: Server; port: number; seen: { path: string; authorization: string | undefined }[] };

beforeAll(async () => {
  f = await createActionFixture('in');
  const certs = path.join(localAzureDir(), 'certs');
  const seen: { path: string; authorization: string | undefined }[] = [];
  const server = createServer({ cert: readFileSync(path.join(certs, 'server.pem')), key: readFileSync(path.join(certs, 'server.key')) }, (req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    // What a hostile host answers to get a token: a challenge for the ARM audience, from the real authority.
    res.writeHead(401, { 'www-authenticate': `Bearer authorization="${f.env.authorityHost}/${f.env.tenantId}", resource="https://management.azure.com"` });
    res.end('{"error":{"code":"Unauthorized","message":"give me a token"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  attacker = { server, port: (server.address() as AddressInfo).port, seen };
});

afterAll(async () => {
  await new Promise((r) => attacker.server.close(r));
});

/** The cloud's metadata document: read without a token to learn which hosts the cloud names, before any sign-in. */
const metadataOnly = (e: RequestLogEntry): boolean => e.method === 'GET' && e.path.startsWith('/metadata/endpoints');

interface Case {
  readonly name: string;
  readonly inputs: () => Record<string, string>;
  readonly error: RegExp;
  readonly env?: Record<string, string>;
  /** Requests the step may make before it refuses (none unless said), and the log line that says so. */
  readonly allowed?: (e: RequestLogEntry) => boolean;
  readonly saying?: RegExp;
  /** Text that must not appear anywhere the user can see. */
  readonly secrets?: readonly string[];
}

const cases: readonly Case[] = [
  {
    name: 'a pipeline name with a hyphen',
    inputs: () => ({ 'export-pipeline': 'bad-pipeline' }),
    error: /^Input 'export-pipeline' is 'bad-pipeline': it must be 5 to 50 letters or digits/,
  },
  {
    name: 'a malformed artifact',
    inputs: () => ({ artifacts: `act${f.u}/app:v1\nApp Server:latest` }),
    error: /^Input 'artifacts' is 'App Server:latest': each artifact must be repo, repo:tag, repo@sha256:/,
  },
  {
    name: 'an unknown operation',
    inputs: () => ({ operation: 'teleport' }),
    error: /^Input 'operation' is 'teleport': it must be one of export, import, copy, transfer, setup, check, cleanup$/,
  },
  {
    name: "a registry id whose resource group is '..'",
    inputs: () => ({
      'source-registry': `/subscriptions/${f.env.subscriptionId}/resourceGroups/../providers/Microsoft.ContainerRegistry/registries/sourceregistry`,
    }),
    error: /^Input 'source-registry' is '\/subscriptions\/.*\/resourceGroups\/\.\.\/.*': the resource group in a resource id must be .*not '\.' or '\.\.'/,
  },
  {
    name: "'..' as the tenant",
    inputs: () => ({ 'tenant-id': '..' }),
    error: /^Input 'tenant-id' is '\.\.': it must be the tenant's GUID or one of its domain names/,
  },
  {
    name: 'a blob name that climbs out of its container',
    inputs: () => ({ operation: 'import', blobs: 'a/../../../etc/passwd' }),
    error: /^Input 'blobs' is 'a\/\.\.\/\.\.\/\.\.\/etc\/passwd': each blob name must follow the blob naming rules/,
  },
  {
    name: 'a password in a storage URL, in a debug run',
    inputs: () => ({ 'export-storage-uri': containerUri(f.exportStorage).replace('https://', 'https://user:hunter2pw@') }),
    env: { RUNNER_DEBUG: '1', ACTIONS_STEP_DEBUG: 'true' },
    error: /^Input 'export-storage-uri' is 'https:\/\/REDACTED@.*': it must be the URL of a blob container.* without a user name or password$/,
    secrets: ['hunter2pw'],
  },
  {
    name: 'a Key Vault secret URI on a host that is not a vault of the cloud',
    inputs: () => ({ 'export-sas-secret-uri': `https://127.0.0.1:${attacker.port}/secrets/acrexportsas` }),
    error:
      /^Input 'export-sas-secret-uri' is 'https:\/\/127\.0\.0\.1:\d+\/secrets\/acrexportsas': its host is not a Key Vault of the cloud .* \(<vault>\.vault\.local-azure\.localhost\), and it gets no request or token$/,
    allowed: metadataOnly,
    saying: /^Cloud: custom, ARM https:\/\/127\.0\.0\.1:\d+, authority .* \(from metadata\/endpoints\)$/,
  },
  {
    name: 'a 10,000-character repository name',
    inputs: () => ({ artifacts: `${'r'.repeat(10_000)}:v1` }),
    error: /^Input 'artifacts' is 'r{200}… \(10003 characters\)': each artifact must be .*at most 255 characters\)$/,
  },
];

it.each(cases)('$name: one error line, no request to Azure', async ({ inputs, error, env, allowed, saying, secrets }) => {
  const since = new Date().toISOString();
  const seenBefore = attacker.seen.length;
  const run = await runAction({ inputs: stepInputs(f, 'transfer', { artifacts: `act${f.u}/app:v1`, ...inputs() }), ...(env ? { env } : {}) });
  expect(run.exitCode).toBe(1);
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]!.message).toMatch(error);
  // Nothing else in the log: no stack trace, no half-started work (a debug run adds ::debug:: lines only).
  const lines = run.log.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('::debug::') && !(saying?.test(l) ?? false));
  expect(lines).toEqual([`::error::${run.errors[0]!.message}`]);
  expect(run.stderr).toBe('');
  expect(run.outputs).toEqual({});
  expect(run.summary).toBe('');
  expectNoSecrets(run, f, secrets ?? []);
  // The step's window in the request log: nothing but the control API (which this test itself calls) and what the
  // case allows. The emulator appends log lines asynchronously; a short pause lets any late line land.
  await new Promise((r) => setTimeout(r, 200));
  const during = (await requestLog(f.env)).filter((e) => e.time >= since && e.service !== 'control' && !(allowed?.(e) ?? false));
  expect(during).toEqual([]);
  expect(attacker.seen.slice(seenBefore)).toEqual([]);
  run.cleanup();
});

it("a host under the cloud's vault suffix whose challenge names another resource gets no token of any audience", async () => {
  const [image] = await seed(f, [{ repo: `act${f.u}/kv`, tag: 'v1' }]);
  const seenBefore = attacker.seen.length;
  // Passes the host rule (a name under vault.<suffix>); the Key Vault SDK's challenge check must refuse the challenge.
  const evil = `https://evil.vault.${f.env.dnsSuffix}:${attacker.port}/secrets/acrexportsas`;
  const run = await runAction({ inputs: stepInputs(f, 'export', { artifacts: image!.ref, 'export-sas-secret-uri': evil, 'dry-run': 'true' }) });
  expect({ exit: run.exitCode, log: run.exitCode === 0 ? '' : describeRun(run) }).toEqual({ exit: 0, log: '' });
  const reached = attacker.seen.slice(seenBefore);
  expect(reached.length).toBeGreaterThan(0);
  expect(reached.filter((r) => r.authorization !== undefined)).toEqual([]);
  expect(run.warnings.map((w) => w.message).join('\n')).toMatch(/does not match the requested domain/);
  expectNoSecrets(run, f);
  run.cleanup();
});
