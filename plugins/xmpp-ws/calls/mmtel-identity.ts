/**
 * OIP/OIR (TS 24.607) for Jingle, as the documented `urn:epcscf:mmtel:0` extension (no XEP
 * covers caller-ID privacy; see plugins/xmpp-ws/README.md "MMTel extensions"):
 * - a restricted caller (RFC 3323 Privacy: id/header/user, or an anonymous From) rings the client
 *   from `anonymous@<domain>`, and the <jingle/> carries <restricted xmlns='urn:epcscf:mmtel:0'/>;
 *   the hidden identity never appears in any stanza;
 * - a client asks for OIR on its own call with <privacy xmlns='urn:epcscf:mmtel:0'/> inside the
 *   session-initiate's <jingle/>: the INVITE carries `Privacy: id` (RFC 3325 §9.3, R-ORIG-8).
 */
import { childOf, xmlElement, type XmlElement } from '../xml/element.js';

export const MMTEL_NS = 'urn:epcscf:mmtel:0';

/** The local part of the JID a restricted caller appears as (RFC 3323 §4.1.1.3 "anonymous"). */
export const ANONYMOUS_LOCAL = 'anonymous';

export function anonymousJid(domain: string): string {
  return `${ANONYMOUS_LOCAL}@${domain}`;
}

/** `jingle` with <restricted/> appended: this caller's identity is withheld (OIR). */
export function markRestricted(jingle: XmlElement): XmlElement {
  return xmlElement(jingle.name, jingle.ns, jingle.attrs, [...jingle.children, xmlElement('restricted', MMTEL_NS)], jingle.text);
}

/** True when the client's session-initiate asks to withhold its identity (OIR). */
export function asksForPrivacy(jingle: XmlElement): boolean {
  return childOf(jingle, 'privacy', MMTEL_NS) !== undefined;
}
