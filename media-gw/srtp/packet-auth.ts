import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { AUTH_TAG_LENGTH } from './profile.js';

/**
 * HMAC-SHA1 truncated to 80 bits (RFC 3711 §4.2.1). The key is imported once as a KeyObject; the
 * Hmac object itself cannot be reset in node:crypto, so one is created per packet (~2 µs).
 */
export class PacketAuthenticator {
  readonly #key: KeyObject;
  readonly #trailer = Buffer.alloc(4);

  constructor(authKey: Uint8Array) {
    this.#key = createSecretKey(authKey);
  }

  /** Writes the tag of `data[0, length)` (+ the ROC when given, RFC 3711 §4.2) at `data[length]`. */
  sign(data: Buffer, length: number, roc?: number): void {
    const tag = this.#compute(data, length, roc);
    tag.copy(data, length, 0, AUTH_TAG_LENGTH);
  }

  /** Compares the tag at `data[length]` with the computed one, without early exit. */
  verify(data: Buffer, length: number, roc?: number): boolean {
    const tag = this.#compute(data, length, roc);
    let difference = 0;
    for (let i = 0; i < AUTH_TAG_LENGTH; i++) difference |= (tag[i] as number) ^ (data[length + i] as number);
    return difference === 0;
  }

  #compute(data: Buffer, length: number, roc: number | undefined): Buffer {
    const hmac = createHmac('sha1', this.#key).update(data.subarray(0, length));
    if (roc !== undefined) {
      this.#trailer.writeUInt32BE(roc >>> 0, 0);
      hmac.update(this.#trailer);
    }
    return hmac.digest();
  }
}
