/**
 * What a media gateway does when its controller (the IMS-ALG in core/pcscf, over the rtpengine
 * "ng" protocol or in-process) asks. The shapes follow rtpengine's ng commands so that the same
 * controller drives our media-gw or a real rtpengine. SDP in, SDP out: the gateway rewrites the
 * transport lines (addresses, ports, ICE, DTLS fingerprint/setup, rtcp-mux) for the leg the SDP
 * goes to, and keeps per-call state keyed by call-id and tags.
 */
import type { ParsedSdp } from '../sdp/index.js';

export type IceMode = 'remove' | 'force' | 'default';
export type DtlsMode = 'off' | 'passive' | 'active';
export type RtcpMuxFlag = 'offer' | 'demux' | 'accept' | 'require';

export interface NgMediaOptions {
  /** The transport the rewritten SDP must use toward the party it goes to. */
  readonly transportProtocol?: 'RTP/AVP' | 'RTP/AVPF' | 'UDP/TLS/RTP/SAVP' | 'UDP/TLS/RTP/SAVPF';
  readonly ice?: IceMode;
  readonly dtls?: DtlsMode;
  /**
   * The gateway's DTLS role toward the party the SDP came FROM (rtpengine `DTLS-reverse`). In an
   * offer from a WIC it fixes the role before the answer exists: a gateway that finished ICE
   * early must not start DTLS as the client while its answer will say passive (real-peers media
   * finding 3).
   */
  readonly dtlsReverse?: 'active' | 'passive';
  readonly rtcpMux?: readonly RtcpMuxFlag[];
  /** e.g. ['origin', 'session-connection'] */
  readonly replace?: readonly string[];
  /** Two interface names: [from-side, to-side] (rtpengine `direction`). */
  readonly direction?: readonly [string, string];
  /**
   * Address to write into the SDP instead of the interface's own (what rtpengine 10.5 does with
   * `media-address`: test/interop/rtpengine-ng.test.ts).
   */
  readonly mediaAddress?: string;
  /** Extra rtpengine flags, passed through (e.g. 'trust-address', 'strict-source'). */
  readonly flags?: readonly string[];
}

export interface NgOfferRequest extends NgMediaOptions {
  readonly callId: string;
  readonly fromTag: string;
  readonly sdp: string;
}

export interface NgAnswerRequest extends NgMediaOptions {
  readonly callId: string;
  readonly fromTag: string;
  readonly toTag: string;
  readonly sdp: string;
}

export interface NgDeleteRequest {
  readonly callId: string;
  readonly fromTag?: string;
  readonly toTag?: string;
}

export interface NgQueryRequest {
  readonly callId: string;
}

export interface NgSdpResult {
  readonly sdp: string;
}

/** Per-call statistics (a subset of rtpengine's `query` result). */
export interface NgQueryResult {
  /** When the call was created, in milliseconds since the UNIX epoch (rtpengine: `created` s + `created_us`). */
  readonly created: number;
  /** One row per SIP tag (call party); `In` counts what came from that party, `Out` what went to it. */
  readonly streams: readonly {
    readonly tag: string;
    readonly packetsIn: number;
    readonly packetsOut: number;
    readonly bytesIn: number;
    readonly bytesOut: number;
    /** Milliseconds since the UNIX epoch; absent until a packet arrived from the party. */
    readonly lastPacketAt?: number;
  }[];
}

/**
 * The gateway side of the ng protocol. Each method rejects with an EpcError('EPC_ERR_MEDIA')
 * whose message becomes rtpengine's `error-reason`.
 */
export interface MediaGatewayControl {
  /**
   * `parsed`: the offer's `sdp` as the caller already read it (media-gw/sdp `parseSdp`), handed
   * over in-process so the offer is parsed once (structure-next §2); it never goes on the wire,
   * and a gateway without it parses `sdp` itself.
   */
  offer(request: NgOfferRequest, parsed?: ParsedSdp): Promise<NgSdpResult>;
  answer(request: NgAnswerRequest): Promise<NgSdpResult>;
  delete(request: NgDeleteRequest): Promise<void>;
  query(request: NgQueryRequest): Promise<NgQueryResult>;
}
