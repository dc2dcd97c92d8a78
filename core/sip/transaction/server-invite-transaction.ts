import type { EpcError } from '../../errors.js';
import { createResponse } from '../index.js';
import type { SipRequest, SipResponse } from '../model/message.js';
import { isReliable, type SipSource, type SipTarget } from '../transport/types.js';
import { responseTarget } from './response-target.js';
import { TimerSet } from './timer-set.js';
import { timerT4OrZero, transactionTimeout } from './timers.js';
import { transmit } from './transmit.js';
import {
  TransactionState,
  type ServerTransactionDelegate,
  type Transaction,
  type TransactionContext,
} from './types.js';

type ServerInviteTimer = 'Trying' | 'G' | 'H' | 'I' | 'L';

/** RFC 3261 §17.2.1: the 100 Trying is due unless the TU answers within 200 ms. */
export const DEFAULT_TRYING_DELAY = 200;

/**
 * INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as amended by RFC 6026 §7.1/§8.5-8.7
 * (a 2xx moves it to Accepted, where INVITE retransmissions are absorbed until Timer L).
 */
export class ServerInviteTransaction implements Transaction {
  readonly id: string;
  readonly request: SipRequest;
  readonly source: SipSource;
  /** Where responses go (RFC 3261 §18.2.2). */
  readonly target: SipTarget;
  /** Set by the TU to hear about Timer H and transport errors. */
  delegate: ServerTransactionDelegate = {};
  readonly #ctx: TransactionContext;
  readonly #timers: TimerSet<ServerInviteTimer>;
  readonly #reliable: boolean;
  readonly #tryingDelay: number;
  #state = TransactionState.Proceeding;
  #lastProvisional: SipResponse | undefined;
  #finalResponse: SipResponse | undefined;
  #timerGInterval: number;

  constructor(id: string, request: SipRequest, source: SipSource, ctx: TransactionContext, tryingDelay = DEFAULT_TRYING_DELAY) {
    this.id = id;
    this.request = request;
    this.source = source;
    this.target = responseTarget(request, source);
    this.#ctx = ctx;
    this.#timers = new TimerSet(ctx.clock);
    this.#reliable = isReliable(source.transport);
    this.#tryingDelay = tryingDelay;
    this.#timerGInterval = ctx.timers.t1;
  }

  get state(): TransactionState {
    return this.#state;
  }

  /** The last final response sent (its To tag is what an ACK must carry). */
  get finalResponse(): SipResponse | undefined {
    return this.#finalResponse;
  }

  /** Enter Proceeding and schedule the automatic 100 Trying (§17.2.1). */
  start(): void {
    if (this.#tryingDelay <= 0) this.#sendTrying();
    else this.#timers.start('Trying', this.#tryingDelay, () => this.#sendTrying());
  }

  /**
   * Send a response from the TU. Returns false when the RFC says to discard it (a response
   * after a 3xx-6xx, or anything but a 2xx while Accepted).
   */
  respond(response: SipResponse): boolean {
    const status = response.status;
    if (this.#state === TransactionState.Proceeding) {
      this.#timers.clear('Trying');
      if (status < 200) {
        // §17.2.1: provisionals are sent and remembered, not retransmitted by the transaction.
        this.#lastProvisional = response;
        this.#send(response);
      } else if (status < 300) {
        this.#enterAccepted(response);
      } else {
        this.#enterCompleted(response);
      }
      return true;
    }
    if (this.#state === TransactionState.Accepted && status >= 200 && status < 300) {
      // RFC 6026 §8.7: 2xx from the TU in Accepted (its own retransmissions) are sent.
      this.#finalResponse = response;
      this.#send(response);
      return true;
    }
    return false;
  }

  /** A retransmission of the INVITE (RFC 3261 §17.2.1, RFC 6026 §8.7). */
  receiveRequest(_retransmission: SipRequest): void {
    switch (this.#state) {
      case TransactionState.Proceeding:
        // §17.2.1: resend the most recent provisional. With none sent yet the client is
        // already retransmitting, so the 100 Trying is overdue: send it now.
        if (this.#lastProvisional) this.#send(this.#lastProvisional);
        else this.#sendTrying();
        return;
      case TransactionState.Completed:
        // §17.2.1: resend the final response.
        if (this.#finalResponse) this.#send(this.#finalResponse);
        return;
      default:
        // Accepted (RFC 6026 §8.7) and Confirmed: absorbed.
        return;
    }
  }

  /**
   * An ACK matched to this transaction. Returns true when the transaction absorbed it
   * (Completed → Confirmed, or a retransmission in Confirmed), false when it belongs to the TU:
   * RFC 6026 §8.7, an ACK in Accepted is passed up (it acknowledges a 2xx).
   */
  receiveAck(_ack: SipRequest): boolean {
    switch (this.#state) {
      case TransactionState.Completed: {
        this.#timers.clear('G');
        this.#timers.clear('H');
        this.#state = TransactionState.Confirmed;
        // §17.2.1: Timer I = T4 unreliable (absorb ACK retransmissions), 0 reliable.
        const wait = timerT4OrZero(this.#ctx.timers, this.#reliable);
        if (wait === 0) this.#terminate();
        else this.#timers.start('I', wait, () => this.#terminate());
        return true;
      }
      case TransactionState.Accepted:
        return false;
      default:
        return true;
    }
  }

  /** Stop silently (layer shutdown). */
  dispose(): void {
    this.#terminate();
  }

  #sendTrying(): void {
    if (this.#state !== TransactionState.Proceeding || this.#lastProvisional) return;
    this.#timers.clear('Trying');
    // §17.2.1: built per §8.2.6, without adding a To tag (SHOULD NOT).
    this.#lastProvisional = createResponse(this.request, 100, 'Trying');
    this.#send(this.#lastProvisional);
  }

  #enterAccepted(response: SipResponse): void {
    this.#state = TransactionState.Accepted;
    this.#finalResponse = response;
    // RFC 6026 §8.7: Timer L = 64*T1 absorbs INVITE retransmissions; the TU retransmits the 2xx.
    this.#timers.start('L', transactionTimeout(this.#ctx.timers), () => this.#terminate());
    this.#send(response);
  }

  #enterCompleted(response: SipResponse): void {
    this.#state = TransactionState.Completed;
    this.#finalResponse = response;
    // §17.2.1: Timer G = T1 on unreliable transports; Timer H = 64*T1 always. Armed before the
    // send so that an ACK delivered synchronously finds them to stop.
    if (!this.#reliable) this.#timers.start('G', this.#timerGInterval, () => this.#onTimerG());
    this.#timers.start('H', transactionTimeout(this.#ctx.timers), () => this.#onTimerH());
    this.#send(response);
  }

  #onTimerG(): void {
    if (this.#state !== TransactionState.Completed || !this.#finalResponse) return;
    // §17.2.1: retransmit the final response, G = min(2G, T2).
    this.#send(this.#finalResponse);
    this.#timerGInterval = Math.min(2 * this.#timerGInterval, this.#ctx.timers.t2);
    this.#timers.start('G', this.#timerGInterval, () => this.#onTimerG());
  }

  #onTimerH(): void {
    if (this.#state !== TransactionState.Completed) return;
    // §17.2.1: no ACK within 64*T1 → Terminated, and the TU learns of the failure.
    this.#terminate();
    this.delegate.onTimeout?.();
  }

  #onTransportError(error: EpcError): void {
    if (this.#state === TransactionState.Terminated) return;
    if (this.#state === TransactionState.Accepted) {
      // RFC 6026 §8.7: Accepted ends only by Timer L (it must keep absorbing INVITE
      // retransmissions); the TU still hears that its 2xx did not go out.
      this.delegate.onTransportError?.(error);
      return;
    }
    // §17.2.1: transport error → inform the TU, Terminated.
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
