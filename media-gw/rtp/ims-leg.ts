import type { RemoteInfo, Socket } from 'node:dgram';
import { closeSocket } from './port-allocator.js';
import { emptyCounters, type MediaCounters } from './media-counters.js';
import { PeerSocket } from './peer-socket.js';
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
   * While the latched source is live the RTP socket is connected to it, so the kernel drops other
   * sources before they cost anything (they are not counted in `dropped` then).
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
 * muxed as the far end offered (R-ALG-11). Once the RTP source is latched, the RTP socket is
 * connected to it (peer-socket.ts: cheaper sends); a watchdog disconnects it when that source has
 * been silent for the re-latch time, so a new source can be heard and latched (RFC 4961).
 */
export class ImsLeg {
  readonly counters: MediaCounters = emptyCounters();
  delegate: ImsLegDelegate | undefined;
  readonly #rtp: Socket;
  readonly #rtcp: Socket | undefined;
  readonly #rtpPeer: PeerSocket;
  readonly #rtcpPeer: PeerSocket;
  #silenceWatch: NodeJS.Timeout | undefined;
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
    this.#rtpPeer = new PeerSocket(this.#rtp);
    this.#rtcpPeer = this.#rtcp ? new PeerSocket(this.#rtcp) : this.#rtpPeer;
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
    this.#unpin();
    if (rtp === undefined) return;
    Object.assign(this.#rtpLatch, { address: rtp.address, port: rtp.port, latched: false });
    const rtcpTarget = rtcp ?? (this.#rtcp ? { address: rtp.address, port: rtp.port + 1 } : rtp);
    Object.assign(this.#rtcpLatch, { address: rtcpTarget.address, port: rtcpTarget.port, latched: false });
  }

  /** True while the RTP socket is connected to the latched source (see peer-socket.ts). */
  get rtpPinned(): boolean {
    return this.#rtpPeer.pinned;
  }

  sendRtp(packet: Buffer, length = packet.length): boolean {
    if (this.#rtpLatch.port === 0 || this.#held || this.#closed) return false;
    const datagram = length === packet.length ? packet : packet.subarray(0, length);
    if (!this.#rtpPeer.send(datagram, this.#rtpLatch.port, this.#rtpLatch.address)) return false;
    this.counters.packetsOut++;
    this.counters.bytesOut += length;
    return true;
  }

  sendRtcp(packet: Buffer, length = packet.length): boolean {
    if (this.#rtcpLatch.port === 0 || this.#held || this.#closed) return false;
    const datagram = length === packet.length ? packet : packet.subarray(0, length);
    if (!this.#rtcpPeer.send(datagram, this.#rtcpLatch.port, this.#rtcpLatch.address)) return false;
    this.counters.packetsOut++;
    this.counters.bytesOut += length;
    return true;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.delegate = undefined;
      this.#stopSilenceWatch();
      this.#rtpPeer.close();
      this.#rtcpPeer.close();
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
    if (!this.#rtpPeer.pinned) this.#pin();
    this.#count(data.length, now);
    this.delegate?.onRtp(data);
  };

  /** Connects the RTP socket to the latched source, and watches that source for silence. */
  #pin(): void {
    const latch = this.#rtpLatch;
    if (this.#held || this.#closed !== undefined) return;
    // RFC 5761: muxed RTCP leaves through the same socket, so it must go to the same far end.
    if (this.#rtcp === undefined && (this.#rtcpLatch.port !== latch.port || this.#rtcpLatch.address !== latch.address)) return;
    this.#rtpPeer.pin(latch.port, latch.address);
    if (this.#relatchAfterMs <= 0 || this.#silenceWatch !== undefined) return;
    this.#silenceWatch = setInterval(() => {
      if (Date.now() - this.#rtpLatch.lastFromAt > this.#relatchAfterMs) this.#unpin();
    }, Math.max(20, this.#relatchAfterMs / 4));
    this.#silenceWatch.unref();
  }

  #unpin(): void {
    this.#stopSilenceWatch();
    this.#rtpPeer.unpin();
  }

  #stopSilenceWatch(): void {
    if (this.#silenceWatch !== undefined) clearInterval(this.#silenceWatch);
    this.#silenceWatch = undefined;
  }

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
