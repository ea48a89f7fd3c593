/**
 * AzureBlobStore with the storage SDK over a fake transport (its legacy httpClient option) and a fake clock: sync and
 * asynchronous copies, restoring Content-MD5 and metadata a copy dropped, verification, abort, retries through
 * core/retry (the SDK's own retry is off), and errors without SAS signatures.
 */
import { createHttpHeaders, createPipelineRequest, type HttpMethods } from '@azure/core-rest-pipeline';
import type { StoragePipelineOptions } from '@azure/storage-blob';
import { splitContainerUri } from '../../core/azure/blob-sas';
import { AzureBlobStore } from '../../core/azure/blobs';
import { AzureRequestError, CancelledError } from '../../core/errors';
import { FakeClock, FakeCredential, FakeHttp, type Recorded, type Reply } from './core-azure-fakes';

type LegacyClient = NonNullable<StoragePipelineOptions['httpClient']>;
type LegacyRequest = Parameters<LegacyClient['sendRequest']>[0];

/** The storage SDK takes a v1-style (core-http) client: adapt the fake to it. */
function legacy(fake: FakeHttp): LegacyClient {
  return {
    sendRequest: async (wr: LegacyRequest) => {
      const req = createPipelineRequest({
        url: wr.url,
        method: wr.method as HttpMethods,
        headers: createHttpHeaders(wr.headers.toJson()),
        ...(typeof wr.body === 'string' ? { body: wr.body } : {}),
      });
      const res = await fake.sendRequest(req);
      const raw = res.headers.toJSON();
      const headers = {
        get: (n: string) => res.headers.get(n),
        set: () => undefined,
        contains: (n: string) => res.headers.has(n),
        remove: () => false,
        rawHeaders: () => raw,
        headersArray: () => Object.entries(raw).map(([name, value]) => ({ name, value })),
        headerNames: () => Object.keys(raw),
        headerValues: () => Object.values(raw),
        clone: () => headers,
        toJson: () => raw,
      };
      return { request: wr, status: res.status, headers, ...(res.bodyAsText !== undefined ? { bodyAsText: res.bodyAsText } : {}) } as Awaited<
        ReturnType<LegacyClient['sendRequest']>
      >;
    },
  };
}

const SRC = 'https://srcacct.blob.core.windows.net/export';
const DST = 'https://dstacct.blob.core.windows.net/import';
const MD5 = Buffer.from('0123456789abcdef').toString('base64');
const SAS = 'sv=2025-11-05&sr=c&sp=rl&sig=TOPSECRETSIG';

function props(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-length': '1000',
    'last-modified': 'Thu, 01 Jan 2026 00:00:00 GMT',
    etag: '"0x1"',
    'x-ms-blob-type': 'BlockBlob',
    'content-type': 'application/x-tar',
    ...extra,
  };
}

const sourceProps: Reply = { status: 200, headers: props({ 'content-md5': MD5, 'x-ms-meta-category': 'acr-transfer-blob' }) };
const isBlob = (account: string, name: string, comp?: string) => (u: URL) =>
  u.hostname.startsWith(account) && u.pathname.endsWith(`/${name}`) && (comp === undefined ? !u.searchParams.has('comp') : u.searchParams.get('comp') === comp);

function setup(opts: { syncLimit?: number; signal?: AbortSignal } = {}): { http: FakeHttp; clock: FakeClock; masked: string[]; store: AzureBlobStore } {
  const http = new FakeHttp();
  const clock = new FakeClock();
  const masked: string[] = [];
  const store = new AzureBlobStore({
    credential: new FakeCredential(),
    scope: 'https://storage.azure.com/.default',
    sourceSas: async (uri) => (uri === SRC ? `?${SAS}` : undefined),
    mask: (s) => masked.push(s),
    clock,
    retry: { attempts: 3, minDelayMs: 100, maxDelayMs: 1000 },
    poll: { intervalMs: 1000, maxIntervalMs: 1000 },
    pipelineOptions: { httpClient: legacy(http) },
    ...(opts.syncLimit !== undefined ? { syncCopyLimitBytes: opts.syncLimit } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { http, clock, masked, store };
}

/** The target blob: copy state, then what setMetadata / setHTTPHeaders put on it. */
function targetRoutes(http: FakeHttp, copyStates: string[]): { sets: Recorded[] } {
  const sets: Recorded[] = [];
  let md5: string | undefined;
  let category: string | undefined;
  http.on('PUT', isBlob('dstacct', 'b1', 'metadata'), (r) => {
    sets.push(r);
    category = r.headers['x-ms-meta-category'];
    return { status: 200, headers: { etag: '"0x3"' } };
  });
  http.on('PUT', isBlob('dstacct', 'b1', 'properties'), (r) => {
    sets.push(r);
    md5 = r.headers['x-ms-blob-content-md5'];
    return { status: 200, headers: { etag: '"0x4"' } };
  });
  http.on('HEAD', isBlob('dstacct', 'b1'), () => {
    const state = copyStates.length > 1 ? copyStates.shift()! : copyStates[0]!;
    return {
      status: 200,
      headers: props({
        'x-ms-copy-id': 'c1',
        'x-ms-copy-status': state,
        ...(md5 ? { 'content-md5': md5 } : {}),
        ...(category ? { 'x-ms-meta-category': category } : {}),
      }),
    };
  });
  return { sets };
}

describe('copyBlob', () => {
  test('small blobs: Copy Blob From URL (sync) with the provider’s SAS on the source, metadata sent along, SAS masked', async () => {
    const { http, masked, store } = setup();
    http.on('HEAD', isBlob('srcacct', 'b1'), sourceProps);
    http.on('PUT', isBlob('dstacct', 'b1'), { status: 202, headers: { 'x-ms-copy-id': 'c1', 'x-ms-copy-status': 'success', etag: '"0x2"' } });
    http.on('HEAD', isBlob('dstacct', 'b1'), { status: 200, headers: props({ 'content-md5': MD5, 'x-ms-meta-category': 'acr-transfer-blob' }) });
    const r = await store.copyBlob({ containerUri: SRC, blob: 'b1' }, { containerUri: DST, blob: 'b1' });
    expect(r).toEqual({ blob: 'b1', size: 1000, contentMD5: MD5, mode: 'sync' });
    const put = http.to('dstacct', 'PUT')[0]!;
    expect(put.headers['x-ms-requires-sync']).toBe('true');
    expect(put.headers['x-ms-copy-source']).toBe(`${SRC}/b1?${SAS}`);
    expect(put.headers['x-ms-meta-category']).toBe('acr-transfer-blob');
    expect(masked).toContain(SAS);
  });

  test('large blobs: asynchronous copy polled until success; dropped MD5 and metadata are set again and verified', async () => {
    const { http, clock, store } = setup({ syncLimit: 999 });
    http.on('HEAD', isBlob('srcacct', 'b1'), sourceProps);
    http.on('PUT', isBlob('dstacct', 'b1'), { status: 202, headers: { 'x-ms-copy-id': 'c1', 'x-ms-copy-status': 'pending', etag: '"0x2"' } });
    const { sets } = targetRoutes(http, ['pending', 'pending', 'success']);
    const r = await store.copyBlob({ containerUri: SRC, blob: 'b1' }, { containerUri: DST, blob: 'b1' });
    expect(r).toEqual({ blob: 'b1', size: 1000, contentMD5: MD5, mode: 'async' });
    expect(http.to('dstacct', 'PUT')[0]?.headers['x-ms-requires-sync']).toBeUndefined();
    expect(clock.sleeps).toEqual([1000, 1000]);
    expect(sets.map((s) => new URL(s.url).searchParams.get('comp'))).toEqual(['metadata', 'properties']);
    // Set Blob Properties replaces all headers: the content type is carried over.
    expect(sets[1]?.headers['x-ms-blob-content-type']).toBe('application/x-tar');
  });

  test('a copy whose size differs from the source fails verification', async () => {
    const { http, store } = setup();
    http.on('HEAD', isBlob('srcacct', 'b1'), sourceProps);
    http.on('PUT', isBlob('dstacct', 'b1'), { status: 202, headers: { 'x-ms-copy-status': 'success' } });
    http.on('HEAD', isBlob('dstacct', 'b1'), {
      status: 200,
      headers: props({ 'content-length': '999', 'content-md5': MD5, 'x-ms-meta-category': 'acr-transfer-blob' }),
    });
    await expect(store.copyBlob({ containerUri: SRC, blob: 'b1' }, { containerUri: DST, blob: 'b1' })).rejects.toMatchObject({
      code: 'CopyVerificationFailed',
    });
  });

  test('a failed asynchronous copy reports the status description', async () => {
    const { http, store } = setup({ syncLimit: 0 });
    http.on('HEAD', isBlob('srcacct', 'b1'), sourceProps);
    http.on('PUT', isBlob('dstacct', 'b1'), { status: 202, headers: { 'x-ms-copy-id': 'c1', 'x-ms-copy-status': 'pending' } });
    http.on('HEAD', isBlob('dstacct', 'b1'), {
      status: 200,
      headers: props({
        'x-ms-copy-id': 'c1',
        'x-ms-copy-status': 'failed',
        'x-ms-copy-status-description': '403 AuthorizationFailure when reading https://srcacct/x?sig=LEAK',
      }),
    });
    const e = (await store.copyBlob({ containerUri: SRC, blob: 'b1' }, { containerUri: DST, blob: 'b1' }).catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toMatchObject({ code: 'Copyfailed' });
    expect(e.message).toMatch(/AuthorizationFailure/);
    expect(e.message).not.toMatch(/LEAK/);
  });

  test('cancelling during an asynchronous copy aborts the copy on the service', async () => {
    const ac = new AbortController();
    const { http, store } = setup({ syncLimit: 0, signal: ac.signal });
    http.on('HEAD', isBlob('srcacct', 'b1'), sourceProps);
    http.on('PUT', (u) => u.hostname.startsWith('dstacct') && u.searchParams.get('comp') === 'copy', { status: 204 });
    http.on('PUT', isBlob('dstacct', 'b1'), { status: 202, headers: { 'x-ms-copy-id': 'c1', 'x-ms-copy-status': 'pending' } });
    http.on('HEAD', isBlob('dstacct', 'b1'), () => {
      ac.abort();
      return { status: 200, headers: props({ 'x-ms-copy-id': 'c1', 'x-ms-copy-status': 'pending' }) };
    });
    await expect(store.copyBlob({ containerUri: SRC, blob: 'b1' }, { containerUri: DST, blob: 'b1' })).rejects.toBeInstanceOf(CancelledError);
    const abort = http.calls.find((c) => new URL(c.url).searchParams.get('comp') === 'copy');
    expect(abort?.headers['x-ms-copy-action']).toBe('abort');
    expect(new URL(abort!.url).searchParams.get('copyid')).toBe('c1');
  });

  test('storage errors keep code and message, without the signature', async () => {
    const { http, store } = setup();
    http.on('HEAD', isBlob('srcacct', 'b1'), sourceProps);
    http.on('PUT', isBlob('dstacct', 'b1'), {
      status: 403,
      headers: { 'content-type': 'application/xml', 'x-ms-error-code': 'CannotVerifyCopySource', 'x-ms-request-id': 'req-1' },
      body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>CannotVerifyCopySource</Code><Message>Server failed to authenticate https://srcacct.blob.core.windows.net/export/b1?${SAS.replace(/&/g, '&amp;')}\nRequestId:req-1</Message></Error>`,
    });
    const e = (await store.copyBlob({ containerUri: SRC, blob: 'b1' }, { containerUri: DST, blob: 'b1' }).catch((x: unknown) => x)) as AzureRequestError;
    expect(e).toBeInstanceOf(AzureRequestError);
    expect(e).toMatchObject({ status: 403, code: 'CannotVerifyCopySource' });
    expect(e.message).not.toContain('TOPSECRETSIG');
    expect(e.fix).toMatch(/SAS/);
  });
});

describe('reads, lists, deletes', () => {
  test('getBlob: properties, 404 BlobNotFound is undefined, ContainerNotFound is an error', async () => {
    const { http, store } = setup();
    http.on('HEAD', (u) => u.pathname === '/nocontainer/b1', { status: 404, headers: { 'x-ms-error-code': 'ContainerNotFound' } });
    http.on('HEAD', isBlob('srcacct', 'b1'), sourceProps);
    http.on('HEAD', isBlob('srcacct', 'gone'), { status: 404, headers: { 'x-ms-error-code': 'BlobNotFound' } });
    expect(await store.getBlob(SRC, 'b1')).toMatchObject({
      name: 'b1',
      size: 1000,
      contentMD5: MD5,
      metadata: { category: 'acr-transfer-blob' },
      etag: '"0x1"',
    });
    expect(await store.getBlob(SRC, 'gone')).toBeUndefined();
    await expect(store.getBlob('https://srcacct.blob.core.windows.net/nocontainer', 'b1')).rejects.toMatchObject({ status: 404, code: 'ContainerNotFound' });
  });

  test('a 503 is retried by core/retry, once per attempt (the SDK retry is off)', async () => {
    const { http, clock, store } = setup();
    http.on('HEAD', isBlob('srcacct', 'b1'), { status: 503, headers: { 'x-ms-error-code': 'ServerBusy' } }, sourceProps);
    expect((await store.getBlob(SRC, 'b1'))?.size).toBe(1000);
    expect(http.calls).toHaveLength(2);
    expect(clock.sleeps).toEqual([100]);
  });

  test('listBlobs follows the continuation marker and reads metadata', async () => {
    const { http, store } = setup();
    const list = (names: string[], marker: string): Reply => ({
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://srcacct.blob.core.windows.net/" ContainerName="export"><Blobs>${names
        .map(
          (n) =>
            `<Blob><Name>${n}</Name><Properties><Content-Length>5</Content-Length><Content-MD5>${MD5}</Content-MD5><BlobType>BlockBlob</BlobType></Properties><Metadata><category>acr-transfer-blob</category></Metadata></Blob>`,
        )
        .join('')}</Blobs><NextMarker>${marker}</NextMarker></EnumerationResults>`,
    });
    http.on('GET', (u) => u.searchParams.get('marker') === 'm2', list(['c'], ''));
    http.on('GET', (u) => u.searchParams.get('comp') === 'list', list(['a', 'b'], 'm2'));
    const blobs = await store.listBlobs(SRC, 'x');
    expect(blobs.map((b) => b.name)).toEqual(['a', 'b', 'c']);
    expect(blobs[0]).toMatchObject({ size: 5, contentMD5: MD5, metadata: { category: 'acr-transfer-blob' } });
    expect(new URL(http.calls[0]!.url).searchParams.get('prefix')).toBe('x');
  });

  test('deleteBlob is idempotent', async () => {
    const { http, store } = setup();
    http.on('DELETE', isBlob('srcacct', 'b1'), { status: 404, headers: { 'x-ms-error-code': 'BlobNotFound' } });
    await expect(store.deleteBlob(SRC, 'b1')).resolves.toBeUndefined();
  });

  test('container URLs split into service and container, path-style (emulators) included', () => {
    expect(splitContainerUri('https://acct.blob.core.windows.net/transfer/')).toEqual({
      serviceUrl: 'https://acct.blob.core.windows.net',
      container: 'transfer',
    });
    expect(splitContainerUri('https://127.0.0.1:10001/srcacct/transfer')).toEqual({ serviceUrl: 'https://127.0.0.1:10001/srcacct', container: 'transfer' });
  });
});
