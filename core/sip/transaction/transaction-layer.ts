import { EpcError } from '../../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { tagOf, to, topVia } from '../index.js';
import { SipParseError } from '../codec/parse-error.js';
import { generateTag } from '../ids.js';
import { createResponse } from '../model/edit.js';
import { reasonPhrase } from '../transport/malformed-reply.js';
import type { SipRequest, SipResponse } from '../model/message.js';
import type { InboundSipMessage, SipSender, SipSource, SipTarget } from '../transport/types.js';
import { ClientInviteTransaction } from './client-invite-transaction.js';
import { ClientNonInviteTransaction } from './client-non-invite-transaction.js';
import { DEFAULT_TRYING_DELAY, ServerInviteTransaction } from './server-invite-transaction.js';
import { ServerNonInviteTransaction } from './server-non-invite-transaction.js';
import { clientKey, clientKeyOfResponse, isRfc3261Branch, serverKey } from './transaction-keys.js';
import { resolveTimers, type TimerValues } from './timers.js';
import type { ClientTransactionDelegate, TransactionContext } from './types.js';
import { reportTimeout, reportTransportError } from './client-outcome.js';

export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;
export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;

export interface TransactionLayerOptions {
  readonly sender: SipSender;
  /** Defaults to the system clock; tests pass a fake one. */
  readonly clock?: Clock;
  /** T1/T2/T4 and the Timer D floor (RFC 3261 Table 4); unspecified ones keep their defaults. */
  readonly timers?: Partial<TimerValues>;
  /** Delay of the automatic 100 Trying to INVITE (RFC 3261 §17.2.1: 200 ms); 0 sends it at once. */
  readonly tryingDelay?: number;
  /**
   * A new request, with the server transaction created for it (RFC 3261 §17.2: the request is
   * passed to the TU). The TU answers through `transaction.respond()`. A CANCEL arrives here
   * in its own non-INVITE transaction; `findInviteServerTransaction` finds its INVITE.
   */
  readonly onRequest: (request: SipRequest, transaction: ServerTransaction, source: SipSource) => void;
  /**
   * A response that matches no client transaction (RFC 3261 §18.1.2: a UA core drops it, a
   * stateless or forking proxy forwards it; e.g. 2xx retransmissions after Timer M).
   */
  readonly onStrayResponse?: (response: SipResponse, source: SipSource) => void;
  /**
   * An ACK that belongs to the TU: the ACK for a 2xx (its own transaction, RFC 3261 §17.1.1.3)
   * or one that matched an INVITE server transaction in Accepted (RFC 6026 §8.7).
   */
  readonly onStrayAck?: (ack: SipRequest, source: SipSource) => void;
  /** A message the layer could not route (e.g. a Via or CSeq the accessors reject). */
  readonly onDiscarded?: (inbound: InboundSipMessage, reason: string) => void;
  /**
   * Monitoring of next hops (never changes what the TU sees): each client transaction reports
   * once whether `target` answered (any response), timed out (Timer B/F) or failed to send.
   */
  readonly onClientOutcome?: (request: SipRequest, target: SipTarget, outcome: ClientOutcome) => void;
  /**
   * A server transaction reached Terminated and was forgotten (the pair of `onRequest`, which
   * announces every new one): lets the TU count open transactions without scanning.
   */
  readonly onServerTransactionEnded?: (transaction: ServerTransaction) => void;
}

export type ClientOutcome = 'response' | 'timeout' | 'transport-error';

/**
 * The transaction layer of RFC 3261 §17: owns every client and server transaction, matches
 * inbound messages to them (§17.1.3, §17.2.3) and hands the rest to the TU. It adds nothing to
 * outgoing requests: the TU builds the Via with a fresh `generateBranch()` branch.
 */
export class TransactionLayer {
  readonly #sender: SipSender;
  readonly #clock: Clock;
  readonly #timers: TimerValues;
  readonly #tryingDelay: number;
  readonly #options: TransactionLayerOptions;
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #servers = new Map<string, ServerTransaction>();
  #closed = false;

  constructor(options: TransactionLayerOptions) {
    this.#options = options;
    this.#sender = options.sender;
    this.#clock = options.clock ?? systemClock;
    this.#timers = resolveTimers(options.timers);
    this.#tryingDelay = options.tryingDelay ?? DEFAULT_TRYING_DELAY;
  }

  /** The effective timer values. */
  get timers(): TimerValues {
    return this.#timers;
  }

  /** Live transactions (terminated ones are forgotten at once, RFC 3261 §17.1.1.2). */
  get clientTransactionCount(): number {
    return this.#clients.size;
  }

  get serverTransactionCount(): number {
    return this.#servers.size;
  }

  /**
   * Start a client transaction for `request` toward `target`. The request must carry a top Via
   * with an RFC 3261 branch (§8.1.1.7). An ACK is never sent in a client transaction
   * (§17.1.1.3: the ACK for 2xx is the TU's; send it through the transport directly).
   */
  sendRequest(request: SipRequest, target: SipTarget, delegate: ClientTransactionDelegate): ClientTransaction {
    if (this.#closed) throw new EpcError('EPC_ERR_INVALID_STATE', 'the transaction layer is closed');
    if (request.method === 'ACK') {
      throw new EpcError('EPC_ERR_INVALID_STATE', 'an ACK has no client transaction (RFC 3261 §17.1.1.3): send it through the transport');
    }
    const branch = topVia(request).branch;
    if (!isRfc3261Branch(branch)) {
      throw new EpcError('EPC_ERR_INVALID_STATE', 'the top Via needs a branch starting with z9hG4bK (RFC 3261 §8.1.1.7): use generateBranch()');
    }
    const id = clientKey(branch, request.method);
    if (this.#clients.has(id)) {
      throw new EpcError('EPC_ERR_INVALID_STATE', `a ${request.method} client transaction with branch ${branch} already exists (RFC 3261 §8.1.1.7: one branch per transaction)`);
    }
    const ctx = this.#context(this.#clients);
    const observe = this.#options.onClientOutcome;
    const tu = observe === undefined ? delegate : observedDelegate(delegate, request, target, observe);
    const tx =
      request.method === 'INVITE'
        ? new ClientInviteTransaction(id, request, target, tu, ctx)
        : new ClientNonInviteTransaction(id, request, target, tu, ctx);
    this.#clients.set(id, tx);
    tx.start();
    return tx;
  }

  /** Route one inbound message (from the transport) to its transaction or to the TU. */
  receive(inbound: InboundSipMessage): void {
    if (this.#closed) return;
    const { message, source } = inbound;
    try {
      if (message.kind === 'response') this.#receiveResponse(message, source);
      else if (message.method === 'ACK') this.#receiveAck(message, source);
      else this.#receiveRequest(message, source);
    } catch (err) {
      // Accessors throw SipParseError on a malformed Via/CSeq; such a message matches nothing.
      // Errors thrown by TU callbacks are not ours to swallow.
      if (!(err instanceof EpcError) || err.code !== 'EPC_ERR_SIP_PARSE') throw err;
      this.#options.onDiscarded?.(inbound, err.message);
    }
  }

  /**
   * RFC 3261 §9.2: the INVITE server transaction a CANCEL targets: same top Via branch and
   * sent-by (or the RFC 2543 identity), method INVITE.
   */
  findInviteServerTransaction(cancel: SipRequest): ServerInviteTransaction | undefined {
    const tx = this.#servers.get(serverKey(cancel, 'INVITE').key);
    return tx instanceof ServerInviteTransaction ? tx : undefined;
  }

  /** Stop every transaction and timer, silently. Idempotent; later messages are ignored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tx of [...this.#clients.values(), ...this.#servers.values()]) tx.dispose();
    this.#clients.clear();
    this.#servers.clear();
  }

  #receiveResponse(response: SipResponse, source: SipSource): void {
    const id = clientKeyOfResponse(response);
    const tx = id === undefined ? undefined : this.#clients.get(id);
    if (tx) tx.receiveResponse(response);
    else this.#options.onStrayResponse?.(response, source);
  }

  #receiveAck(ack: SipRequest, source: SipSource): void {
    const { key, legacy } = serverKey(ack);
    const tx = this.#servers.get(key);
    if (tx instanceof ServerInviteTransaction && (!legacy || this.#legacyAckMatches(ack, tx))) {
      if (tx.receiveAck(ack)) return;
    }
    this.#options.onStrayAck?.(ack, source);
  }

  /** RFC 3261 §17.2.3 (RFC 2543 rule): the ACK's To tag must be the tag of our response. */
  #legacyAckMatches(ack: SipRequest, tx: ServerInviteTransaction): boolean {
    const final = tx.finalResponse;
    return final !== undefined && tagOf(to(final)) === tagOf(to(ack));
  }

  #receiveRequest(request: SipRequest, source: SipSource): void {
    const { key } = serverKey(request);
    const existing = this.#servers.get(key);
    if (existing) {
      // §17.2.1 / §17.2.2: a retransmission; the transaction answers it, the TU never sees it.
      existing.receiveRequest(request);
      return;
    }
    const ctx = this.#serverContext();
    const tx =
      request.method === 'INVITE'
        ? new ServerInviteTransaction(key, request, source, ctx, this.#tryingDelay)
        : new ServerNonInviteTransaction(key, request, source, ctx);
    this.#servers.set(key, tx);
    if (tx instanceof ServerInviteTransaction) tx.start();
    try {
      this.#options.onRequest(request, tx, source);
    } catch (err) {
      // Headers are parsed on first use, so the TU may be the first to find one malformed. The
      // transaction exists by now: RFC 3261 §8.2 / §21.4.1, the request is answered (400 or the
      // parse status, reason phrase saying why) instead of left without an answer for ever.
      if (!(err instanceof SipParseError)) throw err;
      const status = typeof err.status === 'number' && err.status >= 400 && err.status <= 699 ? err.status : 400;
      tx.respond(createResponse(request, status, reasonPhrase(err.reason, status), { toTag: generateTag() }));
    }
  }

  #serverContext(): TransactionContext {
    const onEnded = this.#options.onServerTransactionEnded;
    if (onEnded === undefined) return this.#context(this.#servers);
    return {
      sender: this.#sender,
      clock: this.#clock,
      timers: this.#timers,
      onTerminated: (id) => {
        const tx = this.#servers.get(id);
        this.#servers.delete(id);
        if (tx !== undefined) onEnded(tx);
      },
    };
  }

  #context(owner: Map<string, ClientTransaction | ServerTransaction>): TransactionContext {
    return {
      sender: this.#sender,
      clock: this.#clock,
      timers: this.#timers,
      onTerminated: (id) => {
        owner.delete(id);
      },
    };
  }
}

/**
 * `delegate` with each outcome reported to `observe` first (once per transaction). Timeouts and
 * transport errors reach the TU exactly as they would without the observer (RFC 3261 §8.1.3.1:
 * its own handler, or the synthetic 408/503).
 */
function observedDelegate(
  delegate: ClientTransactionDelegate, request: SipRequest, target: SipTarget,
  observe: (request: SipRequest, target: SipTarget, outcome: ClientOutcome) => void,
): ClientTransactionDelegate {
  let reported = false;
  let finalDelivered = false;
  const report = (outcome: ClientOutcome): void => {
    if (reported) return;
    reported = true;
    observe(request, target, outcome);
  };
  return {
    onProvisional: (response) => { report('response'); delegate.onProvisional?.(response); },
    onFinal: (response) => { report('response'); finalDelivered = true; delegate.onFinal(response); },
    onTimeout: () => { report('timeout'); reportTimeout(delegate, request); },
    onTransportError: (error) => { report('transport-error'); reportTransportError(delegate, request, error, finalDelivered); },
  };
}
