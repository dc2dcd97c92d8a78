import type { EpcError } from '../../errors.js';
import type { SipRequest, SipResponse } from '../model/message.js';
import { isReliable, type SipTarget } from '../transport/types.js';
import { TimerSet } from './timer-set.js';
import { timerT4OrZero, transactionTimeout } from './timers.js';
import { reportTimeout, reportTransportError } from './client-outcome.js';
import { completedRequest } from './completed-request.js';
import { transmit } from './transmit.js';
import {
  TransactionState,
  type ClientTransactionDelegate,
  type Transaction,
  type TransactionContext,
} from './types.js';

type ClientNonInviteTimer = 'E' | 'F' | 'K';

/** The TU of a Completed transaction: it has had its final response and hears nothing more. */
const COMPLETED_DELEGATE: ClientTransactionDelegate = { onFinal: () => undefined };

/** Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6). */
export class ClientNonInviteTransaction implements Transaction {
  readonly id: string;
  readonly target: SipTarget;
  #request: SipRequest;
  #delegate: ClientTransactionDelegate;
  readonly #ctx: TransactionContext;
  readonly #timers: TimerSet<ClientNonInviteTimer>;
  readonly #reliable: boolean;
  #state = TransactionState.Trying;
  #timerEInterval: number;

  constructor(id: string, request: SipRequest, target: SipTarget, delegate: ClientTransactionDelegate, ctx: TransactionContext) {
    this.id = id;
    this.#request = request;
    this.target = target;
    this.#delegate = delegate;
    this.#ctx = ctx;
    this.#timers = new TimerSet(ctx.clock);
    this.#reliable = isReliable(target.transport);
    this.#timerEInterval = ctx.timers.t1;
  }

  get state(): TransactionState {
    return this.#state;
  }

  /** The request; from Completed on only its identity (request line, Via, From, To, Call-ID, CSeq). */
  get request(): SipRequest {
    return this.#request;
  }

  /** Enter Trying: send, Timer F = 64*T1, Timer E = T1 on unreliable transports (§17.1.2.2). */
  start(): void {
    // Timers first: a transport that answers synchronously must find them running to stop.
    this.#timers.start('F', transactionTimeout(this.#ctx.timers), () => this.#onTimerF());
    if (!this.#reliable) this.#timers.start('E', this.#timerEInterval, () => this.#onTimerE());
    this.#send(this.request);
  }

  receiveResponse(response: SipResponse): void {
    if (this.#state !== TransactionState.Trying && this.#state !== TransactionState.Proceeding) {
      // §17.1.2.2: in Completed, retransmitted responses are absorbed.
      return;
    }
    if (response.status < 200) {
      this.#state = TransactionState.Proceeding;
      this.#delegate.onProvisional?.(response);
      return;
    }
    this.#timers.clear('E');
    this.#timers.clear('F');
    this.#state = TransactionState.Completed;
    const delegate = this.#delegate;
    // Completed only absorbs retransmissions (§17.1.2.2): let go of the TU, whose state (the
    // proxied request, its server transaction) would otherwise live for Timer K on every hop,
    // and of all of the request but its identity.
    this.#delegate = COMPLETED_DELEGATE;
    if (!this.#reliable) this.#request = completedRequest(this.#request);
    delegate.onFinal(response);
    if (this.#state !== TransactionState.Completed) return; // the TU's callback may have closed the layer
    // §17.1.2.2: Timer K = T4 unreliable (absorb retransmitted responses), 0 reliable.
    const wait = timerT4OrZero(this.#ctx.timers, this.#reliable);
    if (wait === 0) this.#terminate();
    else this.#timers.start('K', wait, () => this.#terminate());
  }

  /** Stop silently (layer shutdown). */
  dispose(): void {
    this.#terminate();
  }

  #onTimerE(): void {
    if (this.#state === TransactionState.Trying) {
      // §17.1.2.2: in Trying, retransmit and double E up to T2.
      this.#send(this.request);
      this.#timerEInterval = Math.min(2 * this.#timerEInterval, this.#ctx.timers.t2);
    } else if (this.#state === TransactionState.Proceeding) {
      // §17.1.2.2: in Proceeding, retransmit every T2.
      this.#send(this.request);
      this.#timerEInterval = this.#ctx.timers.t2;
    } else {
      return;
    }
    this.#timers.start('E', this.#timerEInterval, () => this.#onTimerE());
  }

  #onTimerF(): void {
    if (this.#state !== TransactionState.Trying && this.#state !== TransactionState.Proceeding) return;
    // §17.1.2.2: Timer F → inform the TU of the timeout, Terminated.
    this.#terminate();
    reportTimeout(this.#delegate, this.request);
  }

  #onTransportError(error: EpcError): void {
    if (this.#state === TransactionState.Terminated) return;
    // §17.1.2.2 (Figure 6): a transport error only matters in Trying and Proceeding; a late one
    // (a send that failed after the final response came) just ends the transaction.
    if (this.#state === TransactionState.Completed) {
      this.#terminate();
      return;
    }
    // §17.1.2.2: transport error → inform the TU (a 503 without a handler, §8.1.3.1), Terminated.
    this.#terminate();
    reportTransportError(this.#delegate, this.request, error, false);
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
