/**
 * DTMF from the far end toward a Jingle client (issue #14): a SIP INFO application/dtmf-relay
 * becomes a session-info carrying the XEP-0181 element, one per digit:
 *   <dtmf xmlns='urn:xmpp:jingle:dtmf:0' code='7' duration='160'/>
 * (XEP-0181 is deferred but is the one Jingle form of DTMF; the client's own <dtmf/> goes the
 * other way as INFO). A client that does not understand it answers <unsupported-info/>
 * (XEP-0166 §7.2.14), which the gateway ignores. Other INFO bodies give nothing.
 */
import { DTMF_RELAY_CONTENT_TYPE, mediaTypeOf, parseDtmfRelay } from '../../../core/contract/index.js';
import { xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';

export function sessionInfoDtmf(sid: string, info: { readonly contentType: string; readonly body: string }): XmlElement | undefined {
  if (mediaTypeOf(info.contentType) !== DTMF_RELAY_CONTENT_TYPE) return undefined;
  const dtmf = parseDtmfRelay(info.body);
  if (dtmf === undefined) return undefined;
  return xmlElement('jingle', NS.jingle, { action: 'session-info', sid }, [
    xmlElement('dtmf', NS.jingleDtmf, { code: dtmf.digit, duration: String(dtmf.durationMs) }),
  ]);
}
