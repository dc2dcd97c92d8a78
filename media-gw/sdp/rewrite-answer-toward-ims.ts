/**
 * Termination, the way back: the WIC's answer becomes the answer IMS receives. Plain RTP on the
 * gateway's IMS-leg ports under the proto IMS offered, the codecs the WIC accepted under the IMS
 * payload type numbers (RFC 3264 §6.1), the WIC's direction (R-ALG-16), b=AS and ptime present,
 * rtcp-mux only when IMS offered it, and preconditions answered for the WIC (R-PRE-1).
 */
import { analyseImsOffer } from './analyse-ims-offer.js';
import { matchAnsweredCodecs, type CodecDescription } from './codec-policy.js';
import { answeredInterworkedEvent } from './dtmf-interworking.js';
import { AUDIO_PTIME, DEFAULT_AUDIO_MAXPTIME, linePlanFor } from './line-plan.js';
import { answerQosPreconditions } from './preconditions.js';
import { SdpError } from './sdp-error.js';
import {
  bandwidthAsOf,
  codecsOf,
  directionOf,
  dtlsRoleOf,
  sessionOf,
  setupOf,
  unparsedAttributesOf,
  wicTransportOf,
  type SdpBody,
} from './sdp-reading.js';
import { defaultBandwidthKbps, imsSection, imsSessionHeader, rejectedSection, writeSdp } from './sdp-writing.js';
import type { MediaLineSummary, MediaPlan, RelayedCodec, SdpRewriteResult } from './types.js';

export function rewriteAnswerTowardIms(wicAnswer: SdpBody, imsOffer: SdpBody, plan: MediaPlan): SdpRewriteResult {
  const offer = analyseImsOffer(imsOffer);
  const answer = sessionOf(wicAnswer);
  // RFC 3264 §6: the answer has exactly as many m-lines as the offer, in the same order.
  if (answer.media.length !== offer.lines.length) {
    throw new SdpError(`the WIC answer has ${answer.media.length} m-lines, the offer had ${offer.lines.length}`, 488, 399);
  }
  const session = imsSessionHeader(plan);
  const summaries: MediaLineSummary[] = [];
  offer.lines.forEach((offered, index) => {
    const answered = answer.media[index];
    if (answered === undefined) return;
    const wic = wicTransportOf(answer, answered);
    const reject = (reason: string): void => {
      session.media.push(rejectedSection(offered.media.type, offered.media.protocol, String(offered.media.payloads ?? '')));
      summaries.push({ ...offered.summary, accepted: false, rejectReason: reason, codecs: [], ...(answered.port !== 0 ? { wic } : {}) });
    };
    if (!offered.summary.accepted) return reject(offered.summary.rejectReason ?? 'not offered toward the WIC');
    if (answered.port === 0) return reject('rejected by the WIC');
    if (answered.type !== offered.media.type) return reject(`the WIC answered media type ${answered.type}`);
    if (wic.fingerprint === undefined) return reject('the WIC answer has no DTLS fingerprint');
    if (wic.iceUfrag === undefined || wic.icePwd === undefined) return reject('the WIC answer has no ICE credentials');
    // RFC 5763 §5: the answerer picks active or passive; actpass (or holdconn) is not an answer.
    const setup = setupOf(answer, answered);
    if (setup !== 'active' && setup !== 'passive') return reject(`the WIC answered a=setup:${String(answered.setup ?? answer.setup)}`);
    if (!wic.rtcpMux) return reject('the WIC answer declines rtcp-mux, which the gateway requires');
    const matches = matchAnsweredCodecs(offered.media.type, offered.codecs, codecsOf(answered));
    if (matches.length === 0) return reject('the WIC answer accepts no codec of the offer');

    const codecs: CodecDescription[] = matches.map(({ offered: imsCodec, answered: wicCodec }) => ({
      payloadType: imsCodec.payloadType,
      encoding: imsCodec.encoding,
      clockRate: imsCodec.clockRate,
      ...(imsCodec.channels !== undefined ? { channels: imsCodec.channels } : {}),
      // Format parameters in an answer describe what its author receives (RFC 3264 §6.1).
      ...(wicCodec.fmtp !== undefined ? { fmtp: wicCodec.fmtp } : {}),
    }));
    const relayed: RelayedCodec[] = matches.map(({ offered: imsCodec, answered: wicCodec }) => ({
      encoding: imsCodec.encoding,
      clockRate: imsCodec.clockRate,
      ...(imsCodec.channels !== undefined ? { channels: imsCodec.channels } : {}),
      ...(wicCodec.fmtp !== undefined ? { fmtp: wicCodec.fmtp } : {}),
      wicPayloadType: wicCodec.payloadType,
      imsPayloadType: imsCodec.payloadType,
    }));
    // DTMF interworking: the telephone-event we added to the offer stays between WIC and gateway.
    const dtmf = plan.keepWicTelephoneEvent === true ? answeredInterworkedEvent(offered.media.type, matches, codecsOf(answered)) : undefined;
    if (dtmf !== undefined) {
      relayed.push({
        encoding: dtmf.encoding, clockRate: dtmf.clockRate, fmtp: '0-15',
        wicPayloadType: dtmf.payloadType, imsPayloadType: dtmf.payloadType, interworked: true,
      });
    }
    const linePlan = linePlanFor(plan, index);
    const direction = directionOf(answer, answered);
    const audio = offered.media.type === 'audio';
    const imsRtcpMux = offered.summary.ims?.rtcpMux ?? false;
    session.media.push(
      imsSection({
        kind: offered.media.type,
        proto: offered.media.protocol,
        port: linePlan.imsPort,
        ...(linePlan.imsRtcpPort !== undefined ? { rtcpPort: linePlan.imsRtcpPort } : {}),
        direction,
        codecs,
        bandwidthKbps: bandwidthAsOf(answered) ?? linePlan.bandwidthKbps ?? defaultBandwidthKbps(offered.media.type),
        ...(audio ? { ptime: AUDIO_PTIME, maxptime: plan.audioMaxptime ?? DEFAULT_AUDIO_MAXPTIME } : {}),
        rtcpMux: imsRtcpMux,
        extraAttributes: answerQosPreconditions(unparsedAttributesOf(offered.media)),
      }),
    );
    summaries.push({
      ...offered.summary,
      direction,
      codecs: relayed,
      wic,
      // The WIC's role decides ours: it is active (the browser default), so we are the DTLS server.
      gatewayDtlsRole: dtlsRoleOf(setup === 'active' ? 'passive' : 'active'),
    });
  });
  if (!summaries.some((line) => line.accepted)) {
    throw new SdpError('the WIC answer leaves no media line that can be relayed', 488, 305);
  }
  return { sdp: writeSdp(session), lines: summaries };
}
