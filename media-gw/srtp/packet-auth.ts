import { HmacSha1 } from './hmac-sha1.js';
import { AUTH_TAG_LENGTH } from './profile.js';

/**
 * HMAC-SHA1 truncated to 80 bits (RFC 3711 §4.2.1), keyed once per session: the pad states are
 * precomputed (hmac-sha1.ts), so a packet costs the hash of its own bytes and allocates nothing.
 */
export class PacketAuthenticator {
  readonly #hmac: HmacSha1;

  constructor(authKey: Uint8Array) {
    this.#hmac = new HmacSha1(authKey);
  }

  /** Writes the tag of `data[0, length)` (+ the ROC when given, RFC 3711 §4.2) at `data[length]`. */
  sign(data: Uint8Array, length: number, roc?: number): void {
    this.#hmac.compute(data, length, roc === undefined ? undefined : roc >>> 0);
    this.#hmac.writeDigest(data, length, AUTH_TAG_LENGTH);
  }

  /** Compares the tag at `data[length]` with the computed one, without early exit. */
  verify(data: Uint8Array, length: number, roc?: number): boolean {
    if (length < 0 || data.length < length + AUTH_TAG_LENGTH) return false;
    this.#hmac.compute(data, length, roc === undefined ? undefined : roc >>> 0);
    return this.#hmac.digestEquals(data, length, AUTH_TAG_LENGTH);
  }
}
