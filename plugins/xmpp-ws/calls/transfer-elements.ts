/**
 * ECT (TS 24.629) for Jingle: XEP-0251 Jingle Session Transfer (`urn:xmpp:jingle:transfer:0`)
 * mapped to RFC 3515 REFER / RFC 3891 Replaces / RFC 3892 Referred-By (README "Call transfer"):
 * - transferor: the client's session-info <transfer to='erin@d' [sid='<its session with erin>']/>
 *   → REFER with Refer-To <erin's URI[?Replaces=<that session's dialog>]>;
 * - transferee: a REFER → session-info <transfer to='<target>' from='<referrer>' [sid='<opaque>']/>
 *   to the client; its session-initiate to the target carrying <transfer from sid/> is the
 *   INVITE with Referred-By (and Replaces when the REFER had one);
 * - transfer target: an INVITE with Replaces → session-initiate with <transfer sid='<the session
 *   it replaces>'/>; that session then ends with <reason><success/><transferred/></reason>.
 * XEP-0251 has no progress report, so the NOTIFY sipfrag reaches the transferor as the
 * `urn:epcscf:mmtel:0` extension <transfer-progress status reason final/> in a session-info.
 */
import { childOf, xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';

export const TRANSFER_NS = 'urn:xmpp:jingle:transfer:0';
const MMTEL_NS = 'urn:epcscf:mmtel:0';

/** The <transfer/> of a session-info or session-initiate, when there is one. */
export function transferOf(jingle: XmlElement): XmlElement | undefined {
  return childOf(jingle, 'transfer', TRANSFER_NS);
}

/** XEP-0251 §2-3: session-info asking the client to transfer (a REFER it received). */
export function sessionInfoTransfer(sid: string, transfer: { to: string; from?: string; sid?: string }): XmlElement {
  return xmlElement('jingle', NS.jingle, { action: 'session-info', sid }, [xmlElement('transfer', TRANSFER_NS, transfer)]);
}

/** XEP-0251 §3: the session-initiate of a call that replaces the client's session `replacedSid`. */
export function withReplacedSession(initiate: XmlElement, replacedSid: string, from: string | undefined): XmlElement {
  const transfer = xmlElement('transfer', TRANSFER_NS, { sid: replacedSid, ...(from !== undefined ? { from } : {}) });
  return xmlElement(initiate.name, initiate.ns, initiate.attrs, [...initiate.children, transfer], initiate.text);
}

/** XEP-0251 §2: the end of a session that was transferred (here: replaced by a new one). */
export function sessionTerminateTransferred(sid: string): XmlElement {
  return xmlElement('jingle', NS.jingle, { action: 'session-terminate', sid }, [
    xmlElement('reason', NS.jingle, {}, [xmlElement('success', NS.jingle), xmlElement('transferred', TRANSFER_NS)]),
  ]);
}

/** RFC 3515 §2.4.5 NOTIFY sipfrag → <transfer-progress xmlns='urn:epcscf:mmtel:0'/> (no XEP construct). */
export function sessionInfoTransferProgress(sid: string, info: { status: number; reason: string; final: boolean }): XmlElement {
  return xmlElement('jingle', NS.jingle, { action: 'session-info', sid }, [
    xmlElement('transfer-progress', MMTEL_NS, { status: info.status, reason: info.reason, final: String(info.final) }),
  ]);
}
