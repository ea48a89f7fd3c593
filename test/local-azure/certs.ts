import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface Certs {
  readonly caCertPath: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/**
 * A throwaway CA and one server certificate for 127.0.0.1, localhost and `dnsNames` (wildcards such as
 * *.vault.<suffix>), made with openssl at every start. A real CA (not a self-signed leaf) so that Node, curl and Go
 * (the registries, skopeo) all accept the chain.
 */
export function makeCerts(dir: string, dnsNames: readonly string[] = []): Certs {
  const p = (f: string): string => path.join(dir, f);
  const ossl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('ca.key'));
  ossl(
    'req',
    '-x509',
    '-new',
    '-key',
    p('ca.key'),
    '-days',
    '7',
    '-subj',
    '/CN=acr-transfer local Azure CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    p('ca.pem'),
  );
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('server.key'));
  ossl('req', '-new', '-key', p('server.key'), '-subj', '/CN=127.0.0.1', '-out', p('server.csr'));
  writeFileSync(
    p('server.ext'),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${['IP:127.0.0.1', 'DNS:localhost', ...dnsNames.map((n) => `DNS:${n}`)].join(',')}\n`,
  );
  ossl(
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '7',
    '-extfile',
    p('server.ext'),
    '-out',
    p('server.pem'),
  );
  return { caCertPath: p('ca.pem'), certPath: p('server.pem'), keyPath: p('server.key') };
}
