/**
 * Test-only SDP glue between a browser offer and one gateway WebRTC leg. The real rewrite lives
 * in the IMS-ALG (core/pcscf/alg) and the ng layer; tests of the data plane only need the few
 * lines a browser requires: ICE-lite credentials and host candidate, fingerprint, setup, rtcp-mux,
 * and the SSRC we send (werift routes inbound RTP only by announced SSRCs).
 */
import type { DtlsFingerprint } from '../../../media-gw/webrtc/certificate.js';
import type { IceCredentials, TransportAddress } from '../../../media-gw/webrtc/ice-lite-agent.js';

export interface BrowserOfferFacts {
  readonly ice: IceCredentials;
  readonly fingerprints: DtlsFingerprint[];
  readonly setup: string;
  readonly mid: string;
}

export function readOffer(sdp: string): BrowserOfferFacts {
  const line = (prefix: string): string | undefined =>
    sdp.split(/\r?\n/).find((l) => l.startsWith(prefix))?.slice(prefix.length).trim();
  const fingerprints = sdp.split(/\r?\n/).filter((l) => l.startsWith('a=fingerprint:')).map((l) => {
    const [algorithm = '', value = ''] = l.slice('a=fingerprint:'.length).trim().split(/\s+/);
    return { algorithm, value };
  });
  return {
    ice: { ufrag: line('a=ice-ufrag:') ?? '', pwd: line('a=ice-pwd:') ?? '' },
    fingerprints,
    setup: line('a=setup:') ?? 'actpass',
    mid: line('a=mid:') ?? '0',
  };
}

export interface GatewayAnswerParams {
  readonly address: TransportAddress;
  readonly ice: IceCredentials;
  readonly fingerprint: DtlsFingerprint;
  /** Our a=setup: 'passive' (we are DTLS server) or 'active' (client). */
  readonly setup: 'active' | 'passive' | 'actpass';
  readonly mid: string;
  readonly ssrc: number;
  readonly payloadType?: number;
  readonly codec?: string;
}

export function gatewayAnswer(p: GatewayAnswerParams): string {
  const pt = p.payloadType ?? 0;
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=ice-lite',
    `m=audio ${p.address.port} UDP/TLS/RTP/SAVPF ${pt}`,
    `c=IN IP4 ${p.address.address}`,
    `a=mid:${p.mid}`,
    `a=ice-ufrag:${p.ice.ufrag}`,
    `a=ice-pwd:${p.ice.pwd}`,
    `a=fingerprint:${p.fingerprint.algorithm} ${p.fingerprint.value}`,
    `a=setup:${p.setup}`,
    'a=rtcp-mux',
    'a=sendrecv',
    `a=rtpmap:${pt} ${p.codec ?? 'PCMU/8000'}`,
    `a=ssrc:${p.ssrc} cname:epcscf-media-gw`,
    `a=candidate:1 1 udp 2130706431 ${p.address.address} ${p.address.port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}
