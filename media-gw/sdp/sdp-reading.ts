/**
 * Reading SDP with sdp-transform, plus the inheritance rules sdp-transform leaves to us:
 * session-level c=, direction, ICE credentials, fingerprint and setup apply to every m-line that
 * does not override them (RFC 8866 §5.7/§6.7, RFC 8839 §5.4, RFC 8122 §5).
 */
import sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { staticPayloadType, type CodecDescription } from './codec-policy.js';
import { SdpError } from './sdp-error.js';
import type { DtlsFingerprint, DtlsSetup, IceCandidate, ImsTransport, MediaDirection, WicTransport } from './types.js';

declare const readByParseSdp: unique symbol;

/** An SDP body as `parseSdp` read it (checked: it is SDP, with at least one m-line). The rules only read it. */
export type ParsedSdp = SessionDescription & { readonly [readByParseSdp]: true };
export type ParsedMedia = MediaDescription;

/**
 * What the rules take: the SDP text, or the same body parsed already. An offer is parsed once on
 * its way through the IMS-ALG and an in-process gateway (structure-next §2): the ALG's policy
 * check parses it, the gateway rewrites from that parse and answers against it.
 */
export type SdpBody = string | ParsedSdp;

/**
 * Parses an SDP body; 400 when it is not SDP, 488 when it has no m-line to relay. Every parse of
 * the rules goes through the one `sdpTransform.parse` call here (test/unit/media-gw/sdp-parsed-once
 * counts them).
 */
export function parseSdp(text: string): ParsedSdp {
  if (!/^v=0\r?$/m.test(text) || !/^o=/m.test(text)) throw new SdpError('body is not an SDP session description', 400, 399);
  const session = sdpTransform.parse(text);
  if (session.media.length === 0) throw new SdpError('SDP has no media line', 488, 304);
  return session as ParsedSdp;
}

/** The parsed form of a body: parsed now when it came as text. */
export function sessionOf(body: SdpBody): ParsedSdp {
  return typeof body === 'string' ? parseSdp(body) : body;
}

/** sdp-transform turns numeric-looking tokens into numbers (`a=mid:0` -> 0); we want text. */
function text(value: string | number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

export function midOf(media: ParsedMedia): string | undefined {
  return text(media.mid as string | number | undefined);
}

export function directionOf(session: ParsedSdp, media: ParsedMedia): MediaDirection {
  return media.direction ?? session.direction ?? 'sendrecv';
}

export function connectionAddressOf(session: ParsedSdp, media: ParsedMedia): string | undefined {
  return (media.connection ?? session.connection)?.ip;
}

/** RFC 3264 §8.4: c=0.0.0.0 (or IPv6 ::) is the RFC 2543 way of putting a stream on hold. */
export function isHoldAddress(address: string | undefined): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** The payload formats of an m-line in m= order, with their rtpmap (or RFC 3551 static mapping) and fmtp. */
export function codecsOf(media: ParsedMedia): CodecDescription[] {
  const formats = String(media.payloads ?? '').trim();
  if (formats === '') return [];
  const codecs: CodecDescription[] = [];
  for (const token of formats.split(/\s+/)) {
    const payloadType = Number(token);
    if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) continue;
    const rtpmap = media.rtp.find((entry) => entry.payload === payloadType);
    const fmtp = media.fmtp.find((entry) => entry.payload === payloadType)?.config;
    const base = rtpmap !== undefined
      ? { encoding: String(rtpmap.codec), clockRate: rtpmap.rate ?? 0, channels: rtpmap.encoding }
      : { ...(staticPayloadType(payloadType) ?? { encoding: '', clockRate: 0 }), channels: undefined };
    codecs.push({
      payloadType,
      encoding: base.encoding,
      clockRate: base.clockRate,
      ...(base.channels !== undefined ? { channels: Number(base.channels) } : {}),
      ...(fmtp !== undefined ? { fmtp: String(fmtp) } : {}),
    });
  }
  return codecs;
}

function fingerprintOf(session: ParsedSdp, media: ParsedMedia): DtlsFingerprint | undefined {
  const fingerprint = media.fingerprint ?? session.fingerprint;
  // sdp-transform turns a value that looks numeric into a number (`a=fingerprint:sha-256 7`): read both as text.
  return fingerprint === undefined ? undefined : { algorithm: String(fingerprint.type).toLowerCase(), value: String(fingerprint.hash).toUpperCase() };
}

/**
 * RFC 4145 §4: an absent `a=setup` means `active`. Returns undefined for values we cannot use
 * (holdconn, garbage).
 */
export function setupOf(session: ParsedSdp, media: ParsedMedia): DtlsSetup | undefined {
  const setup = String(media.setup ?? session.setup ?? 'active').toLowerCase(); // `a=setup:1` parses as a number
  return setup === 'active' || setup === 'passive' || setup === 'actpass' ? setup : undefined;
}

function candidatesOf(media: ParsedMedia): IceCandidate[] {
  return (media.candidates ?? []).map((candidate) => ({
    foundation: String(candidate.foundation),
    component: candidate.component,
    transport: String(candidate.transport),
    priority: candidate.priority,
    address: String(candidate.ip),
    port: candidate.port,
    type: candidate.type,
    ...(candidate.raddr !== undefined ? { relatedAddress: String(candidate.raddr) } : {}),
    ...(candidate.rport !== undefined ? { relatedPort: candidate.rport } : {}),
    ...(candidate.tcptype !== undefined ? { tcpType: candidate.tcptype } : {}),
  }));
}

/** The WIC's transport parameters for one m-line (ICE, DTLS, rtcp-mux, SSRCs). */
export function wicTransportOf(session: ParsedSdp, media: ParsedMedia): WicTransport {
  const iceUfrag = text(media.iceUfrag ?? session.iceUfrag);
  const icePwd = text(media.icePwd ?? session.icePwd);
  const fingerprint = fingerprintOf(session, media);
  const ssrcs = [...new Set((media.ssrcs ?? []).map((ssrc) => Number(ssrc.id)))];
  return {
    proto: media.protocol,
    ...(iceUfrag !== undefined ? { iceUfrag } : {}),
    ...(icePwd !== undefined ? { icePwd } : {}),
    iceLite: session.icelite !== undefined,
    ...(fingerprint !== undefined ? { fingerprint } : {}),
    setup: setupOf(session, media) ?? 'active',
    candidates: candidatesOf(media),
    rtcpMux: media.rtcpMux !== undefined,
    ssrcs,
  };
}

/**
 * The IMS peer's transport for one m-line. RTCP goes where `a=rtcp` says (RFC 3605; the
 * address-less `a=rtcp:<port>` form rtpengine writes is accepted, real-peers media finding 1),
 * else to port + 1 (RFC 3550 §11).
 */
export function imsTransportOf(session: ParsedSdp, media: ParsedMedia): ImsTransport {
  const address = connectionAddressOf(session, media) ?? '0.0.0.0';
  const rtcpMux = media.rtcpMux !== undefined;
  return {
    proto: media.protocol,
    address,
    port: media.port,
    rtcpPort: rtcpMux ? media.port : media.rtcp?.port ?? media.port + 1,
    rtcpAddress: media.rtcp?.address !== undefined && !rtcpMux ? String(media.rtcp.address) : address,
    rtcpMux,
    onHold: isHoldAddress(address),
  };
}

/** Attribute lines sdp-transform has no grammar for (`a=curr:`, `a=des:`, ...), without `a=`. */
export function unparsedAttributesOf(media: ParsedMedia): string[] {
  return (media.invalid ?? []).map((line) => line.value);
}

export function bandwidthAsOf(media: ParsedMedia): number | undefined {
  return media.bandwidth?.find((entry) => entry.type === 'AS')?.limit;
}

/** True for the SRTP profiles a WebRTC leg may use (RFC 5764 §8, RFC 8827 §6.5). */
export function isSecureRtpProto(proto: string): boolean {
  const upper = proto.toUpperCase();
  return upper === 'UDP/TLS/RTP/SAVPF' || upper === 'UDP/TLS/RTP/SAVP' || upper === 'RTP/SAVPF' || upper === 'RTP/SAVP';
}

/** True for the plain RTP profiles the IMS leg speaks (R-ALG-4). */
export function isPlainRtpProto(proto: string): boolean {
  const upper = proto.toUpperCase();
  return upper === 'RTP/AVP' || upper === 'RTP/AVPF';
}

export function isRtpKind(kind: string): boolean {
  return kind === 'audio' || kind === 'video';
}

/**
 * RFC 3264 §8.4: an old-style hold (c=0.0.0.0) means "do not send to me", so a sendrecv stream
 * is in effect sendonly and a recvonly one inactive. Toward the WIC the direction attribute has
 * to say so, because the WIC side of the gateway has a real address.
 */
export function directionUnderHold(direction: MediaDirection): MediaDirection {
  if (direction === 'sendrecv') return 'sendonly';
  if (direction === 'recvonly') return 'inactive';
  return direction;
}

/** RFC 5763 §5: `active` initiates the DTLS handshake, i.e. is the DTLS client. */
export function dtlsRoleOf(setup: 'active' | 'passive'): 'client' | 'server' {
  return setup === 'active' ? 'client' : 'server';
}
