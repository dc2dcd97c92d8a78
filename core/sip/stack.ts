/**
 * One SIP stack: a SipTransportLayer (UDP/TCP/TLS listeners) feeding one TransactionLayer.
 * It only wires the two layers together and says what our Via looks like; user-agent and
 * proxy logic live in the transaction user (`onRequest` and friends), never here, so the
 * P-CSCF can run one SipStack toward Mw and a separate TransactionLayer toward W2.
 */
import { EpcError } from '../errors.js';
import type { Clock } from './clock.js';
import { generateBranch } from './ids.js';
import type { SipRequest } from './model/message.js';
import type { TimerValues } from './transaction/timers.js';
import { TransactionLayer, type TransactionLayerOptions } from './transaction/transaction-layer.js';
import type { ListenerConfig } from './transport/listener-spec.js';
import type { StreamTransportOptions } from './transport/stream-transport.js';
import type { TransportLog } from './transport/transport.js';
import { SipTransportLayer, type LocalVia, type TlsCredentials } from './transport/transport-layer.js';
import type { SipTarget, TransportProtocol } from './transport/types.js';

export interface SipStackOptions {
  /** `udp:127.0.0.1:0`, `tcp:127.0.0.1:5060`, `tls:...` or full listener configs; one per transport. */
  readonly listeners: readonly (string | ListenerConfig)[];
  /** Required when a `tls:` listener is configured. */
  readonly tls?: TlsCredentials;
  /** Framing limit, idle and connect timeouts for TCP and TLS. */
  readonly stream?: StreamTransportOptions;
  readonly log?: TransportLog;
  /** T1/T2/T4 and the Timer D floor (RFC 3261 Table 4); unspecified ones keep their defaults. */
  readonly timers?: Partial<TimerValues>;
  /** Delay of the automatic 100 Trying to INVITE (RFC 3261 §17.2.1: 200 ms). */
  readonly tryingDelay?: number;
  /** Defaults to the system clock. */
  readonly clock?: Clock;
  readonly onRequest: TransactionLayerOptions['onRequest'];
  readonly onStrayResponse?: TransactionLayerOptions['onStrayResponse'];
  readonly onStrayAck?: TransactionLayerOptions['onStrayAck'];
  readonly onDiscarded?: TransactionLayerOptions['onDiscarded'];
}

/**
 * Transport layer + transaction layer, owned together: `close()` stops the transactions
 * (so no timer fires into a closed socket) and then the sockets.
 */
export class SipStack {
  readonly transport: SipTransportLayer;
  readonly transactions: TransactionLayer;
  #closing: Promise<void> | undefined;

  private constructor(transport: SipTransportLayer, transactions: TransactionLayer) {
    this.transport = transport;
    this.transactions = transactions;
  }

  /** Binds every listener, then starts routing inbound messages to the transaction layer. */
  static async start(options: SipStackOptions): Promise<SipStack> {
    const transport = await SipTransportLayer.start({
      listeners: options.listeners,
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.stream !== undefined ? { stream: options.stream } : {}),
      ...(options.log !== undefined ? { log: options.log } : {}),
    });
    const transactions = new TransactionLayer({
      sender: transport,
      onRequest: options.onRequest,
      ...(options.clock !== undefined ? { clock: options.clock } : {}),
      ...(options.timers !== undefined ? { timers: options.timers } : {}),
      ...(options.tryingDelay !== undefined ? { tryingDelay: options.tryingDelay } : {}),
      ...(options.onStrayResponse !== undefined ? { onStrayResponse: options.onStrayResponse } : {}),
      ...(options.onStrayAck !== undefined ? { onStrayAck: options.onStrayAck } : {}),
      ...(options.onDiscarded !== undefined ? { onDiscarded: options.onDiscarded } : {}),
    });
    transport.onMessage((inbound) => transactions.receive(inbound));
    return new SipStack(transport, transactions);
  }

  /** RFC 3261 §18.1.1: the sent-by host (URI form, IPv6 bracketed) and port for `transport`. */
  localVia(transport: TransportProtocol): LocalVia {
    return this.transport.localVia(transport);
  }

  /**
   * A fresh top Via value for a new client transaction over `transport`: a new RFC 3261
   * branch (§8.1.1.7: unique per transaction, magic cookie z9hG4bK) and an empty `rport`
   * (RFC 3581 §3: ask the server to answer to the packet's source port).
   */
  newVia(transport: TransportProtocol): string {
    const { host, port } = this.localVia(transport);
    return `SIP/2.0/${transport.toUpperCase()} ${host}:${port};branch=${generateBranch()};rport`;
  }

  /**
   * Sends the ACK for a 2xx straight through the transport: RFC 3261 §13.2.2.4 / §17.1.1.3,
   * it is the UAC core's, never a client transaction's (the TU retransmits it for every 2xx
   * retransmission it receives). A rejection is a transport error.
   */
  async sendAck(ack: SipRequest, target: SipTarget): Promise<void> {
    if (ack.method !== 'ACK') {
      throw new EpcError('EPC_ERR_INVALID_STATE', `sendAck sends ACK only, not ${ack.method}: use transactions.sendRequest`);
    }
    await this.transport.send(ack, target);
  }

  /** Stops every transaction and timer, then closes every socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.transactions.close();
      await this.transport.close();
    })();
    return this.#closing;
  }
}
