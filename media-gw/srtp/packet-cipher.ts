import { AesCmKeystream } from './aes-cm-keystream.js';
import type { SessionKeys } from './key-derivation.js';
import { PacketAuthenticator } from './packet-auth.js';

/**
 * The per-direction crypto context every SRTP/SRTCP (un)protector needs: the AES-CM keystream,
 * the HMAC-SHA1 authenticator and the salt, keyed once (RFC 3711 §4.1.1, §4.2) and reused for
 * every packet with one IV buffer.
 */
export class PacketCipher {
  readonly auth: PacketAuthenticator;
  readonly #keystream: AesCmKeystream;
  readonly #salt: Buffer;
  readonly #iv = Buffer.alloc(16);

  constructor(keys: SessionKeys) {
    this.#keystream = new AesCmKeystream(keys.cipherKey);
    this.auth = new PacketAuthenticator(keys.authKey);
    this.#salt = keys.cipherSalt;
  }

  /**
   * XORs the keystream of packet index (`indexHigh16`, `indexLow32`) of `ssrc` over
   * `buf[start, end)`: encrypts and decrypts alike (AES in counter mode).
   */
  crypt(buf: Buffer, start: number, end: number, ssrc: number, indexHigh16: number, indexLow32: number): void {
    writePacketIv(this.#iv, this.#salt, ssrc, indexHigh16, indexLow32);
    this.#keystream.xorInPlace(this.#iv, buf, start, end);
  }
}

/**
 * RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), written into `iv`.
 * The 48-bit index is split into 16 high and 32 low bits so no BigInt is needed.
 */
export function writePacketIv(iv: Buffer, salt: Uint8Array, ssrc: number, indexHigh16: number, indexLow32: number): void {
  // Byte by byte (no builtin calls on the per-packet path): bytes 4-7 SSRC, 8-13 the index.
  for (let i = 0; i < 4; i++) iv[i] = salt[i] as number;
  iv[4] = (salt[4] as number) ^ (ssrc >>> 24);
  iv[5] = (salt[5] as number) ^ ((ssrc >>> 16) & 0xff);
  iv[6] = (salt[6] as number) ^ ((ssrc >>> 8) & 0xff);
  iv[7] = (salt[7] as number) ^ (ssrc & 0xff);
  iv[8] = (salt[8] as number) ^ ((indexHigh16 >>> 8) & 0xff);
  iv[9] = (salt[9] as number) ^ (indexHigh16 & 0xff);
  iv[10] = (salt[10] as number) ^ (indexLow32 >>> 24);
  iv[11] = (salt[11] as number) ^ ((indexLow32 >>> 16) & 0xff);
  iv[12] = (salt[12] as number) ^ ((indexLow32 >>> 8) & 0xff);
  iv[13] = (salt[13] as number) ^ (indexLow32 & 0xff);
  iv[14] = 0;
  iv[15] = 0;
}
