/**
 * The XMPP the load generator writes and reads, as string templates and index scans: no XML
 * parser, no element objects. A real client library (xmpp.js, stanza.js) parses every stanza
 * into a tree, runs middleware and keeps far more state; driving hundreds of sessions with it
 * costs more CPU than the epcscf under test (the tests use them: test/integration/xmpp-ws-*).
 * The server's serializer (plugins/xmpp-ws/xml/serialize.ts) writes attributes in double quotes,
 * one stanza per WebSocket message (RFC 7395 §3.3.3), which is what the readers below rely on.
 */

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_JINGLE = 'urn:xmpp:jingle:1';
const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';
const NS_ICE_UDP = 'urn:xmpp:jingle:transports:ice-udp:1';

/** RFC 7395 §3.4: the <open/> that starts (and after SASL restarts) the stream. */
export const openStream = (domain: string): string => `<open xmlns="${NS_FRAMING}" to="${domain}" version="1.0"/>`;
/** RFC 7395 §3.6: the client ends the stream. */
export const closeStream = `<close xmlns="${NS_FRAMING}"/>`;

/** RFC 4616 / RFC 6120 §6.4.2: SASL PLAIN, empty authzid. */
export const saslPlain = (user: string, password: string): string =>
  `<auth xmlns="${NS_SASL}" mechanism="PLAIN">${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`;

/** RFC 6120 §7.6.1: bind the resource `resource`. */
export const bindResource = (id: string, resource: string): string =>
  `<iq xmlns="jabber:client" type="set" id="${id}"><bind xmlns="${NS_BIND}"><resource>${resource}</resource></bind></iq>`;

/** RFC 6121 §5.2.2: a chat message (RFC 7572 → SIP MESSAGE). `body` is plain ASCII here. */
export const chatMessage = (id: string, to: string, body: string): string =>
  `<message xmlns="jabber:client" type="chat" id="${id}" to="${to}"><body>${body}</body></message>`;

/** RFC 6120 §8.2.3: the empty result that acknowledges an IQ set. */
export const iqResult = (id: string, to: string): string => `<iq xmlns="jabber:client" type="result" id="${id}" to="${to}"/>`;

/**
 * XEP-0167 audio content, PCMU only, with one XEP-0176 host candidate: a description with a
 * candidate leaves as SDP at once (without one the gateway waits trickleWaitMs for trickled
 * ones). With media off it reaches the other side as it is, like the jsonrpc bench's plain offer.
 */
const audioContent = (creator: 'initiator' | 'responder', port: number, ufrag: string): string =>
  `<content creator="${creator}" name="audio" senders="both"><description xmlns="${NS_RTP}" media="audio">`
  + '<payload-type id="0" name="PCMU" clockrate="8000"/></description>'
  + `<transport xmlns="${NS_ICE_UDP}" ufrag="${ufrag}" pwd="benchpasswordbenchpassword">`
  + `<candidate component="1" foundation="1" generation="0" id="c1" ip="127.0.0.1" network="0" port="${port}" priority="2130706431" protocol="udp" type="host"/>`
  + '</transport></content>';

/** XEP-0166 §7.2.10 / XEP-0167: the caller's offer. */
export const sessionInitiate = (id: string, to: string, sid: string, initiator: string): string =>
  `<iq xmlns="jabber:client" type="set" id="${id}" to="${to}"><jingle xmlns="${NS_JINGLE}" action="session-initiate" sid="${sid}" initiator="${initiator}">`
  + `${audioContent('initiator', 40000, 'benchA')}</jingle></iq>`;

/** XEP-0166 §7.2.2: the callee's answer. */
export const sessionAccept = (id: string, to: string, sid: string, responder: string): string =>
  `<iq xmlns="jabber:client" type="set" id="${id}" to="${to}"><jingle xmlns="${NS_JINGLE}" action="session-accept" sid="${sid}" responder="${responder}">`
  + `${audioContent('initiator', 40002, 'benchB')}</jingle></iq>`;

/** XEP-0166 §7.2.15: hang up with reason success. */
export const sessionTerminate = (id: string, to: string, sid: string): string =>
  `<iq xmlns="jabber:client" type="set" id="${id}" to="${to}"><jingle xmlns="${NS_JINGLE}" action="session-terminate" sid="${sid}"><reason><success/></reason></jingle></iq>`;

/** The value of attribute `name` in the first tag of `frame` ('' when absent). */
export function firstTagAttr(frame: string, name: string): string {
  const tagEnd = frame.indexOf('>');
  const key = ` ${name}="`;
  const at = frame.indexOf(key);
  if (at < 0 || (tagEnd >= 0 && at > tagEnd)) return '';
  const from = at + key.length;
  return frame.slice(from, frame.indexOf('"', from));
}

/** The value of attribute `name` anywhere in `frame` (first occurrence, '' when absent). */
export function anyAttr(frame: string, name: string): string {
  const key = ` ${name}="`;
  const at = frame.indexOf(key);
  if (at < 0) return '';
  const from = at + key.length;
  return frame.slice(from, frame.indexOf('"', from));
}

/** The text of the first <body> of a message ('' when none). */
export function bodyText(frame: string): string {
  const open = frame.indexOf('<body');
  if (open < 0) return '';
  const from = frame.indexOf('>', open) + 1;
  const to = frame.indexOf('</body>', from);
  return to < 0 ? '' : frame.slice(from, to);
}
