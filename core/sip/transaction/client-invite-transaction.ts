import type { EpcError } from '../../errors.js';
import type { SipRequest, SipResponse } from '../model/message.js';
import { isReliable, type SipTarget } from '../transport/types.js';
import { createAckForNonSuccess } from './ack-and-cancel.js';
import { TimerSet } from './timer-set.js';
import { timerD, transactionTimeout } from './timers.js';
import { reportTimeout, reportTransportError } from './client-outcome.js';
import { transmit } from './transmit.js';
import {
  TransactionState,
  type ClientTransactionDelegate,
  type Transaction,
  type TransactionContext,
} from './types.js';

type ClientInviteTimer = 'A' | 'B' | 'D' | 'M';

/**
 * INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) as amended by RFC 6026 §7.2/§8.4
 * (a 2xx moves it to Accepted, where further 2xx are passed to the TU until Timer M).
 */
export class ClientInviteTransaction implements Transaction {
  readonly id: string;
  readonly request: SipRequest;
  readonly target: SipTarget;
  readonly #delegate: ClientTransactionDelegate;
  readonly #ctx: TransactionContext;
  readonly #timers: TimerSet<ClientInviteTimer>;
  readonly #reliable: boolean;
  #state = TransactionState.Calling;
  #timerAInterval: number;
  #ack: SipRequest | undefined;
  #finalDelivered = false;

  constructor(id: string, request: SipRequest, target: SipTarget, delegate: ClientTransactionDelegate, ctx: TransactionContext) {
    this.id = id;
    this.request = request;
    this.target = target;
    this.#delegate = delegate;
    this.#ctx = ctx;
    this.#timers = new TimerSet(ctx.clock);
    this.#reliable = isReliable(target.transport);
    this.#timerAInterval = ctx.timers.t1;
  }

  get state(): TransactionState {
    return this.#state;
  }

  /** The ACK sent for a 3xx-6xx, once there is one. */
  get ack(): SipRequest | undefined {
    return this.#ack;
  }

  /** Enter Calling: send the INVITE, start Timer A (unreliable only) and Timer B. */
  start(): void {
    // Timers first: a transport that answers synchronously must find them running to stop.
    // RFC 3261 §17.1.1.2: Timer A = T1 on unreliable transports only; reliable ones SHOULD NOT.
    if (!this.#reliable) this.#timers.start('A', this.#timerAInterval, () => this.#onTimerA());
    // §17.1.1.2: Timer B = 64*T1 for any transport.
    this.#timers.start('B', transactionTimeout(this.#ctx.timers), () => this.#onTimerB());
    this.#send(this.request);
  }

  /** A response the layer matched to this transaction (RFC 3261 §17.1.3). */
  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.#state) {
      case TransactionState.Calling:
      case TransactionState.Proceeding:
        if (status < 200) {
          // §17.1.1.2: a 1xx stops retransmissions; Timer B only guards the Calling state.
          this.#timers.clear('A');
          this.#timers.clear('B');
          this.#state = TransactionState.Proceeding;
          this.#delegate.onProvisional?.(response);
        } else if (status < 300) {
          this.#enterAccepted(response);
        } else {
          this.#enterCompleted(response);
        }
        return;
      case TransactionState.Completed:
        // §17.1.1.2: a retransmitted final response is answered with the same ACK, not passed up.
        if (status >= 300 && this.#ack) this.#send(this.#ack);
        return;
      case TransactionState.Accepted:
        // RFC 6026 §8.4: every 2xx received in Accepted goes to the TU (forks, retransmissions).
        if (status >= 200 && status < 300) this.#delegate.onFinal(response);
        return;
      default:
        return;
    }
  }

  /** Stop silently (layer shutdown): no timer survives, the TU is not called. */
  dispose(): void {
    this.#terminate();
  }

  #enterAccepted(response: SipResponse): void {
    this.#timers.clear('A');
    this.#timers.clear('B');
    this.#state = TransactionState.Accepted;
    this.#finalDelivered = true;
    // RFC 6026 §8.4: Timer M = 64*T1 keeps the transaction to catch forked 2xx retransmissions.
    this.#timers.start('M', transactionTimeout(this.#ctx.timers), () => this.#terminate());
    this.#delegate.onFinal(response);
  }

  #enterCompleted(response: SipResponse): void {
    this.#timers.clear('A');
    this.#timers.clear('B');
    this.#state = TransactionState.Completed;
    this.#finalDelivered = true;
    // §17.1.1.3: the transaction, not the TU, ACKs a 3xx-6xx, to the INVITE's destination.
    this.#ack = createAckForNonSuccess(this.request, response);
    this.#send(this.#ack);
    // §17.1.1.2: Timer D (>= 32 s unreliable, 0 reliable) absorbs final response retransmissions.
    const wait = timerD(this.#ctx.timers, this.#reliable);
    this.#delegate.onFinal(response);
    if (this.#state !== TransactionState.Completed) return; // the TU's callback may have closed the layer
    if (wait === 0) this.#terminate();
    else this.#timers.start('D', wait, () => this.#terminate());
  }

  #onTimerA(): void {
    if (this.#state !== TransactionState.Calling) return;
    // §17.1.1.2: retransmit and double the interval (Timer A is not capped by T2).
    this.#send(this.request);
    this.#timerAInterval *= 2;
    this.#timers.start('A', this.#timerAInterval, () => this.#onTimerA());
  }

  #onTimerB(): void {
    if (this.#state !== TransactionState.Calling) return;
    // §17.1.1.2: Timer B in Calling → inform the TU of the timeout, Terminated.
    this.#terminate();
    reportTimeout(this.#delegate, this.request);
  }

  #onTransportError(error: EpcError): void {
    if (this.#state === TransactionState.Terminated) return;
    // §17.1.1.2 / RFC 6026: a transport failure ends the transaction and is reported to the TU,
    // as a 503 when it has no dedicated handler (§8.1.3.1).
    const alreadyAnswered = this.#finalDelivered;
    this.#terminate();
    reportTransportError(this.#delegate, this.request, error, alreadyAnswered);
  }

  #send(message: SipRequest): void {
    transmit(this.#ctx.sender, message, this.target, (error) => this.#onTransportError(error));
  }

  #terminate(): void {
    if (this.#state === TransactionState.Terminated) return;
    this.#state = TransactionState.Terminated;
    this.#timers.dispose();
    this.#ctx.onTerminated(this.id);
  }
}
