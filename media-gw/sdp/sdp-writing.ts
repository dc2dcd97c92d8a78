/**
 * Building the SDP the gateway presents to each side. Every section is assembled from scratch
 * (a whitelist), never by deleting lines from the input: an attribute a browser invents next
 * year cannot leak into the IMS network, and nothing IMS-only (preconditions, AMR fmtp,
 * capability negotiation) reaches the browser. sdp-transform writes the text.
 */
import sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import type { CodecDescription } from './codec-policy.js';
import type { DtlsSetup, MediaDirection, MediaLinePlan, MediaPlan } from './types.js';

export function ipVersionOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

/** v=/o=/s=/t= for an SDP the gateway authors (RFC 8866 §5). */
export function sessionHeader(plan: MediaPlan, address: string): SessionDescription {
  return {
    version: 0,
    origin: {
      username: '-',
      sessionId: plan.sessionId,
      sessionVersion: plan.sessionVersion,
      netType: 'IN',
      ipVer: ipVersionOf(address),
      address,
    },
    name: '-',
    timing: { start: 0, stop: 0 },
    media: [],
  };
}

export function writeSdp(session: SessionDescription): string {
  return sdpTransform.write(session);
}

function rtpmapAndFmtp(codecs: readonly CodecDescription[]): Pick<MediaDescription, 'rtp' | 'fmtp'> {
  return {
    rtp: codecs.map((codec) => ({
      payload: codec.payloadType,
      codec: codec.encoding,
      rate: codec.clockRate,
      ...(codec.channels !== undefined && codec.channels !== 1 ? { encoding: codec.channels } : {}),
    })),
    fmtp: codecs.filter((codec) => codec.fmtp !== undefined).map((codec) => ({ payload: codec.payloadType, config: codec.fmtp ?? '' })),
  };
}

/**
 * A rejected m-line: port 0, the original proto and its first format (RFC 3264 §6: a rejected
 * stream keeps its m-line so the positions of the others do not move, R-ALG-17). The WIC side
 * keeps the mid (JSEP requires it in every answer section) and a c= line.
 */
export function rejectedSection(kind: string, proto: string, formats: string, mid?: string, withConnection = false): MediaDescription {
  const first = formats.trim().split(/\s+/)[0] ?? '';
  return {
    type: kind,
    port: 0,
    protocol: proto,
    payloads: first === '' ? '0' : first,
    rtp: [],
    fmtp: [],
    ...(withConnection ? { connection: { version: 4, ip: '0.0.0.0' } } : {}),
    ...(mid !== undefined ? { mid } : {}),
  };
}

export interface ImsSectionInput {
  readonly kind: string;
  readonly proto: string;
  readonly port: number;
  readonly rtcpPort?: number;
  readonly direction: MediaDirection;
  readonly codecs: readonly CodecDescription[];
  readonly bandwidthKbps: number;
  readonly ptime?: number;
  readonly maxptime?: number;
  readonly rtcpMux: boolean;
  /** Extra attribute lines without `a=` (preconditions). */
  readonly extraAttributes?: readonly string[];
}

/** An m-line toward IMS: plain RTP, our IMS-leg port, relayable codecs only, b=AS present (R-ALG-8/9/12/13). */
export function imsSection(input: ImsSectionInput): MediaDescription {
  const section: MediaDescription = {
    type: input.kind,
    port: input.port,
    protocol: input.proto,
    payloads: input.codecs.map((codec) => codec.payloadType).join(' '),
    bandwidth: [{ type: 'AS', limit: input.bandwidthKbps }],
    ...rtpmapAndFmtp(input.codecs),
    direction: input.direction,
  };
  // RFC 3605: only signal RTCP when it is not on the default port + 1.
  if (input.rtcpPort !== undefined && input.rtcpPort !== input.port + 1 && !input.rtcpMux) section.rtcp = { port: input.rtcpPort };
  if (input.ptime !== undefined) section.ptime = input.ptime;
  if (input.maxptime !== undefined) section.maxptime = input.maxptime;
  if (input.rtcpMux) section.rtcpMux = 'rtcp-mux';
  if (input.extraAttributes !== undefined && input.extraAttributes.length > 0) {
    section.invalid = input.extraAttributes.map((value) => ({ value }));
  }
  return section;
}

export interface WicSectionInput {
  readonly index: number;
  readonly kind: string;
  readonly proto: string;
  readonly mid: string;
  readonly direction: MediaDirection;
  readonly codecs: readonly CodecDescription[];
  readonly setup: DtlsSetup;
  readonly address: string;
  readonly line: MediaLinePlan;
  readonly streamId: string;
  readonly bandwidthKbps?: number;
  readonly ptime?: number;
  readonly maxptime?: number;
}

/**
 * An m-line toward the WIC: the proto the WIC uses, the gateway's ICE-lite credentials and
 * host candidates (R-ICE-1), its fingerprint and DTLS role (R-ALG-5/6), rtcp-mux always
 * (R-SDP-5), the WIC's mid (R-SDP-4), no BUNDLE (R-ALG-10).
 */
export function wicSection(input: WicSectionInput): MediaDescription {
  const { line } = input;
  const section: MediaDescription = {
    type: input.kind,
    port: input.line.wicPort,
    protocol: input.proto,
    payloads: input.codecs.map((codec) => codec.payloadType).join(' '),
    connection: { version: ipVersionOf(input.address), ip: input.address },
    ...rtpmapAndFmtp(input.codecs),
    setup: input.setup,
    mid: input.mid,
    // Without a stream id Chromium hands the track over with no MediaStream (JSEP §5.2.1 a=msid).
    msid: [{ id: input.streamId, appdata: `${input.kind}-${input.index}` }],
    direction: input.direction,
    iceUfrag: line.wicIceUfrag,
    icePwd: line.wicIcePwd,
    fingerprint: { type: line.wicFingerprint.algorithm, hash: line.wicFingerprint.value },
    candidates: line.wicCandidates.map((candidate) => ({
      foundation: candidate.foundation,
      component: candidate.component,
      transport: candidate.transport,
      priority: candidate.priority,
      ip: candidate.address,
      port: candidate.port,
      type: candidate.type,
      ...(candidate.relatedAddress !== undefined ? { raddr: candidate.relatedAddress } : {}),
      ...(candidate.relatedPort !== undefined ? { rport: candidate.relatedPort } : {}),
      ...(candidate.tcpType !== undefined ? { tcptype: candidate.tcpType } : {}),
    })),
    // ICE-lite: every candidate is known up front (RFC 8838 §4.4 end-of-candidates).
    endOfCandidates: 'end-of-candidates',
    rtcpMux: 'rtcp-mux',
  };
  if (input.bandwidthKbps !== undefined) section.bandwidth = [{ type: 'AS', limit: input.bandwidthKbps }];
  if (input.ptime !== undefined) section.ptime = input.ptime;
  if (input.maxptime !== undefined) section.maxptime = input.maxptime;
  if (line.wicSsrc !== undefined) section.ssrcs = [{ id: line.wicSsrc, attribute: 'cname', value: input.streamId }];
  return section;
}

/** Session-level lines toward the WIC: the gateway is an ICE-lite agent (R-AGW-1, RFC 8445 §2.5). */
export function wicSessionHeader(plan: MediaPlan): SessionDescription {
  return { ...sessionHeader(plan, plan.wicAddress), icelite: 'ice-lite', msidSemantic: { semantic: 'WMS', token: plan.wicStreamId ?? 'epcscf' } };
}

/** Session-level lines toward IMS: c= with the gateway's IMS-leg address (R-ALG-8). */
export function imsSessionHeader(plan: MediaPlan): SessionDescription {
  return { ...sessionHeader(plan, plan.imsAddress), connection: { version: ipVersionOf(plan.imsAddress), ip: plan.imsAddress } };
}

/** Default b=AS (kbit/s) per kind: G.711 at 20 ms plus IP/UDP/RTP overhead is 80; video a modest 2 Mbit/s [D]. */
export function defaultBandwidthKbps(kind: string): number {
  return kind === 'video' ? 2000 : 80;
}
