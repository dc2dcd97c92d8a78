import type { EpcError } from '../../errors.js';
import type { SipRequest, SipResponse } from '../model/message.js';
import { isReliable, type SipSource, type SipTarget } from '../transport/types.js';
import { responseTarget } from './response-target.js';
import { TimerSet } from './timer-set.js';
import { timerJ } from './timers.js';
import { transmit } from './transmit.js';
import {
  TransactionState,
  type ServerTransactionDelegate,
  type Transaction,
  type TransactionContext,
} from './types.js';

/** Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8). */
export class ServerNonInviteTransaction implements Transaction {
  readonly id: string;
  readonly request: SipRequest;
  readonly source: SipSource;
  /** Where responses go (RFC 3261 §18.2.2). */
  readonly target: SipTarget;
  /** Set by the TU to hear about transport errors. */
  delegate: ServerTransactionDelegate = {};
  readonly #ctx: TransactionContext;
  readonly #timers: TimerSet<'J'>;
  readonly #reliable: boolean;
  #state = TransactionState.Trying;
  #lastResponse: SipResponse | undefined;

  constructor(id: string, request: SipRequest, source: SipSource, ctx: TransactionContext) {
    this.id = id;
    this.request = request;
    this.source = source;
    this.target = responseTarget(request, source);
    this.#ctx = ctx;
    this.#timers = new TimerSet(ctx.clock);
    this.#reliable = isReliable(source.transport);
  }

  get state(): TransactionState {
    return this.#state;
  }

  /** The most recent response sent, if any. */
  get lastResponse(): SipResponse | undefined {
    return this.#lastResponse;
  }

  /**
   * Send a response from the TU. Returns false when the RFC says to discard it: any response
   * once a final one was sent (§17.2.2: "other final responses ... MUST be discarded").
   */
  respond(response: SipResponse): boolean {
    if (this.#state !== TransactionState.Trying && this.#state !== TransactionState.Proceeding) return false;
    this.#lastResponse = response;
    if (response.status < 200) {
      // §17.2.2: a provisional from the TU → Proceeding, sent (not retransmitted by us).
      this.#state = TransactionState.Proceeding;
      this.#send(response);
      return true;
    }
    // §17.2.2: a final response → Completed, Timer J = 64*T1 unreliable / 0 reliable.
    this.#state = TransactionState.Completed;
    const wait = timerJ(this.#ctx.timers, this.#reliable);
    if (wait > 0) this.#timers.start('J', wait, () => this.#terminate());
    this.#send(response);
    if (wait === 0) this.#terminate();
    return true;
  }

  /** A retransmission of the request (RFC 3261 §17.2.2). */
  receiveRequest(_retransmission: SipRequest): void {
    // Trying: discarded. Proceeding: the last provisional again. Completed: the final again.
    if (this.#state === TransactionState.Proceeding || this.#state === TransactionState.Completed) {
      if (this.#lastResponse) this.#send(this.#lastResponse);
    }
  }

  /** Stop silently (layer shutdown). */
  dispose(): void {
    this.#terminate();
  }

  #onTransportError(error: EpcError): void {
    if (this.#state === TransactionState.Terminated) return;
    // §17.2.2: transport error → inform the TU, Terminated.
    this.#terminate();
    this.delegate.onTransportError?.(error);
  }

  #send(response: SipResponse): void {
    transmit(this.#ctx.sender, response, this.target, (error) => this.#onTransportError(error));
  }

  #terminate(): void {
    if (this.#state === TransactionState.Terminated) return;
    this.#state = TransactionState.Terminated;
    this.#timers.dispose();
    this.#ctx.onTerminated(this.id);
  }
}
