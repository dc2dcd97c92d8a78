import type { EpcError } from '../../errors.js';
import type { InboundSipMessage, SipSender, SipSource } from './types.js';

/** Mw transports this folder implements (WS/WSS live in the W2 plugins, RFC 7118). */
export type MwTransportProtocol = 'udp' | 'tcp' | 'tls';

/** The address a listener is bound to (after `listen(host, 0)`, the ephemeral port chosen). */
export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Something went wrong that the transport handled itself (a message dropped, a connection
 * closed): never thrown, reported so it can be logged and counted.
 */
export interface TransportFault {
  readonly error: EpcError;
  /** Where the offending bytes came from, when known. */
  readonly source?: SipSource;
  /** What the transport did about it. */
  readonly action: 'dropped' | 'answered' | 'closed';
}

/** pino-compatible subset, so a pino child logger can be passed as is. */
export interface TransportLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentLog: TransportLog = { debug() {}, warn() {} };

/** Counters for /metrics (prom-client collects them from here). */
export interface TransportStats {
  messagesReceived: number;
  messagesSent: number;
  /** Inbound messages the parser rejected (RFC 3261 §18.1.2/§18.2.1 handling applied). */
  malformedMessages: number;
  /** 4xx answers generated for malformed requests. */
  malformedAnswered: number;
  /** Connections closed because framing was lost or a message was too large. */
  framingErrors: number;
  connectionsOpened: number;
  connectionsClosed: number;
}

export function emptyStats(): TransportStats {
  return {
    messagesReceived: 0, messagesSent: 0, malformedMessages: 0, malformedAnswered: 0,
    framingErrors: 0, connectionsOpened: 0, connectionsClosed: 0,
  };
}

export type MessageListener = (inbound: InboundSipMessage) => void;
export type FaultListener = (fault: TransportFault) => void;

/** One listening socket (UDP) or server (TCP/TLS) plus the connections it owns. */
export interface SipTransport extends SipSender {
  readonly protocol: MwTransportProtocol;
  readonly stats: TransportStats;
  /** Binds; port 0 picks an ephemeral port. Resolves with the bound address. */
  listen(host: string, port: number): Promise<BoundAddress>;
  /** The bound address; throws EPC_ERR_INVALID_STATE before `listen()`. */
  address(): BoundAddress;
  /** Subscribes to inbound messages; returns the unsubscribe function. */
  onMessage(listener: MessageListener): () => void;
  onFault(listener: FaultListener): () => void;
  /** Closes the listener and every connection; idempotent. */
  close(): Promise<void>;
}
