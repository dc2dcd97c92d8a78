import type { EpcError } from '../../errors.js';
import type { Clock } from '../clock.js';
import type { SipRequest, SipResponse } from '../model/message.js';
import type { SipSender } from '../transport/types.js';
import type { TimerValues } from './timers.js';

/** Transaction states of RFC 3261 §17 Figures 5-8, with Accepted from RFC 6026 §7. */
export enum TransactionState {
  Calling = 'Calling',
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Accepted = 'Accepted',
  Confirmed = 'Confirmed',
  Terminated = 'Terminated',
}

/**
 * What a client transaction tells its TU, named after SIP outcomes.
 *
 * Timeouts and transport errors: when the TU implements `onTimeout` / `onTransportError`,
 * exactly that is called. When it does not, the transaction synthesises the response the
 * RFC says the TU should act on and passes it to `onFinal`: 408 Request Timeout for Timer B/F
 * (RFC 3261 §8.1.3.1 "treated as a 408"), 503 Service Unavailable for a transport error
 * (§8.1.3.1 "treated as a 503"). A synthetic response is never delivered after a real final
 * response has been delivered.
 */
export interface ClientTransactionDelegate {
  /** A 1xx (RFC 3261 §17.1.1.2 / §17.1.2.2: provisional responses are passed to the TU). */
  onProvisional?(response: SipResponse): void;
  /**
   * A final response. For INVITE: the first 3xx-6xx, and every 2xx received in Calling,
   * Proceeding or Accepted (RFC 6026 §8.4: forked 2xx and their retransmissions go to the TU,
   * which ACKs them itself).
   */
  onFinal(response: SipResponse): void;
  /** Timer B or F fired without a final response. */
  onTimeout?(): void;
  /** The transport could not send (RFC 3261 §8.1.3.1, §17.1.1.2). */
  onTransportError?(error: EpcError): void;
}

/** What a server transaction tells its TU (set `serverTransaction.delegate` in `onRequest`). */
export interface ServerTransactionDelegate {
  /** Timer H fired: no ACK for a 3xx-6xx to INVITE (RFC 3261 §17.2.1). */
  onTimeout?(): void;
  /** A response could not be sent (RFC 3261 §17.2.1, §17.2.2: inform the TU). */
  onTransportError?(error: EpcError): void;
}

/** Everything a transaction needs from its layer. */
export interface TransactionContext {
  readonly sender: SipSender;
  readonly clock: Clock;
  readonly timers: TimerValues;
  /** Called exactly once, when the transaction reaches Terminated, so the layer forgets it. */
  readonly onTerminated: (id: string) => void;
}

/** Common read-only face of the four transactions. */
export interface Transaction {
  /** The matching key (RFC 3261 §17.1.3 / §17.2.3) the layer stores it under. */
  readonly id: string;
  /** The request that created the transaction. */
  readonly request: SipRequest;
  readonly state: TransactionState;
}
