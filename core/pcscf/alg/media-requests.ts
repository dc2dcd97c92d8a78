/**
 * The four ng requests the IMS-ALG sends, one per SDP hop (TS 23.334 §5.3: the IMS-ALG tells the
 * eIMS-AGW which transport each side gets). The same requests drive our media-gw and a real
 * rtpengine, so they use rtpengine's flag names and semantics:
 *  - `transportProtocol` is the profile of the SDP the gateway returns (the side it goes to);
 *  - `fromTag` is the tag of the party that made the offer, `toTag` the answerer's;
 *  - toward a WIC: ICE forced (the gateway is ICE-lite, R-ICE-1), DTLS passive so the browser
 *    starts the handshake (real-peers media finding 3), rtcp-mux required (RFC 8829 §5.1.1);
 *  - toward IMS: plain RTP/AVP, no ICE, no DTLS, RTCP on its own port (R-ALG-4).
 */
import type { NgAnswerRequest, NgMediaOptions, NgOfferRequest } from '../../../media-gw/ng/index.js';

/** The SDP profile a WIC gets (RFC 8827 §6.5). */
export const WIC_PROFILE = 'UDP/TLS/RTP/SAVPF';
/** The SDP profile IMS gets (R-ALG-4). */
export const IMS_PROFILE = 'RTP/AVP';

/** Interface names a multi-homed rtpengine knows the two sides by (its `direction` flag). */
export interface MediaInterfaces {
  readonly wic: string;
  readonly ims: string;
}

export interface CallTags {
  readonly callId: string;
  /** The offerer's tag. */
  readonly fromTag: string;
}

export interface AnsweredCallTags extends CallTags {
  /** The answerer's tag. */
  readonly toTag: string;
}

const TOWARD_WIC: NgMediaOptions = {
  transportProtocol: WIC_PROFILE,
  ice: 'force',
  dtls: 'passive',
  rtcpMux: ['require'],
  replace: ['origin', 'session-connection'],
  flags: ['trust-address'],
};

const TOWARD_IMS: NgMediaOptions = {
  transportProtocol: IMS_PROFILE,
  ice: 'remove',
  dtls: 'off',
  // Toward the WIC the SDP came from, the gateway stays DTLS server (see TOWARD_WIC).
  dtlsReverse: 'passive',
  rtcpMux: ['demux'],
  replace: ['origin', 'session-connection'],
  flags: ['trust-address'],
};

function directed(options: NgMediaOptions, from: 'wic' | 'ims', interfaces: MediaInterfaces | undefined): NgMediaOptions {
  if (interfaces === undefined) return options;
  const direction: [string, string] = from === 'wic' ? [interfaces.wic, interfaces.ims] : [interfaces.ims, interfaces.wic];
  return { ...options, direction };
}

/** Origination: the WIC's offer, rewritten for IMS. */
export function offerFromWic(tags: CallTags, sdp: string, interfaces?: MediaInterfaces): NgOfferRequest {
  return { ...directed(TOWARD_IMS, 'wic', interfaces), ...tags, sdp };
}

/** Origination: the IMS answer (18x or 2xx), rewritten for the WIC. */
export function answerFromIms(tags: AnsweredCallTags, sdp: string, interfaces?: MediaInterfaces): NgAnswerRequest {
  return { ...directed(TOWARD_WIC, 'ims', interfaces), ...tags, sdp };
}

/** Termination: the IMS offer, rewritten for the WIC. */
export function offerFromIms(tags: CallTags, sdp: string, interfaces?: MediaInterfaces): NgOfferRequest {
  return { ...directed(TOWARD_WIC, 'ims', interfaces), ...tags, sdp };
}

/** Termination: the WIC's answer, rewritten for IMS. */
export function answerFromWic(tags: AnsweredCallTags, sdp: string, interfaces?: MediaInterfaces): NgAnswerRequest {
  return { ...directed(TOWARD_IMS, 'wic', interfaces), ...tags, sdp };
}
