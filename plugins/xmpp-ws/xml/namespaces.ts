/** XML namespaces of RFC 7395 framing, RFC 6120 streams and the Jingle XEPs, one table. */
export const NS = {
  /** RFC 7395 §3.3.1: the framing namespace of <open/> and <close/>. */
  framing: 'urn:ietf:params:xml:ns:xmpp-framing',
  /** RFC 6120 §4.9: the stream namespace (stream:error, stream:features). */
  stream: 'http://etherx.jabber.org/streams',
  /** RFC 6120 §4.9.2: the namespace of stream error conditions and their <text/>. */
  streamErrors: 'urn:ietf:params:xml:ns:xmpp-streams',
  /** RFC 6120 §8.3.2: the namespace of stanza error conditions. */
  stanzaErrors: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  client: 'jabber:client',
  jingle: 'urn:xmpp:jingle:1',
  jingleErrors: 'urn:xmpp:jingle:errors:1',
  jingleRtp: 'urn:xmpp:jingle:apps:rtp:1',
  jingleRtpInfo: 'urn:xmpp:jingle:apps:rtp:info:1',
  iceUdp: 'urn:xmpp:jingle:transports:ice-udp:1',
  dtls: 'urn:xmpp:jingle:apps:dtls:0',
  rtcpFb: 'urn:xmpp:jingle:apps:rtp:rtcp-fb:0',
  rtpHdrext: 'urn:xmpp:jingle:apps:rtp:rtp-hdrext:0',
  grouping: 'urn:xmpp:jingle:apps:grouping:0',
  ssma: 'urn:xmpp:jingle:apps:rtp:ssma:0',
  sctp: 'urn:xmpp:jingle:transports:dtls-sctp:1',
  /** RFC 6120 §6.4: SASL. */
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  /** RFC 6120 §7: resource binding. */
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  /** RFC 3921 §3 session establishment (a no-op since RFC 6121; clients still ask). */
  session: 'urn:ietf:params:xml:ns:xmpp-session',
  /** XEP-0199. */
  ping: 'urn:xmpp:ping',
  /** XEP-0030. */
  discoInfo: 'http://jabber.org/protocol/disco#info',
  /** RFC 6121 §2. */
  roster: 'jabber:iq:roster',
  /** XEP-0184. */
  receipts: 'urn:xmpp:receipts',
  /** XEP-0085. */
  chatStates: 'http://jabber.org/protocol/chatstates',
  /** XEP-0198 stream management. */
  sm: 'urn:xmpp:sm:3',
  /** XEP-0353 (Jingle Message Initiation). */
  jingleMessage: 'urn:xmpp:jingle-message:0',
  /** XEP-0181 (Jingle DTMF). */
  jingleDtmf: 'urn:xmpp:jingle:dtmf:0',
  /** XEP-0115 entity capabilities. */
  caps: 'http://jabber.org/protocol/caps',
} as const;

/** The namespace of the `xml:` prefix, bound by definition (Namespaces in XML §3). */
export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
