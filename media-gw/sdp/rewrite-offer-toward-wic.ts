/**
 * Termination: an IMS offer becomes the offer a WIC receives (R-ALG-6, the mirror of the
 * origination rules): UDP/TLS/RTP/SAVPF, `a=setup:actpass`, the gateway's fingerprint, ICE-lite
 * credentials and candidates, rtcp-mux, one mid per m-line, relayable codecs under the IMS
 * payload type numbers; preconditions and every other IMS-only attribute stay on the IMS side
 * (R-PRE-1).
 */
import { analyseImsOffer } from './analyse-ims-offer.js';
import { addedTelephoneEvent } from './dtmf-interworking.js';
import { linePlanFor } from './line-plan.js';
import { bandwidthAsOf, type SdpBody } from './sdp-reading.js';
import { rejectedSection, wicSection, wicSessionHeader, writeSdp } from './sdp-writing.js';
import type { MediaLineSummary, MediaPlan, SdpRewriteResult } from './types.js';

/** The profile browsers require for media (RFC 8827 §6.5, JSEP §5.1.2). */
export const WIC_RTP_PROTO = 'UDP/TLS/RTP/SAVPF';

export function rewriteOfferTowardWic(imsOffer: SdpBody, plan: MediaPlan): SdpRewriteResult {
  const analysis = analyseImsOffer(imsOffer);
  const session = wicSessionHeader(plan);
  const summaries: MediaLineSummary[] = [];
  for (const { media, summary, codecs: imsCodecs } of analysis.lines) {
    // DTMF interworking (`media.dtmf`): the browser gets a telephone-event IMS did not offer.
    const dtmf = plan.keepWicTelephoneEvent === true && summary.accepted ? addedTelephoneEvent(media.type, imsCodecs) : undefined;
    const codecs = dtmf === undefined ? imsCodecs : [...imsCodecs, dtmf];
    summaries.push(dtmf === undefined ? summary : {
      ...summary,
      codecs: [...summary.codecs, {
        encoding: dtmf.encoding, clockRate: dtmf.clockRate, fmtp: '0-15',
        wicPayloadType: dtmf.payloadType, imsPayloadType: dtmf.payloadType, interworked: true,
      }],
    });
    const mid = summary.mid ?? String(summary.index);
    const rtp = media.type === 'audio' || media.type === 'video';
    if (!summary.accepted) {
      session.media.push(rejectedSection(media.type, rtp ? WIC_RTP_PROTO : media.protocol, String(media.payloads ?? ''), mid, true));
      continue;
    }
    const bandwidthKbps = bandwidthAsOf(media);
    session.media.push(
      wicSection({
        index: summary.index,
        kind: media.type,
        proto: WIC_RTP_PROTO,
        mid,
        direction: summary.direction,
        codecs,
        // RFC 5763 §5: the offerer says actpass and lets the answerer choose.
        setup: 'actpass',
        address: plan.wicAddress,
        line: linePlanFor(plan, summary.index),
        streamId: plan.wicStreamId ?? 'epcscf',
        ...(bandwidthKbps !== undefined ? { bandwidthKbps } : {}),
        ...(media.ptime !== undefined ? { ptime: Number(media.ptime) } : {}),
        ...(media.maxptime !== undefined ? { maxptime: Number(media.maxptime) } : {}),
      }),
    );
  }
  return { sdp: writeSdp(session), lines: summaries };
}
