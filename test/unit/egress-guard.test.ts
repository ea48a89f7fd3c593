import * as dns from 'node:dns';
import * as net from 'node:net';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isLoopback } = require('../egress-guard.cjs') as { isLoopback: (h: unknown) => boolean };

describe('egress guard', () => {
  test.each(['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', undefined, ''])('%s is loopback', (h) => {
    expect(isLoopback(h)).toBe(true);
  });

  test.each(['10.0.0.1', '192.168.1.1', '8.8.8.8', '::ffff:10.1.1.1', 'login.microsoftonline.com', 'management.azure.com', '128.0.0.1', '2001:db8::1'])(
    '%s is not',
    (h) => {
      expect(isLoopback(h)).toBe(false);
    },
  );

  test('answers localhost and *.localhost (the local Azure’s host names) with 127.0.0.1, without the resolver', async () => {
    expect(isLoopback('acrtransferkv.vault.local-azure.localhost')).toBe(true);
    expect(await dns.promises.lookup('acrtransferkv.vault.local-azure.localhost')).toEqual({ address: '127.0.0.1', family: 4 });
    const all = await new Promise<dns.LookupAddress[]>((resolve, reject) =>
      dns.lookup('sourcestore.blob.local-azure.localhost', { all: true }, (e, a) => (e ? reject(e) : resolve(a))),
    );
    expect(all).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  test('is installed in this process and blocks a non-loopback host before any lookup', async () => {
    expect((net.Socket.prototype.connect as unknown as { egressGuard?: boolean }).egressGuard).toBe(true);
    // This block is expected: keep it out of the run's egress log, which fails the run when not empty.
    const log = process.env['EGRESS_GUARD_LOG'];
    delete process.env['EGRESS_GUARD_LOG'];
    try {
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => net.connect({ host: 'egress-test.invalid', port: 443 }).once('error', resolve));
      expect(err.code).toBe('EGRESS_BLOCKED');
    } finally {
      if (log !== undefined) process.env['EGRESS_GUARD_LOG'] = log;
    }
  });
});
