import { createActionFixture, seed, stepInputs } from '/work/main/test/e2e/support/action-fixture';
import { runAction } from '/work/main/test/e2e/support/action-runner';
(async () => {
  const f = await createActionFixture('try');
  await seed(f, [{ repo: `act${f.u}/app`, tag: 'v1' }, { repo: `act${f.u}/app`, tag: 'v2' }]);
  const extra = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
  const op = extra['operation'] ?? 'transfer';
  const t = Date.now();
  const run = await runAction({ inputs: stepInputs(f, op, { artifacts: `act${f.u}/app:v1\nact${f.u}/app:v2`, ...extra }) });
  console.log(run.stdout);
  console.log('--- stderr', run.stderr);
  console.log('--- exit', run.exitCode, Date.now() - t, 'ms');
  console.log('--- outputs', JSON.stringify(run.outputs, null, 1).slice(0, 3000));
  console.log('--- summary\n', run.summary);
})();
