/**
 * What the stanza handlers (im/, calls/) see of the session: the client's bound JID, the XMPP
 * domain, a way to send it a stanza and to send it an IQ whose answer they wait for.
 */
import type { Logger } from 'pino';
import type { XmlElement } from './xml/element.js';

export interface ClientLink {
  /** The bound full JID, user@domain/resource (RFC 6120 §7). */
  readonly fullJid: string;
  readonly bareJid: string;
  /** The XMPP domain (JIDs user@domain ⇄ sip:user@domain). */
  readonly domain: string;
  readonly log: Logger;
  /** One stanza to the client (dropped once the stream is closing). */
  send(stanza: XmlElement): void;
  /**
   * An IQ get/set to the client; resolves with its result or error stanza, or undefined when the
   * stream closed or the client did not answer in time (RFC 6120 §8.2.3: every get/set is answered).
   */
  request(iq: XmlElement): Promise<XmlElement | undefined>;
  /** XEP-0353: the client advertised urn:xmpp:jingle-message:0 (disco#info of its full JID). */
  readonly supportsJingleMessage: boolean;
}
