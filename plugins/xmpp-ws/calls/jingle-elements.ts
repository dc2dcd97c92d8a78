/** The Jingle and XEP-0353 elements the gateway writes on the SIP party's behalf. */
import { randomUUID } from 'node:crypto';
import type { JingleTermination } from '../interworking/jingle-reason-sip.js';
import { isJingleReason, type JingleReason } from '../interworking/jingle-reason-sip.js';
import { stanza, type StanzaErrorSpec } from '../stanza/stanza-builders.js';
import { childOf, childrenOf, xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';

/** An IQ set carrying `jingle`, from the SIP party to the client. */
export function jingleIq(from: string, to: string, jingle: XmlElement): XmlElement {
  return stanza('iq', { type: 'set', id: randomUUID(), from, to }, [jingle]);
}

/** XEP-0166 §7.4: <reason><condition/><text/></reason>. */
export function reasonElement(termination: JingleTermination): XmlElement {
  const children = [xmlElement(termination.reason, NS.jingle)];
  if (termination.text !== undefined) children.push(xmlElement('text', NS.jingle, {}, [], termination.text));
  return xmlElement('reason', NS.jingle, {}, children);
}

export function sessionTerminate(sid: string, termination: JingleTermination): XmlElement {
  return xmlElement('jingle', NS.jingle, { action: 'session-terminate', sid }, [reasonElement(termination)]);
}

/** F-JRTP-3: session-info with one rtp:info payload (ringing, hold, unhold...). */
export function sessionInfo(sid: string, info: 'ringing' | 'hold' | 'unhold' | 'active'): XmlElement {
  return xmlElement('jingle', NS.jingle, { action: 'session-info', sid }, [xmlElement(info, NS.jingleRtpInfo)]);
}

/** The condition of a <reason/> the client sent (default success: a plain hang-up). */
export function reasonOf(jingle: XmlElement): JingleReason {
  const reason = childOf(jingle, 'reason', NS.jingle);
  const condition = reason?.children.find((child) => child.ns === NS.jingle && child.name !== 'text' && isJingleReason(child.name));
  return condition !== undefined && isJingleReason(condition.name) ? condition.name : 'success';
}

/** XEP-0166 §8: an IQ error with a Jingle-specific condition. */
export function jingleError(spec: Omit<StanzaErrorSpec, 'extra'>, jingleCondition?: 'unknown-session' | 'out-of-order' | 'tie-break' | 'unsupported-info'): StanzaErrorSpec {
  return jingleCondition === undefined ? spec : { ...spec, extra: xmlElement(jingleCondition, NS.jingleErrors) };
}

/** XEP-0353 §3: a Jingle message (propose, proceed, retract, reject, ringing) with one payload. */
export function jingleMessage(from: string, to: string, kind: 'propose' | 'proceed' | 'retract' | 'reject' | 'ringing', sid: string, children: readonly XmlElement[] = []): XmlElement {
  return stanza('message', { type: 'chat', id: randomUUID(), from, to }, [xmlElement(kind, NS.jingleMessage, { id: sid }, children)]);
}

/** The XEP-0167 descriptions of a session-initiate, media only (what a <propose/> announces). */
export function proposedDescriptions(jingle: XmlElement): XmlElement[] {
  return childrenOf(jingle, 'content', NS.jingle).flatMap((content) => childrenOf(content, 'description', NS.jingleRtp)
    .map((description) => xmlElement('description', NS.jingleRtp, { media: description.attrs.media })));
}
