/**
 * Shapes shared by the IMS-ALG SDP rewrite rules. The rules are pure: SDP text and a
 * `MediaPlan` (what the media-gw allocated) in, SDP text and a per-m-line summary (what the
 * media-gw must set up) out. Nothing here performs I/O or keeps state between calls; a
 * re-INVITE/UPDATE re-offer is rewritten with the same plan and so lands on the same ports.
 */

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** RFC 4145 / RFC 5763 `a=setup` values we accept (holdconn is refused). */
export type DtlsSetup = 'active' | 'passive' | 'actpass';

export interface DtlsFingerprint {
  /** Hash function name as in the SDP, e.g. `sha-256` (RFC 8122 §5). */
  readonly algorithm: string;
  /** Upper-case colon-separated hex. */
  readonly value: string;
}

/** One RFC 8839 `a=candidate` line. */
export interface IceCandidate {
  readonly foundation: string;
  readonly component: number;
  readonly transport: string;
  readonly priority: number;
  readonly address: string;
  readonly port: number;
  readonly type: string;
  readonly relatedAddress?: string;
  readonly relatedPort?: number;
  readonly tcpType?: string;
}

/**
 * What the media-gw allocated for one m-line. Index-aligned with the m-lines of the offer being
 * rewritten; m-lines the ALG rejects (port 0) need no entry.
 */
export interface MediaLinePlan {
  /** The gateway's RTP port on the IMS leg (m= port toward IMS). */
  readonly imsPort: number;
  /** The gateway's RTCP port on the IMS leg when it is not imsPort + 1 (RFC 3605 `a=rtcp`). */
  readonly imsRtcpPort?: number;
  /** The gateway's port on the WIC leg (m= port toward the WIC; rtcp-mux, so one port). */
  readonly wicPort: number;
  /** The gateway's ICE-lite credentials on the WIC leg (R-ICE-1). */
  readonly wicIceUfrag: string;
  readonly wicIcePwd: string;
  /** The gateway's DTLS certificate fingerprint on the WIC leg (R-ALG-5). */
  readonly wicFingerprint: DtlsFingerprint;
  /**
   * The gateway's preferred DTLS role when the WIC offers `actpass` (R-ALG-1). Default
   * `passive`: the browser then starts the handshake after it has our answer, which avoids the
   * role confusion seen with Chromium (real-peers media finding 3).
   */
  readonly wicSetup?: 'active' | 'passive';
  /** The gateway's host candidates on the WIC leg (component 1 only: rtcp-mux). */
  readonly wicCandidates: readonly IceCandidate[];
  /** SSRC the gateway sends toward the WIC, announced with `a=ssrc` when set. */
  readonly wicSsrc?: number;
  /** b=AS (kbit/s) to put toward IMS when the source SDP has none (R-ALG-12). */
  readonly bandwidthKbps?: number;
}

export interface MediaPlan {
  /** The gateway's address on the IMS leg (c= and o= toward IMS). */
  readonly imsAddress: string;
  /** The gateway's address on the WIC leg (c= toward the WIC). */
  readonly wicAddress: string;
  /** o= session id and version the ALG keeps per call; bump the version on every new SDP (RFC 3264 §8). */
  readonly sessionId: string;
  readonly sessionVersion: number;
  readonly lines: readonly (MediaLinePlan | undefined)[];
  /** `a=maxptime` toward IMS when the WIC gave none (R-ALG-13). Default 120 ms. */
  readonly audioMaxptime?: number;
  /** Offer `a=rtcp-mux` toward IMS as well (RFC 5761 lets the answerer decline). Default false. */
  readonly offerRtcpMuxToIms?: boolean;
  /** `a=msid` stream id announced toward the WIC so its track lands in a stream. Default `epcscf`. */
  readonly wicStreamId?: string;
  /**
   * Keep the WIC's telephone-event in the answer toward it when IMS did not accept one (DTMF
   * interworking to SIP INFO, `media.dtmf` auto/info). Default false.
   */
  readonly keepWicTelephoneEvent?: boolean;
}

/** One codec relayed through the gateway without transcoding. */
export interface RelayedCodec {
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels?: number;
  readonly fmtp?: string;
  /** Payload type the gateway uses when sending toward the WIC (what the WIC asked to receive). */
  readonly wicPayloadType: number;
  /** Payload type the gateway uses when sending toward IMS (what IMS asked to receive). */
  readonly imsPayloadType: number;
  /**
   * A telephone-event format negotiated with the WIC only (dtmf-interworking.ts): the
   * gateway turns its events into SIP INFO and never forwards them toward IMS.
   */
  readonly interworked?: boolean;
}

/** The WIC's side of one m-line, as its SDP declares it. */
export interface WicTransport {
  readonly proto: string;
  readonly iceUfrag?: string;
  readonly icePwd?: string;
  readonly iceLite: boolean;
  readonly fingerprint?: DtlsFingerprint;
  readonly setup: DtlsSetup;
  readonly candidates: readonly IceCandidate[];
  readonly rtcpMux: boolean;
  /** SSRCs the WIC announced (werift routes inbound RTP by them, real-peers media finding 2). */
  readonly ssrcs: readonly number[];
}

/** The IMS side of one m-line, as its SDP declares it. */
export interface ImsTransport {
  readonly proto: string;
  readonly address: string;
  readonly port: number;
  /** Where IMS expects RTCP: `a=rtcp` port (address-less rtpengine form accepted), else port + 1. */
  readonly rtcpPort: number;
  readonly rtcpAddress: string;
  readonly rtcpMux: boolean;
  /** RFC 3264 §8.4 old-style hold: c= is 0.0.0.0, so nothing may be sent there. */
  readonly onHold: boolean;
}

export interface MediaLineSummary {
  readonly index: number;
  /** m= media type: audio, video, application, text, ... */
  readonly kind: string;
  /** The WIC-side mid (a=mid), kept in every SDP toward the WIC (R-SDP-4). */
  readonly mid?: string;
  /** False when the m-line goes out with port 0. */
  readonly accepted: boolean;
  readonly rejectReason?: string;
  /** Direction attribute as written by the author of the SDP that was rewritten (R-ALG-16). */
  readonly direction: MediaDirection;
  readonly codecs: readonly RelayedCodec[];
  readonly ptime?: number;
  readonly wic?: WicTransport;
  readonly ims?: ImsTransport;
  /** The gateway's DTLS role on the WIC leg, once it is decided (RFC 5763 §5). */
  readonly gatewayDtlsRole?: 'client' | 'server';
}

export interface SdpRewriteResult {
  readonly sdp: string;
  readonly lines: readonly MediaLineSummary[];
}
