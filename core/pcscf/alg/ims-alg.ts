/**
 * The IMS-ALG (TS 23.334 §5, TS 24.229 §6.7): every SDP that crosses the P-CSCF goes through the
 * media gateway, which returns the SDP for the other side (WebRTC ⇄ plain RTP, spec-digest §6/§8).
 *
 * Which ng command an SDP needs follows from RFC 3264/RFC 6337 offer/answer placement alone:
 *  - a request's SDP is an offer (INVITE, UPDATE, re-INVITE), except in ACK and PRACK, where it
 *    answers an offer made in a response;
 *  - a response's SDP answers the request's offer when the request carried one, else it is the
 *    offer (an INVITE without SDP gets the offer in its 18x/2xx, RFC 3261 §13.2.1).
 * rtpengine's ng `from-tag` is the offerer's tag and `to-tag` the answerer's, so both are read off
 * the message (From/To of a request; the responder's To tag for an offer in a response). A call's
 * media state lives in the gateway, keyed by the ng call-id of `MediaLeg`; the ALG keeps only
 * which legs it owns there and the last agreed offer/answer of each (media-legs.ts), so that
 * every end of a call attempt frees its leg and a failed re-offer rolls back (issue #11 #8).
 */
import type { Logger } from 'pino';
import { EpcError } from '../../errors.js';
import { analyseImsOffer, parseSdp, parseWicOffer, SdpError } from '../../../media-gw/sdp/index.js';
import {
  bodyParts, callId, contentType, createResponse, cseq, from, sdpOf, tagOf, to, withSdp,
  type SipMessage, type SipRequest, type SipResponse,
} from '../../sip/index.js';
import type { MediaControl } from './media-control.js';
import { mediaCallId, MediaLegTable, transactionKey, type LegEntry, type MediaLeg } from './media-legs.js';
import {
  answerFromIms, answerFromWic, offerFromIms, offerFromWic, type MediaInterfaces,
} from './media-requests.js';

export type MediaSide = 'wic' | 'ims';
export { mediaCallId, type MediaLeg } from './media-legs.js';

export interface ImsAlgOptions {
  readonly control: MediaControl;
  readonly interfaces?: MediaInterfaces;
  readonly log: Logger;
  /** host in the Warning header of a refusal (RFC 3261 §20.43 warn-agent). */
  readonly warnAgent: string;
  /** The clock of the legs' ages (the audit's grace period). Default Date.now. */
  readonly now?: () => number;
}

const SDP = 'application/sdp';

/**
 * Does the message carry an SDP body (RFC 3264 offer or answer)? Either the whole body, or an
 * application/sdp part of a multipart body (RFC 5621; e.g. SDP + 3GPP CW XML, TS 24.615 A.1):
 * only that part is rewritten, every other byte crosses unchanged (R-MMTEL-1).
 */
export function carriesSdp(message: SipMessage): boolean {
  if (message.body.length === 0) return false;
  if (contentType(message) === SDP) return true;
  return bodyParts(message)?.some((part) => part.type === SDP) === true;
}

/**
 * A body nobody labelled (RFC 3261 §20.15: a non-empty body MUST have a Content-Type). The ALG
 * cannot tell whether it is SDP, so it never crosses: relayed untouched, an SDP would reach the
 * other side past the gateway (a WIC's DTLS fingerprint and ICE on Mw).
 */
export function hasUnlabelledBody(message: SipMessage): boolean {
  return message.body.length > 0 && contentType(message) === undefined;
}

/** An INVITE outside any dialog (no To tag): the request that starts a call attempt. */
export function isInitialInvite(request: SipRequest): boolean {
  return request.method === 'INVITE' && tagOf(to(request)) === undefined;
}

/** What the audit reads of a leg. */
export interface LegView {
  readonly leg: MediaLeg;
  readonly ngCallId: string;
  readonly touchedAt: number;
}

/** The transaction of a request (the one whose failure undoes its offer). */
function transactionOf(request: SipRequest): string {
  return transactionKey(tagOf(from(request)) ?? '', cseq(request).seq, request.method);
}

export class ImsAlg {
  readonly #options: ImsAlgOptions;
  /** Legs with media in the gateway, by ng call-id (a gateway event names only that). */
  readonly #legs: MediaLegTable;

  constructor(options: ImsAlgOptions) {
    this.#options = options;
    this.#legs = new MediaLegTable(options.now ?? Date.now);
  }

  /**
   * An initial INVITE (from either side) starts a call attempt on its leg: the leg is owned from
   * here until `settle` sees the attempt fail, or `release` ends the call.
   */
  open(leg: MediaLeg): void {
    this.#legs.own(leg, false).attempts++;
  }

  /**
   * A request crossing from `side`: its SDP rewritten for the other side (unchanged without SDP).
   * Rejects with SdpError (answer 488/400) or EpcError EPC_ERR_MEDIA (answer 503): see `refusal`.
   * Whoever answers the refusal calls `settle` with its status, which undoes what the gateway
   * may have taken.
   */
  async request(request: SipRequest, side: MediaSide, leg: MediaLeg): Promise<SipRequest> {
    if (hasUnlabelledBody(request)) throw new SdpError('a message body without Content-Type (RFC 3261 §20.15)', 400, 399);
    if (!carriesSdp(request)) return request;
    const sdp = sdpOf(request) ?? '';
    const fromTag = tagOf(from(request)) ?? '';
    const toTag = tagOf(to(request)) ?? '';
    const answer = request.method === 'ACK' || request.method === 'PRACK';
    // A leg first seen inside a dialog (e.g. after its table entry was lost) is owned from here.
    const entry = this.#legs.own(leg, toTag !== '');
    // An answer in ACK/PRACK replies to the offer the other party (the To side) made in a response.
    const rewritten = answer
      ? await this.#answer(entry, side, { callId: entry.ngCallId, fromTag: toTag, toTag: fromTag }, sdp)
      : await this.#offer(entry, side, { callId: entry.ngCallId, fromTag }, sdp, transactionOf(request));
    return withSdp(request, rewritten);
  }

  /** A response crossing from `side` to the request that came from the other side. */
  async response(request: SipRequest, response: SipResponse, side: MediaSide, leg: MediaLeg): Promise<SipResponse> {
    if (response.status >= 300) return response;
    if (hasUnlabelledBody(response)) throw new EpcError('EPC_ERR_MEDIA', `a ${response.status} with a body but no Content-Type (RFC 3261 §20.15)`);
    if (!carriesSdp(response)) return response;
    const initial = isInitialInvite(request);
    const entry = initial ? this.#legs.get(leg) : this.#legs.own(leg, true);
    // The attempt's media is gone (released when its flow died, or by the audit): nothing to answer with.
    if (entry === undefined) throw new EpcError('EPC_ERR_MEDIA', 'the media of this call attempt was already released');
    entry.touchedAt = this.#now();
    const sdp = sdpOf(response) ?? '';
    const responderTag = tagOf(to(response)) ?? '';
    const rewritten = carriesSdp(request)
      ? await this.#answer(entry, side, { callId: entry.ngCallId, fromTag: tagOf(from(request)) ?? '', toTag: responderTag }, sdp)
      : await this.#offer(entry, side, { callId: entry.ngCallId, fromTag: responderTag }, sdp, transactionOf(request));
    return withSdp(response, rewritten);
  }

  /**
   * The one place where a transaction that may have carried an offer ends (its final response
   * relayed, or a refusal of ours): a failed initial INVITE releases the leg unless another
   * attempt or the established call still owns it; any other failure rolls an outstanding offer
   * back to the last agreed offer/answer (RFC 3264 §8, RFC 3261 §14.1: a failed re-INVITE leaves
   * the session as it was). Never throws.
   */
  async settle(request: SipRequest, status: number, leg: MediaLeg): Promise<void> {
    const entry = this.#legs.get(leg);
    if (entry === undefined || status < 200) return;
    const initial = isInitialInvite(request);
    if (initial) entry.attempts = Math.max(0, entry.attempts - 1);
    if (status < 300) {
      if (initial) entry.established = true;
      return;
    }
    if (initial && entry.attempts === 0 && !entry.established) {
      await this.release(leg, `INVITE failed with ${status}`);
      return;
    }
    if (entry.outstandingOffer === transactionOf(request)) await this.#rollBack(entry, `${request.method} failed with ${status}`);
  }

  /**
   * The call is over (BYE, failure, media failure, W2 connection gone, audit): forget the leg and
   * free its media in the gateway. Idempotent; never throws. A leg this table does not know still
   * gets its `delete` (the gateway may outlive our table, e.g. over ng after a restart).
   */
  async release(leg: MediaLeg, why: string): Promise<void> {
    const entry = this.#legs.take(leg);
    if (entry !== undefined && !entry.inGateway) return;
    const ngCallId = entry?.ngCallId ?? mediaCallId(leg);
    try {
      await this.#options.control.delete({ callId: ngCallId });
      this.#options.log.debug({ callId: leg.callId, why }, 'media released');
    } catch (error) {
      // Unknown call-id: the gateway never kept anything for this call (or already released it).
      this.#options.log.debug({ err: error, callId: leg.callId, why }, 'media release: nothing to release');
    }
  }

  /** The cascade of a W2 flow's end: every leg of the flow is released (R-ORIG-9). */
  async releaseFlow(flowKey: string, why: string): Promise<void> {
    const legs = this.#legs.entries().filter((entry) => entry.leg.flowKey === flowKey);
    await Promise.all(legs.map((entry) => this.release(entry.leg, why)));
  }

  /** How many WIC legs the ALG owns now (metrics: epcscf_media_legs). */
  get legCount(): number {
    return this.#legs.size;
  }

  /** The leg a gateway event's ng call-id names, while its media lives. */
  legOf(ngCallId: string): MediaLeg | undefined {
    return this.#legs.byNgCallId(ngCallId)?.leg;
  }

  /** Every leg with the time it was last acted on (the audit). */
  legs(): LegView[] {
    return this.#legs.entries().map((entry) => ({ leg: entry.leg, ngCallId: entry.ngCallId, touchedAt: entry.touchedAt }));
  }

  /** When the leg with this ng call-id was last acted on; undefined once released. */
  touchedAt(ngCallId: string): number | undefined {
    return this.#legs.byNgCallId(ngCallId)?.touchedAt;
  }

  close(): Promise<void> {
    return this.#options.control.close();
  }

  /**
   * Plays a DTMF digit toward the WIC of `leg` as RFC 4733 events (`media.dtmf: rfc4733`). False
   * when the gateway cannot (over ng), the leg has no media, or the WIC negotiated no
   * telephone-event; never throws.
   */
  async playDtmfTowardWic(leg: MediaLeg, digit: string, durationMs: number): Promise<boolean> {
    const entry = this.#legs.get(leg);
    const send = this.#options.control.sendDtmf?.bind(this.#options.control);
    if (entry === undefined || send === undefined) return false;
    try {
      return await send(entry.ngCallId, digit, durationMs);
    } catch (error) {
      this.#options.log.debug({ err: error, callId: leg.callId }, 'DTMF toward the WIC: not played');
      return false;
    }
  }

  /**
   * The answer to a request whose SDP could not be relayed: 488/400 with a Warning naming the
   * reason (RFC 3261 §21.4.26, §20.43), or 503 when the gateway failed (spec: media-gw down → 503
   * to the caller, nothing half-allocated).
   */
  refusal(request: SipRequest, error: unknown): SipResponse {
    if (error instanceof SdpError) {
      const warning = `${error.warning} ${this.#options.warnAgent} "${error.reason.replace(/["\\]/g, "'")}"`;
      return createResponse(request, error.status, error.status === 488 ? 'Not Acceptable Here' : 'Bad Request', { headers: [['Warning', warning]] });
    }
    if (error instanceof EpcError && error.code === 'EPC_ERR_MEDIA') {
      this.#options.log.warn({ err: error, callId: callId(request) }, 'media gateway failed: 503');
      return createResponse(request, 503, 'Service Unavailable - media gateway', { headers: [['Retry-After', '5']] });
    }
    throw error;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  async #offer(entry: LegEntry, side: MediaSide, tags: { callId: string; fromTag: string }, sdp: string, transaction: string): Promise<string> {
    const { control, interfaces } = this.#options;
    // Policy first (spec-digest §6.4, no transcoding): an offer nothing of which can be relayed
    // is refused with 488 before the gateway allocates anything, whichever gateway it is.
    // Parsed once (structure-next §2): an in-process gateway rewrites from this parse.
    const parsed = parseSdp(sdp);
    if (side === 'wic') parseWicOffer(parsed);
    else analyseImsOffer(parsed);
    const request = side === 'wic' ? offerFromWic(tags, sdp, interfaces) : offerFromIms(tags, sdp, interfaces);
    // From here the gateway may hold state even if the command fails (an ng reply lost).
    entry.inGateway = true;
    entry.outstandingOffer = transaction;
    const result = await control.offer(request, parsed);
    entry.offered = request;
    return result.sdp;
  }

  async #answer(entry: LegEntry, side: MediaSide, tags: { callId: string; fromTag: string; toTag: string }, sdp: string): Promise<string> {
    const { control, interfaces } = this.#options;
    const request = side === 'wic' ? answerFromWic(tags, sdp, interfaces) : answerFromIms(tags, sdp, interfaces);
    entry.inGateway = true;
    const result = await control.answer(request);
    // A 183 then a 200 answer the same offer: the latest answer is the agreed one.
    if (entry.offered !== undefined) entry.agreed = { offer: entry.offered, answer: request };
    entry.outstandingOffer = undefined;
    return result.sdp;
  }

  /** Puts the gateway back on the last agreed offer/answer (both replayed; o= versions move on). */
  async #rollBack(entry: LegEntry, why: string): Promise<void> {
    entry.outstandingOffer = undefined;
    const agreed = entry.agreed;
    if (agreed === undefined) return;
    const { control, log } = this.#options;
    try {
      await control.offer(agreed.offer);
      await control.answer(agreed.answer);
      entry.offered = agreed.offer;
      log.info({ callId: entry.leg.callId, why }, 'media rolled back to the agreed offer/answer');
    } catch (error) {
      log.warn({ err: error, callId: entry.leg.callId, why }, 'media rollback failed: the gateway keeps the refused offer');
    }
  }
}
