/**
 * A throwaway self-signed certificate and its private key for a test (openssl, in a temp dir removed afterwards): tests
 * make their keys at run time, and no private key is ever committed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestCertificate {
  /** The private key, PEM. */
  readonly key: string;
  /** The certificate alone (what an app registration holds), PEM. */
  readonly cert: string;
  /** A file with the key and the certificate (what a client signs in with). */
  readonly pemPath: string;
}

export async function withTestCertificate<T>(commonName: string, use: (c: TestCertificate) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'test-cert-'));
  try {
    const pemPath = path.join(dir, 'both.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', `/CN=${commonName}`],
      {
        cwd: dir,
        stdio: 'ignore',
      },
    );
    const key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
    const cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    writeFileSync(pemPath, key + cert);
    return await use({ key, cert, pemPath });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
