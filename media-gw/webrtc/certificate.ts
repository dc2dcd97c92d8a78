import { createHash, X509Certificate } from 'node:crypto';
import { CipherContext, HashAlgorithm, NamedCurveAlgorithm, SignatureAlgorithm, type SignatureHash } from 'werift';

/** RFC 8122 §5: `a=fingerprint:<hash-func> <upper-case hex pairs joined by ':'>`. */
export interface DtlsFingerprint {
  readonly algorithm: string;
  readonly value: string;
}

/** The gateway's DTLS identity: a self-signed ECDSA P-256 certificate (as browsers use). */
export interface LocalCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly signatureHash: SignatureHash;
  readonly fingerprint: DtlsFingerprint;
}

export async function createLocalCertificate(): Promise<LocalCertificate> {
  const { certPem, keyPem, signatureHash } = await CipherContext.createSelfSignedCertificateWithKey(
    { signature: SignatureAlgorithm.ecdsa_3, hash: HashAlgorithm.sha256_4 },
    NamedCurveAlgorithm.secp256r1_23,
  );
  const der = new X509Certificate(certPem).raw;
  return { certPem, keyPem, signatureHash, fingerprint: fingerprintOf(der, 'sha-256') };
}

let shared: Promise<LocalCertificate> | undefined;

/** One certificate per process, created on first use (generation takes milliseconds, not per call). */
export function sharedCertificate(): Promise<LocalCertificate> {
  shared ??= createLocalCertificate();
  return shared;
}

const HASHES: Record<string, string> = { 'sha-1': 'sha1', 'sha-224': 'sha224', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

/** The fingerprint of a DER certificate with the named RFC 8122 hash function. */
export function fingerprintOf(der: Uint8Array, algorithm: string): DtlsFingerprint {
  const hash = HASHES[algorithm.toLowerCase()];
  if (hash === undefined) return { algorithm, value: '' };
  const hex = createHash(hash).update(der).digest('hex').toUpperCase();
  return { algorithm: algorithm.toLowerCase(), value: hex.match(/../g)?.join(':') ?? '' };
}

/**
 * RFC 5763 §5 / R-SDP-3: the certificate the peer presented must match one of the fingerprints in
 * its SDP (any supported hash function; unknown ones are skipped).
 */
export function certificateMatches(der: Uint8Array, fingerprints: readonly DtlsFingerprint[]): boolean {
  return fingerprints.some((expected) => {
    const actual = fingerprintOf(der, expected.algorithm);
    return actual.value !== '' && actual.value === expected.value.toUpperCase();
  });
}
