/**
 * A CANCEL from Mw on a cluster node (issue #15). With Mw dispatched per request over the nodes,
 * the CANCEL (RFC 3261 §9.1: the INVITE's Request-URI, Via branch and Route) may reach another
 * node than its INVITE did, or the node the INVITE was forwarded to across the cluster hop:
 *  1. a node with the INVITE's server transaction (by the top Via, or by the IMS's Via below a
 *     cluster hop: cluster-invites.ts) answers 200 itself and cancels its own pending branch
 *     (RFC 3261 §16.10: the CANCEL is answered hop by hop; the INVITE then ends 487 where it came in);
 *  2. a node without one forwards it to the node holding the flow its Route names, like the
 *     INVITE (cluster-routing.ts), and relays that node's answer: RFC 3261 §16.10, an element
 *     with no matching response context forwards the CANCEL rather than answering it;
 *  3. no node holds the flow, or it already crossed a cluster hop (never forwarded twice): 481.
 */
import { createResponse, type SipRequest } from '../../sip/index.js';
import type { ServerTransaction } from '../../sip/transaction/index.js';
import type { PcscfRelay } from '../relay.js';
import { popOwnRoutes } from '../routing.js';
import type { PcscfCluster } from './pcscf-cluster.js';

export async function cancelInCluster(relay: PcscfRelay, cluster: PcscfCluster, cancel: SipRequest, tx: ServerTransaction): Promise<void> {
  const popped = popOwnRoutes(cancel, relay.ctx.uris);
  const invite = relay.mw.findInviteServerTransaction(cancel) ?? cluster.invites.find(cancel, popped.clusterHop);
  if (invite !== undefined) {
    // RFC 3261 §16.10: answer the CANCEL ourselves, then cancel the branch we forwarded.
    tx.respond(createResponse(cancel, 200, 'OK'));
    relay.forwarder.cancel(invite);
    return;
  }
  if (!popped.tampered && await cluster.routing.forwardRequest(popped, tx, 481)) return;
  tx.respond(createResponse(cancel, 481, 'Call/Transaction Does Not Exist')); // RFC 3261 §9.2
}
