/**
 * lroMode: how a PUT or DELETE ends, decided from its first answer alone (docs/azure-service.md#long-running-operations).
 * The pollers that carry each mode out are exercised through the client in core-azure-arm.test.ts.
 */
import { createHttpHeaders } from '@azure/core-rest-pipeline';
import { type LroMethod, type LroMode, lroMode } from '../../core/azure/arm/lro';

const MONITOR = 'https://arm.test/operations/op1?sig=x';
const LOCATION = 'https://arm.test/operationResults/op1?sig=y';
const state = (provisioningState: string): unknown => ({ properties: { provisioningState } });

interface Row {
  readonly method: LroMethod;
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  readonly mode: LroMode;
}

const rows: [string, Row][] = [
  // PUT
  ['PUT 200 Succeeded: done', { method: 'PUT', status: 200, body: state('Succeeded'), mode: { mode: 'done' } }],
  ['PUT 200 Failed: done (the caller reads the state)', { method: 'PUT', status: 200, body: state('Failed'), mode: { mode: 'done' } }],
  ['PUT 200 canceled, any case: done', { method: 'PUT', status: 200, body: state('canceled'), mode: { mode: 'done' } }],
  [
    'PUT 200 Succeeded with Azure-AsyncOperation: done (the state wins)',
    { method: 'PUT', status: 200, headers: { 'azure-asyncoperation': MONITOR }, body: state('Succeeded'), mode: { mode: 'done' } },
  ],
  ['PUT 200 Updating, no header: poll the resource', { method: 'PUT', status: 200, body: state('Updating'), mode: { mode: 'poll-resource' } }],
  ['PUT 201 Creating, no header: poll the resource', { method: 'PUT', status: 201, body: state('Creating'), mode: { mode: 'poll-resource' } }],
  ['PUT 200 without a body: poll the resource', { method: 'PUT', status: 200, mode: { mode: 'poll-resource' } }],
  [
    'PUT 201 Creating + Azure-AsyncOperation: poll it, then the resource',
    {
      method: 'PUT',
      status: 201,
      headers: { 'azure-asyncoperation': MONITOR },
      body: state('Creating'),
      mode: { mode: 'azure-async-operation', url: MONITOR, then: 'poll-resource' },
    },
  ],
  [
    'PUT 202 + Location: poll it, then the resource',
    { method: 'PUT', status: 202, headers: { location: LOCATION }, mode: { mode: 'location', url: LOCATION, then: 'poll-resource' } },
  ],
  [
    'PUT 202 + both headers: Azure-AsyncOperation first',
    {
      method: 'PUT',
      status: 202,
      headers: { 'azure-asyncoperation': MONITOR, location: LOCATION },
      mode: { mode: 'azure-async-operation', url: MONITOR, then: 'poll-resource' },
    },
  ],
  [
    'PUT 201 + Location (not 202): poll the resource',
    { method: 'PUT', status: 201, headers: { location: LOCATION }, body: state('Creating'), mode: { mode: 'poll-resource' } },
  ],
  ['PUT 204: error', { method: 'PUT', status: 204, mode: { mode: 'error' } }],
  ['PUT 400: error', { method: 'PUT', status: 400, body: { error: { code: 'InvalidRequest' } }, mode: { mode: 'error' } }],
  ['PUT 409: error', { method: 'PUT', status: 409, mode: { mode: 'error' } }],
  // DELETE
  ['DELETE 200 with an empty body: done', { method: 'DELETE', status: 200, mode: { mode: 'done' } }],
  ['DELETE 204 (did not exist): done', { method: 'DELETE', status: 204, mode: { mode: 'done' } }],
  ['DELETE 204 + Azure-AsyncOperation: done', { method: 'DELETE', status: 204, headers: { 'azure-asyncoperation': MONITOR }, mode: { mode: 'done' } }],
  ['DELETE 200 + Location (not 202): done', { method: 'DELETE', status: 200, headers: { location: LOCATION }, mode: { mode: 'done' } }],
  [
    'DELETE 202 + Location: poll it, then done',
    { method: 'DELETE', status: 202, headers: { location: LOCATION }, mode: { mode: 'location', url: LOCATION, then: 'done' } },
  ],
  [
    'DELETE 202 + Azure-AsyncOperation: poll it, then done',
    { method: 'DELETE', status: 202, headers: { 'azure-asyncoperation': MONITOR }, mode: { mode: 'azure-async-operation', url: MONITOR, then: 'done' } },
  ],
  ['DELETE 202 without a header: wait for 404', { method: 'DELETE', status: 202, mode: { mode: 'until-gone' } }],
  ['DELETE 404: error', { method: 'DELETE', status: 404, mode: { mode: 'error' } }],
  ['DELETE 500: error', { method: 'DELETE', status: 500, mode: { mode: 'error' } }],
];

test.each(rows)('%s', (_name, row) => {
  expect(lroMode(row.method, { status: row.status, headers: createHttpHeaders(row.headers ?? {}), body: row.body })).toEqual(row.mode);
});
