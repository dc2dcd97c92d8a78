import { AesCmKeystream } from './aes-cm-keystream.js';
import type { SessionKeys } from './key-derivation.js';
import { KeystreamBatch } from './keystream-batch.js';
import { PacketAuthenticator } from './packet-auth.js';
import { writePacketIv } from './packet-iv.js';

export interface PacketCipherOptions {
  /**
   * Compute the keystream of consecutive packet indices ahead, several per AES call
   * (keystream-batch.ts): for SRTP media, whose indices follow each other. Off for SRTCP (a few
   * packets per second: nothing to amortise).
   */
  readonly batchKeystream?: boolean;
}

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
  readonly #batch: KeystreamBatch | undefined;

  constructor(keys: SessionKeys, options: PacketCipherOptions = {}) {
    this.#keystream = new AesCmKeystream(keys.cipherKey);
    this.auth = new PacketAuthenticator(keys.authKey);
    this.#salt = keys.cipherSalt;
    this.#batch = options.batchKeystream === true ? new KeystreamBatch(this.#keystream, this.#salt) : undefined;
  }

  /**
   * XORs the keystream of packet index (`indexHigh16`, `indexLow32`) of `ssrc` over
   * `buf[start, end)`: encrypts and decrypts alike (AES in counter mode).
   */
  crypt(buf: Buffer, start: number, end: number, ssrc: number, indexHigh16: number, indexLow32: number): void {
    if (this.#batch?.xorInPlace(buf, start, end, ssrc, indexHigh16 * 0x100000000 + indexLow32) === true) return;
    writePacketIv(this.#iv, this.#salt, ssrc, indexHigh16, indexLow32);
    this.#keystream.xorInPlace(this.#iv, buf, start, end);
  }
}
