/**
 * Our eIMS-AGW behind the ng seam: a MediaGatewayControl that plays rtpengine's role for the
 * IMS-ALG (core/pcscf/alg/media-requests.ts). SDP in, SDP out for the ports it allocated: the
 * first offer of a call-id binds the sockets (RelayFactory.allocate), the media-gw/sdp rules write
 * the SDP for the side it goes to, and what the rules read (MediaLineSummary) configures the
 * relay. Later offers from either party (re-INVITE/UPDATE: hold, resume, codec or address
 * change, ICE restart) reuse the same ports and relay.
 *
 * Which side an SDP comes from follows rtpengine's `transport-protocol`: it names the profile of
 * the SDP to return, so RTP/AVP(F) means the input came from the WIC (toward IMS) and
 * UDP/TLS/RTP/SAVP(F) that it came from IMS; without it the input's own profile decides.
 *
 * An offer is parsed once here (structure-next §2), or not at all when the in-process ALG hands
 * over its own parse: the first-offer check, the rewrite and every answer to it read that parse.
 */
import type { DtmfMode } from './config.js';
import { EpcError } from '../../core/errors.js';
import {
  analyseImsOffer, parseSdp, parseWicOffer, rewriteAnswerTowardIms, rewriteAnswerTowardWic, rewriteOfferTowardIms, rewriteOfferTowardWic,
  SdpError, type MediaLineSummary, type ParsedSdp, type SdpRewriteResult,
} from '../sdp/index.js';
import type {
  MediaGatewayControl, NgAnswerRequest, NgDeleteRequest, NgOfferRequest, NgQueryRequest, NgQueryResult, NgSdpResult,
} from '../ng/control.js';
import type { RelayAllocator } from '../relay/relay-handle.js';
import { GatewayCall, type CallSide } from './gateway-call.js';
import { mediaPlanFor, type PlanAddresses } from './media-plan.js';
import { applyLinesToRelay } from './relay-setup.js';

export type CallEventKind = 'idle' | 'consent-expired' | 'dtls-failed';

/** Something the controller should act on (release the call): R-AGW-4, issue #4 idle media. */
export interface CallEvent {
  readonly callId: string;
  readonly kind: CallEventKind;
}

/** A DTMF digit the browser sent as RFC 4733 events that the IMS side gets as SIP INFO (`media.dtmf`). */
export interface DtmfEvent {
  readonly callId: string;
  readonly digit: string;
  readonly durationMs: number;
}

export interface MediaGatewayOptions {
  /** RelayFactory (relays in this thread) or RelayWorkerPool (relays on worker threads). */
  readonly factory: RelayAllocator;
  /** Addresses written into SDP per side (the configured advertised addresses). */
  readonly addresses: PlanAddresses;
  /** Idle-media timeout in ms for answered calls (0 = off). */
  readonly idleTimeoutMs?: number;
  readonly onCallEvent?: (event: CallEvent) => void;
  /** DTMF interworking RFC 4733 ⇄ SIP INFO (media-gw/README.md "DTMF"). Default auto. */
  readonly dtmf?: DtmfMode;
  /** Digits the browser sent that the controller must send toward IMS as SIP INFO. */
  readonly onDtmf?: (event: DtmfEvent) => void;
}

/** RFC 3264 §5: the profile of an SDP's first m-line. */
function firstProfileOf(sdp: string): string | undefined {
  return /^m=\S+ \d+(?:\/\d+)? (\S+)/m.exec(sdp)?.[1];
}

/** The side an offer came from (see the file comment). */
export function offerSideOf(request: NgOfferRequest): CallSide {
  const returned = request.transportProtocol;
  if (returned !== undefined) return returned.includes('SAVP') ? 'ims' : 'wic';
  const input = firstProfileOf(request.sdp)?.toUpperCase() ?? '';
  return input.includes('SAVP') || input.includes('TLS') ? 'wic' : 'ims';
}

/** rtpengine's reason for a call-id it does not know. */
function unknownCall(): EpcError {
  return new EpcError('EPC_ERR_MEDIA', 'Unknown call-id');
}

/**
 * SdpError keeps its status (the ALG answers 488/400 from it); EPC_ERR_MEDIA passes; anything
 * else is re-coded EPC_ERR_MEDIA so the ALG answers 503.
 */
function asGatewayError(command: string, error: unknown): Error {
  if (error instanceof SdpError) return error;
  if (error instanceof EpcError && error.code === 'EPC_ERR_MEDIA') return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new EpcError('EPC_ERR_MEDIA', `${command} failed: ${reason}`, { cause: error });
}

/** RFC 5763 §5: `a=setup` of the gateway's offer toward a WIC (`actpass` lets the WIC choose). */
function withOfferSetup(sdp: string, setup: 'active' | 'passive' | 'actpass'): string {
  return setup === 'actpass' ? sdp : sdp.replace(/^a=setup:actpass(?=\r?$)/gm, `a=setup:${setup}`);
}

export class MediaGateway implements MediaGatewayControl {
  onCallEvent: ((event: CallEvent) => void) | undefined;
  onDtmf: ((event: DtmfEvent) => void) | undefined;
  readonly #dtmf: DtmfMode;
  readonly #factory: RelayAllocator;
  readonly #addresses: PlanAddresses;
  readonly #idleTimeoutMs: number;
  readonly #calls = new Map<string, GatewayCall>();
  /** Per call-id tail of the running command: one command at a time per call. */
  readonly #queues = new Map<string, Promise<void>>();
  #closing: Promise<void> | undefined;

  constructor(options: MediaGatewayOptions) {
    this.#factory = options.factory;
    this.#addresses = options.addresses;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.onCallEvent = options.onCallEvent;
    this.onDtmf = options.onDtmf;
    this.#dtmf = options.dtmf ?? 'auto';
  }

  /** Calls currently anchored. */
  get size(): number {
    return this.#calls.size;
  }

  offer(request: NgOfferRequest, parsed?: ParsedSdp): Promise<NgSdpResult> {
    return this.#serial(request.callId, 'offer', async () => {
      const from = offerSideOf(request);
      const offerSdp = parsed ?? parseSdp(request.sdp);
      const existing = this.#calls.get(request.callId);
      const call = existing ?? await this.#newCall(request.callId, from, offerSdp);
      try {
        const toward: CallSide = from === 'wic' ? 'ims' : 'wic';
        const plan = await this.#plan(call, toward, request.mediaAddress, call.wicSetup ?? 'passive');
        let result: SdpRewriteResult;
        let sdp: string;
        if (from === 'wic') {
          result = rewriteOfferTowardIms(offerSdp, plan);
          sdp = result.sdp;
        } else {
          result = rewriteOfferTowardWic(offerSdp, plan);
          // The ALG asks for `DTLS: passive` so the browser is always the DTLS client (real-peers
          // media finding 3); a live association keeps its roles.
          sdp = withOfferSetup(result.sdp, call.wicSetup ?? (request.dtls === 'passive' || request.dtls === 'active' ? request.dtls : 'actpass'));
        }
        this.#assertAllocated(call, result.lines);
        applyLinesToRelay(call, result.lines, from);
        // A worker relay applies the commands on its thread: wait, so the next SDP sees their effect.
        await call.relay.settled();
        call.setTag(from, request.fromTag);
        call.offer = { from, fromTag: request.fromTag, sdp: offerSdp, lines: result.lines };
        return { sdp };
      } catch (error) {
        if (existing === undefined) await this.#release(call);
        throw error;
      }
    });
  }

  answer(request: NgAnswerRequest): Promise<NgSdpResult> {
    return this.#serial(request.callId, 'answer', async () => {
      const call = this.#calls.get(request.callId);
      if (call === undefined) throw unknownCall();
      const offer = call.offer;
      if (offer === undefined) throw new EpcError('EPC_ERR_MEDIA', 'no offer to answer on this call');
      if (request.fromTag !== offer.fromTag) {
        throw new EpcError('EPC_ERR_MEDIA', `from-tag ${request.fromTag} did not make the offer being answered (${offer.fromTag})`);
      }
      // The answer comes from the party the offer went to.
      const from: CallSide = offer.from === 'wic' ? 'ims' : 'wic';
      const toward = offer.from;
      const wicSetup = call.wicSetup ?? (request.dtls === 'active' ? 'active' : 'passive');
      const plan = await this.#plan(call, toward, request.mediaAddress, wicSetup);
      const result = toward === 'wic'
        ? rewriteAnswerTowardWic(request.sdp, offer.sdp, plan)
        : rewriteAnswerTowardIms(request.sdp, offer.sdp, plan);
      this.#assertAllocated(call, result.lines);
      applyLinesToRelay(call, result.lines, from);
      // A 183 then a 200 (or another fork's to-tag) answers again: the latest answerer counts.
      call.setTag(from, request.toTag);
      if (!call.answered) {
        call.answered = true;
        call.relay.webrtc.armConsent();
        call.relay.armIdleTimer(this.#idleTimeoutMs);
      }
      await call.relay.settled();
      return { sdp: result.sdp };
    });
  }

  delete(request: NgDeleteRequest): Promise<void> {
    return this.#serial(request.callId, 'delete', async () => {
      const call = this.#calls.get(request.callId);
      if (call === undefined) throw unknownCall();
      await this.#release(call);
    });
  }

  async query(request: NgQueryRequest): Promise<NgQueryResult> {
    const call = this.#calls.get(request.callId);
    if (call === undefined) throw unknownCall();
    const [webrtc, ...ims] = await call.relay.readCounters();
    const rows: NgQueryResult['streams'][number][] = [];
    if (call.wicTag !== undefined && webrtc !== undefined) {
      rows.push({
        tag: call.wicTag, packetsIn: webrtc.packetsIn, packetsOut: webrtc.packetsOut, bytesIn: webrtc.bytesIn, bytesOut: webrtc.bytesOut,
        ...(webrtc.lastPacketAt > 0 ? { lastPacketAt: webrtc.lastPacketAt } : {}),
      });
    }
    if (call.imsTag !== undefined) {
      const sum = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, lastPacketAt: 0 };
      for (const leg of ims) {
        sum.packetsIn += leg.packetsIn;
        sum.packetsOut += leg.packetsOut;
        sum.bytesIn += leg.bytesIn;
        sum.bytesOut += leg.bytesOut;
        sum.lastPacketAt = Math.max(sum.lastPacketAt, leg.lastPacketAt);
      }
      const { lastPacketAt, ...counts } = sum;
      rows.push({ tag: call.imsTag, ...counts, ...(lastPacketAt > 0 ? { lastPacketAt } : {}) });
    }
    return { created: call.relay.createdAt, streams: rows };
  }

  /**
   * Plays one DTMF digit toward the browser of `callId` as RFC 4733 events (an INFO dtmf-relay
   * from IMS converted, `media.dtmf: rfc4733`) on the first stream whose browser accepts
   * telephone-event. Resolves false when none does; unknown call-id → EPC_ERR_MEDIA.
   */
  async sendDtmf(callId: string, digit: string, durationMs: number): Promise<boolean> {
    const call = this.#calls.get(callId);
    if (call === undefined) throw unknownCall();
    for (const stream of new Set(call.streamOfLine.values())) {
      if (await call.relay.sendDtmf(stream, digit, durationMs)) return true;
    }
    return false;
  }

  /** Releases every call (gateway shutdown). Idempotent; later commands start afresh. */
  closeAll(): Promise<void> {
    this.#closing ??= (async () => {
      const calls = [...this.#calls.values()];
      this.#calls.clear();
      await Promise.all(calls.map((call) => call.relay.close()));
      await this.#factory.closeAll();
    })().finally(() => {
      this.#closing = undefined;
    });
    return this.#closing;
  }

  /** Validates the first offer, then binds the call's sockets: a 488 leaves nothing allocated. */
  async #newCall(callId: string, from: CallSide, sdp: ParsedSdp): Promise<GatewayCall> {
    const lines: readonly MediaLineSummary[] = from === 'wic'
      ? parseWicOffer(sdp)
      : analyseImsOffer(sdp).lines.map((line) => line.summary);
    const streamOfLine = new Map<number, number>();
    const streams: { rtcpMux: boolean }[] = [];
    for (const line of lines) {
      if (!line.accepted) continue;
      streamOfLine.set(line.index, streams.length);
      // R-ALG-11: RTCP on its own port toward IMS unless the IMS offer muxes it (RFC 5761).
      streams.push({ rtcpMux: from === 'ims' && (line.ims?.rtcpMux ?? false) });
    }
    const relay = await this.#factory.allocate({ streams });
    const call = new GatewayCall(callId, relay, streamOfLine, this.#dtmf);
    relay.delegate = {
      onIdle: () => this.#emit(call, 'idle'),
      onConsentExpired: () => this.#emit(call, 'consent-expired'),
      onFailed: () => this.#emit(call, 'dtls-failed'),
      onDtmf: (_stream, digit) => {
        if (this.#calls.get(call.callId) === call) this.onDtmf?.({ callId: call.callId, ...digit });
      },
    };
    this.#calls.set(callId, call);
    return call;
  }

  async #plan(call: GatewayCall, toward: CallSide, mediaAddress: string | undefined, wicSetup: 'active' | 'passive') {
    const certificate = await this.#factory.certificate();
    // rtpengine `media-address`: the address written into the SDP going out.
    const addresses: PlanAddresses = mediaAddress === undefined
      ? this.#addresses
      : { ...this.#addresses, [toward]: mediaAddress };
    return mediaPlanFor({ call, addresses, fingerprint: certificate.fingerprint, toward, wicSetup });
  }

  /** An m-line accepted now but rejected at the call's first offer has no sockets. */
  #assertAllocated(call: GatewayCall, lines: readonly MediaLineSummary[]): void {
    const missing = lines.find((line) => line.accepted && !call.streamOfLine.has(line.index));
    if (missing !== undefined) {
      throw new EpcError('EPC_ERR_MEDIA', `m-line ${missing.index} was not allocated at the call's first offer (adding streams to a live call is not supported)`);
    }
  }

  async #release(call: GatewayCall): Promise<void> {
    if (this.#calls.get(call.callId) === call) this.#calls.delete(call.callId);
    await call.relay.close();
  }

  #emit(call: GatewayCall, kind: CallEventKind): void {
    if (this.#calls.get(call.callId) !== call) return;
    this.onCallEvent?.({ callId: call.callId, kind });
  }

  #serial<T>(callId: string, command: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(callId) ?? Promise.resolve();
    const result = previous.then(run).catch((error: unknown) => {
      throw asGatewayError(command, error);
    });
    const tail = result.then(() => undefined, () => undefined);
    this.#queues.set(callId, tail);
    void tail.then(() => {
      if (this.#queues.get(callId) === tail) this.#queues.delete(callId);
    });
    return result;
  }
}
