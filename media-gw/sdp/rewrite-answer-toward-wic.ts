/**
 * Origination, the way back: the IMS answer becomes the answer the WIC receives (TS 23.334,
 * R-ALG-5): the WIC's own proto, the gateway's fingerprint and DTLS role, ICE-lite credentials
 * and candidates, rtcp-mux, the WIC's mids; codecs are those IMS accepted, under the WIC's payload
 * type numbers (RFC 3264 §6.1).
 */
import { matchAnsweredCodecs, type CodecDescription } from './codec-policy.js';
import { interworkedTelephoneEvent } from './dtmf-interworking.js';
import { analyseWicOffer } from './parse-wic-offer.js';
import { linePlanFor, preferredSetupFor } from './line-plan.js';
import { SdpError } from './sdp-error.js';
import {
  bandwidthAsOf,
  codecsOf,
  directionOf,
  directionUnderHold,
  imsTransportOf,
  isPlainRtpProto,
  sessionOf,
  type SdpBody,
} from './sdp-reading.js';
import { rejectedSection, wicSection, wicSessionHeader, writeSdp } from './sdp-writing.js';
import type { MediaLineSummary, MediaPlan, RelayedCodec, SdpRewriteResult } from './types.js';

export function rewriteAnswerTowardWic(imsAnswer: SdpBody, wicOffer: SdpBody, plan: MediaPlan): SdpRewriteResult {
  const offer = analyseWicOffer(wicOffer, preferredSetupFor(plan));
  const answer = sessionOf(imsAnswer);
  // RFC 3264 §6: the answer has exactly as many m-lines as the offer, in the same order.
  if (answer.media.length !== offer.lines.length) {
    throw new SdpError(`the IMS answer has ${answer.media.length} m-lines, the offer had ${offer.lines.length}`, 488, 399);
  }
  const session = wicSessionHeader(plan);
  const summaries: MediaLineSummary[] = [];
  offer.lines.forEach((offered, index) => {
    const answered = answer.media[index];
    if (answered === undefined) return;
    const mid = offered.summary.mid ?? String(index);
    const ims = imsTransportOf(answer, answered);
    const reject = (reason: string): void => {
      session.media.push(rejectedSection(offered.media.type, offered.media.protocol, String(offered.media.payloads ?? ''), mid, true));
      summaries.push({ ...offered.summary, accepted: false, rejectReason: reason, codecs: [], ...(answered.port !== 0 ? { ims } : {}) });
    };
    if (!offered.summary.accepted) return reject(offered.summary.rejectReason ?? 'not offered toward IMS');
    if (answered.port === 0) return reject('rejected by the IMS side');
    if (answered.type !== offered.media.type) return reject(`IMS answered media type ${answered.type}`);
    if (!isPlainRtpProto(answered.protocol)) return reject(`IMS answered transport ${answered.protocol}`);
    const matches = matchAnsweredCodecs(offered.media.type, offered.codecs, codecsOf(answered));
    if (matches.length === 0) return reject('the IMS answer accepts no codec of the offer');

    // Toward the WIC: its own payload type numbers; the format parameters are the IMS side's,
    // since they describe what IMS is able to receive.
    const codecs: CodecDescription[] = matches.map(({ offered: wic, answered: imsCodec }) => ({
      payloadType: wic.payloadType,
      encoding: wic.encoding,
      clockRate: wic.clockRate,
      ...(wic.channels !== undefined ? { channels: wic.channels } : {}),
      // Format parameters in an answer describe what its author receives (RFC 3264 §6.1).
      ...(imsCodec.fmtp !== undefined ? { fmtp: imsCodec.fmtp } : {}),
    }));
    const relayed: RelayedCodec[] = matches.map(({ offered: wic, answered: imsCodec }) => ({
      encoding: wic.encoding,
      clockRate: wic.clockRate,
      ...(wic.channels !== undefined ? { channels: wic.channels } : {}),
      ...(imsCodec.fmtp !== undefined ? { fmtp: imsCodec.fmtp } : {}),
      wicPayloadType: wic.payloadType,
      imsPayloadType: imsCodec.payloadType,
    }));
    // DTMF interworking: the WIC keeps its telephone-event; the gateway turns it into SIP INFO.
    const dtmf = plan.keepWicTelephoneEvent === true ? interworkedTelephoneEvent(offered.media.type, offered.codecs, matches) : undefined;
    if (dtmf !== undefined) {
      codecs.push({ ...dtmf, fmtp: '0-15' });
      relayed.push({
        encoding: dtmf.encoding, clockRate: dtmf.clockRate, fmtp: '0-15',
        wicPayloadType: dtmf.payloadType, imsPayloadType: dtmf.payloadType, interworked: true,
      });
    }
    const written = directionOf(answer, answered);
    const direction = ims.onHold ? directionUnderHold(written) : written;
    const bandwidthKbps = bandwidthAsOf(answered);
    session.media.push(
      wicSection({
        index,
        kind: offered.media.type,
        proto: offered.media.protocol,
        mid,
        direction,
        codecs,
        setup: offered.answerSetup,
        address: plan.wicAddress,
        line: linePlanFor(plan, index),
        streamId: plan.wicStreamId ?? 'epcscf',
        ...(bandwidthKbps !== undefined ? { bandwidthKbps } : {}),
        ...(answered.ptime !== undefined ? { ptime: Number(answered.ptime) } : {}),
        ...(answered.maxptime !== undefined ? { maxptime: Number(answered.maxptime) } : {}),
      }),
    );
    summaries.push({
      ...offered.summary,
      direction,
      codecs: relayed,
      ...(answered.ptime !== undefined ? { ptime: Number(answered.ptime) } : {}),
      ims,
    });
  });
  if (!summaries.some((line) => line.accepted)) {
    throw new SdpError('the IMS answer leaves no media line that can be relayed', 488, 305);
  }
  return { sdp: writeSdp(session), lines: summaries };
}
