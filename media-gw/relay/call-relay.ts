import type { EpcError } from '../../core/errors.js';
import type { ImsLeg } from '../rtp/ims-leg.js';
import type { MediaCounters } from '../rtp/media-counters.js';
import { TelephoneEventDetector, type DtmfDigit } from '../dtmf/index.js';
import { rtpHeaderLength, rtpPayloadType, rtpTimestamp } from '../rtp/rtp-header.js';
import { TelephoneEventPlayer, type EventFormat } from '../rtp/telephone-event-player.js';
import { translateRtcp } from '../rtp/rtcp-translator.js';
import { RtpStreamRewriter, type StreamRewriterOptions } from '../rtp/stream-rewriter.js';
import type { WebRtcLeg } from '../webrtc/webrtc-leg.js';
import type { RelayHandle } from './relay-handle.js';

/** One m-line of the call: its IMS leg and the two rewriters (one per direction). */
export interface RelayStreamOptions {
  readonly ims: ImsLeg;
  /** Payload types of this m-line on the WebRTC side (BUNDLE demux, RFC 8843 §9.2). */
  readonly payloadTypes: readonly number[];
  readonly towardIms: StreamRewriterOptions;
  readonly towardWebRtc: StreamRewriterOptions;
  /** R-SDP-7: terminate browser feedback when the IMS side is RTP/AVP (default true). */
  readonly dropFeedbackTowardIms?: boolean;
}

export interface CallRelayOptions {
  readonly webrtc: WebRtcLeg;
  readonly streams: readonly RelayStreamOptions[];
  /**
   * No inbound RTP on either leg for this long → onIdle (issue #4: idle-media timeout), counted
   * from construction. Absent: the owner arms it later with armIdleTimer (a gateway call waits
   * for its answer first: a ringing call carries no media).
   */
  readonly idleTimeoutMs?: number;
}

/** Codec facts of one m-line from the latest offer/answer (RFC 3264 §8: a re-offer may change them). */
export interface StreamCodecConfig {
  /** Payload types of this m-line on the WebRTC side (BUNDLE demux, RFC 8843 §9.2). */
  readonly payloadTypes: readonly number[];
  readonly clockRate?: number;
  /** Browser PT → IMS PT; the reverse map is derived. */
  readonly payloadTypeMap?: ReadonlyMap<number, number>;
  /**
   * DTMF interworking (`media.dtmf`): the browser's telephone-event format whose packets are
   * consumed here and reported as digits (onDtmf), never forwarded toward IMS. Absent: relayed.
   */
  readonly dtmfFromWebRtc?: EventFormat;
  /** The telephone-event format the browser accepts, for digits played toward it (sendDtmf). */
  readonly dtmfTowardWebRtc?: EventFormat;
}

export interface CallRelayDelegate {
  onConnected?(): void;
  onIdle?(): void;
  onFailed?(error: EpcError): void;
  onConsentExpired?(): void;
  /** A DTMF digit the browser sent as RFC 4733 events on stream `stream` (dtmfFromWebRtc). */
  onDtmf?(stream: number, digit: DtmfDigit): void;
}

class RelayStream {
  readonly ims: ImsLeg;
  readonly towardIms: RtpStreamRewriter;
  readonly towardWebRtc: RtpStreamRewriter;
  readonly dropFeedbackTowardIms: boolean;
  /** Stream mode (TS 23.334 / H.248): does each party take media? From its latest SDP direction. */
  wicReceives = true;
  imsReceives = true;
  /** Browser telephone-event PT consumed here (-1: none) and its detector. */
  dtmfPayloadType = -1;
  detector: TelephoneEventDetector | undefined;
  dtmfTowardWebRtc: EventFormat | undefined;
  player: TelephoneEventPlayer | undefined;

  constructor(options: RelayStreamOptions) {
    this.ims = options.ims;
    this.towardIms = new RtpStreamRewriter(options.towardIms);
    this.towardWebRtc = new RtpStreamRewriter(options.towardWebRtc);
    this.dropFeedbackTowardIms = options.dropFeedbackTowardIms ?? true;
  }
}

/**
 * The per-call bridge: SRTP on the WebRTC leg (rtcp-mux, possibly BUNDLE) ⇄ plain RTP on one IMS
 * leg per m-line (R-ALG-10 unbundles toward IMS). Packets are rewritten in place and forwarded in
 * the socket callback, with no allocation beyond what node:crypto needs. close() releases both
 * legs (sockets, DTLS, timers) and is idempotent.
 */
export class CallRelay implements RelayHandle {
  readonly webrtc: WebRtcLeg;
  readonly createdAt = Date.now();
  /** Where the idle clock starts: creation, or when armIdleTimer was called. */
  #activeSince = this.createdAt;
  delegate: CallRelayDelegate | undefined;
  readonly #streams: RelayStream[];
  /** RTP payload type → stream index for BUNDLE demux (-1: unknown PT, dropped). */
  readonly #byPayloadType = new Int8Array(128).fill(-1);
  #idleTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;
  unroutable = 0;

  constructor(options: CallRelayOptions) {
    this.webrtc = options.webrtc;
    this.#streams = options.streams.map((stream) => new RelayStream(stream));
    options.streams.forEach((stream, index) => {
      for (const pt of stream.payloadTypes) this.#byPayloadType[pt & 0x7f] = index;
    });
    this.webrtc.delegate = {
      onRtp: (packet) => this.#fromWebRtc(packet),
      onRtcp: (packet) => this.#rtcpFromWebRtc(packet),
      onConnected: () => this.delegate?.onConnected?.(),
      onFailed: (error) => this.delegate?.onFailed?.(error),
      onConsentExpired: () => this.delegate?.onConsentExpired?.(),
    };
    for (const stream of this.#streams) {
      stream.ims.delegate = {
        onRtp: (packet) => {
          if (stream.wicReceives && stream.towardWebRtc.rewrite(packet)) this.webrtc.sendRtp(packet);
        },
        onRtcp: (packet) => {
          const length = translateRtcp(packet, packet.length, {
            sent: stream.towardWebRtc, received: stream.towardIms, dropFeedback: false,
          });
          if (length > 0) this.webrtc.sendRtcp(packet, length);
        },
      };
    }
    if ((options.idleTimeoutMs ?? 0) > 0) this.armIdleTimer(options.idleTimeoutMs ?? 0);
  }

  /** Starts the idle-media watch now (0 = off). Idempotent: the first call wins. */
  armIdleTimer(idleTimeoutMs: number): void {
    if (this.#idleTimer !== undefined || idleTimeoutMs <= 0 || this.#closed !== undefined) return;
    this.#activeSince = Date.now();
    this.#idleTimer = setInterval(() => {
      if (Date.now() - this.lastPacketAt > idleTimeoutMs) {
        this.#stopIdleTimer();
        this.delegate?.onIdle?.();
      }
    }, Math.max(20, Math.min(1_000, idleTimeoutMs / 4)));
    this.#idleTimer.unref();
  }

  /** The IMS legs in m-line order (the gateway sets their remote addresses from the SDP). */
  get imsLegs(): readonly ImsLeg[] {
    return this.#streams.map((stream) => stream.ims);
  }

  /**
   * New codec facts for stream `index`: PT renumbering both ways and the clock rate; the output
   * SSRCs and numbering continue (RFC 3550 §8.2: one stream for the far side across changes).
   */
  configureStream(index: number, config: StreamCodecConfig): void {
    const stream = this.#streams[index];
    if (stream === undefined) return;
    const clock = config.clockRate !== undefined ? { clockRate: config.clockRate } : {};
    stream.towardIms.reconfigure({ ...clock, ...(config.payloadTypeMap ? { payloadTypeMap: config.payloadTypeMap } : {}) });
    const back = invertMap(config.payloadTypeMap);
    stream.towardWebRtc.reconfigure({ ...clock, ...(back ? { payloadTypeMap: back } : {}) });
    const dtmf = config.dtmfFromWebRtc;
    stream.dtmfPayloadType = dtmf === undefined ? -1 : dtmf.payloadType & 0x7f;
    if (dtmf === undefined) stream.detector = undefined;
    else if (stream.detector === undefined) stream.detector = new TelephoneEventDetector(dtmf.clockRate);
    else stream.detector.clockRate = dtmf.clockRate;
    stream.dtmfTowardWebRtc = config.dtmfTowardWebRtc;
    for (let pt = 0; pt < 128; pt++) if (this.#byPayloadType[pt] === index) this.#byPayloadType[pt] = -1;
    for (const pt of config.payloadTypes) this.#byPayloadType[pt & 0x7f] = index;
  }

  /**
   * Stream mode of m-line `index` (TS 23.334 §5.3, the H.248 stream mode the IMS-ALG sets from the
   * SDP directions, R-ALG-16): media toward a party whose latest SDP said sendonly or inactive is
   * dropped, so a held party gets nothing whatever the other side sends (RFC 3264 §8.4).
   */
  setStreamMode(index: number, mode: { readonly wicReceives?: boolean; readonly imsReceives?: boolean }): void {
    const stream = this.#streams[index];
    if (stream === undefined) return;
    if (mode.wicReceives !== undefined) stream.wicReceives = mode.wicReceives;
    if (mode.imsReceives !== undefined) stream.imsReceives = mode.imsReceives;
  }

  /**
   * Plays one DTMF digit toward the browser as RFC 4733 events on stream `index` (an INFO from
   * IMS converted, `media.dtmf: rfc4733`). Resolves false when the browser accepts no
   * telephone-event on that stream; throws RangeError for a character that is no DTMF digit.
   */
  async sendDtmf(index: number, digit: string, durationMs: number): Promise<boolean> {
    const stream = this.#streams[index];
    const format = stream?.dtmfTowardWebRtc;
    if (stream === undefined || format === undefined || this.#closed !== undefined) return false;
    stream.player ??= new TelephoneEventPlayer({
      rewriter: stream.towardWebRtc,
      send: (packet) => {
        if (stream.wicReceives) this.webrtc.sendRtp(packet);
      },
    });
    await stream.player.play(digit, durationMs, format);
    return true;
  }

  /** The last inbound packet on any leg (the creation or arming time before the first). */
  get lastPacketAt(): number {
    let last = Math.max(this.#activeSince, this.webrtc.counters.lastPacketAt);
    for (const stream of this.#streams) last = Math.max(last, stream.ims.counters.lastPacketAt);
    return last;
  }

  /** Counters per leg: the WebRTC leg first, then each IMS leg in m-line order. */
  counters(): readonly MediaCounters[] {
    return [this.webrtc.counters, ...this.#streams.map((stream) => stream.ims.counters)];
  }

  /** The SSRC we send toward the WIC on m-line `index` (announced in the SDP answer, a=ssrc). */
  ssrcTowardWebRtc(index = 0): number | undefined {
    return this.#streams[index]?.towardWebRtc.outputSsrc;
  }

  /** RelayHandle: the counters, as a worker relay reads them (asynchronously). */
  async readCounters(): Promise<readonly MediaCounters[]> {
    return this.counters();
  }

  /** RelayHandle: commands apply synchronously in this thread, so nothing is ever pending. */
  async settled(): Promise<void> {}

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopIdleTimer();
      this.delegate = undefined;
      for (const stream of this.#streams) stream.player?.stop();
      await Promise.all([this.webrtc.close(), ...this.#streams.map((stream) => stream.ims.close())]);
    })();
    return this.#closed;
  }

  #fromWebRtc(packet: Buffer): void {
    const index = this.#streams.length === 1 ? 0 : (this.#byPayloadType[rtpPayloadType(packet)] as number);
    const stream = this.#streams[index];
    if (stream === undefined) {
      this.unroutable++;
      return;
    }
    if (stream.dtmfPayloadType >= 0 && rtpPayloadType(packet) === stream.dtmfPayloadType) {
      this.#dtmfFromWebRtc(stream, index, packet);
      return;
    }
    if (stream.imsReceives && stream.towardIms.rewrite(packet)) stream.ims.sendRtp(packet);
  }

  /** DTMF interworking: the browser's events become digits for the controller (never RTP toward IMS). */
  #dtmfFromWebRtc(stream: RelayStream, index: number, packet: Buffer): void {
    const headerLength = rtpHeaderLength(packet, packet.length);
    if (headerLength < 0 || stream.detector === undefined) return;
    const digits = stream.detector.push(packet.subarray(headerLength), rtpTimestamp(packet));
    for (const digit of digits) this.delegate?.onDtmf?.(index, digit);
  }

  #rtcpFromWebRtc(packet: Buffer): void {
    // With BUNDLE one compound may concern several m-lines; each IMS leg gets its own translated
    // copy (RTCP is a few packets per second, so the copy is no hot-path cost).
    if (this.#streams.length === 1) {
      const stream = this.#streams[0] as RelayStream;
      const length = translateRtcp(packet, packet.length, {
        sent: stream.towardIms, received: stream.towardWebRtc, dropFeedback: stream.dropFeedbackTowardIms,
      });
      if (length > 0) stream.ims.sendRtcp(packet, length);
      return;
    }
    for (const stream of this.#streams) {
      const copy = Buffer.from(packet);
      const length = translateRtcp(copy, copy.length, {
        sent: stream.towardIms, received: stream.towardWebRtc, dropFeedback: stream.dropFeedbackTowardIms,
      });
      if (length > 0) stream.ims.sendRtcp(copy, length);
    }
  }

  #stopIdleTimer(): void {
    if (this.#idleTimer !== undefined) clearInterval(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

/** The reverse of a PT map (IMS PT → browser PT for the way back). */
export function invertMap(map: ReadonlyMap<number, number> | undefined): ReadonlyMap<number, number> | undefined {
  return map ? new Map([...map].map(([from, to]) => [to, from])) : undefined;
}
