import type { RemoteInfo, Socket } from 'node:dgram';
import { closeSocket } from './port-allocator.js';
import { emptyCounters, type MediaCounters } from './media-counters.js';
import { isRtcpPacket } from './rtp-header.js';
import type { TransportAddress } from '../webrtc/ice-lite-agent.js';

export interface ImsLegOptions {
  /** The RTP socket (even port). */
  readonly rtpSocket: Socket;
  /** RFC 3550 §11: RTCP on port+1; absent when the IMS side muxes (RFC 5761) on the RTP port. */
  readonly rtcpSocket?: Socket;
  /** Where the far end said to send (its SDP c=/m=), until symmetric latching learns better. */
  readonly remoteRtp?: TransportAddress;
  /** From `a=rtcp:` (rtpengine writes the port without an address) or port+1 by default. */
  readonly remoteRtcp?: TransportAddress;
  /**
   * Symmetric RTP (RFC 4961): after this many ms without packets from the latched source, a packet
   * from a new source re-latches (a NAT rebinding or media server change). 0 = never re-latch.
   */
  readonly relatchAfterMs?: number;
}

export interface ImsLegDelegate {
  onRtp(packet: Buffer): void;
  onRtcp(packet: Buffer): void;
}

/** One latched destination: starts at the SDP address, moves to the first real source. */
class Latch {
  address = '';
  port = 0;
  latched = false;
  lastFromAt = 0;

  constructor(initial: TransportAddress | undefined) {
    if (initial) this.#set(initial.address, initial.port);
  }

  /** True when the packet's source is acceptable (and latches/re-latches to it). */
  accept(from: RemoteInfo, now: number, relatchAfterMs: number): boolean {
    if (from.port === this.port && from.address === this.address) {
      this.latched = true;
      this.lastFromAt = now;
      return true;
    }
    if (!this.latched || (relatchAfterMs > 0 && now - this.lastFromAt > relatchAfterMs)) {
      this.#set(from.address, from.port);
      this.latched = true;
      this.lastFromAt = now;
      return true;
    }
    return false;
  }

  #set(address: string, port: number): void {
    this.address = address;
    this.port = port;
  }
}

/**
 * The IMS side of a call (Mb): plain RTP/AVP over UDP with symmetric latching, RTCP on port+1 or
 * muxed as the far end offered (R-ALG-11).
 */
export class ImsLeg {
  readonly counters: MediaCounters = emptyCounters();
  delegate: ImsLegDelegate | undefined;
  readonly #rtp: Socket;
  readonly #rtcp: Socket | undefined;
  readonly #rtpLatch: Latch;
  readonly #rtcpLatch: Latch;
  readonly #relatchAfterMs: number;
  #held = false;
  #closed: Promise<void> | undefined;

  constructor(options: ImsLegOptions) {
    this.#rtp = options.rtpSocket;
    this.#rtcp = options.rtcpSocket;
    this.#relatchAfterMs = options.relatchAfterMs ?? 2_000;
    this.#rtpLatch = new Latch(options.remoteRtp);
    const rtcpDefault = options.remoteRtcp ?? (options.remoteRtp && this.#rtcp
      ? { address: options.remoteRtp.address, port: options.remoteRtp.port + 1 }
      : options.remoteRtp);
    this.#rtcpLatch = new Latch(rtcpDefault);
    this.#rtp.on('message', this.#onRtpSocket);
    this.#rtcp?.on('message', this.#onRtcpSocket);
  }

  get localRtp(): TransportAddress {
    const info = this.#rtp.address();
    return { address: info.address, port: info.port };
  }

  get localRtcp(): TransportAddress {
    const info = (this.#rtcp ?? this.#rtp).address();
    return { address: info.address, port: info.port };
  }

  get rtcpMuxed(): boolean {
    return this.#rtcp === undefined;
  }

  /** The current RTP destination (SDP address until latched). */
  get remoteRtp(): TransportAddress | undefined {
    return this.#rtpLatch.port === 0 ? undefined : { address: this.#rtpLatch.address, port: this.#rtpLatch.port };
  }

  /** True while the far end is on hold with c=0.0.0.0 (RFC 3264 §8.4): nothing is sent. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Updates the SDP-given destination (re-INVITE); latching then starts afresh. `undefined` is
   * the RFC 3264 §8.4 old-style hold (c=0.0.0.0): nothing may be sent until a new address comes
   * (a datagram to 0.0.0.0 would reach this host on Linux).
   */
  setRemote(rtp: TransportAddress | undefined, rtcp?: TransportAddress): void {
    this.#held = rtp === undefined;
    if (rtp === undefined) return;
    Object.assign(this.#rtpLatch, { address: rtp.address, port: rtp.port, latched: false });
    const rtcpTarget = rtcp ?? (this.#rtcp ? { address: rtp.address, port: rtp.port + 1 } : rtp);
    Object.assign(this.#rtcpLatch, { address: rtcpTarget.address, port: rtcpTarget.port, latched: false });
  }

  sendRtp(packet: Buffer, length = packet.length): boolean {
    if (this.#rtpLatch.port === 0 || this.#held || this.#closed) return false;
    this.#rtp.send(packet, 0, length, this.#rtpLatch.port, this.#rtpLatch.address);
    this.counters.packetsOut++;
    this.counters.bytesOut += length;
    return true;
  }

  sendRtcp(packet: Buffer, length = packet.length): boolean {
    if (this.#rtcpLatch.port === 0 || this.#held || this.#closed) return false;
    (this.#rtcp ?? this.#rtp).send(packet, 0, length, this.#rtcpLatch.port, this.#rtcpLatch.address);
    this.counters.packetsOut++;
    this.counters.bytesOut += length;
    return true;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.delegate = undefined;
      this.#rtp.off('message', this.#onRtpSocket);
      this.#rtcp?.off('message', this.#onRtcpSocket);
      await Promise.all([closeSocket(this.#rtp), this.#rtcp ? closeSocket(this.#rtcp) : undefined]);
    })();
    return this.#closed;
  }

  #onRtpSocket = (data: Buffer, from: RemoteInfo): void => {
    if (this.#rtcp === undefined && isRtcpPacket(data, data.length)) {
      this.#onRtcpSocket(data, from);
      return;
    }
    if (data.length < 12 || (data[0] as number) >> 6 !== 2) {
      this.counters.dropped++;
      return;
    }
    const now = Date.now();
    if (!this.#rtpLatch.accept(from, now, this.#relatchAfterMs)) {
      this.counters.dropped++;
      return;
    }
    this.#count(data.length, now);
    this.delegate?.onRtp(data);
  };

  #onRtcpSocket = (data: Buffer, from: RemoteInfo): void => {
    if (data.length < 8 || (data[0] as number) >> 6 !== 2) {
      this.counters.dropped++;
      return;
    }
    const now = Date.now();
    if (!this.#rtcpLatch.accept(from, now, this.#relatchAfterMs)) {
      this.counters.dropped++;
      return;
    }
    this.#count(data.length, now);
    this.delegate?.onRtcp(data);
  };

  #count(bytes: number, now: number): void {
    this.counters.packetsIn++;
    this.counters.bytesIn += bytes;
    this.counters.lastPacketAt = now;
  }
}
