/**
 * XEP-0176 §"Mapping to SDP" (table in test/fixtures/jingle/xep/xep0176-candidate-sdp-mapping.tsv):
 * <candidate/> ⇄ a=candidate. `network` maps to the `network-id` extension browsers write;
 * `id` has no SDP counterpart and is generated when going the other way.
 */
import { randomBytes } from 'node:crypto';
import type { MediaDescription } from 'sdp-transform';
import { xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { JingleMappingError } from './mapping-error.js';
import { sdpToken } from './sdp-safety.js';

export type SdpCandidate = NonNullable<MediaDescription['candidates']>[number];

const CANDIDATE_TYPES = new Set(['host', 'srflx', 'prflx', 'relay']);

function required(candidate: XmlElement, name: string): string {
  const value = candidate.attrs[name];
  if (value === undefined || value === '') throw new JingleMappingError(`candidate without ${name}`);
  return sdpToken(value, `candidate ${name}`);
}

function numberIn(value: string, name: string, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > max) throw new JingleMappingError(`candidate ${name} ${value}`);
  return number;
}

export function candidateToSdp(candidate: XmlElement): SdpCandidate {
  const type = required(candidate, 'type');
  if (!CANDIDATE_TYPES.has(type)) throw new JingleMappingError(`candidate type ${type}`);
  const optional = (name: string, max: number): number | undefined =>
    candidate.attrs[name] === undefined ? undefined : numberIn(candidate.attrs[name] ?? '', name, max);
  const relatedPort = optional('rel-port', 65535);
  const generation = optional('generation', 2 ** 32);
  const network = optional('network', 2 ** 32);
  return {
    foundation: required(candidate, 'foundation'),
    component: numberIn(required(candidate, 'component'), 'component', 256),
    transport: required(candidate, 'protocol'),
    priority: numberIn(required(candidate, 'priority'), 'priority', 2 ** 32 - 1),
    ip: required(candidate, 'ip'),
    port: numberIn(required(candidate, 'port'), 'port', 65535),
    type,
    ...(candidate.attrs['rel-addr'] !== undefined ? { raddr: sdpToken(candidate.attrs['rel-addr'], 'candidate rel-addr') } : {}),
    ...(relatedPort !== undefined ? { rport: relatedPort } : {}),
    ...(candidate.attrs.tcptype !== undefined ? { tcptype: sdpToken(candidate.attrs.tcptype, 'candidate tcptype') } : {}),
    ...(generation !== undefined ? { generation } : {}),
    ...(network !== undefined ? { 'network-id': network } : {}),
  };
}

export function sdpToCandidate(candidate: SdpCandidate): XmlElement {
  return xmlElement('candidate', NS.iceUdp, {
    component: candidate.component,
    foundation: String(candidate.foundation),
    generation: candidate.generation ?? 0,
    id: randomBytes(6).toString('hex'),
    ip: String(candidate.ip),
    network: candidate['network-id'],
    port: candidate.port,
    priority: candidate.priority,
    protocol: String(candidate.transport).toLowerCase(),
    'rel-addr': candidate.raddr === undefined ? undefined : String(candidate.raddr),
    'rel-port': candidate.rport,
    tcptype: candidate.tcptype,
    type: candidate.type,
  });
}

/**
 * R-JMAP-1 (RFC 8839 §5.1 default candidate): Jingle carries no m=/c= address, so the SDP built
 * from it names the UDP component-1 candidate with the lowest priority (relay before srflx
 * before host, what browsers pick as the "most likely to work"), or 9 / 0.0.0.0 when there is
 * none yet (trickle). An ICE-lite gateway ignores it anyway.
 */
export function defaultCandidateOf(candidates: readonly SdpCandidate[]): SdpCandidate | undefined {
  let chosen: SdpCandidate | undefined;
  for (const candidate of candidates) {
    if (candidate.component !== 1 || String(candidate.transport).toLowerCase() !== 'udp') continue;
    if (chosen === undefined || candidate.priority < chosen.priority) chosen = candidate;
  }
  return chosen;
}
