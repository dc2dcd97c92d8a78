/**
 * The rest of an RTP <description/>: header extensions (XEP-0294), sources and source groups
 * (XEP-0339), SDES crypto (XEP-0167 §7 / RFC 4568), bandwidth and rtcp-mux (XEP-0167).
 */
import type { MediaDescription } from 'sdp-transform';
import type { MediaDirection } from '../../../core/sdp/index.js';
import { childOf, childrenOf, xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { JingleMappingError } from './mapping-error.js';
import { sdpText, sdpToken } from './sdp-safety.js';
import { directionToSenders, isJingleSenders, sendersToDirection, type JingleRole } from './senders.js';

export type ExtraFields = Pick<MediaDescription, 'ext' | 'extmapAllowMixed' | 'rtcpMux' | 'ssrcs' | 'ssrcGroups' | 'crypto' | 'bandwidth'>;

const BANDWIDTH_TYPES = new Set(['AS', 'CT', 'TIAS', 'RR', 'RS']);
type BandwidthType = NonNullable<MediaDescription['bandwidth']>[number]['type'];
const isBandwidthType = (value: string): value is BandwidthType => BANDWIDTH_TYPES.has(value);

function ssrcOf(value: string | undefined): number {
  const ssrc = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || ssrc > 0xffffffff) throw new JingleMappingError(`ssrc ${value ?? '(none)'} is not a 32-bit number`);
  return ssrc;
}

export function extrasToMedia(description: XmlElement, role: JingleRole): ExtraFields {
  const fields: ExtraFields = {};
  for (const ext of childrenOf(description, 'rtp-hdrext', NS.rtpHdrext)) {
    const id = Number(ext.attrs.id);
    if (!Number.isInteger(id) || id < 1 || id > 4095 || !ext.attrs.uri) throw new JingleMappingError('rtp-hdrext needs an id in 1..4095 and a uri');
    const senders = ext.attrs.senders ?? 'both';
    if (!isJingleSenders(senders)) throw new JingleMappingError(`rtp-hdrext senders ${senders}`);
    // XEP-0294: senders as for a content; sendrecv is the SDP default and is left out.
    const direction = sendersToDirection(senders, role);
    (fields.ext ??= []).push({ value: id, uri: sdpToken(ext.attrs.uri, 'rtp-hdrext uri'), ...(direction !== 'sendrecv' ? { direction } : {}) });
  }
  if (childOf(description, 'extmap-allow-mixed', NS.rtpHdrext) !== undefined) fields.extmapAllowMixed = 'extmap-allow-mixed';
  // XEP-0167: <rtcp-mux/> is in the RTP namespace; Jitsi writes it the same way.
  if (childOf(description, 'rtcp-mux') !== undefined) fields.rtcpMux = 'rtcp-mux';
  for (const source of childrenOf(description, 'source', NS.ssma)) {
    const id = ssrcOf(source.attrs.ssrc);
    const parameters = childrenOf(source, 'parameter', NS.ssma);
    for (const parameter of parameters) {
      const attribute = parameter.attrs.name;
      if (!attribute) throw new JingleMappingError('source parameter without name');
      if (attribute.includes(':')) throw new JingleMappingError(`source parameter name ${attribute} holds :`);
      (fields.ssrcs ??= []).push({ id, attribute: sdpToken(attribute, 'source parameter name'), ...(parameter.attrs.value !== undefined ? { value: sdpText(parameter.attrs.value, 'source parameter value') } : {}) });
    }
  }
  for (const group of childrenOf(description, 'ssrc-group', NS.ssma)) {
    const ssrcs = childrenOf(group, 'source', NS.ssma).map((source) => ssrcOf(source.attrs.ssrc));
    if (!group.attrs.semantics || ssrcs.length === 0) throw new JingleMappingError('ssrc-group needs semantics and sources');
    (fields.ssrcGroups ??= []).push({ semantics: sdpToken(group.attrs.semantics, 'ssrc-group semantics'), ssrcs: ssrcs.join(' ') });
  }
  const encryption = childOf(description, 'encryption', NS.jingleRtp);
  for (const crypto of encryption === undefined ? [] : childrenOf(encryption, 'crypto', NS.jingleRtp)) {
    const tag = Number(crypto.attrs.tag);
    if (!Number.isInteger(tag) || !crypto.attrs['crypto-suite'] || !crypto.attrs['key-params']) throw new JingleMappingError('crypto needs tag, crypto-suite and key-params');
    (fields.crypto ??= []).push({
      id: tag, suite: sdpToken(crypto.attrs['crypto-suite'], 'crypto-suite'), config: sdpToken(crypto.attrs['key-params'], 'key-params'),
      ...(crypto.attrs['session-params'] ? { sessionConfig: sdpText(crypto.attrs['session-params'], 'session-params') } : {}),
    });
  }
  for (const bandwidth of childrenOf(description, 'bandwidth', NS.jingleRtp)) {
    const type = bandwidth.attrs.type ?? '';
    const limit = Number(bandwidth.text.trim());
    if (!isBandwidthType(type) || !Number.isInteger(limit) || limit < 0) throw new JingleMappingError(`bandwidth ${type}:${bandwidth.text}`);
    (fields.bandwidth ??= []).push({ type, limit });
  }
  return fields;
}

/** The description children for these SDP attributes (XEP-0294/0339/0167 order of the XEPs' examples). */
export function mediaToExtras(media: MediaDescription, role: JingleRole): XmlElement[] {
  const out: XmlElement[] = [];
  for (const ext of media.ext ?? []) {
    const direction = (ext.direction ?? 'sendrecv') as MediaDirection;
    const senders = directionToSenders(direction, role);
    out.push(xmlElement('rtp-hdrext', NS.rtpHdrext, { id: ext.value, uri: ext.uri, senders: senders === 'both' ? undefined : senders }));
  }
  if (media.extmapAllowMixed !== undefined) out.push(xmlElement('extmap-allow-mixed', NS.rtpHdrext));
  if (media.rtcpMux !== undefined) out.push(xmlElement('rtcp-mux', NS.jingleRtp));
  const bySsrc = new Map<number, XmlElement[]>();
  for (const ssrc of media.ssrcs ?? []) {
    const id = Number(ssrc.id);
    const parameters = bySsrc.get(id) ?? [];
    parameters.push(xmlElement('parameter', NS.ssma, { name: ssrc.attribute, value: ssrc.value }));
    bySsrc.set(id, parameters);
  }
  for (const [ssrc, parameters] of bySsrc) out.push(xmlElement('source', NS.ssma, { ssrc }, parameters));
  for (const group of media.ssrcGroups ?? []) {
    const sources = group.ssrcs.trim().split(/\s+/).map((ssrc) => xmlElement('source', NS.ssma, { ssrc }));
    out.push(xmlElement('ssrc-group', NS.ssma, { semantics: group.semantics }, sources));
  }
  if (media.crypto !== undefined && media.crypto.length > 0) {
    out.push(xmlElement('encryption', NS.jingleRtp, {}, media.crypto.map((crypto) => xmlElement('crypto', NS.jingleRtp, {
      'crypto-suite': crypto.suite, 'key-params': crypto.config, 'session-params': crypto.sessionConfig, tag: crypto.id,
    }))));
  }
  for (const bandwidth of media.bandwidth ?? []) out.push(xmlElement('bandwidth', NS.jingleRtp, { type: bandwidth.type }, [], String(bandwidth.limit)));
  return out;
}
