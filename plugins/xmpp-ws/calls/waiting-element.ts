/**
 * CW (TS 24.615) for Jingle, as the documented `urn:epcscf:mmtel:0` extension (no XEP covers
 * call waiting; see plugins/xmpp-ws/README.md "MMTel extensions"):
 * - a waiting call (the IMS marked the INVITE with an application/vnd.3gpp.cw+xml body part or
 *   Alert-Info <urn:alert:service:call-waiting>) rings the client with a session-initiate whose
 *   <jingle/> carries <waiting xmlns='urn:epcscf:mmtel:0'/>; the client accepts it after a
 *   session-info <hold/> on its other session, or ends it with session-terminate <busy/> (486);
 * - a caller whose 180 carried that Alert-Info gets a session-info with <waiting/>: the callee is
 *   in another call and is being told of this one.
 */
import { xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { MMTEL_NS } from './mmtel-identity.js';

/** `jingle` with <waiting/> appended (TS 24.615 waiting call). */
export function markWaiting(jingle: XmlElement): XmlElement {
  return xmlElement(jingle.name, jingle.ns, jingle.attrs, [...jingle.children, xmlElement('waiting', MMTEL_NS)], jingle.text);
}

/** session-info <waiting/> toward a caller (TS 24.615 §4.5.5.3.1, RFC 7462 Alert-Info). */
export function sessionInfoWaiting(sid: string): XmlElement {
  return xmlElement('jingle', NS.jingle, { action: 'session-info', sid }, [xmlElement('waiting', MMTEL_NS)]);
}
