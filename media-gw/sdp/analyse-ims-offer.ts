/**
 * Reads an SDP offer from the IMS side (terminating calls, or an IMS re-offer) and decides per
 * m-line whether the gateway can relay it toward a WIC.
 */
import { selectRelayableCodecs, type CodecDescription } from './codec-policy.js';
import { relayedAsIs } from './parse-wic-offer.js';
import { SdpError } from './sdp-error.js';
import {
  codecsOf,
  directionOf,
  directionUnderHold,
  imsTransportOf,
  isPlainRtpProto,
  isRtpKind,
  sessionOf,
  type ParsedMedia,
  type ParsedSdp,
  type SdpBody,
} from './sdp-reading.js';
import type { MediaLineSummary } from './types.js';

export interface ImsOfferLine {
  readonly media: ParsedMedia;
  readonly summary: MediaLineSummary;
  readonly codecs: readonly CodecDescription[];
}

export interface ImsOfferAnalysis {
  readonly session: ParsedSdp;
  readonly lines: readonly ImsOfferLine[];
}

function rejectionOf(media: ParsedMedia, codecs: readonly CodecDescription[]): string | undefined {
  if (media.port === 0) return 'port 0 in the offer';
  if (!isRtpKind(media.type)) return `media type ${media.type} is not relayed toward a WIC`;
  // SDES (RTP/SAVP + a=crypto) would need SRTP on the IMS leg; only plain RTP is relayed (R-ALG-4).
  if (!isPlainRtpProto(media.protocol)) return `transport ${media.protocol} is not relayed (plain RTP only on the IMS leg)`;
  if (codecs.length === 0) return 'no codec the gateway can relay without transcoding';
  return undefined;
}

/** The mid the gateway gives an m-line in its offer toward the WIC: its position (JSEP needs one per m-line). */
export function wicMidFor(index: number): string {
  return String(index);
}

export function analyseImsOffer(offer: SdpBody): ImsOfferAnalysis {
  const session = sessionOf(offer);
  const lines = session.media.map((media, index): ImsOfferLine => {
    const codecs = isRtpKind(media.type) ? selectRelayableCodecs(media.type, codecsOf(media)) : [];
    const reason = rejectionOf(media, codecs);
    const accepted = reason === undefined;
    const ims = imsTransportOf(session, media);
    const written = directionOf(session, media);
    const summary: MediaLineSummary = {
      index,
      kind: media.type,
      mid: wicMidFor(index),
      accepted,
      ...(reason !== undefined ? { rejectReason: reason } : {}),
      direction: ims.onHold ? directionUnderHold(written) : written,
      codecs: accepted ? relayedAsIs(codecs) : [],
      ...(media.ptime !== undefined ? { ptime: Number(media.ptime) } : {}),
      ...(media.port !== 0 ? { ims } : {}),
    };
    return { media, summary, codecs: accepted ? codecs : [] };
  });
  if (!lines.some((line) => line.summary.accepted)) {
    const reasons = lines.map((line) => `m-line ${line.summary.index} (${line.summary.kind}): ${line.summary.rejectReason ?? ''}`);
    throw new SdpError(`no media line of the offer can be relayed: ${reasons.join('; ')}`, 488, 305);
  }
  return { session, lines };
}
