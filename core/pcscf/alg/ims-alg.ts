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
 * the message (From/To of a request; the responder's To tag for an offer in a response). Nothing
 * is remembered here between messages: a call's media state lives in the gateway, keyed by the
 * ng call-id of `MediaLeg`.
 */
import type { Logger } from 'pino';
import { EpcError } from '../../errors.js';
import { analyseImsOffer, parseWicOffer, SdpError } from '../../sdp/index.js';
import {
  bodyText, callId, contentType, createResponse, from, tagOf, to, withBody,
  type SipMessage, type SipRequest, type SipResponse,
} from '../../sip/index.js';
import type { MediaControl } from './media-control.js';
import {
  answerFromIms, answerFromWic, offerFromIms, offerFromWic, type MediaInterfaces,
} from './media-requests.js';

export type MediaSide = 'wic' | 'ims';

/** One WIC's view of one call: the unit of media state in the gateway. */
export interface MediaLeg {
  readonly callId: string;
  /** The W2 flow of the WIC (a call between two WICs of this P-CSCF has two legs). */
  readonly flowKey: string;
  readonly direction: 'originating' | 'terminating';
}

export interface ImsAlgOptions {
  readonly control: MediaControl;
  readonly interfaces?: MediaInterfaces;
  readonly log: Logger;
  /** host in the Warning header of a refusal (RFC 3261 §20.43 warn-agent). */
  readonly warnAgent: string;
}

const SDP = 'application/sdp';

/** Does the message carry an SDP body (RFC 3264 offer or answer)? Multipart bodies are not looked into. */
export function carriesSdp(message: SipMessage): boolean {
  if (message.body.length === 0) return false;
  const type = contentType(message);
  return type !== undefined && type.split(';')[0]?.trim().toLowerCase() === SDP;
}

/**
 * The gateway's ng call-id for a leg. The SIP Call-ID alone is not enough: a call between two
 * WICs of this P-CSCF (or a fork to two of one user's WICs) crosses it twice with one Call-ID.
 */
export function mediaCallId(leg: MediaLeg): string {
  return `${leg.callId}~${leg.direction === 'originating' ? 'o' : 't'}~${leg.flowKey}`;
}

export class ImsAlg {
  readonly #options: ImsAlgOptions;
  /** Legs with media in the gateway, by ng call-id (a gateway event names only that). */
  readonly #legs = new Map<string, MediaLeg>();

  constructor(options: ImsAlgOptions) {
    this.#options = options;
  }

  /**
   * A request crossing from `side`: its SDP rewritten for the other side (unchanged without SDP).
   * Rejects with SdpError (answer 488/400) or EpcError EPC_ERR_MEDIA (answer 503): see `refusal`.
   */
  async request(request: SipRequest, side: MediaSide, leg: MediaLeg): Promise<SipRequest> {
    if (!carriesSdp(request)) return request;
    const sdp = bodyText(request);
    const fromTag = tagOf(from(request)) ?? '';
    const toTag = tagOf(to(request)) ?? '';
    const answer = request.method === 'ACK' || request.method === 'PRACK';
    this.#legs.set(mediaCallId(leg), leg);
    // An answer in ACK/PRACK replies to the offer the other party (the To side) made in a response.
    const rewritten = answer
      ? await this.#answer(side, { ...this.#ids(leg), fromTag: toTag, toTag: fromTag }, sdp)
      : await this.#offer(side, { ...this.#ids(leg), fromTag }, sdp);
    return withBody(request, rewritten, SDP);
  }

  /** A response crossing from `side` to the request that came from the other side. */
  async response(request: SipRequest, response: SipResponse, side: MediaSide, leg: MediaLeg): Promise<SipResponse> {
    if (!carriesSdp(response) || response.status >= 300) return response;
    const sdp = bodyText(response);
    const responderTag = tagOf(to(response)) ?? '';
    this.#legs.set(mediaCallId(leg), leg);
    const rewritten = carriesSdp(request)
      ? await this.#answer(side, { ...this.#ids(leg), fromTag: tagOf(from(request)) ?? '', toTag: responderTag }, sdp)
      : await this.#offer(side, { ...this.#ids(leg), fromTag: responderTag }, sdp);
    return withBody(response, rewritten, SDP);
  }

  /** The call is over (BYE, CANCEL, failure, W2 connection gone): free its media. Never throws. */
  async release(leg: MediaLeg, why: string): Promise<void> {
    this.#legs.delete(mediaCallId(leg));
    try {
      await this.#options.control.delete({ callId: mediaCallId(leg) });
      this.#options.log.debug({ callId: leg.callId, why }, 'media released');
    } catch (error) {
      // Unknown call-id: the gateway never saw SDP for this call (or already released it).
      this.#options.log.debug({ err: error, callId: leg.callId, why }, 'media release: nothing to release');
    }
  }

  /** How many WIC legs hold media on the gateway now (metrics). */
  get legCount(): number {
    return this.#legs.size;
  }

  /** The leg a gateway event's ng call-id names, while its media lives. */
  legOf(ngCallId: string): MediaLeg | undefined {
    return this.#legs.get(ngCallId);
  }

  close(): Promise<void> {
    return this.#options.control.close();
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

  #ids(leg: MediaLeg): { callId: string } {
    return { callId: mediaCallId(leg) };
  }

  async #offer(side: MediaSide, tags: { callId: string; fromTag: string }, sdp: string): Promise<string> {
    const { control, interfaces } = this.#options;
    // Policy first (spec-digest §6.4, no transcoding): an offer nothing of which can be relayed
    // is refused with 488 before the gateway allocates anything, whichever gateway it is.
    if (side === 'wic') parseWicOffer(sdp);
    else analyseImsOffer(sdp);
    const request = side === 'wic' ? offerFromWic(tags, sdp, interfaces) : offerFromIms(tags, sdp, interfaces);
    return (await control.offer(request)).sdp;
  }

  async #answer(side: MediaSide, tags: { callId: string; fromTag: string; toTag: string }, sdp: string): Promise<string> {
    const { control, interfaces } = this.#options;
    const request = side === 'wic' ? answerFromWic(tags, sdp, interfaces) : answerFromIms(tags, sdp, interfaces);
    return (await control.answer(request)).sdp;
  }
}
