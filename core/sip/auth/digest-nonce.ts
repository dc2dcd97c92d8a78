/**
 * Stateless server nonces (RFC 7616 §3.3 / §5.4: a nonce may encode a time stamp and a
 * keyed hash so the server can check it without storing it). Layout, base64url:
 *   issued-at ms (6 bytes, big-endian) | random (10 bytes) | HMAC-SHA-256 tag (16 bytes)
 * The tag covers the issue time, the random part, the realm, the algorithm and the opaque
 * value, so a nonce cannot be moved to another realm, downgraded to a weaker algorithm
 * (RFC 7616 §5.9 / RFC 8760 §3) or answered with a forged opaque.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TIME_BYTES = 6;
const RANDOM_BYTES = 10;
const TAG_BYTES = 16;
const NONCE_BYTES = TIME_BYTES + RANDOM_BYTES + TAG_BYTES;
const DOMAIN_SEPARATOR = 'epcscf-digest-nonce-v1';

/** What a nonce is bound to; all must match when it comes back. */
export interface NonceBinding {
  readonly realm: string;
  /** Canonical algorithm token (`SHA-256`, `MD5-sess`...). */
  readonly algorithm: string;
  readonly opaque?: string;
}

export class NonceSigner {
  readonly #key: Buffer;

  /** `secret`: shared HMAC key (set the same one on every node of a cluster). */
  constructor(secret: Uint8Array | string = randomBytes(32)) {
    this.#key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  }

  issue(binding: NonceBinding, issuedAtMs: number): string {
    const raw = Buffer.alloc(NONCE_BYTES);
    raw.writeUIntBE(Math.max(0, Math.floor(issuedAtMs)), 0, TIME_BYTES);
    randomBytes(RANDOM_BYTES).copy(raw, TIME_BYTES);
    this.#tag(raw.subarray(0, TIME_BYTES + RANDOM_BYTES), binding).copy(raw, TIME_BYTES + RANDOM_BYTES);
    return raw.toString('base64url');
  }

  /** The issue time of a genuine nonce for `binding`, or undefined for a forged/foreign one. */
  verify(nonce: string, binding: NonceBinding): number | undefined {
    // Cheap shape checks before any crypto: the length is fixed and base64url has no padding.
    if (nonce.length !== Math.ceil((NONCE_BYTES * 4) / 3)) return undefined;
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== NONCE_BYTES || raw.toString('base64url') !== nonce) return undefined;
    const body = raw.subarray(0, TIME_BYTES + RANDOM_BYTES);
    const expected = this.#tag(body, binding);
    if (!timingSafeEqual(expected, raw.subarray(TIME_BYTES + RANDOM_BYTES))) return undefined;
    return raw.readUIntBE(0, TIME_BYTES);
  }

  #tag(body: Buffer, binding: NonceBinding): Buffer {
    const mac = createHmac('sha256', this.#key);
    // Length-prefixed fields so that ("ab","c") and ("a","bc") never collide.
    for (const field of [DOMAIN_SEPARATOR, binding.realm, binding.algorithm, binding.opaque ?? '']) {
      const bytes = Buffer.from(field, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(bytes.length);
      mac.update(len).update(bytes);
    }
    mac.update(body);
    return mac.digest().subarray(0, TAG_BYTES);
  }
}
