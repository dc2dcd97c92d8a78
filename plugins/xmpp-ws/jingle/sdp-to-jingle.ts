/**
 * SDP -> <jingle/> contents, the inverse of jingle-to-sdp.ts. Refuses, rather than mangles, an
 * SDP it cannot carry: unknown line types (RFC 8866 §5), a DTLS profile without fingerprint,
 * dynamic payload types without rtpmap, non-SCTP application m-lines.
 */
import sdpTransform from 'sdp-transform';
import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { JingleMappingError } from './mapping-error.js';
import { mediaToPayloadTypes } from './payload-types.js';
import { mediaToExtras } from './rtp-extras.js';
import { directionToSenders, type JingleRole } from './senders.js';
import { mediaToTransport } from './transport.js';

export interface SdpToJingleOptions {
  /** R-JMAP-2: the session role of the party whose SDP this is. */
  readonly role: JingleRole;
  readonly action: string;
  readonly sid: string;
  readonly initiator?: string;
  readonly responder?: string;
  /** XEP-0166 §7.3: the creator of every content (it never changes): default initiator. */
  readonly creator?: JingleRole;
}

export interface SdpToJingleResult {
  readonly jingle: XmlElement;
  /** mids of m-lines with port 0 (rejected or disabled streams): no content is made for them. */
  readonly rejectedMids: readonly string[];
}

// RFC 8866 §5: the line types of SDP; a description with any other type letter is not understood.
const SDP_LINE = /^[vosiuepcbtrzkam]=/;

function checkLines(sdp: string): void {
  const lines = sdp.split(/\r?\n/).filter((line) => line !== '');
  if (lines[0] !== 'v=0') throw new JingleMappingError('not an SDP session description');
  for (const line of lines) if (!SDP_LINE.test(line)) throw new JingleMappingError(`SDP line type not understood: ${line.slice(0, 2)}`);
}

const text = (value: string | number | undefined): string | undefined => (value === undefined ? undefined : String(value));

function contentOf(session: SessionDescription, media: MediaDescription, name: string, options: SdpToJingleOptions): XmlElement {
  const direction = media.direction ?? session.direction ?? 'sendrecv';
  const senders = directionToSenders(direction, options.role);
  const fingerprint = media.fingerprint ?? session.fingerprint;
  // RFC 5764 §8 / RFC 8841: a (UDP/)TLS or DTLS profile without fingerprint has no keying.
  if (/(^|\/)D?TLS\//.test(media.protocol) && fingerprint === undefined) {
    throw new JingleMappingError(`m-line ${name}: ${media.protocol} without a=fingerprint`);
  }
  const transport = mediaToTransport(session, media);
  const attrs = { creator: options.creator ?? 'initiator', name, senders };
  if (media.type === 'application') {
    if (!media.protocol.includes('SCTP')) throw new JingleMappingError(`m-line ${name}: application over ${media.protocol} is not a data channel`);
    return xmlElement('content', NS.jingle, attrs, [transport]);
  }
  if (!media.protocol.includes('RTP/')) throw new JingleMappingError(`m-line ${name}: ${media.protocol} is not RTP`);
  const { payloadTypes, wildcardFeedback } = mediaToPayloadTypes(media);
  const allowMixed = media.extmapAllowMixed ?? session.extmapAllowMixed;
  const extras = mediaToExtras(allowMixed === undefined ? media : { ...media, extmapAllowMixed: allowMixed }, options.role);
  const description = xmlElement('description', NS.jingleRtp, { media: media.type }, [...payloadTypes, ...wildcardFeedback, ...extras]);
  return xmlElement('content', NS.jingle, attrs, [description, transport]);
}

/**
 * RFC 4568 §9.1: `a=crypto:<tag> <suite> <key-params> *(SP <session-param>)`. sdp-transform's
 * grammar keeps only the first session parameter, so the crypto lines are read here, per m-line.
 */
function cryptoLinesPerMedia(sdp: string): MediaDescription['crypto'][] {
  const perMedia: MediaDescription['crypto'][] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) perMedia.push(undefined);
    const match = /^a=crypto:(\d+) (\S+) (\S+)(?: (.+))?$/.exec(line);
    if (match === null || perMedia.length === 0) continue;
    const [, tag, suite, config, sessionConfig] = match;
    const list = perMedia[perMedia.length - 1] ?? [];
    list.push({ id: Number(tag), suite: suite ?? '', config: config ?? '', ...(sessionConfig !== undefined ? { sessionConfig: sessionConfig.trim() } : {}) });
    perMedia[perMedia.length - 1] = list;
  }
  return perMedia;
}

export function sdpToJingle(sdp: string, options: SdpToJingleOptions): SdpToJingleResult {
  checkLines(sdp);
  const session = sdpTransform.parse(sdp);
  const crypto = cryptoLinesPerMedia(sdp);
  session.media.forEach((media, index) => {
    const lines = crypto[index];
    if (lines !== undefined) media.crypto = lines;
    else delete media.crypto;
  });
  if (session.media.length === 0) throw new JingleMappingError('SDP has no media line');
  const contents: XmlElement[] = [];
  const rejectedMids: string[] = [];
  session.media.forEach((media, index) => {
    const name = text(media.mid) ?? `${media.type}-${index}`;
    // RFC 8843 §7.5: a bundle-only m-line has port 0 but is a live stream inside the BUNDLE group.
    if (media.port === 0 && media.bundleOnly === undefined) {
      rejectedMids.push(name);
      return;
    }
    contents.push(contentOf(session, media, name, options));
  });
  const groups = (session.groups ?? []).map((group) => xmlElement('group', NS.grouping, { semantics: group.type },
    String(group.mids).trim().split(/\s+/).map((mid) => xmlElement('content', NS.grouping, { name: mid }))));
  const jingle = xmlElement('jingle', NS.jingle, {
    action: options.action, initiator: options.initiator, responder: options.responder, sid: options.sid,
  }, [...contents, ...groups]);
  return { jingle, rejectedMids };
}
