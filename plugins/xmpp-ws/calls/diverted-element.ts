/**
 * TS 24.604 CDIV notification toward a Jingle caller. No XEP describes call diversion, so the
 * gateway sends a session-info carrying the project's `urn:epcscf:mmtel:0` extension element
 * (documented in plugins/xmpp-ws/README.md), one per diversion the History-Info reported:
 *   <diverted xmlns='urn:epcscf:mmtel:0' to='sip:dave@ims.test' cause='302' reason='...'/>
 * `cause` is the RFC 4458 value (302 unconditional, 486 busy, 408 no reply, 480 not reachable,
 * 487 deflection); `reason` only when the IMS sent one. XEP-0166 §7.2.14: a client that does not
 * understand it answers <unsupported-info/>, which the gateway ignores.
 */
import type { UaDiversion } from '../../../core/contract/index.js';
import { xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';

export const MMTEL_NS = 'urn:epcscf:mmtel:0';

export function sessionInfoDiverted(sid: string, diversions: readonly UaDiversion[]): XmlElement {
  const children = diversions.map((d) => xmlElement('diverted', MMTEL_NS, {
    to: d.target, cause: String(d.cause), ...(d.reason !== undefined ? { reason: d.reason } : {}),
  }));
  return xmlElement('jingle', NS.jingle, { action: 'session-info', sid }, children);
}
