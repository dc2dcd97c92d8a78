/** SIP transports for Mw (UDP, TCP, TLS), stream framing and the transport layer that joins them. */
export type { TransportProtocol, SipTarget, SipSource, InboundSipMessage, SipSender } from './types.js';
export { isReliable } from './types.js';
export type {
  MwTransportProtocol, BoundAddress, TransportFault, TransportLog, TransportStats, SipTransport, MessageListener, FaultListener,
} from './transport.js';
export { StreamFramer, DEFAULT_MAX_MESSAGE_SIZE } from './stream-framer.js';
export type { StreamFramerOptions } from './stream-framer.js';
export { UdpTransport } from './udp-transport.js';
export type { UdpTransportOptions } from './udp-transport.js';
export { StreamTransport } from './stream-transport.js';
export type { StreamTransportOptions } from './stream-transport.js';
export { TcpTransport } from './tcp-transport.js';
export type { TcpTransportOptions } from './tcp-transport.js';
export { TlsTransport } from './tls-transport.js';
export type { TlsTransportOptions } from './tls-transport.js';
export { SipTransportLayer } from './transport-layer.js';
export type { SipTransportLayerOptions, TlsCredentials, LocalVia } from './transport-layer.js';
export { parseListenerSpec, hostForUri } from './listener-spec.js';
export type { ListenerConfig } from './listener-spec.js';
export { buildMalformedReply } from './malformed-reply.js';
export { stampReceived, viaResponseTarget } from './via-received.js';
