/**
 * A cap on the SIP server transactions one W2 connection keeps open in the P-CSCF (issue 11:
 * "open transactions ... per connection"). Each costs memory and timers here and, once
 * forwarded, a client transaction toward the IMS; without a bound one client could fill both.
 *
 * A transaction counts from its creation (the W2 transaction layer's `onRequest`) until it
 * terminates (`onServerTransactionEnded`) or has sent its final response: an INVITE answered 2xx
 * lingers in Accepted for Timer L (RFC 6026 §8.7, 32 s) without costing anything toward the IMS,
 * so those are pruned when the cap is reached (one look at this connection's set, only then). The request
 * beyond the cap is answered 503 with Retry-After (R-ORIG-12, RFC 3261 §21.5.4: a temporary
 * overload of this server; the client may resend once one of its transactions completes) and
 * goes nowhere.
 * ACK never opens a server transaction, and a CANCEL is never refused: it ends a transaction
 * the client already has (RFC 3261 §9.2), which is what frees a slot.
 */
import { createResponse, type SipRequest, type SipResponse } from '../sip/index.js';
import { TransactionState, type ServerTransaction } from '../sip/transaction/index.js';

/** Seconds the client is asked to wait (RFC 3261 §20.33): its open transactions end within a few seconds. */
export const PENDING_TRANSACTIONS_RETRY_AFTER_SECONDS = 5;

export class PendingTransactions {
  readonly #max: number;
  /** Open server transactions per W2 connection id; an entry goes when its set is empty. */
  readonly #open = new Map<string, Set<ServerTransaction>>();

  constructor(maxPerConnection: number) {
    this.#max = maxPerConnection;
  }

  /**
   * Counts a new server transaction of a W2 connection. Returns the refusal to send when the
   * connection now has more open than the cap (CANCEL excepted), else undefined.
   */
  opened(tx: ServerTransaction): SipResponse | undefined {
    const connectionId = tx.source.connectionId;
    if (connectionId === undefined || tx.state === TransactionState.Terminated) return undefined;
    let open = this.#open.get(connectionId);
    if (open === undefined) this.#open.set(connectionId, (open = new Set()));
    open.add(tx);
    if (open.size > this.#max) pruneAnswered(open);
    if (open.size <= this.#max || tx.request.method === 'CANCEL') return undefined;
    return refusal(tx.request, `too many open transactions on this connection (at most ${this.#max})`);
  }

  /** The transaction terminated (or was disposed with its layer): its slot is free. */
  ended(tx: ServerTransaction): void {
    const connectionId = tx.source.connectionId;
    if (connectionId === undefined) return;
    const open = this.#open.get(connectionId);
    if (open === undefined) return;
    open.delete(tx);
    if (open.size === 0) this.#open.delete(connectionId);
  }

  /** The W2 connection is gone: its entry goes now, the late ends of its transactions are ignored. */
  releaseConnection(connectionId: string): void {
    this.#open.delete(connectionId);
  }

  /** Open server transactions of a connection now (tests, admin views). */
  countFor(connectionId: string): number {
    return this.#open.get(connectionId)?.size ?? 0;
  }
}

/** Drops the transactions that already sent their final response (Completed, Accepted, Confirmed). */
function pruneAnswered(open: Set<ServerTransaction>): void {
  for (const tx of open) {
    if (tx.state !== TransactionState.Trying && tx.state !== TransactionState.Proceeding) open.delete(tx);
  }
}

function refusal(request: SipRequest, why: string): SipResponse {
  // RFC 3261 §21.5.4 + §20.33: temporary, with when to try again; the reason phrase says why.
  return createResponse(request, 503, `Service Unavailable - ${why}`, { headers: [['Retry-After', String(PENDING_TRANSACTIONS_RETRY_AFTER_SECONDS)]] });
}
