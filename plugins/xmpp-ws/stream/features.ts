/**
 * Stream features (RFC 6120 §4.3.2), written unprefixed in the streams namespace as RFC 7395
 * §3.3.3 allows (R-XWS-6).
 *
 * Before authentication only SASL is offered: PLAIN, since the client's password is what
 * answers the IMS digest challenge (scenario 1, TS 24.371), so the server must see it (SCRAM
 * would give the server only a salted proof, useless toward the IMS); and, when the core takes
 * web tokens, OAUTHBEARER (RFC 7628) carrying the WWSF/WAF token (scenarios 2/3).
 */
import { xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';

export const SASL_MECHANISMS: readonly string[] = ['PLAIN'];
/** With web authentication on (host.webAuth.enabled). */
export const WEB_AUTH_SASL_MECHANISMS: readonly string[] = ['PLAIN', 'OAUTHBEARER'];

export function preAuthFeatures(mechanisms: readonly string[] = SASL_MECHANISMS): XmlElement {
  const list = xmlElement('mechanisms', NS.sasl, {}, mechanisms.map((name) => xmlElement('mechanism', NS.sasl, {}, [], name)));
  return xmlElement('features', NS.stream, {}, [list]);
}

/**
 * RFC 6120 §7.2 after the restart: bind (mandatory), the RFC 3921 session, marked optional
 * (draft-cridland-xmpp-session), and XEP-0198 stream management (§3: offered after authentication,
 * so the client may `<resume/>` instead of binding).
 */
export function postAuthFeatures(streamManagement = true): XmlElement {
  return xmlElement('features', NS.stream, {}, [
    xmlElement('bind', NS.bind),
    xmlElement('session', NS.session, {}, [xmlElement('optional', NS.session)]),
    ...(streamManagement ? [xmlElement('sm', NS.sm)] : []),
  ]);
}
