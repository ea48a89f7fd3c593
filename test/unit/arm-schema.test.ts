import { readFileSync } from 'node:fs';
import { jsonPath, validate } from '../local-azure/emulator/arm/schema';
import { operations, parameter } from '../local-azure/emulator/arm/swagger';

interface Example {
  readonly parameters: Record<string, unknown>;
  readonly responses: Record<string, { readonly body?: unknown; readonly headers?: Record<string, string> }>;
}

const readExample = (file: string): Example => JSON.parse(readFileSync(file, 'utf8')) as Example;
const ops = operations();
const cases = ops.flatMap((op) => Object.entries(op.examples).map(([name, file]) => ({ op, name, example: readExample(file) })));

function paths(errors: ReturnType<typeof validate>): string[] {
  return errors.map((e) => e.path);
}

describe('the reference swagger', () => {
  it('has the 14 operations and 15 examples the reference README lists', () => {
    expect(ops).toHaveLength(14);
    expect(cases).toHaveLength(15);
  });

  it('resolves the common-types parameters (api-version, subscriptionId, resourceGroupName)', () => {
    expect(parameter('api-version')).toMatchObject({ in: 'query', required: true });
    expect(parameter('subscriptionId')).toMatchObject({ in: 'path', format: 'uuid' });
    expect(parameter('resourceGroupName')).toMatchObject({ maxLength: 90 });
    expect(parameter('exportPipelineName')).toMatchObject({ minLength: 5, maxLength: 50, pattern: '^[a-zA-Z0-9]*$' });
  });
});

describe.each(cases)('example $name', ({ op, example }) => {
  if (op.bodyDefinition) {
    const { parameter: p, definition } = op.bodyDefinition;
    it(`request body ${p} validates as ${definition}`, () => {
      expect(example.parameters[p]).toBeDefined();
      expect(validate(definition, example.parameters[p], 'request')).toEqual([]);
    });
  }
  it.each(Object.entries(example.responses))('response %s body validates', (status, response) => {
    expect(Object.keys(op.responses)).toContain(status);
    const definition = op.responses[status];
    if (definition === undefined) expect(response.body).toBeUndefined();
    else expect(validate(definition, response.body, 'response')).toEqual([]);
  });
});

const exportPipeline = () => ({
  identity: { type: 'SystemAssigned' },
  properties: {
    target: { type: 'AzureStorageBlobContainer', uri: 'https://a.blob.core.windows.net/c', keyVaultUri: 'https://v.vault.azure.net/secrets/s' },
    options: ['OverwriteBlobs'],
  },
});

describe('request validation', () => {
  it('rejects an unknown member and names its JSON path and type', () => {
    const body = exportPipeline();
    (body.properties.target as Record<string, unknown>)['keyVaultUrl'] = 'https://v.vault.azure.net/secrets/s';
    const errors = validate('ExportPipeline', body, 'request');
    expect(errors).toEqual([
      { path: 'properties.target.keyVaultUrl', message: "Could not find member 'keyVaultUrl' on object of type 'ExportPipelineTargetProperties'" },
    ]);
  });

  it('rejects a missing required property with its path', () => {
    expect(paths(validate('ExportPipeline', { properties: {} }, 'request'))).toEqual(['properties.target']);
    expect(paths(validate('ImportPipeline', { properties: { trigger: { sourceTrigger: {} } } }, 'request'))).toEqual(
      expect.arrayContaining(['properties.source', 'properties.trigger.sourceTrigger.status']),
    );
  });

  it('rejects wrong types deep in a run request, with array indexes in the path', () => {
    const errors = validate('PipelineRun', { properties: { request: { artifacts: ['ok', 7], target: { name: 3 } } } }, 'request');
    expect(paths(errors).sort()).toEqual(['properties.request.artifacts[1]', 'properties.request.target.name']);
  });

  it('ignores readOnly properties in requests (any value) but still rejects unknown ones', () => {
    const body = { ...exportPipeline(), id: 42, name: ['x'], systemData: 'anything', properties: { ...exportPipeline().properties, provisioningState: 17 } };
    expect(validate('ExportPipeline', body, 'request')).toEqual([]);
    expect(paths(validate('PipelineRun', { properties: { request: {}, response: { whatever: 1 }, forceUpdateTags: 'x' } }, 'request'))).toEqual([
      'properties.forceUpdateTags',
    ]);
  });

  it('treats modelAsString enums as open strings and closed enums as closed', () => {
    const body = exportPipeline();
    body.properties.options = ['SomeFutureOption'];
    expect(validate('ExportPipeline', body, 'request')).toEqual([]);
    body.identity.type = 'systemAssigned';
    const errors = validate('ExportPipeline', body, 'request');
    expect(paths(errors)).toEqual(['identity.type']);
    expect(errors[0]!.message).toContain('"SystemAssigned"');
  });

  it('checks formats (date-time) and int64 in responses', () => {
    const run = { properties: { response: { startTime: 'yesterday' } } };
    expect(paths(validate('PipelineRun', run, 'response'))).toEqual(['properties.response.startTime']);
    expect(paths(validate('RegistryUsageListResult', { value: [{ name: 'Size', limit: 1.5 }] }, 'response'))).toEqual(['value[0].limit']);
  });
});

describe('response validation', () => {
  it('accepts the camelCase identity type the service returns (docs/azure-service.md#identity-types-in-responses), nothing else', () => {
    const body = (type: string) => ({ properties: { target: {} }, identity: { type, principalId: 'p', tenantId: 't' } });
    expect(validate('ExportPipeline', body('systemAssigned'), 'response')).toEqual([]);
    expect(validate('ExportPipeline', body('userAssigned'), 'response')).toEqual([]);
    expect(validate('ExportPipeline', body('SystemAssigned'), 'response')).toEqual([]);
    expect(paths(validate('ExportPipeline', body('systemassigned'), 'response'))).toEqual(['identity.type']);
  });

  it('requires location on the registry (TrackedResource) and sku', () => {
    expect(paths(validate('Registry', { properties: {} }, 'response')).sort()).toEqual(['location', 'sku']);
  });

  it('validates the common-types error body', () => {
    expect(validate('ErrorResponse', { error: { code: 'ResourceNotFound', message: 'm', details: [{ code: 'x', message: 'y' }] } }, 'response')).toEqual([]);
    expect(paths(validate('ErrorResponse', { error: { code: 404 } }, 'response'))).toEqual(['error.code']);
  });

  it('names map keys that are not identifiers in bracket form', () => {
    expect(jsonPath('/identity/userAssignedIdentities/~1subscriptions~1x/principalId')).toBe("identity.userAssignedIdentities['/subscriptions/x'].principalId");
    const body = { properties: { target: {} }, identity: { type: 'userAssigned', userAssignedIdentities: { '/subscriptions/x': { clientId: 5 } } } };
    expect(paths(validate('ExportPipeline', body, 'response'))).toEqual(["identity.userAssignedIdentities['/subscriptions/x'].clientId"]);
  });
});
