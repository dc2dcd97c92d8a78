import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

const cache = new Map<string, TestCertificate>();

/**
 * A throw-away self-signed certificate for `commonName`, valid for DNS:<commonName>,
 * DNS:localhost and IP:127.0.0.1 / ::1, generated with the system openssl (Node has no
 * generator). Cached per process; the key never touches the repository.
 */
export function selfSignedCertificate(commonName = 'localhost'): TestCertificate {
  const cached = cache.get(commonName);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2',
      '-subj', `/CN=${commonName}`,
      '-addext', `subjectAltName=DNS:${commonName},DNS:localhost,IP:127.0.0.1,IP:::1`,
    ], { stdio: 'ignore' });
    const certificate = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
    cache.set(commonName, certificate);
    return certificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
