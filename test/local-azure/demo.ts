/**
 * The demo (`npm run demo`): the bundled action (dist/index.js, run the way the GitHub runner runs it) transfers
 * images from the source registry to the target registry through the local Azure, in one `transfer` step
 * authenticated with OIDC; then the job summary and skopeo's view of the target.
 * Needs a running local Azure and NODE_EXTRA_CA_CERTS (scripts/run-demo.sh does both).
 */
import { createActionFixture, stepInputs, targetDigest } from '../e2e/support/action-fixture';
import { DIST_ENTRY, node24, runAction } from '../e2e/support/action-runner';
import { runnerView } from '../e2e/support/workflow-commands';
import { seedImages, type SeededImage } from './seed';

const say = (text: string): void => void process.stdout.write(`${text}\n`);

async function main(): Promise<void> {
  const f = await createActionFixture('demo');
  const repo = (name: string): string => `${f.u}/${name}`;
  say('== 1. Seed the source registry (a multi-arch image among them)');
  const images: SeededImage[] = await seedImages(f.env.registries.source.backendUrl, [
    { repo: repo('hello'), tag: '1.0' },
    { repo: repo('hello'), tag: '1.1' },
    { repo: repo('api'), tag: '2.0', multiArch: true },
    { repo: repo('worker'), tag: '3.0', payloadBytes: 4 * 1024 * 1024 },
  ]);
  for (const i of images) say(`   ${i.ref}  ${i.digest}`);

  const node = node24() ?? process.execPath;
  say(
    `\n== 2. Run the bundled action (${DIST_ENTRY}) on ${node === process.execPath ? `Node ${process.version}` : 'Node 24'}: operation transfer, auth-type oidc`,
  );
  const inputs = stepInputs(f, 'transfer', { artifacts: [`${repo('hello')}:1.*`, `${repo('api')}:2.0`, `${repo('worker')}:3.0`].join('\n') }, 'oidc');
  for (const [k, v] of Object.entries(inputs)) say(`   ${k}: ${k.includes('secret') ? '***' : v.replace(/\n/g, ', ')}`);
  const run = await runAction({ inputs, oidc: f.env, node, entry: DIST_ENTRY });
  say('\n--- action log ---');
  say(runnerView(run.stdout).trimEnd());
  say(`--- exit code ${run.exitCode} after ${(run.durationMs / 1000).toFixed(1)} s ---`);
  say('\n== 3. Outputs');
  for (const [k, v] of Object.entries(run.outputs)) say(`   ${k}: ${v}`);
  say('\n== 4. Job summary (GITHUB_STEP_SUMMARY)\n');
  say(run.summary.trimEnd());

  say('\n== 5. The target registry, seen by skopeo');
  let same = 0;
  for (const i of images) {
    const got = await targetDigest(f, i.ref);
    if (got === i.digest) same++;
    say(`   ${i.ref}  ${got ?? '(missing)'}  ${got === i.digest ? 'same digest as the source' : 'DIFFERENT'}`);
  }
  run.cleanup();
  if (run.exitCode !== 0 || same !== images.length) {
    process.exitCode = 1;
    say(`\nThe demo did not transfer everything (${same}/${images.length} digests equal, exit ${run.exitCode}).`);
  } else say(`\nAll ${same} images are in the target registry with their digests unchanged.`);
}

main().catch((e: unknown) => {
  process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
