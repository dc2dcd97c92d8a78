/**
 * Service configuration over Ut (TS 24.623) for XMPP clients, as the documented
 * `urn:epcscf:mmtel:0` extension (no XEP fits; plugins/xmpp-ws/README.md "MMTel extensions"):
 *   read:   <iq type='get'><ut xmlns='urn:epcscf:mmtel:0' [node='simservs/communication-diversion']/></iq>
 *   write:  <iq type='set'><ut xmlns='urn:epcscf:mmtel:0' node='…' [etag='"v3"'] [create='true']>
 *             <communication-diversion xmlns='http://uri.etsi.org/ngn/params/xml/simservs/xcap' active='true'>…</communication-diversion>
 *           </ut></iq>            (an attribute value, node='…/@active', is the <ut/>'s text)
 *   delete: <iq type='set'><ut xmlns='urn:epcscf:mmtel:0' node='…' action='delete' [etag='…']/></iq>
 *   answer: <iq type='result'><ut xmlns='urn:epcscf:mmtel:0' status='200' etag='"v4"' content-type='…'>
 *             [the element or document read, as XML; a body that is not one element as text]</ut></iq>
 * The XCAP status (404, 409, 412…) is the result's `status`, as in JSON-RPC ut.*. epcscf's own
 * refusals are IQ errors: forbidden (not registered, not the user's own document), bad-request
 * (node selector, body), service-unavailable (Ut off, XCAP server not answering).
 * core/ut proxies for the identity registered on this stream's connection (host.ut).
 */
import { EpcError, type UtRequest, type UtResponse } from '../../../core/contract/index.js';
import { MMTEL_NS } from '../calls/mmtel-identity.js';
import { BAD_REQUEST, SERVICE_UNAVAILABLE, iqResult, stanzaError, type StanzaErrorSpec } from '../stanza/stanza-builders.js';
import { xmlElement, type XmlElement } from '../xml/element.js';
import type { FrameParser } from '../xml/frame-parser.js';
import { serializeElement } from '../xml/serialize.js';

export interface UtLink {
  readonly fullJid: string;
  readonly parser: FrameParser;
  send(element: XmlElement): void;
  utRequest(request: UtRequest): Promise<UtResponse>;
}

const FORBIDDEN: StanzaErrorSpec = { condition: 'forbidden', type: 'auth' };

/** The IQ's <ut/> as a Ut request; undefined when it is malformed (bad-request). */
function utRequestOf(type: 'get' | 'set', payload: XmlElement): UtRequest | undefined {
  const { node, path, etag, action } = payload.attrs;
  const addressing = { ...(node !== undefined ? { node } : {}), ...(path !== undefined ? { path } : {}), ...(etag !== undefined ? { ifMatch: etag } : {}) };
  if (type === 'get') return { method: 'GET', ...addressing };
  if (action === 'delete') return { method: 'DELETE', ...addressing };
  if (action !== undefined || payload.children.length > 1) return undefined;
  const element = payload.children[0];
  const body = element !== undefined ? serializeElement(element) : payload.text.trim();
  if (body === '') return undefined;
  const contentType = payload.attrs['content-type'];
  return {
    method: 'PUT', ...addressing, body,
    ...(contentType !== undefined ? { contentType } : {}),
    ...(payload.attrs.create === 'true' ? { ifNoneMatch: '*' } : {}),
  };
}

/** The answer's body as XML children when it is one element, else as text. */
function utAnswer(parser: FrameParser, answer: UtResponse): XmlElement {
  const attrs = { status: answer.status, etag: answer.etag, 'content-type': answer.contentType };
  if (answer.body === '') return xmlElement('ut', MMTEL_NS, attrs);
  const parsed = parser.parseDocument(answer.body.replace(/^\s*<\?xml[^>]*\?>\s*/, ''));
  return parsed.ok ? xmlElement('ut', MMTEL_NS, attrs, [parsed.element]) : xmlElement('ut', MMTEL_NS, attrs, [], answer.body);
}

function refusalOf(error: EpcError): StanzaErrorSpec | undefined {
  switch (error.code) {
    case 'EPC_ERR_UT_FORBIDDEN': return { ...FORBIDDEN, text: error.message };
    case 'EPC_ERR_UT_BAD_REQUEST': return { ...BAD_REQUEST, text: error.message };
    case 'EPC_ERR_UT_UNAVAILABLE': return { ...SERVICE_UNAVAILABLE, text: error.message };
    default: return undefined;
  }
}

/** Answers one <ut/> IQ of a registered session. */
export async function answerUtIq(link: UtLink, iq: XmlElement, type: 'get' | 'set', payload: XmlElement): Promise<void> {
  const from = iq.attrs.to;
  const request = utRequestOf(type, payload);
  if (request === undefined) return link.send(stanzaError(iq, from, link.fullJid, { ...BAD_REQUEST, text: 'a <ut/> set carries one element (or an attribute value), or action=\'delete\'' }));
  try {
    link.send(iqResult(iq, from, link.fullJid, utAnswer(link.parser, await link.utRequest(request))));
  } catch (error) {
    const refusal = error instanceof EpcError ? refusalOf(error) : undefined;
    if (refusal === undefined) throw error;
    link.send(stanzaError(iq, from, link.fullJid, refusal));
  }
}
