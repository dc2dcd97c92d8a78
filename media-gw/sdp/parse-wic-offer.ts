/**
 * Reads an SDP offer from a WIC (a browser) and decides, per m-line, whether the gateway can
 * relay it: the ALG calls this before it allocates anything on the media-gw, so a 488 leaves
 * nothing half-allocated.
 */
import { selectRelayableCodecs, type CodecDescription } from './codec-policy.js';
import { SdpError } from './sdp-error.js';
import {
  bandwidthAsOf,
  codecsOf,
  directionOf,
  dtlsRoleOf,
  isRtpKind,
  isSecureRtpProto,
  midOf,
  sessionOf,
  setupOf,
  wicTransportOf,
  type ParsedMedia,
  type ParsedSdp,
  type SdpBody,
} from './sdp-reading.js';
import type { MediaLineSummary, RelayedCodec } from './types.js';

export interface WicOfferLine {
  readonly media: ParsedMedia;
  readonly summary: MediaLineSummary;
  /** Relayable formats in the WIC's order (empty when rejected). */
  readonly codecs: readonly CodecDescription[];
  /** The `a=setup` the gateway answers with (R-ALG-1; never actpass in an answer). */
  readonly answerSetup: 'active' | 'passive';
  readonly bandwidthKbps?: number;
}

export interface WicOfferAnalysis {
  readonly session: ParsedSdp;
  readonly lines: readonly WicOfferLine[];
}

export function relayedAsIs(codecs: readonly CodecDescription[]): RelayedCodec[] {
  return codecs.map((codec) => ({
    encoding: codec.encoding,
    clockRate: codec.clockRate,
    ...(codec.channels !== undefined ? { channels: codec.channels } : {}),
    ...(codec.fmtp !== undefined ? { fmtp: codec.fmtp } : {}),
    wicPayloadType: codec.payloadType,
    imsPayloadType: codec.payloadType,
  }));
}

/** Why an m-line of a WIC offer cannot be relayed, or undefined when it can. */
function rejectionOf(session: ParsedSdp, media: ParsedMedia, codecs: readonly CodecDescription[]): string | undefined {
  if (media.port === 0) return 'port 0 in the offer';
  if (media.type === 'application') return 'data channels are not relayed yet (R-DC-9)';
  if (!isRtpKind(media.type)) return `media type ${media.type} is not relayed`;
  if (!isSecureRtpProto(media.protocol)) return `transport ${media.protocol} is not a WebRTC SRTP profile`;
  const transport = wicTransportOf(session, media);
  if (transport.fingerprint === undefined) return 'no DTLS fingerprint (only DTLS-SRTP keying is supported)';
  if (setupOf(session, media) === undefined) return `a=setup:${String(media.setup ?? session.setup)} is not supported`;
  if (transport.iceUfrag === undefined || transport.icePwd === undefined) return 'no ICE credentials';
  // R-SDP-5: the gateway multiplexes RTP and RTCP on one port toward the WIC.
  if (!transport.rtcpMux) return 'rtcp-mux is required on the WIC leg';
  if (codecs.length === 0) return 'no codec the gateway can relay without transcoding';
  return undefined;
}

/** R-ALG-1: WIC active -> we are passive; WIC passive -> active; actpass -> our preference. */
function answerSetupFor(offered: string | undefined, preferred: 'active' | 'passive'): 'active' | 'passive' {
  if (offered === 'active') return 'passive';
  if (offered === 'passive') return 'active';
  return preferred;
}

/** @internal shared by the rewrites that need the WIC offer again. */
export function analyseWicOffer(offer: SdpBody, preferredSetup: (index: number) => 'active' | 'passive'): WicOfferAnalysis {
  const session = sessionOf(offer);
  const lines = session.media.map((media, index): WicOfferLine => {
    const codecs = isRtpKind(media.type) ? selectRelayableCodecs(media.type, codecsOf(media)) : [];
    const reason = rejectionOf(session, media, codecs);
    const mid = midOf(media);
    const answerSetup = answerSetupFor(setupOf(session, media), preferredSetup(index));
    const accepted = reason === undefined;
    const ptime = media.ptime;
    const bandwidthKbps = bandwidthAsOf(media);
    const summary: MediaLineSummary = {
      index,
      kind: media.type,
      ...(mid !== undefined ? { mid } : {}),
      accepted,
      ...(reason !== undefined ? { rejectReason: reason } : {}),
      direction: directionOf(session, media),
      codecs: accepted ? relayedAsIs(codecs) : [],
      ...(ptime !== undefined ? { ptime: Number(ptime) } : {}),
      ...(isRtpKind(media.type) ? { wic: wicTransportOf(session, media) } : {}),
      ...(accepted ? { gatewayDtlsRole: dtlsRoleOf(answerSetup) } : {}),
    };
    return { media, summary, codecs: accepted ? codecs : [], answerSetup, ...(bandwidthKbps !== undefined ? { bandwidthKbps } : {}) };
  });
  if (!lines.some((line) => line.summary.accepted)) {
    const reasons = lines.map((line) => `m-line ${line.summary.index} (${line.summary.kind}): ${line.summary.rejectReason ?? ''}`);
    throw new SdpError(`no media line of the offer can be relayed: ${reasons.join('; ')}`, 488, 305);
  }
  return { session, lines };
}

export interface ParseWicOfferOptions {
  /** The gateway's DTLS role when the WIC offers actpass (R-ALG-1). Default `passive`. */
  readonly preferredSetup?: 'active' | 'passive';
}

/**
 * The per-m-line summary of a WIC offer: what can be relayed, the WIC's ICE credentials,
 * fingerprint, setup, candidates and SSRCs, and the DTLS role the gateway will take. Throws
 * `SdpError` (488) when no m-line can be relayed, 400 when the body is not SDP.
 */
export function parseWicOffer(offer: SdpBody, options: ParseWicOfferOptions = {}): MediaLineSummary[] {
  const preferred = options.preferredSetup ?? 'passive';
  return analyseWicOffer(offer, () => preferred).lines.map((line) => line.summary);
}
