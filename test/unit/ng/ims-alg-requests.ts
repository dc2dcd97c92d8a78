/**
 * The ng requests the IMS-ALG sends for a WebRTC → IMS call (built by core/pcscf/alg/media-requests.ts),
 * shared by the rtpengine interop test and the ng-server tests so that both ends are proven with the very same shapes:
 *  - offer from the WIC toward IMS: WebRTC SDP in, plain RTP/AVP out (ICE removed, DTLS off,
 *    RTCP demultiplexed for the IMS side);
 *  - answer from IMS back toward the WIC: plain RTP in, WebRTC out (ICE forced with the gateway
 *    as the only candidate, DTLS passive so that the browser starts the handshake).
 */
import { readFileSync } from 'node:fs';
import type { NgAnswerRequest, NgOfferRequest } from '../../../media-gw/ng/control.js';
import { answerFromIms, offerFromWic } from '../../../core/pcscf/alg/media-requests.js';

/** A real Chrome audio offer (test/fixtures/sdp/SOURCES.tsv), with CRLF line ends as on the wire. */
export const CHROME_AUDIO_OFFER = readFileSync(new URL('../../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8')
  .replace(/\r?\n/g, '\r\n');

/** A plain RTP/AVP answer as an IMS UE or MGW would send it (PCMU + telephone-event). */
export function plainRtpAnswer(address: string, port: number): string {
  return [
    'v=0', `o=ims-ue 2890844527 2890844527 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0',
    `m=audio ${port} RTP/AVP 0 126`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:126 telephone-event/8000', 'a=fmtp:126 0-15',
    'a=ptime:20', 'a=sendrecv', '',
  ].join('\r\n');
}

/** rtpengine in the interop rigs has one interface, `lo`, for both sides. */
const LOOPBACK_INTERFACES = { wic: 'lo', ims: 'lo' } as const;

export function offerTowardIms(callId: string, fromTag: string, sdp = CHROME_AUDIO_OFFER): NgOfferRequest {
  return offerFromWic({ callId, fromTag }, sdp, LOOPBACK_INTERFACES);
}

export function answerTowardWic(callId: string, fromTag: string, toTag: string, sdp: string): NgAnswerRequest {
  return answerFromIms({ callId, fromTag, toTag }, sdp, LOOPBACK_INTERFACES);
}
