import type { SessionKeys } from './key-derivation.js';
import { OutputRing, sharedOutputRing } from './output-ring.js';
import { PacketCipher } from './packet-cipher.js';
import { AUTH_TAG_LENGTH, MAX_PACKET_LENGTH, SRTCP_INDEX_LENGTH } from './profile.js';
import { ReplayWindow } from './replay-window.js';
import { StreamTable } from './rollover-counter.js';
import type { SrtpDropCounters, SrtpStreamOptions } from './srtp-rtp.js';

/** RFC 3711 §3.4: the first 8 octets of a compound RTCP packet (header + sender SSRC) stay clear. */
const RTCP_CLEAR_PREFIX = 8;
const E_FLAG = 0x80000000;
const INDEX_MASK = 0x7fffffff;

/** SRTCP protect (RFC 3711 §3.4): encrypt, append E||index, then the tag over all of it. */
export class SrtcpProtector {
  readonly #cipher: PacketCipher;
  readonly #indices: StreamTable<{ next: number }>;
  readonly #ring: OutputRing;

  constructor(keys: SessionKeys, options: SrtpStreamOptions = {}, ring: OutputRing = sharedOutputRing) {
    this.#cipher = new PacketCipher(keys);
    this.#ring = ring;
    this.#indices = new StreamTable(options.maxSsrcs ?? 16, () => ({ next: 0 }));
  }

  /**
   * Returns the SRTCP packet in a ring slot, or null when malformed. RFC 3711 §3.4: the index
   * starts at 0 and increments by one (mod 2^31) per packet sent by that SSRC.
   */
  protect(packet: Uint8Array, length = packet.length): Buffer | null {
    if (length < RTCP_CLEAR_PREFIX || length + SRTCP_INDEX_LENGTH + AUTH_TAG_LENGTH > MAX_PACKET_LENGTH) return null;
    if ((packet[0] as number) >> 6 !== 2) return null;
    const out = this.#ring.take();
    out.set(packet.subarray(0, length), 0);
    const ssrc = out.readUInt32BE(4);
    const counter = this.#indices.get(ssrc);
    if (counter === undefined) return null;
    const index = counter.next;
    counter.next = (index + 1) & INDEX_MASK;
    this.#cipher.crypt(out, RTCP_CLEAR_PREFIX, length, ssrc, 0, index);
    out.writeUInt32BE((E_FLAG | index) >>> 0, length);
    this.#cipher.auth.sign(out, length + SRTCP_INDEX_LENGTH);
    return out.subarray(0, length + SRTCP_INDEX_LENGTH + AUTH_TAG_LENGTH);
  }
}

/** SRTCP unprotect (RFC 3711 §3.4): authenticate, replay-check by SRTCP index, decrypt in place. */
export class SrtcpUnprotector {
  readonly #cipher: PacketCipher;
  readonly #windows: StreamTable<ReplayWindow>;
  readonly drops: SrtpDropCounters = { authFailures: 0, replayed: 0, malformed: 0 };

  constructor(keys: SessionKeys, options: SrtpStreamOptions = {}) {
    this.#cipher = new PacketCipher(keys);
    this.#windows = new StreamTable(options.maxSsrcs ?? 16, () => new ReplayWindow(options.replayWindow ?? 128));
  }

  unprotect(packet: Buffer, length = packet.length): Buffer | null {
    const indexAt = length - AUTH_TAG_LENGTH - SRTCP_INDEX_LENGTH;
    if (indexAt < RTCP_CLEAR_PREFIX || (packet[0] as number) >> 6 !== 2) {
      this.drops.malformed++;
      return null;
    }
    const word = packet.readUInt32BE(indexAt);
    const index = word & INDEX_MASK;
    const ssrc = packet.readUInt32BE(4);
    const window = this.#windows.get(ssrc);
    if (window === undefined) {
      this.drops.malformed++;
      return null;
    }
    if (!window.check(index)) {
      this.drops.replayed++;
      return null;
    }
    if (!this.#cipher.auth.verify(packet, length - AUTH_TAG_LENGTH)) {
      this.drops.authFailures++;
      return null;
    }
    window.accept(index);
    // RFC 3711 §3.4: E = 0 means the payload was sent unencrypted (only authenticated).
    if (word & E_FLAG) {
      this.#cipher.crypt(packet, RTCP_CLEAR_PREFIX, indexAt, ssrc, 0, index);
    }
    return packet.subarray(0, indexAt);
  }
}
