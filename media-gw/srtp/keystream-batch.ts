import type { AesCmKeystream } from './aes-cm-keystream.js';
import { writePacketIv } from './packet-iv.js';

const BLOCK = 16;
/**
 * Keystream kept per packet index: 12 AES blocks cover an audio payload of up to 192 bytes (PCMU,
 * PCMA and G.722 at 20 ms are 160; Opus at usual rates less). Larger ones take the per-packet path.
 */
export const BATCH_SLOT_BYTES = 12 * BLOCK;
/** Packet indices computed per AES call. */
export const BATCH_PACKETS = 16;
/** SSRCs of one direction with a batch of their own (audio and video of one BUNDLE, a restart). */
const MAX_BATCHED_SSRCS = 4;

/** The counter blocks of one batch; shared by every batch of the thread (AES copies them out at once). */
const counterScratch = Buffer.alloc(BATCH_PACKETS * BATCH_SLOT_BYTES);
const counterWords = new DataView(counterScratch.buffer, counterScratch.byteOffset, counterScratch.length);
const ivScratch = Buffer.alloc(BLOCK);
const ivWords = new DataView(ivScratch.buffer, ivScratch.byteOffset, BLOCK);

/** The keystream of BATCH_PACKETS consecutive packet indices of one SSRC. */
interface SsrcBatch {
  readonly ssrc: number;
  /** The 48-bit packet index of slot 0 (exact in a double). */
  first: number;
  /** Kept for the life of the batch and overwritten at each refill. */
  readonly keystream: Buffer;
}

/**
 * AES-CM keystream for SRTP packets computed ahead, BATCH_PACKETS packet indices per AES call
 * (RFC 3711 §4.1.1: the keystream of a packet depends only on the session key, the salt, its SSRC
 * and its 48-bit index, never on the data, so it can be made before the packet exists).
 *
 * Why: one `update()` on the ECB context costs ~1 µs of call overhead and a fresh output Buffer
 * whatever the length, against a few nanoseconds of AES per block; media packets of one SSRC
 * come with consecutive indices (our own numbering outbound, the sender's inbound), so one call
 * serves the next BATCH_PACKETS packets. Packets that do not fit (a payload over
 * BATCH_SLOT_BYTES, an index behind the batch, one SSRC too many) return false and the caller
 * computes their keystream alone.
 */
export class KeystreamBatch {
  readonly #aes: AesCmKeystream;
  readonly #salt: Uint8Array;
  readonly #batches: SsrcBatch[] = [];

  constructor(aes: AesCmKeystream, salt: Uint8Array) {
    this.#aes = aes;
    this.#salt = salt;
  }

  /**
   * XORs the keystream of packet `index` (48 bits) of `ssrc` over `data[start, end)` and returns
   * true, or returns false without touching `data` when the packet is not served from a batch.
   */
  xorInPlace(data: Uint8Array, start: number, end: number, ssrc: number, index: number): boolean {
    const length = end - start;
    if (length > BATCH_SLOT_BYTES) return false;
    const batch = this.#batchOf(ssrc, index);
    if (batch === undefined) return false;
    let slot = index - batch.first;
    if (slot < 0) return false; // a late packet: its keystream is behind this batch
    if (slot >= BATCH_PACKETS) {
      this.#refill(batch, index);
      slot = 0;
    }
    const keystream = batch.keystream;
    const at = slot * BATCH_SLOT_BYTES;
    for (let i = 0; i < length; i++) data[start + i] = (data[start + i] as number) ^ (keystream[at + i] as number);
    return true;
  }

  #batchOf(ssrc: number, index: number): SsrcBatch | undefined {
    const batches = this.#batches;
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i] as SsrcBatch;
      if (batch.ssrc === ssrc) {
        // Far behind (the sender restarted its numbering): start again from here.
        if (index < batch.first - BATCH_PACKETS) this.#refill(batch, index);
        return batch;
      }
    }
    if (batches.length === MAX_BATCHED_SSRCS) return undefined;
    const batch: SsrcBatch = { ssrc, first: index, keystream: Buffer.alloc(BATCH_PACKETS * BATCH_SLOT_BYTES) };
    this.#refill(batch, index);
    batches.push(batch);
    return batch;
  }

  /** Computes slots for indices first .. first + BATCH_PACKETS - 1 in one AES call. */
  #refill(batch: SsrcBatch, first: number): void {
    for (let slot = 0; slot < BATCH_PACKETS; slot++) {
      const index = first + slot;
      const high16 = Math.floor(index / 0x100000000) & 0xffff;
      writePacketIv(ivScratch, this.#salt, batch.ssrc, high16, index >>> 0);
      // Word by word (big-endian, as the IV reads): 4 stores per block instead of 16.
      const w0 = ivWords.getUint32(0);
      const w1 = ivWords.getUint32(4);
      const w2 = ivWords.getUint32(8);
      const w3 = ivWords.getUint32(12);
      const base = slot * BATCH_SLOT_BYTES;
      for (let block = 0; block < BATCH_SLOT_BYTES / BLOCK; block++) {
        const at = base + block * BLOCK;
        counterWords.setUint32(at, w0);
        counterWords.setUint32(at + 4, w1);
        counterWords.setUint32(at + 8, w2);
        // RFC 3711 §4.1.1: the block counter occupies the IV's last 16 (zero) bits.
        counterWords.setUint32(at + 12, (w3 | block) >>> 0);
      }
    }
    batch.first = first;
    // Copied into the batch's own buffer: the Buffer AES returns then dies young, where keeping
    // it for the batch's ~300 ms of audio would promote one per refill to the old generation
    // (measured: twice the GC time of the per-packet path, and its pauses in the latency tail).
    batch.keystream.set(this.#aes.encryptBlocks(counterScratch));
  }
}
