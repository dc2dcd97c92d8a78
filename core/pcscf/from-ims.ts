import { callId, createResponse, formatUri, from, getParam, tagOf, to, vias, type SipRequest, type SipResponse } from '../sip/index.js';
import type { ServerTransaction } from '../sip/transaction/index.js';
import type { SipSource } from '../sip/transport/types.js';
import { dialogId } from '../state/dialog-store.js';
import type { MediaLeg } from './alg/ims-alg.js';
import { strayResponseTowardWic } from './cseq-offset.js';
import { DIALOG_CREATING, forgetDialog, forgetFailedDialog, noteRemoteCseq, recordTerminatingDialog } from './dialog-tracker.js';
import { dtmfInfoAsRtp } from './dtmf-interworking.js';
import { popVia } from './forwarder.js';
import { assertTerminatingIdentity, servingBinding } from './identity.js';
import { hasLooped } from './loop-detection.js';
import { aorOf } from './own-uris.js';
import { endUnrelayed } from './release.js';
import type { PcscfRelay } from './relay.js';
import { cancelForwarded, isOwnMwVia, recordRoute, refuseEarly, sendStateless } from './relay-steps.js';
import { cancelInCluster } from './cluster/cluster-cancel.js';
import { popOwnRoutes } from './routing.js';
import type { W2Flow } from './w2-flows.js';

/**
 * Requests from the IMS (Mw side) are routed to the flow their Path/Record-Route token names
 * (TS 24.229 §5.2.6.4, RFC 5626): terminating requests and mid-dialog requests alike.
 */
export async function requestFromIms(relay: PcscfRelay, request: SipRequest, tx: ServerTransaction, _source: SipSource): Promise<void> {
  const { ctx } = relay;
  if (refuseEarly(request, tx)) return;
  if (hasLooped(request, ownMwBranches(relay, request))) {
    tx.respond(createResponse(request, 482, 'Loop Detected')); // RFC 3261 §16.3 step 4
    return;
  }
  if (request.method === 'CANCEL') {
    // Issue #15: in a cluster the CANCEL may reach another node than its INVITE (cluster/cluster-cancel.ts).
    return relay.cluster === undefined ? cancelForwarded(relay, relay.mw, request, tx) : cancelInCluster(relay, relay.cluster, request, tx);
  }
  const popped = popOwnRoutes(request, ctx.uris);
  if (popped.tampered) {
    tx.respond(createResponse(request, 403, 'Forbidden - invalid flow token')); // RFC 5626 §5.3
    return;
  }
  if (request.method === 'INVITE') relay.cluster?.invites.note(tx, popped.clusterHop); // its CANCEL may take another way
  const flow = await terminatingFlow(relay, popped.request, popped.flow);
  // Issue #15: another node of the cluster may hold the flow (cluster/cluster-routing.ts).
  if (flow === undefined && relay.cluster !== undefined && await relay.cluster.routing.forwardRequest(popped, tx)) return;
  if (flow === undefined || flow.session.onSipRequest === undefined) {
    // R-TERM-1 / R-OB-4: the flow is gone: 430 for an outbound flow (`;ob` in its Path), else 480.
    const outbound = popped.outbound;
    tx.respond(createResponse(request, outbound ? 430 : 480, outbound ? 'Flow Failed' : 'Temporarily Unavailable'));
    return;
  }
  const initial = tagOf(to(request)) === undefined;
  const dialog = initial ? undefined : await noteRemoteCseq(popped.request, ctx);
  let out = popped.request;
  if (initial && DIALOG_CREATING.has(request.method)) out = recordRoute(relay, out, flow, 'toward-w2');
  const asReceived = popped.request;
  const leg: MediaLeg = { callId: callId(request), flowKey: flow.key, direction: initial ? 'terminating' : dialog?.direction ?? 'originating' };
  if (!initial && request.method === 'INFO' && await dtmfInfoAsRtp(relay, request, leg, tx)) return;
  const withMedia = await relay.media.inRequest(out, 'ims', leg, tx);
  if (withMedia === undefined) return;
  relay.forwarder.forward({
    serverTx: tx, toward: 'w2', request: withMedia, targets: [relay.flows.targetOf(flow)], failureStatus: 480,
    onResponse: async (response) => {
      let res = response;
      if (res.status > 100 && res.status < 300) {
        const bindings = await ctx.registrations.byFlow(flow.key);
        res = assertTerminatingIdentity(res, request, servingBinding(bindings, aorOf(to(request).uri)));
      }
      if (initial) await recordTerminatingDialog(asReceived, res, flow, ctx);
      if (request.method === 'BYE' && res.status >= 200 && res.status < 300) await forgetDialog(callId(request), tagOf(to(request)), ctx);
      if (initial && res.status >= 300) await forgetFailedDialog(callId(request), tagOf(to(res)), ctx);
      return relay.media.inResponse(request, res, 'wic', leg);
    },
    onNotRelayed: endUnrelayed(relay, 'w2', withMedia, leg, undefined),
  });
}

async function terminatingFlow(relay: PcscfRelay, request: SipRequest, ref: ReturnType<typeof popOwnRoutes>['flow']): Promise<W2Flow | undefined> {
  if (ref !== undefined) return relay.flows.byRef(ref);
  // No token in Route: a registrar without Path support targets the registered contact.
  const bindings = await relay.ctx.registrations.byContactUri(formatUri(request.uri));
  for (const b of bindings) {
    const flow = relay.flows.byKey(b.flowKey);
    if (flow) return flow;
  }
  return undefined;
}

/** The ACK for a 2xx from the IMS (RFC 3261 §17.1.1.3): to the flow its Route token names, statelessly. */
export async function ackFromIms(relay: PcscfRelay, ack: SipRequest): Promise<void> {
  const popped = popOwnRoutes(ack, relay.ctx.uris);
  // Issue #15: the ACK of a non-2xx that reached this node another way than its INVITE (cluster/cluster-invites.ts).
  if (relay.cluster?.invites.absorbAck(ack, popped.clusterHop) === true) return;
  const flow = popped.flow ? relay.flows.byRef(popped.flow) : await terminatingFlow(relay, popped.request, undefined);
  if (flow === undefined) {
    await relay.cluster?.routing.forwardAck(popped); // issue #15: another node may hold the flow
    return;
  }
  const out = await relay.media.inAck(popped.request, 'ims', flow.key, tagOf(to(ack)));
  await sendStateless(relay, out, 'w2', relay.flows.targetOf(flow));
}

/**
 * A response no transaction claims (e.g. a 2xx retransmitted after ours ended): routed by Via
 * (RFC 3261 §16.7 / §18.2.2). Ours is on top and names the flow; the WIC's is next.
 */
export async function strayResponseFromIms(relay: PcscfRelay, response: SipResponse): Promise<void> {
  const top = vias(response)[0];
  if (top === undefined || !isOwnMwVia(relay, top)) return;
  const token = getParam(top.params, 'ftok');
  const ref = typeof token === 'string' ? relay.ctx.uris.flowOfToken(token) : undefined;
  const flow = ref ? relay.flows.byRef(ref) : undefined;
  if (flow === undefined) return;
  // A response to a WIC's request: the WIC's own CSeq number again (cseq-offset.ts).
  const wicTag = tagOf(from(response));
  const dialog = wicTag === undefined ? undefined : await relay.ctx.dialogs.get(dialogId(callId(response), wicTag));
  const out = dialog === undefined || dialog.flowKey !== flow.key ? response : strayResponseTowardWic(response, dialog);
  await relay.send(popVia(out), 'w2', relay.flows.targetOf(flow));
}

/** RFC 3261 §16.3 step 4: the branches of our own Mw Vias in the request, for loop detection. */
function ownMwBranches(relay: PcscfRelay, request: SipRequest): string[] {
  return vias(request).filter((v) => isOwnMwVia(relay, v)).map((v) => v.branch ?? '');
}
