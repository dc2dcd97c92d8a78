/**
 * DTMF interworking in SDP (issue #14, `media.dtmf`): when the IMS side did not accept RFC 4733
 * telephone-event, the answer toward the WIC still keeps the WIC's own telephone-event format at
 * the clock rate of the chosen codec, so the browser can send DTMF (WebRTC's RTCDTMFSender needs
 * a negotiated telephone-event, RFC 8829 §5.2.1 / W3C webrtc §7.2) and the gateway turns its
 * events into SIP INFO toward IMS (media-gw/README.md "DTMF"). The format is marked
 * `interworked`: the gateway consumes it and never forwards it toward IMS.
 */
import { isMediaCodec, type CodecDescription, type MatchedCodec } from './codec-policy.js';

const TELEPHONE_EVENT = 'telephone-event';

function isTelephoneEvent(codec: CodecDescription): boolean {
  return codec.encoding.toLowerCase() === TELEPHONE_EVENT;
}

/**
 * The WIC-offered telephone-event to keep toward the WIC although IMS did not answer it: the one
 * whose clock rate is the first accepted media codec's (RFC 4733 §2.1: events share the audio
 * clock). Undefined when IMS accepted telephone-event at that rate or the WIC offered none.
 */
export function interworkedTelephoneEvent(kind: string, wicOffered: readonly CodecDescription[], matches: readonly MatchedCodec[]): CodecDescription | undefined {
  if (kind !== 'audio') return undefined;
  const main = matches.find((match) => isMediaCodec(kind, match.answered));
  if (main === undefined) return undefined;
  const rate = main.offered.clockRate;
  if (matches.some((match) => isTelephoneEvent(match.offered) && match.offered.clockRate === rate)) return undefined;
  return wicOffered.find((codec) => isTelephoneEvent(codec) && codec.clockRate === rate);
}

/** RFC 3551 §6: dynamic payload types; 101 first, as IMS endpoints use it for telephone-event. */
const DYNAMIC_PAYLOAD_TYPES = [101, ...Array.from({ length: 32 }, (_, i) => 96 + i)];

/**
 * Termination: the telephone-event the offer toward the WIC gains when the IMS offer has none at
 * its first media codec's clock rate (so the browser can send DTMF, which the gateway then turns
 * into INFO). Under a payload type the IMS offer leaves free; undefined otherwise.
 */
export function addedTelephoneEvent(kind: string, imsCodecs: readonly CodecDescription[]): CodecDescription | undefined {
  if (kind !== 'audio') return undefined;
  const main = imsCodecs.find((codec) => isMediaCodec(kind, codec));
  if (main === undefined || imsCodecs.some((codec) => isTelephoneEvent(codec) && codec.clockRate === main.clockRate)) return undefined;
  const used = new Set(imsCodecs.map((codec) => codec.payloadType));
  const payloadType = DYNAMIC_PAYLOAD_TYPES.find((pt) => !used.has(pt));
  return payloadType === undefined ? undefined : { payloadType, encoding: 'telephone-event', clockRate: main.clockRate, fmtp: '0-15' };
}

/**
 * Termination, the way back: the telephone-event the WIC answered that IMS never offered (the one
 * `addedTelephoneEvent` put in the offer), at the clock rate of the answered media codec.
 */
export function answeredInterworkedEvent(kind: string, matches: readonly MatchedCodec[], wicAnswered: readonly CodecDescription[]): CodecDescription | undefined {
  if (kind !== 'audio') return undefined;
  const main = matches.find((match) => isMediaCodec(kind, match.answered));
  if (main === undefined) return undefined;
  const rate = main.answered.clockRate;
  if (matches.some((match) => isTelephoneEvent(match.answered) && match.answered.clockRate === rate)) return undefined;
  return wicAnswered.find((codec) => isTelephoneEvent(codec) && codec.clockRate === rate);
}
