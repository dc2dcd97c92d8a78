/**
 * <transport/> ⇄ the transport lines of one m-line:
 *  - ICE-UDP (XEP-0176): ufrag/pwd ⇄ a=ice-ufrag/a=ice-pwd, candidates ⇄ a=candidate;
 *  - DTLS (XEP-0320): <fingerprint hash setup> ⇄ a=fingerprint + a=setup;
 *  - SCTP (XEP-0343): <sctpmap number protocol streams> ⇄ a=sctp-port (RFC 8841);
 *  - RAW-UDP (XEP-0177) for plain RTP without ICE: the component-1/2 candidates are the m=/c=
 *    address and the RTCP port.
 */
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { childOf, childrenOf, xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { candidateToSdp, defaultCandidateOf, sdpToCandidate, type SdpCandidate } from './candidates.js';
import { JingleMappingError } from './mapping-error.js';
import { sdpToken } from './sdp-safety.js';

export const RAW_UDP_NS = 'urn:xmpp:jingle:transports:raw-udp:1';

export interface TransportFields {
  readonly port: number;
  readonly connection: { version: number; ip: string };
  readonly iceUfrag?: string;
  readonly icePwd?: string;
  readonly candidates?: SdpCandidate[];
  readonly fingerprint?: { type: string; hash: string };
  readonly setup?: string;
  readonly sctpPort?: number;
  readonly rtcp?: { port: number; netType: string; ipVer: number; address: string };
}

const ipVersionOf = (ip: string): number => (ip.includes(':') ? 6 : 4);

function fingerprintOf(transport: XmlElement): Pick<TransportFields, 'fingerprint' | 'setup'> {
  const fingerprint = childOf(transport, 'fingerprint', NS.dtls);
  if (fingerprint === undefined) return {};
  const hash = fingerprint.attrs.hash;
  const value = fingerprint.text.trim();
  if (!hash || value === '') throw new JingleMappingError('fingerprint needs a hash and a value');
  return {
    fingerprint: { type: sdpToken(hash, 'fingerprint hash'), hash: sdpToken(value, 'fingerprint') },
    ...(fingerprint.attrs.setup ? { setup: sdpToken(fingerprint.attrs.setup, 'fingerprint setup') } : {}),
  };
}

export function transportToMedia(transport: XmlElement): TransportFields {
  if (transport.ns === RAW_UDP_NS) {
    const candidates = childrenOf(transport, 'candidate', RAW_UDP_NS);
    const rtp = candidates.find((c) => c.attrs.component === '1');
    const rtcp = candidates.find((c) => c.attrs.component === '2');
    if (rtp?.attrs.ip === undefined || rtp.attrs.port === undefined) throw new JingleMappingError('raw-udp transport without a component 1 candidate');
    const ip = sdpToken(rtp.attrs.ip, 'raw-udp candidate ip');
    return {
      port: Number(rtp.attrs.port),
      connection: { version: ipVersionOf(ip), ip },
      ...(rtcp?.attrs.port !== undefined && rtcp.attrs.ip !== undefined
        ? { rtcp: { port: Number(rtcp.attrs.port), netType: 'IN', ipVer: ipVersionOf(rtcp.attrs.ip), address: sdpToken(rtcp.attrs.ip, 'raw-udp candidate ip') } } : {}),
    };
  }
  if (transport.ns !== NS.iceUdp) throw new JingleMappingError(`transport ${transport.ns} is not supported (ICE-UDP or RAW-UDP only)`);
  const candidates = childrenOf(transport, 'candidate', NS.iceUdp).map(candidateToSdp);
  const chosen = defaultCandidateOf(candidates);
  const sctpmap = childOf(transport, 'sctpmap', NS.sctp);
  const sctpPort = sctpmap === undefined ? undefined : Number(sctpmap.attrs.number);
  if (sctpPort !== undefined && (!Number.isInteger(sctpPort) || sctpPort < 1 || sctpPort > 65535)) throw new JingleMappingError('sctpmap number');
  return {
    port: chosen?.port ?? 9,
    connection: chosen === undefined ? { version: 4, ip: '0.0.0.0' } : { version: ipVersionOf(chosen.ip), ip: chosen.ip },
    ...(transport.attrs.ufrag !== undefined ? { iceUfrag: sdpToken(transport.attrs.ufrag, 'ice ufrag') } : {}),
    ...(transport.attrs.pwd !== undefined ? { icePwd: sdpToken(transport.attrs.pwd, 'ice pwd') } : {}),
    ...(candidates.length > 0 ? { candidates } : {}),
    ...fingerprintOf(transport),
    ...(sctpPort !== undefined ? { sctpPort } : {}),
  };
}

/** sdp-transform reads numeric-looking tokens as numbers (a=ice-ufrag:1234 -> 1234). */
const text = (value: string | number | undefined): string | undefined => (value === undefined ? undefined : String(value));

/** The transport of one m-line, with the session-level ICE/DTLS values it inherits (RFC 8839 §5.4, RFC 8122 §5). */
export function mediaToTransport(session: SessionDescription, media: MediaDescription): XmlElement {
  const ufrag = text(media.iceUfrag ?? session.iceUfrag);
  const pwd = text(media.icePwd ?? session.icePwd);
  if (ufrag === undefined || pwd === undefined) {
    // Plain RTP: XEP-0177 RAW-UDP with the m=/c= address (and RFC 3605 a=rtcp or port + 1).
    const ip = (media.connection ?? session.connection)?.ip;
    if (ip === undefined) throw new JingleMappingError('m-line without ICE credentials and without c= address');
    const rtcpPort = media.rtcp?.port ?? media.port + 1;
    const candidates = [xmlElement('candidate', RAW_UDP_NS, { component: 1, generation: 0, id: `${text(media.mid) ?? 'm'}-1`, ip, port: media.port })];
    if (media.rtcpMux === undefined) {
      candidates.push(xmlElement('candidate', RAW_UDP_NS, { component: 2, generation: 0, id: `${text(media.mid) ?? 'm'}-2`, ip: media.rtcp?.address ?? ip, port: rtcpPort }));
    }
    return xmlElement('transport', RAW_UDP_NS, {}, candidates);
  }
  const children: XmlElement[] = [];
  const fingerprint = media.fingerprint ?? session.fingerprint;
  const setup = media.setup ?? session.setup;
  if (fingerprint !== undefined) {
    children.push(xmlElement('fingerprint', NS.dtls, { hash: fingerprint.type.toLowerCase(), setup }, [], fingerprint.hash));
  }
  const sctpPort = media.sctpPort ?? media.sctpmap?.sctpmapNumber;
  if (media.type === 'application' && sctpPort !== undefined) {
    children.push(xmlElement('sctpmap', NS.sctp, { number: sctpPort, protocol: 'webrtc-datachannel', streams: 1024 }));
  }
  for (const candidate of media.candidates ?? []) children.push(sdpToCandidate(candidate));
  return xmlElement('transport', NS.iceUdp, { ufrag, pwd }, children);
}
