/**
 * XEP-0167 §"Mapping to SDP" + XEP-0293 §"Mapping to SDP": <payload-type> (id, name,
 * clockrate, channels, ptime, maxptime, <parameter/>, <rtcp-fb/>, <rtcp-fb-trr-int/>) ⇄ the
 * m= format list, a=rtpmap, a=fmtp, a=ptime/a=maxptime, a=rtcp-fb.
 */
import type { MediaDescription } from 'sdp-transform';
import { childrenOf, xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { JingleMappingError } from './mapping-error.js';
import { sdpText, sdpToken } from './sdp-safety.js';

export type PayloadFields = Pick<MediaDescription, 'rtp' | 'fmtp' | 'rtcpFb' | 'rtcpFbTrrInt' | 'ptime' | 'maxptime'> & { payloads: string };

function integer(value: string | undefined, what: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < min || number > max) throw new JingleMappingError(`${what} ${value} is not an integer in ${min}..${max}`);
  return number;
}

/** XEP-0293: <rtcp-fb type subtype?> and <rtcp-fb-trr-int value> under `parent` for payload `payload`. */
function feedbackOf(parent: XmlElement, payload: number | '*', fields: PayloadFields): void {
  for (const fb of childrenOf(parent, 'rtcp-fb', NS.rtcpFb)) {
    const type = fb.attrs.type;
    if (type === undefined || type === '') throw new JingleMappingError('rtcp-fb without type');
    (fields.rtcpFb ??= []).push({ payload, type: sdpToken(type, 'rtcp-fb type'), ...(fb.attrs.subtype ? { subtype: sdpText(fb.attrs.subtype, 'rtcp-fb subtype') } : {}) });
  }
  for (const trr of childrenOf(parent, 'rtcp-fb-trr-int', NS.rtcpFb)) {
    const value = integer(trr.attrs.value, 'rtcp-fb-trr-int value', 0, 2 ** 31) ?? 0;
    (fields.rtcpFbTrrInt ??= []).push({ payload, value });
  }
}

/** XEP-0167: parameters become `name=value` joined with ';' (a nameless one is its value alone). */
function fmtpConfigOf(payloadType: XmlElement): string | undefined {
  const parameters = childrenOf(payloadType, 'parameter', NS.jingleRtp);
  if (parameters.length === 0) return undefined;
  // A name is a token; a value may not hold ';' (it would start the next parameter).
  return parameters.map((p) => {
    const value = sdpText(p.attrs.value ?? '', 'parameter value');
    if (value.includes(';')) throw new JingleMappingError('parameter value holds ;');
    return p.attrs.name ? `${sdpToken(p.attrs.name, 'parameter name')}=${value}` : value;
  }).join(';');
}

export function payloadTypesToMedia(description: XmlElement, media: string): PayloadFields {
  const fields: PayloadFields = { payloads: '', rtp: [], fmtp: [] };
  const ids: number[] = [];
  let ptime: number | undefined;
  let maxptime: number | undefined;
  for (const pt of childrenOf(description, 'payload-type', NS.jingleRtp)) {
    const id = integer(pt.attrs.id, 'payload-type id', 0, 127);
    if (id === undefined) throw new JingleMappingError('payload-type without id');
    ids.push(id);
    // RFC 3551 §5: every video payload format runs at 90 kHz; XEP examples omit it sometimes.
    const clockRate = integer(pt.attrs.clockrate, 'clockrate', 1, 2 ** 32) ?? (media === 'video' && pt.attrs.name ? 90000 : undefined);
    const name = pt.attrs.name === undefined || pt.attrs.name === '' ? undefined : sdpToken(pt.attrs.name, 'payload-type name');
    if (name?.includes('/')) throw new JingleMappingError(`payload-type name ${name} holds /`);
    if (name !== undefined && clockRate !== undefined) {
      const channels = integer(pt.attrs.channels, 'channels', 1, 255);
      // An explicit channels='1' stays explicit (a=rtpmap:9 G722/8000/1 comes back as written).
      fields.rtp.push({ payload: id, codec: name, rate: clockRate, ...(channels !== undefined ? { encoding: channels } : {}) });
    } else if (id >= 96) {
      // XEP-0167: a dynamic payload type is only meaningful with its name and clock rate.
      throw new JingleMappingError(`dynamic payload-type ${id} needs name and clockrate`);
    }
    const config = fmtpConfigOf(pt);
    if (config !== undefined) fields.fmtp.push({ payload: id, config });
    ptime ??= integer(pt.attrs.ptime, 'ptime', 1, 10_000);
    maxptime ??= integer(pt.attrs.maxptime, 'maxptime', 1, 10_000);
    feedbackOf(pt, id, fields);
  }
  // Description-level <rtcp-fb/> apply to every payload type (a=rtcp-fb:*).
  feedbackOf(description, '*', fields);
  // Some implementations (Jitsi) put maxptime on the description.
  maxptime ??= integer(description.attrs.maxptime, 'maxptime', 1, 10_000);
  if (ptime !== undefined) fields.ptime = ptime;
  if (maxptime !== undefined) fields.maxptime = maxptime;
  fields.payloads = ids.join(' ');
  return fields;
}

/** RFC 4566 §6: fmtp parameters are ';'-separated `name=value`; a value-only entry keeps an empty name. */
function parametersOf(config: string): XmlElement[] {
  return config.split(';').map((part) => part.trim()).filter((part) => part !== '').map((part) => {
    const equals = part.indexOf('=');
    return equals < 0
      ? xmlElement('parameter', NS.jingleRtp, { name: '', value: part })
      : xmlElement('parameter', NS.jingleRtp, { name: part.slice(0, equals).trim(), value: part.slice(equals + 1).trim() });
  });
}

function feedbackElements(media: MediaDescription, payload: number | '*'): XmlElement[] {
  const matches = (entry: { payload: number | string }): boolean => String(entry.payload) === String(payload);
  const out: XmlElement[] = [];
  for (const fb of (media.rtcpFb ?? []).filter(matches)) {
    out.push(xmlElement('rtcp-fb', NS.rtcpFb, { type: fb.type, subtype: fb.subtype }));
  }
  for (const trr of (media.rtcpFbTrrInt ?? []).filter(matches)) {
    out.push(xmlElement('rtcp-fb-trr-int', NS.rtcpFb, { value: trr.value }));
  }
  return out;
}

/** The <payload-type/> elements of an m-line, in m= order, plus the a=rtcp-fb:* feedback. */
export function mediaToPayloadTypes(media: MediaDescription): { payloadTypes: XmlElement[]; wildcardFeedback: XmlElement[] } {
  const ids = String(media.payloads ?? '').trim().split(/\s+/).filter((token) => token !== '');
  const payloadTypes = ids.map((token) => {
    const id = Number(token);
    if (!Number.isInteger(id) || id < 0 || id > 127) throw new JingleMappingError(`m= format ${token} is not an RTP payload type`);
    const rtpmap = media.rtp.find((entry) => entry.payload === id);
    const fmtp = media.fmtp.find((entry) => entry.payload === id);
    if (rtpmap === undefined && id >= 96) throw new JingleMappingError(`dynamic payload type ${id} has no a=rtpmap`);
    return xmlElement('payload-type', NS.jingleRtp, {
      id,
      name: rtpmap?.codec,
      clockrate: rtpmap?.rate,
      channels: rtpmap?.encoding,
      ptime: media.ptime,
      maxptime: media.maxptime,
    }, [...(fmtp !== undefined ? parametersOf(String(fmtp.config)) : []), ...feedbackElements(media, id)]);
  });
  return { payloadTypes, wildcardFeedback: feedbackElements(media, '*') };
}
