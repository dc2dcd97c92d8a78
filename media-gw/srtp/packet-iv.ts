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
