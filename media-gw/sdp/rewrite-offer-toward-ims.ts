/**
 * Origination: the WIC's offer becomes the offer the P-CSCF sends toward IMS (TS 23.334 IMS-ALG,
 * spec-digest §6.3): plain RTP/AVP on the gateway's IMS-leg address and ports, only the
 * codecs the gateway relays, b=AS and ptime/maxptime present, direction unchanged, and none of
 * the WebRTC transport attributes (ICE, DTLS, BUNDLE, mid, msid, ssrc, extmap, rtcp-fb).
 */
import { analyseWicOffer } from './parse-wic-offer.js';
import { AUDIO_PTIME, DEFAULT_AUDIO_MAXPTIME, linePlanFor, preferredSetupFor } from './line-plan.js';
import { isRtpKind, type SdpBody } from './sdp-reading.js';
import { defaultBandwidthKbps, imsSection, imsSessionHeader, rejectedSection, writeSdp } from './sdp-writing.js';
import type { MediaPlan, SdpRewriteResult } from './types.js';

/** R-ALG-4: SRTP profiles become RTP/AVP toward IMS; other protos keep their name on a rejected line. */
export function imsProtoFor(kind: string, wicProto: string): string {
  return isRtpKind(kind) && wicProto.toUpperCase().includes('RTP/') ? 'RTP/AVP' : wicProto;
}

export function rewriteOfferTowardIms(offer: SdpBody, plan: MediaPlan): SdpRewriteResult {
  const analysis = analyseWicOffer(offer, preferredSetupFor(plan));
  const session = imsSessionHeader(plan);
  for (const line of analysis.lines) {
    const { media, summary } = line;
    if (!summary.accepted) {
      // R-ALG-17: rejected streams keep their position.
      session.media.push(rejectedSection(media.type, imsProtoFor(media.type, media.protocol), String(media.payloads ?? '')));
      continue;
    }
    const linePlan = linePlanFor(plan, summary.index);
    const audio = media.type === 'audio';
    session.media.push(
      imsSection({
        kind: media.type,
        proto: 'RTP/AVP',
        port: linePlan.imsPort,
        ...(linePlan.imsRtcpPort !== undefined ? { rtcpPort: linePlan.imsRtcpPort } : {}),
        direction: summary.direction,
        codecs: line.codecs,
        bandwidthKbps: line.bandwidthKbps ?? linePlan.bandwidthKbps ?? defaultBandwidthKbps(media.type),
        ...(audio ? { ptime: AUDIO_PTIME, maxptime: media.maxptime ?? plan.audioMaxptime ?? DEFAULT_AUDIO_MAXPTIME } : {}),
        rtcpMux: plan.offerRtcpMuxToIms ?? false,
      }),
    );
  }
  return { sdp: writeSdp(session), lines: analysis.lines.map((line) => line.summary) };
}
