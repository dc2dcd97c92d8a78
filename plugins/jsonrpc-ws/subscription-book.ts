/**
 * The subscriptions of one session (reg RFC 3680, message-summary RFC 3842): NOTIFY bodies and
 * terminations become subscription.notify notifications.
 */
import { parseMessageSummary, type UaSubscription } from '../../core/contract/index.js';
import type { Notify } from './call-book.js';
import { rpcError, UNKNOWN_SUBSCRIPTION } from './rpc-errors.js';

export class SubscriptionBook {
  readonly #subscriptions = new Map<string, UaSubscription>();
  readonly #notify: Notify;

  constructor(notify: Notify) {
    this.#notify = notify;
  }

  get size(): number {
    return this.#subscriptions.size;
  }

  require(subscriptionId: string): UaSubscription {
    const subscription = this.#subscriptions.get(subscriptionId);
    if (subscription === undefined) throw rpcError(UNKNOWN_SUBSCRIPTION, { subscriptionId, hint: 'no such subscription in this session; it may have been terminated' });
    return subscription;
  }

  track(subscription: UaSubscription): void {
    const subscriptionId = subscription.id;
    this.#subscriptions.set(subscriptionId, subscription);
    subscription.on('notify', (info) => {
      if (info.state === 'terminated') this.#subscriptions.delete(subscriptionId);
      this.#notify('subscription.notify', {
        subscriptionId, event: subscription.event, state: info.state,
        ...(info.contentType !== undefined ? { contentType: info.contentType } : {}),
        ...(info.body !== undefined ? { body: info.body } : {}),
        ...messageSummaryParams(subscription.event, info.body),
      });
    });
    subscription.on('terminated', (info) => {
      if (!this.#subscriptions.delete(subscriptionId)) return; // already reported by a terminated NOTIFY
      this.#notify('subscription.notify', {
        subscriptionId, event: subscription.event, state: 'terminated',
        ...(info.status !== undefined ? { sipStatus: info.status } : {}),
        ...(info.reason !== undefined ? { reason: info.reason } : {}),
      });
    });
  }

  forget(subscriptionId: string): void {
    this.#subscriptions.delete(subscriptionId);
  }

  clear(): void {
    this.#subscriptions.clear();
  }
}

/** TS 24.606 MWI: the RFC 3842 counts beside the raw body, so a client need not parse it. */
export function messageSummaryParams(event: string, body: string | undefined): Record<string, unknown> {
  if (event !== 'message-summary' || body === undefined) return {};
  const summary = parseMessageSummary(body);
  if (summary === undefined) return {};
  return {
    messageSummary: {
      messagesWaiting: summary.messagesWaiting,
      ...(summary.account !== undefined ? { account: summary.account } : {}),
      new: summary.new, old: summary.old,
      classes: summary.classes,
    },
  };
}
