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
  iv.set(salt, 0);
  iv[14] = 0;
  iv[15] = 0;
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  iv.writeUInt16BE((iv.readUInt16BE(8) ^ indexHigh16) & 0xffff, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ indexLow32) >>> 0, 10);
}
