/**
 * What the server answers for itself and for the user's own bare JID (RFC 6120 §10.3, §8.4):
 * XEP-0199 ping, XEP-0030 disco#info, an empty RFC 6121 roster. Everything else addressed here
 * is refused with feature-not-implemented by the caller (never silence, RFC 6120 §8.2.3).
 */
import { xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';

/** XEP-0030 features of the gateway, as the clients look for them before offering a call. */
export const DISCO_FEATURES: readonly string[] = [
  NS.discoInfo,
  NS.ping,
  NS.jingle,
  NS.jingleRtp,
  'urn:xmpp:jingle:apps:rtp:audio',
  'urn:xmpp:jingle:apps:rtp:video',
  NS.iceUdp,
  NS.dtls,
  NS.jingleMessage,
  NS.jingleDtmf,
  NS.receipts,
  NS.chatStates,
];

export function discoInfo(node: string | undefined): XmlElement {
  return xmlElement('query', NS.discoInfo, { node }, [
    xmlElement('identity', NS.discoInfo, { category: 'gateway', type: 'sip', name: 'epcscf XMPP-SIP gateway' }),
    ...DISCO_FEATURES.map((feature) => xmlElement('feature', NS.discoInfo, { var: feature })),
  ]);
}

/** RFC 6121 §2.1.4: the roster lives in the IMS (presence/lists are not bridged): always empty. */
export function emptyRoster(): XmlElement {
  return xmlElement('query', NS.roster);
}

/** The one IQ payload a get/set carries (RFC 6120 §8.2.3: exactly one child), or undefined. */
export function iqPayload(iq: XmlElement): XmlElement | undefined {
  return iq.children.length === 1 ? iq.children[0] : undefined;
}
