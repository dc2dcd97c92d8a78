import type { RemoteInfo, Socket } from 'node:dgram';
import { EpcError } from '../../core/errors.js';
import { closeSocket } from '../rtp/port-allocator.js';
import { emptyCounters, type MediaCounters } from '../rtp/media-counters.js';
import { isRtcpPacket } from '../rtp/rtp-header.js';
import { SrtpSession } from '../srtp/srtp-session.js';
import type { DtlsFingerprint, LocalCertificate } from './certificate.js';
import { classifyDatagram, PacketClass } from './demux.js';
import { DtlsEndpoint, type DtlsRole } from './dtls-endpoint.js';
import { IceLiteAgent, type IceCredentials, type TransportAddress } from './ice-lite-agent.js';

export interface WebRtcLegOptions {
  /** The leg's UDP socket, bound by the port allocator; the leg owns and closes it. */
  readonly socket: Socket;
  readonly certificate: LocalCertificate;
  /** R-ALG-1: our DTLS role from the WIC's a=setup (active → we are server; passive → client). */
  readonly dtlsRole: DtlsRole;
  readonly remoteFingerprints: readonly DtlsFingerprint[];
  readonly localIce?: IceCredentials;
  readonly remoteIce?: IceCredentials;
  readonly consentTimeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
}

/** What the leg reports; the relay sets one delegate (no per-packet closures, style.md). */
export interface WebRtcLegDelegate {
  /** A decrypted RTP packet (a view into the received datagram, valid during the call). */
  onRtp(packet: Buffer): void;
  onRtcp(packet: Buffer): void;
  onConnected?(): void;
  /** DTLS failure or fingerprint mismatch (R-SDP-3): the call should be released. */
  onFailed?(error: EpcError): void;
  /** RFC 7675 / R-AGW-4: no consent for 30 s. */
  onConsentExpired?(): void;
}

/**
 * The WebRTC side of a call (W3): one UDP socket carrying STUN, DTLS and SRTP/SRTCP with
 * rtcp-mux (R-SDP-5), demultiplexed by first byte (RFC 7983). ICE-lite answers the browser's
 * checks; werift's DTLS does the handshake; our SrtpSession handles every packet afterwards.
 */
export class WebRtcLeg {
  readonly ice: IceLiteAgent;
  readonly counters: MediaCounters = emptyCounters();
  delegate: WebRtcLegDelegate | undefined;
  readonly #socket: Socket;
  readonly #dtls: DtlsEndpoint;
  #srtp: SrtpSession | undefined;
  #selectedAddress = '';
  #selectedPort = 0;
  #dtlsStarted = false;
  #consentTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: WebRtcLegOptions) {
    this.#socket = options.socket;
    this.ice = new IceLiteAgent({
      ...(options.localIce ? { local: options.localIce } : {}),
      ...(options.remoteIce ? { remote: options.remoteIce } : {}),
      ...(options.consentTimeoutMs !== undefined ? { consentTimeoutMs: options.consentTimeoutMs } : {}),
    });
    this.#dtls = new DtlsEndpoint({
      role: options.dtlsRole,
      certificate: options.certificate,
      remoteFingerprints: options.remoteFingerprints,
      send: (datagram) => this.#sendToSelected(datagram),
      ...(options.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: options.handshakeTimeoutMs } : {}),
    });
    this.#socket.on('message', this.#onDatagram);
    // As DTLS server we listen from the start; as client we start once ICE nominates (RFC 5763 §5:
    // the active side initiates; a ClientHello before nomination would have nowhere to go).
    if (options.dtlsRole === 'server') this.#startDtls();
    const consentTimeout = options.consentTimeoutMs ?? 30_000;
    this.#consentTimer = setInterval(() => {
      if (this.ice.consentExpired()) {
        this.#stopConsentTimer();
        this.delegate?.onConsentExpired?.();
      }
    }, Math.min(5_000, Math.max(50, consentTimeout / 4)));
    this.#consentTimer.unref();
  }

  /** The host candidate to put in the SDP toward the WIC (R-ICE-1). */
  get localAddress(): TransportAddress {
    const info = this.#socket.address();
    return { address: info.address, port: info.port };
  }

  get dtlsRole(): DtlsRole {
    return this.#dtls.role;
  }

  get connected(): boolean {
    return this.#srtp !== undefined;
  }

  /** Protects and sends one RTP packet to the ICE-selected address; false when not ready. */
  sendRtp(packet: Buffer, length = packet.length): boolean {
    const srtp = this.#srtp;
    if (srtp === undefined || this.#selectedPort === 0) return false;
    const out = srtp.rtpOut.protect(packet, length);
    if (out === null) return false;
    return this.#sendMedia(out);
  }

  sendRtcp(packet: Buffer, length = packet.length): boolean {
    const srtp = this.#srtp;
    if (srtp === undefined || this.#selectedPort === 0) return false;
    const out = srtp.rtcpOut.protect(packet, length);
    if (out === null) return false;
    return this.#sendMedia(out);
  }

  /** Releases the socket, the DTLS association and the consent timer; idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopConsentTimer();
      this.#socket.off('message', this.#onDatagram);
      this.#dtls.close();
      this.#srtp = undefined;
      this.delegate = undefined;
      await closeSocket(this.#socket);
    })();
    return this.#closed;
  }

  #sendMedia(out: Buffer): boolean {
    this.#socket.send(out, this.#selectedPort, this.#selectedAddress);
    this.counters.packetsOut++;
    this.counters.bytesOut += out.length;
    return true;
  }

  #sendToSelected(datagram: Buffer): void {
    if (this.#selectedPort !== 0 && this.#closed === undefined) {
      this.#socket.send(datagram, this.#selectedPort, this.#selectedAddress);
    }
  }

  #onDatagram = (data: Buffer, from: RemoteInfo): void => {
    if (data.length === 0) return;
    switch (classifyDatagram(data[0] as number)) {
      case PacketClass.media:
        this.#onMedia(data, from);
        return;
      case PacketClass.stun:
        this.#onStun(data, from);
        return;
      case PacketClass.dtls:
        if (!this.ice.isValidated(from)) {
          this.counters.dropped++;
          return;
        }
        // A browser may start DTLS on a checked pair before it nominates one: answer it there
        // until USE-CANDIDATE names the selected pair.
        if (this.#selectedPort === 0) {
          this.#selectedAddress = from.address;
          this.#selectedPort = from.port;
        }
        this.#dtls.handleDatagram(data);
        return;
      default:
        this.counters.dropped++;
    }
  };

  #onMedia(data: Buffer, from: RemoteInfo): void {
    const srtp = this.#srtp;
    // R-ICE-2: media is accepted only on the selected pair, and only once keys exist.
    if (srtp === undefined || from.port !== this.#selectedPort || from.address !== this.#selectedAddress) {
      this.counters.dropped++;
      return;
    }
    if (isRtcpPacket(data, data.length)) {
      const plain = srtp.rtcpIn.unprotect(data);
      if (plain === null) {
        this.counters.dropped++;
        return;
      }
      this.#countIn(data.length);
      this.delegate?.onRtcp(plain);
      return;
    }
    const plain = srtp.rtpIn.unprotect(data);
    if (plain === null) {
      this.counters.dropped++;
      return;
    }
    this.#countIn(data.length);
    this.delegate?.onRtp(plain);
  }

  #countIn(bytes: number): void {
    this.counters.packetsIn++;
    this.counters.bytesIn += bytes;
    this.counters.lastPacketAt = Date.now();
  }

  #onStun(data: Buffer, from: RemoteInfo): void {
    const verdict = this.ice.handleStun(data, from);
    if (verdict.kind === 'drop') {
      this.counters.dropped++;
      return;
    }
    this.#socket.send(verdict.bytes, from.port, from.address);
    const selected = this.ice.selected;
    if (selected !== undefined && (selected.port !== this.#selectedPort || selected.address !== this.#selectedAddress)) {
      this.#selectedAddress = selected.address;
      this.#selectedPort = selected.port;
    }
    if (verdict.nominated && this.#dtls.role === 'client') this.#startDtls();
  }

  #startDtls(): void {
    if (this.#dtlsStarted) return;
    this.#dtlsStarted = true;
    this.#dtls.start().then(
      (keys) => {
        if (this.#closed !== undefined) return;
        this.#srtp = new SrtpSession(keys);
        this.delegate?.onConnected?.();
      },
      (error: unknown) => {
        if (this.#closed !== undefined) return;
        const failure = error instanceof EpcError ? error : new EpcError('EPC_ERR_MEDIA', String(error));
        this.delegate?.onFailed?.(failure);
      },
    );
  }

  #stopConsentTimer(): void {
    if (this.#consentTimer !== undefined) clearInterval(this.#consentTimer);
    this.#consentTimer = undefined;
  }
}
