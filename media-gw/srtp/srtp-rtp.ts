import type { SessionKeys } from './key-derivation.js';
import { OutputRing, sharedOutputRing } from './output-ring.js';
import { PacketCipher } from './packet-cipher.js';
import { AUTH_TAG_LENGTH, MAX_PACKET_LENGTH } from './profile.js';
import { SrtpStreamState, StreamTable } from './rollover-counter.js';
import { rtpHeaderLength } from '../rtp/rtp-header.js';

/** Per-direction SRTP limits. */
export interface SrtpStreamOptions {
  /** Replay list size (RFC 3711 §3.3.2 minimum 64). */
  readonly replayWindow?: number;
  /** How many SSRCs one session tracks before dropping new ones. */
  readonly maxSsrcs?: number;
}

/** Counters a relay reports per direction (dropped packets by reason). */
export interface SrtpDropCounters {
  authFailures: number;
  replayed: number;
  malformed: number;
}

/** SRTP protect for RTP (RFC 3711 §3.3), AES_CM_128_HMAC_SHA1_80. */
export class SrtpRtpProtector {
  readonly #cipher: PacketCipher;
  readonly #streams: StreamTable<SrtpStreamState>;
  readonly #ring: OutputRing;

  constructor(keys: SessionKeys, options: SrtpStreamOptions = {}, ring: OutputRing = sharedOutputRing) {
    this.#cipher = new PacketCipher(keys, { batchKeystream: true });
    this.#ring = ring;
    this.#streams = new StreamTable(options.maxSsrcs ?? 16, () => new SrtpStreamState(options.replayWindow ?? 128));
  }

  /**
   * Returns the SRTP packet in a ring slot (valid until the ring wraps), or null when the RTP
   * packet is malformed, too large, or from one SSRC too many.
   */
  protect(packet: Uint8Array, length = packet.length): Buffer | null {
    const headerLength = rtpHeaderLength(packet, length);
    if (headerLength < 0 || length + AUTH_TAG_LENGTH > MAX_PACKET_LENGTH) return null;
    const out = this.#ring.take();
    out.set(length === packet.length ? packet : packet.subarray(0, length), 0);
    const seq = out.readUInt16BE(2);
    const ssrc = out.readUInt32BE(8);
    const stream = this.#streams.get(ssrc);
    if (stream === undefined) return null;
    // The sender keeps ROC by the same estimate as a receiver, so a reordered resend is fine.
    const roc = Math.max(stream.guessRoc(seq), 0);
    stream.commit(seq, roc);
    this.#cipher.crypt(out, headerLength, length, ssrc, roc >>> 16, ((roc & 0xffff) * 0x10000 + seq) >>> 0);
    this.#cipher.auth.sign(out, length, roc);
    return out.subarray(0, length + AUTH_TAG_LENGTH);
  }
}

/** SRTP unprotect for RTP (RFC 3711 §3.3): authenticate, replay-check, decrypt in place. */
export class SrtpRtpUnprotector {
  readonly #cipher: PacketCipher;
  readonly #streams: StreamTable<SrtpStreamState>;
  readonly drops: SrtpDropCounters = { authFailures: 0, replayed: 0, malformed: 0 };

  constructor(keys: SessionKeys, options: SrtpStreamOptions = {}) {
    this.#cipher = new PacketCipher(keys, { batchKeystream: true });
    this.#streams = new StreamTable(options.maxSsrcs ?? 16, () => new SrtpStreamState(options.replayWindow ?? 128));
  }

  /**
   * Decrypts `packet` in place and returns the RTP view of it (tag removed), or null when the
   * packet fails authentication (RFC 3711 §3.3 step 5), is a replay (§3.3.2) or is malformed.
   */
  unprotect(packet: Buffer, length = packet.length): Buffer | null {
    const bodyLength = length - AUTH_TAG_LENGTH;
    const headerLength = rtpHeaderLength(packet, bodyLength);
    if (headerLength < 0) {
      this.drops.malformed++;
      return null;
    }
    const seq = packet.readUInt16BE(2);
    const ssrc = packet.readUInt32BE(8);
    const stream = this.#streams.get(ssrc);
    if (stream === undefined) {
      this.drops.malformed++;
      return null;
    }
    const roc = stream.guessRoc(seq);
    if (roc < 0) {
      this.drops.replayed++;
      return null;
    }
    const index = roc * 0x10000 + seq;
    if (!stream.replay.check(index)) {
      this.drops.replayed++;
      return null;
    }
    if (!this.#cipher.auth.verify(packet, bodyLength, roc)) {
      this.drops.authFailures++;
      return null;
    }
    stream.replay.accept(index);
    stream.commit(seq, roc);
    this.#cipher.crypt(packet, headerLength, bodyLength, ssrc, roc >>> 16, ((roc & 0xffff) * 0x10000 + seq) >>> 0);
    return packet.subarray(0, bodyLength);
  }
}
