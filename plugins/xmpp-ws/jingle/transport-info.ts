/**
 * Trickle ICE over Jingle (XEP-0176 §5.3, XEP-0166 transport-info): the candidates a
 * transport-info carries, per content, as SDP candidate attribute values (what RTCIceCandidate
 * and the media gateway take), and the way back.
 */
import sdpTransform from 'sdp-transform';
import { childrenOf, xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { candidateToSdp, sdpToCandidate, type SdpCandidate } from './candidates.js';
import { JingleMappingError } from './mapping-error.js';
import type { JingleRole } from './senders.js';

export interface TrickledCandidates {
  /** The content (= SDP mid) the candidates belong to. */
  readonly contentName: string;
  readonly ufrag: string | undefined;
  /** `candidate:...` attribute values (RFC 8839 §5.1 syntax, without the `a=`). */
  readonly candidates: readonly string[];
}

/** RFC 8839 §5.1 candidate-attribute. */
export function candidateAttribute(candidate: SdpCandidate): string {
  let line = `candidate:${candidate.foundation} ${candidate.component} ${candidate.transport} ${candidate.priority} ${candidate.ip} ${candidate.port} typ ${candidate.type}`;
  if (candidate.raddr !== undefined) line += ` raddr ${candidate.raddr}`;
  if (candidate.rport !== undefined) line += ` rport ${candidate.rport}`;
  if (candidate.tcptype !== undefined) line += ` tcptype ${candidate.tcptype}`;
  if (candidate.generation !== undefined) line += ` generation ${candidate.generation}`;
  if (candidate['network-id'] !== undefined) line += ` network-id ${candidate['network-id']}`;
  return line;
}

export function transportInfoCandidates(jingle: XmlElement): TrickledCandidates[] {
  if (jingle.attrs.action !== 'transport-info') throw new JingleMappingError(`action ${jingle.attrs.action ?? '(none)'} is not transport-info`);
  return childrenOf(jingle, 'content').map((content) => {
    const name = content.attrs.name;
    if (!name) throw new JingleMappingError('transport-info content without name');
    const transport = childrenOf(content, 'transport', NS.iceUdp)[0];
    if (transport === undefined) throw new JingleMappingError(`transport-info content ${name} has no ICE-UDP transport`);
    return {
      contentName: name,
      ufrag: transport.attrs.ufrag,
      candidates: childrenOf(transport, 'candidate', NS.iceUdp).map((candidate) => candidateAttribute(candidateToSdp(candidate))),
    };
  });
}

/** Reads one `candidate:...` value (with or without `a=`) through sdp-transform's grammar. */
export function parseCandidateAttribute(value: string): SdpCandidate {
  const line = value.startsWith('a=') ? value : `a=${value}`;
  const media = sdpTransform.parse(`v=0\r\nm=audio 9 RTP/AVP 0\r\n${line}\r\n`).media[0];
  const candidate = media?.candidates?.[0];
  if (candidate === undefined) throw new JingleMappingError('not an ICE candidate attribute');
  return candidate;
}

export interface TrickleOut {
  readonly sid: string;
  readonly contentName: string;
  readonly creator?: JingleRole;
  readonly ufrag: string;
  readonly pwd?: string;
  readonly candidates: readonly string[];
}

/** A transport-info carrying `candidates` for one content (XEP-0176 §5.3: ufrag always present). */
export function candidatesToTransportInfo(trickle: TrickleOut): XmlElement {
  const candidates = trickle.candidates.map((value) => sdpToCandidate(parseCandidateAttribute(value)));
  const transport = xmlElement('transport', NS.iceUdp, { ufrag: trickle.ufrag, pwd: trickle.pwd }, candidates);
  const content = xmlElement('content', NS.jingle, { creator: trickle.creator ?? 'initiator', name: trickle.contentName }, [transport]);
  return xmlElement('jingle', NS.jingle, { action: 'transport-info', sid: trickle.sid }, [content]);
}
