import { rtpHeaderLength } from './rtp-header.js';

export interface StreamRewriterOptions {
  /** The SSRC this direction uses on the way out (announced in the SDP toward that side). */
  readonly outputSsrc: number;
  /** RTP clock rate of the main codec (to advance timestamps across an input SSRC change). */
  readonly clockRate?: number;
  /** Payload type renumbering (e.g. telephone-event 126 from the browser → 101 toward IMS). */
  readonly payloadTypeMap?: ReadonlyMap<number, number>;
  readonly now?: () => number;
}

/**
 * Rewrites one direction's RTP in place so the far side sees one continuous stream: a fixed SSRC,
 * sequence numbers without jumps and monotonic timestamps, even when the source changes its SSRC
 * (re-INVITE, a new browser track, an IMS media server taking over). RFC 3550 §8.2/§5.1: a
 * receiver would otherwise treat the change as a new source and restart its jitter buffer.
 * RFC 4733 events and CN (RFC 3389) pass unchanged apart from these fields, so an event's
 * repeated timestamp stays repeated and silence gaps keep their timestamp distance.
 */
export class RtpStreamRewriter {
  readonly outputSsrc: number;
  #inputSsrc = -1;
  #seqOffset = 0;
  #timestampOffset = 0;
  #lastOutSeq = -1;
  #lastOutTimestamp = 0;
  #lastAt = 0;
  /** RTP packets and payload octets sent out (for the SR sender info we forward). */
  packets = 0;
  octets = 0;
  #clockPerMs: number;
  #ptMap: Int16Array | undefined;
  readonly #now: () => number;

  constructor(options: StreamRewriterOptions) {
    this.outputSsrc = options.outputSsrc >>> 0;
    this.#now = options.now ?? Date.now;
    this.#clockPerMs = 8;
    this.reconfigure(options);
  }

  /**
   * New codec facts after a later offer/answer (RFC 3264 §8: a re-offer may renumber payload
   * types or change the codec). The output SSRC and the numbering continue: the far side keeps
   * one stream across the change.
   */
  reconfigure(options: { readonly clockRate?: number; readonly payloadTypeMap?: ReadonlyMap<number, number> }): void {
    this.#clockPerMs = (options.clockRate ?? 8000) / 1000;
    this.#ptMap = undefined;
    if (options.payloadTypeMap && options.payloadTypeMap.size > 0) {
      const map = new Int16Array(128).fill(-1);
      for (const [from, to] of options.payloadTypeMap) map[from & 0x7f] = to & 0x7f;
      this.#ptMap = map;
    }
  }

  /** The input SSRC currently mapped (-1 before the first packet). */
  get inputSsrc(): number {
    return this.#inputSsrc;
  }

  /** Offsets to translate RTCP reports about this stream (see RtcpTranslator). */
  get seqOffset(): number {
    return this.#seqOffset;
  }

  get timestampOffset(): number {
    return this.#timestampOffset;
  }

  /** Rewrites SSRC, sequence number, timestamp and PT of `packet[0, length)` in place. */
  rewrite(packet: Buffer, length = packet.length): boolean {
    const headerLength = rtpHeaderLength(packet, length);
    if (headerLength < 0) return false;
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const timestamp = packet.readUInt32BE(4);
    if (ssrc !== this.#inputSsrc) this.#anchor(ssrc, seq, timestamp);
    const outSeq = (seq + this.#seqOffset) & 0xffff;
    const outTimestamp = (timestamp + this.#timestampOffset) >>> 0;
    packet.writeUInt16BE(outSeq, 2);
    packet.writeUInt32BE(outTimestamp, 4);
    packet.writeUInt32BE(this.outputSsrc, 8);
    if (this.#ptMap !== undefined) {
      const mapped = this.#ptMap[(packet[1] as number) & 0x7f] as number;
      if (mapped >= 0) packet[1] = ((packet[1] as number) & 0x80) | mapped;
    }
    this.#lastOutSeq = outSeq;
    this.#lastOutTimestamp = outTimestamp;
    this.#lastAt = this.#now();
    this.packets++;
    this.octets += length - headerLength;
    return true;
  }

  /**
   * A sequence number for a packet of our own in this stream (RFC 4733 events toward the
   * browser): the next one out; relayed packets after it move up by one, so none is reused.
   */
  reserveSequence(): number {
    const seq = (this.#lastOutSeq + 1) & 0xffff;
    if (this.#inputSsrc !== -1) this.#seqOffset = (this.#seqOffset + 1) & 0xffff;
    this.#lastOutSeq = seq;
    return seq;
  }

  /** The RTP timestamp for an event starting now: the last one out advanced by the wall clock. */
  reserveTimestamp(): number {
    const elapsed = this.#lastAt === 0 ? 0 : Math.max(1, Math.round((this.#now() - this.#lastAt) * this.#clockPerMs));
    const timestamp = (this.#lastOutTimestamp + elapsed) >>> 0;
    this.#lastOutTimestamp = timestamp;
    this.#lastAt = this.#now();
    return timestamp;
  }

  #anchor(ssrc: number, seq: number, timestamp: number): void {
    if (this.#inputSsrc === -1 && this.#lastOutSeq === -1) {
      // The first source passes its numbering through (offset 0) apart from the SSRC.
      this.#seqOffset = 0;
      this.#timestampOffset = 0;
    } else {
      // A new source continues where the old one stopped: next sequence number, and the
      // timestamp advanced by the wall-clock time since the last packet (at least one step).
      const elapsed = Math.max(1, Math.round((this.#now() - this.#lastAt) * this.#clockPerMs));
      this.#seqOffset = (this.#lastOutSeq + 1 - seq) & 0xffff;
      this.#timestampOffset = (this.#lastOutTimestamp + elapsed - timestamp) >>> 0;
    }
    this.#inputSsrc = ssrc;
  }
}
