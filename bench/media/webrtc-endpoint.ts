/**
 * The browser side of one bench call, without a browser or an RTCPeerConnection: one UDP
 * socket (rtcp-mux, RFC 8843 bundle of one m= line) carrying STUN, DTLS and SRTP, demultiplexed
 * by first byte (RFC 7983). ICE is the controlling side (ice-controlling.ts), the DTLS handshake
 * runs on our media-gw's DtlsEndpoint in the client role (the gateway answered a=setup:passive,
 * RFC 5763 §5), and every media packet afterwards goes through our SrtpSession: the per-packet
 * path is node:crypto on reused contexts and buffers, as in the gateway itself. werift's
 * RTCPeerConnection would cost ~80 µs per packet (real-peers media finding 4), more than the
 * gateway under test.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import type { DtlsFingerprint, LocalCertificate } from '../../media-gw/webrtc/certificate.js';
import { classifyDatagram, PacketClass } from '../../media-gw/webrtc/demux.js';
import { DtlsEndpoint } from '../../media-gw/webrtc/dtls-endpoint.js';
import type { IceCredentials } from '../../media-gw/webrtc/ice-lite-agent.js';
import { rtpHeaderLength } from '../../media-gw/rtp/rtp-header.js';
import { SrtpSession } from '../../media-gw/srtp/srtp-session.js';
import { ControllingIce } from './ice-controlling.js';
import { connectSocket } from './port-range.js';
import type { RtpStream } from './rtp-stream.js';

/** What the gateway's answer toward the WIC says about its WebRTC side. */
export interface GatewayWebRtcSide {
  readonly address: string;
  readonly port: number;
  readonly ice: IceCredentials;
  /** `a=ice-lite`: the gateway sends no checks of its own (ours, R-ICE-1). */
  readonly iceLite: boolean;
  readonly fingerprints: readonly DtlsFingerprint[];
  /** The gateway's a=setup; the WIC offered actpass, the ALG asks for passive. */
  readonly setup: string;
}

const CHECK_INTERVAL_MS = 50;
/** A full-ICE gateway nominates after its triggered check (RFC 8445 §7.3.1.5); give it this long. */
const FULL_ICE_GRACE_MS = 300;

/** Records of one flight packed into one datagram stay below a safe loopback/Internet MTU. */
const MAX_COALESCED_BYTES = 1200;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class WebRtcLoadEndpoint {
  readonly ice = new ControllingIce();
  readonly #socket: Socket;
  readonly #outgoing: RtpStream;
  readonly #incoming: RtpStream;
  #dtls: DtlsEndpoint | undefined;
  readonly #pendingRecords: Buffer[] = [];
  #pendingBytes = 0;
  #srtp: SrtpSession | undefined;
  /** Inbound datagrams we could not use (bad SRTP, unknown kinds), for the report. */
  dropped = 0;

  /** `socket` is bound; `outgoing` is what we send, `incoming` what the IMS side sends us. */
  constructor(socket: Socket, outgoing: RtpStream, incoming: RtpStream) {
    this.#socket = socket;
    this.#outgoing = outgoing;
    this.#incoming = incoming;
    socket.on('message', this.#onDatagram);
  }

  get localPort(): number {
    return this.#socket.address().port;
  }

  /** ICE (checks until one succeeds), then the DTLS handshake as client; resolves with SRTP keyed. */
  async connect(gateway: GatewayWebRtcSide, certificate: LocalCertificate, timeoutMs: number): Promise<void> {
    if (gateway.setup !== 'passive' && gateway.setup !== 'actpass') {
      throw new Error(`gateway answered a=setup:${gateway.setup}; the bench client only does the DTLS client role`);
    }
    await connectSocket(this.#socket, gateway.port, gateway.address);
    this.ice.setRemoteCredentials(gateway.ice);
    const deadline = Date.now() + timeoutMs;
    while (!this.ice.succeeded) {
      if (Date.now() > deadline) throw new Error(`ICE: no success response from ${gateway.address}:${gateway.port}`);
      this.#send(this.ice.bindingRequest());
      await sleep(CHECK_INTERVAL_MS);
    }
    if (!gateway.iceLite) {
      // RFC 8445 §7.3.1.5: a full agent in the controlled role nominates once its own triggered
      // check succeeds; start DTLS when the pair is valid on both sides, as a browser would.
      const graceUntil = Math.min(deadline, Date.now() + FULL_ICE_GRACE_MS);
      while (this.ice.answeredChecks === 0 && Date.now() < graceUntil) await sleep(10);
    }
    this.#dtls = new DtlsEndpoint({
      role: 'client', certificate, remoteFingerprints: gateway.fingerprints,
      send: (record) => this.#queueRecord(record), handshakeTimeoutMs: Math.max(1000, deadline - Date.now()),
    });
    const keys = await this.#dtls.start();
    this.#srtp = new SrtpSession(keys);
  }

  /** Sends the stream's next packet, SRTP-protected; false until keyed. */
  sendMedia(): boolean {
    const srtp = this.#srtp;
    if (srtp === undefined) return false;
    const out = srtp.rtpOut.protect(this.#outgoing.next());
    if (out === null) return false;
    this.#socket.send(out);
    return true;
  }

  /** RFC 7675: a check on the selected pair keeps consent (the gateway drops the call after 30 s without). */
  refreshConsent(): void {
    if (this.#srtp !== undefined) this.#send(this.ice.bindingRequest());
  }

  close(): void {
    this.#dtls?.close();
    this.#srtp = undefined;
    this.#socket.off('message', this.#onDatagram);
    try { this.#socket.close(); } catch { /* already closed */ }
  }

  /**
   * werift hands over each DTLS record of a flight separately; a browser packs a flight into one
   * datagram (RFC 6347 §4.1.1 allows several records per datagram). Sent one per datagram, the
   * five records of the client's second flight reach a multi-threaded rtpengine in parallel and
   * about 1 handshake in 10 never completes (measured here; with --num-threads=1 none fails, and
   * real-peers media finding 3 saw the same with werift as client). So the records of one turn
   * of the event loop leave together, as a browser's would.
   */
  #queueRecord(record: Buffer): void {
    if (this.#pendingBytes + record.length > MAX_COALESCED_BYTES) this.#flushRecords();
    if (this.#pendingRecords.length === 0) setImmediate(this.#flushRecords);
    this.#pendingRecords.push(Buffer.from(record));
    this.#pendingBytes += record.length;
  }

  #flushRecords = (): void => {
    if (this.#pendingRecords.length === 0) return;
    const datagram = Buffer.concat(this.#pendingRecords);
    this.#pendingRecords.length = 0;
    this.#pendingBytes = 0;
    this.#send(datagram);
  };

  #send(datagram: Buffer): void {
    this.#socket.send(datagram);
  }

  #onDatagram = (data: Buffer, from: RemoteInfo): void => {
    if (data.length === 0) return;
    switch (classifyDatagram(data[0] as number)) {
      case PacketClass.media:
        this.#onMedia(data);
        return;
      case PacketClass.stun: {
        const reply = this.ice.handleStun(data, from);
        if (reply !== undefined) this.#socket.send(reply); // the connected socket only hears the gateway
        return;
      }
      case PacketClass.dtls:
        this.#dtls?.handleDatagram(data);
        return;
      default:
        this.dropped++;
    }
  };

  #onMedia(data: Buffer): void {
    const srtp = this.#srtp;
    // RFC 5761 §4: payload types 64-95 (marker bit included: 192-223) are RTCP; we send none and measure none.
    const secondByte = data[1] as number;
    if (srtp === undefined || (secondByte >= 192 && secondByte <= 223)) {
      this.dropped++;
      return;
    }
    const plain = srtp.rtpIn.unprotect(data);
    if (plain === null) {
      this.dropped++;
      return;
    }
    const headerLength = rtpHeaderLength(plain, plain.length);
    if (headerLength < 0) return;
    this.#incoming.onReceived(plain, headerLength, plain.length);
  }
}
