import type { RemoteInfo, Socket } from 'node:dgram';
import { EpcError } from '../../core/errors.js';
import { closeSocket } from '../rtp/port-allocator.js';
import { emptyCounters, type MediaCounters } from '../rtp/media-counters.js';
import { PeerSocket } from '../rtp/peer-socket.js';
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
  /**
   * R-ALG-1: our DTLS role from the WIC's a=setup (active → we are server; passive → client).
   * Absent: the leg is only allocated (its port goes into an offer) and `setRemote` supplies the
   * role and fingerprint when the WIC's SDP arrives (terminating calls learn them from its answer).
   */
  readonly dtlsRole?: DtlsRole;
  readonly remoteFingerprints?: readonly DtlsFingerprint[];
  readonly localIce?: IceCredentials;
  readonly remoteIce?: IceCredentials;
  readonly consentTimeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
}

/** What the WIC's SDP says about its end of the leg (RFC 5763 §5, RFC 8839 §5.4). */
export interface WebRtcRemote {
  readonly dtlsRole: DtlsRole;
  readonly remoteFingerprints: readonly DtlsFingerprint[];
  readonly remoteIce?: IceCredentials;
}

/** DTLS records that may arrive before the WIC's SDP does (the browser answers, then connects at once). */
const MAX_EARLY_DTLS = 8;

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
  /** Connected to the nominated pair's remote address once ICE selected it (peer-socket.ts). */
  readonly #peer: PeerSocket;
  readonly #options: WebRtcLegOptions;
  #dtls: DtlsEndpoint | undefined;
  #remoteFingerprints: readonly DtlsFingerprint[] = [];
  #earlyDtls: Buffer[] = [];
  #srtp: SrtpSession | undefined;
  #selectedAddress = '';
  #selectedPort = 0;
  #dtlsStarted = false;
  #consentTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: WebRtcLegOptions) {
    this.#socket = options.socket;
    this.#peer = new PeerSocket(options.socket);
    this.#options = options;
    this.ice = new IceLiteAgent({
      ...(options.localIce ? { local: options.localIce } : {}),
      ...(options.remoteIce ? { remote: options.remoteIce } : {}),
      ...(options.consentTimeoutMs !== undefined ? { consentTimeoutMs: options.consentTimeoutMs } : {}),
    });
    this.#socket.on('message', this.#onDatagram);
    if (options.dtlsRole !== undefined) {
      this.setRemote({ dtlsRole: options.dtlsRole, remoteFingerprints: options.remoteFingerprints ?? [] });
      this.armConsent();
    }
  }

  /**
   * Applies the WIC's SDP (R-ALG-1, R-SDP-3, R-ICE-4). Same role and fingerprints: only the ICE
   * credentials are refreshed. A new fingerprint or role is a new DTLS association (RFC 8842
   * §5: new keys, the old SRTP context is dropped). New remote ICE credentials on a leg that had
   * others are an ICE restart: we take new local ones too (RFC 8445 §9), for the next SDP.
   */
  setRemote(remote: WebRtcRemote): void {
    if (this.#closed !== undefined) return;
    const previousIce = this.ice.remoteCredentials;
    if (remote.remoteIce !== undefined) {
      if (previousIce !== undefined && previousIce.ufrag !== remote.remoteIce.ufrag) {
        this.ice.restart(remote.remoteIce);
        // R-ICE-4: the new checks may come from any address: hear them all until a new nomination.
        this.#peer.unpin();
      } else this.ice.setRemoteCredentials(remote.remoteIce);
    }
    if (this.#dtls !== undefined && this.#dtls.role === remote.dtlsRole && sameFingerprints(this.#remoteFingerprints, remote.remoteFingerprints)) {
      return;
    }
    this.#remoteFingerprints = remote.remoteFingerprints;
    this.#newDtlsAssociation(remote.dtlsRole);
    // RFC 5763 §5: the active side initiates. As client we start once ICE has nominated a pair
    // (now, when it already has: a re-offer with a new fingerprint); as server on the first
    // record, so a ringing call's handshake timer does not run before the browser has our SDP.
    if (remote.dtlsRole === 'client' && this.ice.selected !== undefined) this.#startDtls();
    const early = this.#earlyDtls;
    this.#earlyDtls = [];
    for (const datagram of early) this.#onDtls(datagram);
  }

  /** Replaces the DTLS association (and drops the SRTP keys derived from the old one). */
  #newDtlsAssociation(role: DtlsRole): DtlsEndpoint {
    this.#dtls?.close();
    this.#srtp = undefined;
    this.#dtlsStarted = false;
    this.#dtls = new DtlsEndpoint({
      role,
      certificate: this.#options.certificate,
      remoteFingerprints: this.#remoteFingerprints,
      send: (datagram) => this.#sendToSelected(datagram),
      ...(this.#options.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: this.#options.handshakeTimeoutMs } : {}),
    });
    return this.#dtls;
  }

  /** Starts the RFC 7675 consent watch (R-AGW-4) now that the browser has our SDP. Idempotent. */
  armConsent(): void {
    if (this.#consentTimer !== undefined || this.#closed !== undefined) return;
    this.ice.resetConsentClock();
    const consentTimeout = this.#options.consentTimeoutMs ?? 30_000;
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

  /** Undefined until the WIC's SDP gave the role. */
  get dtlsRole(): DtlsRole | undefined {
    return this.#dtls?.role;
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
      this.#peer.close();
      this.#socket.off('message', this.#onDatagram);
      this.#dtls?.close();
      this.#earlyDtls = [];
      this.#srtp = undefined;
      this.delegate = undefined;
      await closeSocket(this.#socket);
    })();
    return this.#closed;
  }

  #sendMedia(out: Buffer): boolean {
    if (!this.#peer.send(out, this.#selectedPort, this.#selectedAddress)) return false;
    this.counters.packetsOut++;
    this.counters.bytesOut += out.length;
    return true;
  }

  #sendToSelected(datagram: Buffer): void {
    if (this.#selectedPort !== 0 && this.#closed === undefined) {
      this.#peer.send(datagram, this.#selectedPort, this.#selectedAddress);
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
        this.#onDtls(data);
        return;
      default:
        this.counters.dropped++;
    }
  };

  #onDtls(data: Buffer): void {
    let dtls = this.#dtls;
    if (dtls === undefined) {
      // The browser's ClientHello can beat its answer to us; werift would retransmit it, but
      // keeping a few records saves a second of setup.
      if (this.#earlyDtls.length < MAX_EARLY_DTLS) this.#earlyDtls.push(data);
      else this.counters.dropped++;
      return;
    }
    // RFC 6347 §4.2.8: a ClientHello at epoch 0 on an established association starts a new one
    // (the browser restarted, or another endpoint of the user took the call over after an ICE
    // restart: werift peers of one process even share a certificate, so the fingerprint alone
    // does not tell). The old keys stay unusable: media waits for the new handshake.
    if (dtls.role === 'server' && this.#srtp !== undefined && isInitialClientHello(data)) dtls = this.#newDtlsAssociation('server');
    if (dtls.role === 'server') this.#startDtls();
    dtls.handleDatagram(data);
  }

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
    this.#peer.send(verdict.bytes, from.port, from.address);
    const selected = this.ice.selected;
    if (selected !== undefined && (selected.port !== this.#selectedPort || selected.address !== this.#selectedAddress)) {
      this.#selectedAddress = selected.address;
      this.#selectedPort = selected.port;
    }
    // RFC 8445 §8.1.1: the controlling side nominated this pair; its checks, DTLS and media all
    // come from there now (consent checks included, RFC 7675), so the socket can be connected.
    if (verdict.nominated && selected !== undefined) this.#peer.pin(selected.port, selected.address);
    if (verdict.nominated && this.#dtls?.role === 'client') this.#startDtls();
  }

  #startDtls(): void {
    const dtls = this.#dtls;
    if (this.#dtlsStarted || dtls === undefined) return;
    this.#dtlsStarted = true;
    // A later setRemote may replace the association: only the current one's outcome counts.
    dtls.start().then(
      (keys) => {
        if (this.#closed !== undefined || this.#dtls !== dtls) return;
        this.#srtp = new SrtpSession(keys);
        this.delegate?.onConnected?.();
      },
      (error: unknown) => {
        if (this.#closed !== undefined || this.#dtls !== dtls) return;
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

function sameFingerprints(a: readonly DtlsFingerprint[], b: readonly DtlsFingerprint[]): boolean {
  const key = (f: DtlsFingerprint): string => `${f.algorithm.toLowerCase()} ${f.value.toUpperCase()}`;
  const left = new Set(a.map(key));
  return a.length === b.length && b.every((f) => left.has(key(f)));
}

/** DTLS record header (RFC 6347 §4.1): type 22 handshake, epoch 0, handshake msg_type 1 at offset 13. */
function isInitialClientHello(datagram: Buffer): boolean {
  return datagram.length > 13 && datagram[0] === 22 && datagram[3] === 0 && datagram[4] === 0 && datagram[13] === 1;
}
