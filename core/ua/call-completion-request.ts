/**
 * The caller's completion-of-calls request (TS 24.642, RFC 6910 §7.2-§7.4): a call-completion
 * subscription to the CC monitor, its NOTIFYs read as cc-state, and the CC call (recall) placed
 * with the offer's `m` URI parameter. See call-completion.ts for the wire forms.
 */
import { EventEmitter } from 'node:events';
import type {
  CallCompletionEvents, OutgoingCallOptions, UaCall, UaCallCompletion, UaCallCompletionOffer, UaSubscription,
} from './api.js';
import { parseCallCompletionBody, withCallCompletionMode } from './call-completion.js';

/** RFC 6910 §5: the event package name. */
export const CALL_COMPLETION_EVENT = 'call-completion';

export interface CallCompletionUe {
  subscribe(event: string, target: string): Promise<UaSubscription>;
  call(target: string, options: OutgoingCallOptions): Promise<UaCall>;
}

export class CallCompletionRequest extends EventEmitter<CallCompletionEvents> implements UaCallCompletion {
  readonly offer: UaCallCompletionOffer;
  readonly #subscription: UaSubscription;
  readonly #ue: CallCompletionUe;
  #state = 'requested';
  #recallUri: string | undefined;

  private constructor(offer: UaCallCompletionOffer, subscription: UaSubscription, ue: CallCompletionUe) {
    super();
    this.offer = offer;
    this.#subscription = subscription;
    this.#ue = ue;
    subscription.on('notify', (info) => {
      const status = info.body !== undefined ? parseCallCompletionBody(info.body) : undefined;
      if (status === undefined) return;
      this.#state = status.state;
      if (status.recallUri !== undefined) this.#recallUri = status.recallUri;
      this.emit('state', status);
      if (status.state === 'ready') this.emit('ready', status);
    });
    subscription.on('terminated', (info) => this.emit('terminated', info));
  }

  /** RFC 6910 §7.2: SUBSCRIBE to the cc URI with the `m` URI parameter of the offer. */
  static async start(offer: UaCallCompletionOffer, ue: CallCompletionUe): Promise<CallCompletionRequest> {
    const subscription = await ue.subscribe(CALL_COMPLETION_EVENT, withCallCompletionMode(offer.uri, offer.mode));
    return new CallCompletionRequest(offer, subscription, ue);
  }

  get id(): string {
    return this.#subscription.id;
  }

  get state(): string {
    return this.#state;
  }

  /** RFC 6910 §7.4: the CC call goes to the cc-URI the monitor named, else the original callee, with `m`. */
  recall(options: OutgoingCallOptions): Promise<UaCall> {
    return this.#ue.call(withCallCompletionMode(this.#recallUri ?? this.offer.target, this.offer.mode), options);
  }

  cancel(): Promise<void> {
    return this.#subscription.unsubscribe();
  }
}
