import type { SipMessage } from '../model/message.js';

/** Transport protocols a SIP hop can use. `ws`/`wss` are W2 only (RFC 7118); Mw uses the others. */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** A resolved next hop (RFC 3263 output): one concrete address to send to. */
export interface SipTarget {
  readonly transport: TransportProtocol;
  /** IP address (IPv6 without brackets) or, for a static target, a host name to look up. */
  readonly host: string;
  readonly port: number;
  /**
   * Send over this existing connection when it is still open (responses go back on the
   * connection the request came in on, RFC 3261 §18.2.2; flow tokens name one, RFC 5626).
   */
  readonly connectionId?: string;
  /**
   * RFC 5922 §7: the domain a TLS server certificate must match when `host` is an address
   * resolved from a name (the resolver sets it for TLS targets found through DNS).
   */
  readonly tlsServerName?: string;
}

/** Where an inbound message came from. */
export interface SipSource {
  readonly transport: TransportProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Set for connection-oriented transports: the connection to answer on. */
  readonly connectionId?: string;
}

export interface InboundSipMessage {
  readonly message: SipMessage;
  readonly source: SipSource;
}

/** Reliable transports need no retransmission timers (RFC 3261 §17.1.1.2, RFC 7118 §5). */
export function isReliable(transport: TransportProtocol): boolean {
  return transport !== 'udp';
}

/**
 * What the transaction layer needs from a transport (the SIP.js two-member idea): send one
 * message to one target. A rejection is a transport error (treated as 503, RFC 3261 §8.1.3.1).
 */
export interface SipSender {
  send(message: SipMessage, target: SipTarget): Promise<void>;
}
