import { createCipheriv, type Cipher } from 'node:crypto';
import { MAX_PACKET_LENGTH } from './profile.js';

const BLOCK = 16;

/**
 * AES in counter mode (RFC 3711 §4.1.1) on one reused AES-128-ECB context: the counter blocks are
 * written into a reused buffer and encrypted in one `update()` call, which costs about half of a
 * fresh `aes-128-ctr` Cipheriv per packet (measured: 1.3 µs against 2.3 µs for 172 bytes). ECB
 * keeps no state between whole blocks, so the context is safe to reuse for every packet.
 */
export class AesCmKeystream {
  readonly #ecb: Cipher;
  readonly #counters = Buffer.alloc(MAX_PACKET_LENGTH + BLOCK);
  /** Views of the first n blocks of #counters, made once per n (no view allocated per packet). */
  readonly #views: Buffer[] = [];

  constructor(key: Uint8Array) {
    this.#ecb = createCipheriv('aes-128-ecb', key, null);
    this.#ecb.setAutoPadding(false);
  }

  /**
   * XORs the keystream for `iv` over `data[start, end)` in place. SRTP IVs end in 16 zero bits
   * (they are the salt and index shifted left by 16), so the block counter fits in the last two
   * bytes and never carries (RFC 3711 §4.1.1: at most 2^16 blocks per packet).
   */
  xorInPlace(iv: Uint8Array, data: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length <= 0) return;
    const blocks = (length + BLOCK - 1) >>> 4;
    const counters = this.#counters;
    const iv14 = iv[14] as number;
    const iv15 = iv[15] as number;
    // Byte loops, not TypedArray.set: for 14 bytes the builtin call costs more than the copy.
    for (let block = 0; block < blocks; block++) {
      const at = block * BLOCK;
      for (let i = 0; i < 14; i++) counters[at + i] = iv[i] as number;
      counters[at + 14] = iv14 ^ (block >>> 8);
      counters[at + 15] = iv15 ^ (block & 0xff);
    }
    const view = this.#views[blocks] ?? (this.#views[blocks] = counters.subarray(0, blocks * BLOCK));
    const keystream = this.#ecb.update(view);
    for (let i = 0; i < length; i++) {
      data[start + i] = (data[start + i] as number) ^ (keystream[i] as number);
    }
  }

  /**
   * AES of whole counter blocks the caller wrote (keystream-batch.ts), into a new Buffer: the
   * keystream of several packets from one call.
   */
  encryptBlocks(counters: Uint8Array): Buffer {
    return this.#ecb.update(counters);
  }

  /** The raw keystream (used by key derivation and the RFC 3711 B.2 vector). */
  keystream(iv: Uint8Array, length: number): Buffer {
    const out = Buffer.alloc(length);
    this.xorInPlace(iv, out, 0, length);
    return out;
  }
}
