/**
 * Completion of calls (CCBS/CCNR, TS 24.642 on RFC 6910) in one session: the offers the failed
 * calls carried (call.ended / call.progress `callCompletion`), the requests the client accepted
 * (callCompletion.request → call-completion SUBSCRIBE), and their NOTIFYs as
 * callCompletion.ready / callCompletion.ended notifications. Keyed by the failed call's callId.
 */
import type { UaCallCompletion, UaCallCompletionOffer } from '../../core/contract/index.js';
import type { Notify } from './call-book.js';
import { rpcError, UNKNOWN_CALL } from './rpc-errors.js';

/** Offers kept for calls that ended: the most recent ones (a client accepts soon or never). */
const MAX_OFFERS = 16;

export class CallCompletionBook {
  readonly #offers = new Map<string, UaCallCompletionOffer>();
  readonly #requests = new Map<string, UaCallCompletion>();
  readonly #notify: Notify;

  constructor(notify: Notify) {
    this.#notify = notify;
  }

  get size(): number {
    return this.#requests.size;
  }

  /** A call's response offered completion of calls (RFC 6910 §4.4 Call-Info). */
  offered(callId: string, offer: UaCallCompletionOffer): void {
    this.#offers.delete(callId);
    this.#offers.set(callId, offer);
    if (this.#offers.size > MAX_OFFERS) this.#offers.delete(this.#offers.keys().next().value ?? '');
  }

  /** The offer of `callId`, or -32004 saying that call offered none. */
  offer(callId: string): UaCallCompletionOffer {
    const offer = this.#offers.get(callId);
    if (offer === undefined) throw rpcError(UNKNOWN_CALL, { callId, hint: 'no completion-of-calls offer for this call (see callCompletion on call.ended / call.progress)' });
    return offer;
  }

  /** The accepted request of `callId`, or -32004. */
  request(callId: string): UaCallCompletion {
    const request = this.#requests.get(callId);
    if (request === undefined) throw rpcError(UNKNOWN_CALL, { callId, hint: 'no completion-of-calls request for this call; call callCompletion.request first' });
    return request;
  }

  /** Reports the request's NOTIFYs (cc-state ready) and its end. */
  track(callId: string, request: UaCallCompletion): void {
    this.#requests.set(callId, request);
    request.on('ready', (status) => {
      this.#notify('callCompletion.ready', {
        callId, mode: request.offer.mode, target: status.recallUri ?? request.offer.target,
      });
    });
    request.on('terminated', (info) => {
      if (this.#requests.get(callId) !== request) return;
      this.#requests.delete(callId);
      this.#offers.delete(callId);
      this.#notify('callCompletion.ended', {
        callId,
        ...(info.status !== undefined ? { sipStatus: info.status } : {}),
        ...(info.reason !== undefined ? { reason: info.reason } : {}),
      });
    });
  }

  clear(): void {
    this.#offers.clear();
    this.#requests.clear();
  }
}
