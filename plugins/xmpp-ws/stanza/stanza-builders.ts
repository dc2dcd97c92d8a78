/**
 * The stanzas the server writes (RFC 6120 §8): IQ results and errors, message errors. Every
 * stanza is a frozen XmlElement in `jabber:client`; session.ts serializes it into one message.
 */
import { xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import type { StanzaErrorCondition, StanzaErrorType } from '../interworking/stanza-error-sip.js';

/** Attributes of a stanza: undefined values are left out. */
export type StanzaAttrs = Readonly<Record<string, string | undefined>>;

export function stanza(name: 'iq' | 'message' | 'presence', attrs: StanzaAttrs, children: readonly XmlElement[] = []): XmlElement {
  return xmlElement(name, NS.client, attrs, children);
}

/** RFC 6120 §8.2.3: a result to an IQ get/set, addressed back to its sender. */
export function iqResult(iq: XmlElement, from: string | undefined, to: string, payload?: XmlElement): XmlElement {
  return stanza('iq', { type: 'result', id: iq.attrs.id, from, to }, payload === undefined ? [] : [payload]);
}

export interface StanzaErrorSpec {
  readonly condition: StanzaErrorCondition;
  readonly type: StanzaErrorType;
  /** Human-readable text (never peer input). */
  readonly text?: string;
  /** An application-specific condition, e.g. a Jingle error (XEP-0166 §8). */
  readonly extra?: XmlElement;
}

/** RFC 6120 §8.3.2: the <error/> child. */
export function errorElement(spec: StanzaErrorSpec): XmlElement {
  const children = [xmlElement(spec.condition, NS.stanzaErrors)];
  if (spec.text !== undefined) children.push(xmlElement('text', NS.stanzaErrors, { 'xml:lang': 'en' }, [], spec.text));
  if (spec.extra !== undefined) children.push(spec.extra);
  return xmlElement('error', NS.client, { type: spec.type }, children);
}

/** RFC 6120 §8.3.1: an error stanza answers the stanza it refuses, from the entity it was sent to. */
export function stanzaError(original: XmlElement, from: string | undefined, to: string, spec: StanzaErrorSpec): XmlElement {
  const name = original.name === 'message' || original.name === 'presence' ? original.name : 'iq';
  return stanza(name, { type: 'error', id: original.attrs.id, from, to }, [errorElement(spec)]);
}

/** IQ errors used throughout (RFC 6120 §8.3.3 types). */
export const SERVICE_UNAVAILABLE: StanzaErrorSpec = { condition: 'service-unavailable', type: 'cancel' };
export const FEATURE_NOT_IMPLEMENTED: StanzaErrorSpec = { condition: 'feature-not-implemented', type: 'cancel' };
export const BAD_REQUEST: StanzaErrorSpec = { condition: 'bad-request', type: 'modify' };
