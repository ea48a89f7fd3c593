/**
 * The checks of a pipeline run's `properties.request`, done synchronously at PUT (docs/local-azure.md#open-questions,
 * open question 3): the pipeline it names (same registry, existing; open question 6), the artifacts (at most 50, no
 * duplicates, well-formed references), the blob names for the pipeline's kind. A refusal is a 400 naming the value.
 */
import type { Json, PipelineKind, PipelineRecord } from '../context';
import type { HttpError } from '../http';
import { armError, badRequest, RESOURCE_NOT_FOUND_HELP } from './frame';
import { requireExportPolicy } from './registries';
import { type RegistryCall, registryTypePath } from './registry-scope';
import { collectionOf } from './state';

interface BlobRef {
  type?: string;
  name?: string;
}

export interface RunRequestIn {
  pipelineResourceId?: string;
  artifacts?: string[];
  source?: BlobRef;
  target?: BlobRef;
  catalogDigest?: string;
}

const MAX_ARTIFACTS = 50;
const PIPELINE_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)\/(exportPipelines|importPipelines)\/([^/]+)$/i;

/** Distribution's reference grammar (lower-case path components; tags; sha256 digests). */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const ARTIFACT_FORMS = "allowed forms: 'repo' (means repo:latest), 'repo:tag', 'repo@sha256:<64 lower-case hex digits>'";

/** Parses an artifact; returns its identity (repo:tag or repo@digest) or throws a 400 naming the problem. */
function artifactKey(a: string, at: string): string {
  const invalid = (why: string): HttpError => badRequest('InvalidArtifact', `The artifact '${a}' (${at}) is not valid: ${why}; ${ARTIFACT_FORMS}.`, at);
  let repo = a;
  let key: string;
  const atSign = a.indexOf('@');
  if (atSign >= 0) {
    repo = a.slice(0, atSign);
    const digest = a.slice(atSign + 1);
    if (repo.includes(':')) throw invalid('give either a tag or a digest, not both');
    if (!DIGEST.test(digest)) throw invalid(`'${digest}' is not a sha256 digest`);
    key = `${repo}@${digest}`;
  } else {
    const colon = a.lastIndexOf(':');
    const tag = colon >= 0 ? a.slice(colon + 1) : 'latest';
    if (colon >= 0) repo = a.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(`'${tag}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')`);
    key = `${repo}:${tag}`;
  }
  if (repo.length === 0 || repo.length > 255 || !REPOSITORY.test(repo)) {
    throw invalid(`'${repo}' is not a repository name (lower-case letters and digits, components separated by '/', joined by '.', '_', '__' or '-')`);
  }
  return key;
}

function checkArtifacts(artifacts: readonly string[] | undefined): void {
  if (!artifacts || artifacts.length === 0) {
    throw badRequest(
      'ArtifactsRequired',
      'An export pipeline run needs properties.request.artifacts: the images to export (repo, repo:tag or repo@sha256:digest).',
      'properties.request.artifacts',
    );
  }
  if (artifacts.length > MAX_ARTIFACTS) {
    throw badRequest(
      'TooManyArtifacts',
      `A pipeline run transfers at most ${MAX_ARTIFACTS} artifacts; properties.request.artifacts has ${artifacts.length}. Split them over several runs.`,
      'properties.request.artifacts',
    );
  }
  const seen = new Map<string, number>();
  artifacts.forEach((a, i) => {
    const at = `properties.request.artifacts[${i}]`;
    const key = artifactKey(a, at);
    const first = seen.get(key);
    if (first !== undefined)
      throw badRequest('DuplicateArtifact', `The artifact '${a}' (${at}) repeats properties.request.artifacts[${first}] ('${artifacts[first]}').`, at);
    seen.set(key, i);
  });
}

function checkBlobRef(ref: BlobRef | undefined, at: string): void {
  if (ref?.type && ref.type !== 'AzureStorageBlob')
    throw badRequest('InvalidParameter', `The ${at}.type '${ref.type}' is not supported; use 'AzureStorageBlob'.`, `${at}.type`);
  if (ref?.name !== undefined && ref.name.length > 1024)
    throw badRequest('InvalidParameter', `The ${at}.name is longer than 1024 characters, the blob name limit.`, `${at}.name`);
}

/**
 * Drops '' strings, [] arrays and then-empty objects: the official ARM templates send them for the unused side
 * (docs/azure-service.md#empty-values-from-arm-templates).
 */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v;
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, x] of Object.entries(v as Json)) {
      const p = prune(x);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v === '' ? undefined : v;
}

/** The pipeline a run names, checked: same registry, existing. */
export function runPipeline(call: RegistryCall, id: string | undefined): PipelineRecord {
  const at = 'properties.request.pipelineResourceId';
  if (!id) throw badRequest('InvalidPipelineResourceId', `${at} is required: the resource id of the export or import pipeline to run.`, at);
  const m = PIPELINE_ID.exec(id);
  if (!m) {
    throw badRequest(
      'InvalidPipelineResourceId',
      `The ${at} '${id}' is not the resource id of an export or import pipeline (…/registries/{registry}/exportPipelines/{name} or …/importPipelines/{name}).`,
      at,
    );
  }
  const [, sub = '', rg = '', registry = '', collection = '', name = ''] = m;
  const own = call.state.registryId(call.reg).toLowerCase();
  if (`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerRegistry/registries/${registry}`.toLowerCase() !== own) {
    throw badRequest(
      'InvalidPipelineResourceId',
      `The ${at} '${id}' names a pipeline of another registry; a run executes a pipeline of its own registry ('${call.reg.name}').`,
      at,
    );
  }
  const kind: PipelineKind = collection.toLowerCase() === 'exportpipelines' ? 'export' : 'import';
  const pipeline = call.state.getPipeline(call.reg.name, kind, name);
  if (!pipeline) {
    const typePath = `${registryTypePath(call.reg)}/${collectionOf(kind)}/${name}`;
    throw armError(404, 'ResourceNotFound', `The Resource '${typePath}' under resource group '${rg}' was not found (${at}). ${RESOURCE_NOT_FOUND_HELP}`, at);
  }
  return pipeline;
}

/** Checks the request for the pipeline's kind and returns it as the service keeps it (unused side dropped). */
export function checkRunRequest(call: RegistryCall, pipeline: PipelineRecord, request: RunRequestIn): Json {
  checkBlobRef(request.source, 'properties.request.source');
  checkBlobRef(request.target, 'properties.request.target');
  const normalized = (prune(request) ?? {}) as Json & RunRequestIn;
  // The blob name the run's kind needs, and the other side's, which it must not name.
  const [needed, unused] = pipeline.kind === 'export' ? (['target', 'source'] as const) : (['source', 'target'] as const);
  if (pipeline.kind === 'export') {
    requireExportPolicy(call.reg);
    checkArtifacts(request.artifacts);
  }
  if (!request[needed]?.name) {
    throw pipeline.kind === 'export'
      ? badRequest(
          'TargetNameRequired',
          'An export pipeline run needs properties.request.target.name: the name of the blob to write.',
          'properties.request.target.name',
        )
      : badRequest(
          'SourceNameRequired',
          'An import pipeline run needs properties.request.source.name: the name of the blob to import.',
          'properties.request.source.name',
        );
  }
  if (pipeline.kind === 'import' && request.artifacts && request.artifacts.length > 0) {
    throw badRequest(
      'InvalidParameter',
      'properties.request.artifacts is for export runs; an import run imports every artifact in the blob.',
      'properties.request.artifacts',
    );
  }
  const stray = request[unused]?.name;
  if (stray) {
    const what =
      pipeline.kind === 'export'
        ? 'is for import runs; an export run writes properties.request.target.name'
        : 'is for export runs; an import run reads properties.request.source.name';
    throw badRequest('InvalidParameter', `properties.request.${unused} ('${stray}') ${what}.`, `properties.request.${unused}`);
  }
  delete normalized[unused];
  return normalized;
}
