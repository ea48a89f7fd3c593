/** Every output of both front-ends, named once (docs/interface.md#outputs); core/render.ts fills them. */
export interface OutputSpec {
  readonly name: string;
  readonly description: string;
}

export const OUTPUTS: readonly OutputSpec[] = [
  { name: 'runs', description: 'JSON array of pipeline runs: {name, pipeline, kind, status, blob, artifacts, startTime, finishTime, error}.' },
  { name: 'blobs', description: 'JSON array of export blob names.' },
  { name: 'imported-artifacts', description: 'JSON array of repo:tag@sha256:... verified in the target registry.' },
  {
    name: 'referrers',
    description: 'JSON array of the referrers carried with each artifact: {artifact, referrer, digest, artifactType, subject, result, targetDigest, reason}.',
  },
  { name: 'failed-artifacts', description: 'JSON array of {artifact, reason}.' },
  { name: 'report-path', description: 'Path of the JSON report file (the same data as the job summary).' },
  { name: 'checks', description: 'JSON array of check items (check, and the preflight of the other operations): {id, title, status, detail, fix}.' },
  {
    name: 'changes',
    description:
      'JSON array of what the operation changed (pipelines created or updated, secrets, grants, deletions) or, in a dry run, would change: {kind, name, scope, action, status, detail, fields, error}; fields lists each changed pipeline field as {name, from, to}.',
  },
];
