/**
 * A <jingle/> session-initiate/-accept (or content-add) -> SDP, following the "Mapping to SDP"
 * sections of XEP-0166/0167/0176/0320/0293/0294/0338/0339/0343 (spec-digest §10.5).
 */
import sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { childOf, childrenOf, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { JingleMappingError } from './mapping-error.js';
import { payloadTypesToMedia } from './payload-types.js';
import { extrasToMedia } from './rtp-extras.js';
import { isJingleSenders, sendersToDirection, type JingleRole } from './senders.js';
import { assertNoLineBreaks, sdpToken } from './sdp-safety.js';
import { transportToMedia } from './transport.js';

export interface JingleToSdpOptions {
  /** R-JMAP-2: the session role of the party whose description this is. */
  readonly role: JingleRole;
  /** o= session id and version (RFC 8866 §5.2); the caller keeps them stable across re-offers. */
  readonly sessionId?: string;
  readonly sessionVersion?: number;
}

/**
 * F-JRTP-2: DTLS (a fingerprint) is the WebRTC profile UDP/TLS/RTP/SAVPF; SDES crypto is
 * RTP/SAVP; otherwise RTP/AVP. The F (RFC 4585 feedback) variant when the description has
 * rtcp-fb (XEP-0293) or rides ICE-UDP (a WebRTC endpoint, RFC 8834 §5.1).
 */
function rtpProfile(fingerprint: boolean, crypto: boolean, feedback: boolean): string {
  if (fingerprint) return 'UDP/TLS/RTP/SAVPF';
  return `${crypto ? 'RTP/SAVP' : 'RTP/AVP'}${feedback ? 'F' : ''}`;
}

function contentToMedia(content: XmlElement, role: JingleRole): MediaDescription {
  const name = content.attrs.name;
  if (!name) throw new JingleMappingError('content without name');
  // RFC 5888 §4: the mid is a token.
  sdpToken(name, 'content name');
  const senders = content.attrs.senders ?? 'both';
  if (!isJingleSenders(senders)) throw new JingleMappingError(`content ${name}: senders ${senders}`);
  const transportElement = content.children.find((child) => child.name === 'transport');
  if (transportElement === undefined) throw new JingleMappingError(`content ${name} has no transport`);
  const transport = transportToMedia(transportElement);
  const direction = sendersToDirection(senders, role);

  if (transport.sctpPort !== undefined) {
    // XEP-0343 / RFC 8841: a data channel m-line.
    return { type: 'application', protocol: 'UDP/DTLS/SCTP', payloads: 'webrtc-datachannel', rtp: [], fmtp: [], mid: name, direction, ...transport };
  }
  const description = childOf(content, 'description', NS.jingleRtp);
  if (description === undefined) throw new JingleMappingError(`content ${name}: no RTP description (XEP-0167) and no SCTP transport`);
  const type = description.attrs.media;
  if (!type) throw new JingleMappingError(`content ${name}: description without media`);
  sdpToken(type, 'description media');
  const payloads = payloadTypesToMedia(description, type);
  const extras = extrasToMedia(description, role);
  const feedback = (payloads.rtcpFb?.length ?? 0) + (payloads.rtcpFbTrrInt?.length ?? 0) > 0 || transportElement.ns === NS.iceUdp;
  return {
    type,
    protocol: rtpProfile(transport.fingerprint !== undefined, extras.crypto !== undefined, feedback),
    ...payloads,
    ...extras,
    mid: name,
    direction,
    ...transport,
  };
}

export function jingleToSessionDescription(jingle: XmlElement, options: JingleToSdpOptions): SessionDescription {
  // Contents are matched by local name: XEP examples use old or no namespaces on <content/>.
  const contents = childrenOf(jingle, 'content');
  if (contents.length === 0) throw new JingleMappingError('no content to describe');
  const groups = childrenOf(jingle, 'group', NS.grouping).map((group) => {
    const mids = childrenOf(group, 'content').map((content) => content.attrs.name ?? '');
    if (!group.attrs.semantics || mids.length === 0 || mids.includes('')) throw new JingleMappingError('group needs semantics and named contents');
    sdpToken(group.attrs.semantics, 'group semantics');
    for (const mid of mids) sdpToken(mid, 'group content');
    return { type: group.attrs.semantics, mids: mids.join(' ') };
  });
  return {
    version: 0,
    origin: {
      username: '-', sessionId: options.sessionId ?? '0', sessionVersion: options.sessionVersion ?? 0,
      netType: 'IN', ipVer: 4, address: '0.0.0.0',
    },
    name: '-',
    timing: { start: 0, stop: 0 },
    ...(groups.length > 0 ? { groups } : {}),
    media: contents.map((content) => contentToMedia(content, options.role)),
  };
}

export function jingleToSdp(jingle: XmlElement, options: JingleToSdpOptions): string {
  const session = jingleToSessionDescription(jingle, options);
  assertNoLineBreaks(session);
  return sdpTransform.write(session);
}
