/**
 * The INVITE server transactions a cluster node holds for requests from Mw, found by the identity
 * the IMS gave them (RFC 3261 §9.2, §17.2.3: the branch and sent-by of the IMS's own Via) rather
 * than by the top Via this node received. With Mw dispatched per request over the nodes (issue
 * #15), an INVITE may cross the cluster hop (cluster-hop.ts: the forwarding node's Via on top),
 * and its CANCEL or the ACK of its non-2xx final (RFC 3261 §9.1, §17.1.1.3: the INVITE's branch
 * and Route) may reach this node directly or through another node. The IMS's Via is the top one,
 * or the second after the one cluster hop a request may cross (it is never forwarded twice).
 * Built only on a cluster node: a single node matches by the top Via alone, as before.
 */
import { vias, type SipRequest } from '../../sip/index.js';
import { isRfc3261Branch, ServerInviteTransaction, TransactionState, type ServerTransaction } from '../../sip/transaction/index.js';

export class ClusterInvites {
  readonly #byOrigin = new Map<string, ServerInviteTransaction>();
  readonly #keys = new Map<ServerTransaction, string>();

  /** INVITE server transactions indexed (for the tests and metrics). */
  get size(): number {
    return this.#byOrigin.size;
  }

  /** An INVITE from Mw (directly, or through a cluster hop when `clusterHop`) got its server transaction. */
  note(tx: ServerTransaction, clusterHop: boolean): void {
    if (!(tx instanceof ServerInviteTransaction)) return;
    const key = originKey(tx.request, clusterHop);
    if (key === undefined) return; // an RFC 2543 peer: matched by the top Via only
    this.#byOrigin.set(key, tx);
    this.#keys.set(tx, key);
  }

  /** The Mw transaction layer forgot `tx` (Terminated). */
  ended(tx: ServerTransaction): void {
    const key = this.#keys.get(tx);
    if (key === undefined) return;
    this.#keys.delete(tx);
    if (this.#byOrigin.get(key) === tx) this.#byOrigin.delete(key);
  }

  /** RFC 3261 §9.2: the INVITE transaction here that `request` (a CANCEL or an ACK) names by the IMS's Via. */
  find(request: SipRequest, clusterHop: boolean): ServerInviteTransaction | undefined {
    const key = originKey(request, clusterHop);
    return key === undefined ? undefined : this.#byOrigin.get(key);
  }

  /**
   * RFC 3261 §17.2.1: the ACK of a non-2xx final is part of its INVITE transaction, hop by hop;
   * one that reached this node by another way than the top Via the transaction knows is handed
   * to it here (its retransmissions of the final stop) and never relayed toward the WIC. True
   * when absorbed. An ACK of a 2xx carries a new branch (§13.2.2.4) and is never matched.
   */
  absorbAck(ack: SipRequest, clusterHop: boolean): boolean {
    const tx = this.find(ack, clusterHop);
    if (tx === undefined) return false;
    const state = tx.state;
    return (state === TransactionState.Completed || state === TransactionState.Confirmed) && tx.receiveAck(ack);
  }
}

/** The branch and sent-by of the Via the IMS put on the request (below a cluster hop's, if any). */
function originKey(request: SipRequest, clusterHop: boolean): string | undefined {
  const via = vias(request)[clusterHop ? 1 : 0];
  if (via === undefined || !isRfc3261Branch(via.branch)) return undefined;
  return `${via.branch}\u0000${via.host.toLowerCase()}:${via.port ?? ''}`;
}
