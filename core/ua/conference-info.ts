/**
 * CONF (TS 24.605, TS 24.147 §5.3.1.6): the RFC 4575 conference event package body
 * (`application/conference-info+xml`) read as a participant list, the same in every plugin.
 * Untrusted input from the network, so the parse is bounded: size, depth and user count are
 * capped, DTDs (and with them entity expansion), comments and processing instructions refused
 * (saxes never fetches or expands anything; the first DOCTYPE stops the parse here).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';

export const CONFERENCE_INFO_NS = 'urn:ietf:params:xml:ns:conference-info';
export const CONFERENCE_INFO_TYPE = 'application/conference-info+xml';

/** Bounds of one body: far above what a focus reports for an ad-hoc conference. */
const MAX_BODY_CHARS = 65_536;
const MAX_DEPTH = 16;
const MAX_USERS = 256;
const MAX_TEXT_CHARS = 256;

/** RFC 4575 §5.1 `state`: a full document, a partial update, or the element was removed. */
export type ConferenceInfoState = 'full' | 'partial' | 'deleted';

export interface ConferenceParticipant {
  /** <user entity> (RFC 4575 §5.6): the participant's URI. */
  readonly entity: string;
  readonly state: ConferenceInfoState;
  /** <display-text> (RFC 4575 §5.6.1). */
  readonly displayText?: string;
  /** The first <endpoint><status> (RFC 4575 §5.7.2): connected, dialing-out, alerting, on-hold, disconnected, pending… */
  readonly status?: string;
}

export interface ConferenceInfo {
  /** <conference-info entity>: the conference URI (RFC 4575 §5.1). */
  readonly entity: string;
  readonly state: ConferenceInfoState;
  /** RFC 4575 §4.6: the notifier's version counter; a client drops older versions. */
  readonly version?: number;
  readonly participants: readonly ConferenceParticipant[];
}

class ConferenceInfoError extends Error {}

function stateOf(value: string | undefined): ConferenceInfoState {
  return value === 'partial' || value === 'deleted' ? value : 'full';
}

const attr = (tag: SaxesTagNS, name: string): string | undefined => {
  const a = tag.attributes[name];
  return a === undefined ? undefined : (typeof a === 'string' ? a : a.value);
};

/** The participant list of a conference-info body; undefined when it is not one (or exceeds the bounds). */
export function parseConferenceInfo(body: string): ConferenceInfo | undefined {
  if (body.length === 0 || body.length > MAX_BODY_CHARS) return undefined;
  const path: string[] = [];
  let root: { entity: string; state: ConferenceInfoState; version?: number } | undefined;
  const participants: ConferenceParticipant[] = [];
  let user: { entity: string; state: ConferenceInfoState; displayText?: string; status?: string } | undefined;
  let text = '';
  const parser = new SaxesParser({ xmlns: true, position: false });
  parser.on('doctype', () => { throw new ConferenceInfoError('DTD'); });
  parser.on('processinginstruction', () => { throw new ConferenceInfoError('processing instruction'); });
  parser.on('text', (t) => { if (text.length + t.length <= MAX_TEXT_CHARS) text += t; });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (path.length >= MAX_DEPTH) throw new ConferenceInfoError('too deep');
    const name = tag.uri === CONFERENCE_INFO_NS ? tag.local : `{${tag.uri}}${tag.local}`;
    path.push(name);
    text = '';
    const where = path.join('/');
    if (where === 'conference-info') {
      const version = Number(attr(tag, 'version'));
      root = { entity: attr(tag, 'entity') ?? '', state: stateOf(attr(tag, 'state')), ...(Number.isSafeInteger(version) ? { version } : {}) };
    } else if (where === 'conference-info/users/user') {
      if (participants.length >= MAX_USERS) throw new ConferenceInfoError('too many users');
      const entity = attr(tag, 'entity');
      user = entity === undefined ? undefined : { entity, state: stateOf(attr(tag, 'state')) };
    }
  });
  parser.on('closetag', () => {
    const where = path.join('/');
    if (user !== undefined) {
      if (where === 'conference-info/users/user/display-text') user.displayText = text.trim();
      else if (where === 'conference-info/users/user/endpoint/status' && user.status === undefined) user.status = text.trim();
      else if (where === 'conference-info/users/user') {
        participants.push(user);
        user = undefined;
      }
    }
    path.pop();
    text = '';
  });
  try {
    parser.write(body).close();
  } catch {
    return undefined; // not well-formed, or past the bounds
  }
  if (root === undefined) return undefined;
  return { ...root, participants };
}
