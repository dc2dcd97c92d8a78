import { callId, createResponse, from, setHeader, tagOf, to, vias, type SipRequest, type SipResponse } from '../sip/index.js';
import type { ServerTransaction } from '../sip/transaction/index.js';
import { viaResponseTarget } from '../sip/transport/index.js';
import type { SipSource } from '../sip/transport/types.js';
import { dialogId } from '../state/dialog-store.js';
import { isBearerAuthorization } from '../webauth/bearer-authorization.js';
import type { TokenRefusal } from '../webauth/index.js';
import type { MediaLeg } from './alg/ims-alg.js';
import { chargingVectorValue, generateIcid } from './charging.js';
import { requestTowardIms, responseTowardWic, storeCseqOffset } from './cseq-offset.js';
import { DIALOG_CREATING, forgetDialog, forgetFailedDialog, hopKey, recordOriginatingDialog, wicDialogOf, wicResponseDialog } from './dialog-tracker.js';
import { popVia } from './forwarder.js';
import { stripSecAgree, stripUntrustedHeaders } from './header-hygiene.js';
import { assertOriginatingIdentity, servingBinding } from './identity.js';
import { aorOf } from './own-uris.js';
import { onRegisterResponse, rewriteRegisterTowardIms } from './register.js';
import { endUnrelayed } from './release.js';
import type { PcscfRelay } from './relay.js';
import {
  cancelForwarded, dialogDestination, flowViaParam, guardTrip, mwTargetsOr503, recordRoute, refuse, refuseEarly, safeCallId, sendStateless,
} from './relay-steps.js';
import { mwTargets, popOwnRoutes, withRouteSet } from './routing.js';
import { asTrustedNodeRegister } from './trusted-node.js';
import type { W2Flow } from './w2-flows.js';

/**
 * Requests from a WIC (W2 side) get the registration (TS 24.229 §5.2.2), originating (§5.2.6.3)
 * or mid-dialog treatment.
 */
export async function requestFromWic(relay: PcscfRelay, request: SipRequest, tx: ServerTransaction, source: SipSource): Promise<void> {
  // Issue 11: counted from here until the transaction terminates, whatever becomes of it.
  const overCap = relay.admission.pending.opened(tx);
  const flow = relay.flows.byConnection(source.connectionId ?? '');
  if (flow === undefined) return; // the session ended while the request was queued
  if (overCap !== undefined) return refuse(relay, tx, overCap, 'pending_transactions', flow);
  if (refuseEarly(request, tx)) return;
  if (request.method === 'CANCEL') return cancelForwarded(relay, relay.w2, request, tx);
  const initial = tagOf(to(request)) === undefined;
  // Issue 15: the rates of what costs the core most (REGISTER, initial INVITE), before anything else.
  const tooFast = initial || request.method === 'REGISTER' ? relay.admission.rates.admit(request, flow.key, flow.connection.remote.address) : undefined;
  if (tooFast !== undefined) return refuse(relay, tx, tooFast.response, tooFast.reason, flow);
  if (request.method === 'REGISTER') return register(relay, request, tx, flow);
  if (!initial) return midDialogFromWic(relay, request, tx, flow);
  return originating(relay, request, tx, flow);
}

async function register(relay: PcscfRelay, request: SipRequest, tx: ServerTransaction, flow: W2Flow): Promise<void> {
  const { ctx, admission } = relay;
  const refused = await admission.registrations.admit(request, flow);
  if (refused !== undefined) return refuse(relay, tx, refused, 'registrations_per_ip', flow);
  // TS 24.371 scenarios 2/3: a web token makes this a trusted-node registration (R-REG-4, R-REG-9).
  const decision = await admission.webAuth.register(request, flow);
  if (decision.kind === 'refused') return refuseToken(relay, tx, decision.refusal);
  let out = rewriteRegisterTowardIms(request, flow, ctx, relay.mwTransport);
  if (decision.kind === 'trusted') out = asTrustedNodeRegister(out, decision.grant.impi, ctx, admission.integrityProtected);
  const targets = await mwTargetsOr503(relay, out, tx);
  if (targets === undefined) return;
  relay.forwarder.forward({
    serverTx: tx, toward: 'mw', request: out, targets, failureStatus: 504, viaParams: flowViaParam(flow),
    onResponse: async (response) => {
      if (decision.kind !== 'trusted') return onRegisterResponse(request, response, flow, ctx);
      const relayed = await onRegisterResponse(request, response, flow, ctx, { impi: decision.grant.impi });
      const aor = aorOf(to(request).uri);
      if (response.status === 200) {
        const remaining = (await ctx.registrations.byFlow(flow.key)).some((b) => b.aor === aor);
        admission.webAuth.registered(flow, aor, decision, remaining);
      }
      // The WIC has no IMS password to answer a challenge with: the core refused to trust us.
      if (response.status === 401 || response.status === 407) {
        const headers = relayed.headers.filter((h) => !/^(www|proxy)-authenticate$/i.test(h.name));
        return { ...relayed, headers, status: 403, reason: 'Forbidden - trusted-node registration refused by the IMS core' };
      }
      return relayed;
    },
  });
}

/** A web token refused (R-REG-4): 403 with the table's reason (503 + Retry-After when keys are unavailable), nothing on Mw. */
function refuseToken(relay: PcscfRelay, tx: ServerTransaction, refusal: TokenRefusal): void {
  relay.ctx.log.debug({ reason: refusal.code, callId: safeCallId(tx.request) }, 'web token refused');
  relay.observer.emit('webToken', refusal.code);
  const headers: [string, string][] = refusal.retryAfterSeconds === undefined ? [] : [['Retry-After', String(refusal.retryAfterSeconds)]];
  tx.respond(createResponse(tx.request, refusal.status, refusal.reason, { headers }));
}

async function originating(relay: PcscfRelay, request: SipRequest, tx: ServerTransaction, flow: W2Flow): Promise<void> {
  const { ctx, admission } = relay;
  const bindings = await ctx.registrations.byFlow(flow.key);
  const binding = servingBinding(bindings, aorOf(from(request).uri));
  if (binding === undefined) {
    tx.respond(createResponse(request, 403, 'Forbidden - not registered')); // R-ORIG-1
    return;
  }
  // R-REG-3: a web-authenticated flow's initial requests are checked against its token.
  if (flow.webAuth !== undefined || request.headers.some(isBearerAuthorization)) {
    const tokenRefused = await admission.webAuth.initialRequest(request, flow, binding.aor);
    if (tokenRefused !== undefined) return refuseToken(relay, tx, tokenRefused);
  }
  // Issue 11 #4: the call caps, before the IMS-ALG takes any media port.
  const refused = request.method === 'INVITE' ? await admission.calls.admit(request, tx, flow.key, flow.connection.remote.address) : undefined;
  if (refused !== undefined) return refuse(relay, tx, refused.response, refused.reason, flow);
  const popped = popOwnRoutes(request, ctx.uris).request;
  let out = assertOriginatingIdentity(stripSecAgree(stripUntrustedHeaders(popped)), binding);
  // R-ORIG-4 (variant 2): the Route set is the stored Service-Route, whatever the WIC preloaded.
  out = withRouteSet(out, binding.serviceRoute);
  if (DIALOG_CREATING.has(request.method)) out = recordRoute(relay, out, flow, 'toward-mw');
  out = setHeader(out, 'P-Charging-Vector', chargingVectorValue(generateIcid(ctx.nodeId), ctx.origIoi));
  const targets = await mwTargetsOr503(relay, out, tx);
  if (targets === undefined) return;
  const leg: MediaLeg = { callId: callId(request), flowKey: flow.key, direction: 'originating' };
  const withMedia = await relay.media.inRequest(out, 'wic', leg, tx);
  if (withMedia === undefined) return;
  relay.forwarder.forward({
    serverTx: tx, toward: 'mw', request: withMedia, targets, viaParams: flowViaParam(flow),
    onResponse: async (response) => {
      await recordOriginatingDialog(request, response, flow, ctx);
      if (response.status >= 300 && DIALOG_CREATING.has(request.method)) await forgetFailedDialog(callId(request), tagOf(from(request)), ctx);
      return relay.media.inResponse(request, response, 'ims', leg);
    },
    onNotRelayed: endUnrelayed(relay, 'mw', withMedia, leg, tagOf(from(request))),
  });
}

/**
 * R-ORIG-10: a request with a To tag belongs to a dialog the P-CSCF recorded on this flow, or it
 * gets 481 and nothing goes on Mw. It then follows the route set the IMS recorded for that
 * dialog, whatever Route the WIC wrote (issue 11 #2: a client never picks where we send).
 */
async function midDialogFromWic(relay: PcscfRelay, request: SipRequest, tx: ServerTransaction, flow: W2Flow): Promise<void> {
  // From dialog lookup to forwarding, after any own request of the P-CSCF in the dialog (cseq-offset.ts).
  await relay.cseqSteps.run(dialogId(callId(request), tagOf(from(request)) ?? ''), () => midDialogFromWicInOrder(relay, request, tx, flow));
}

async function midDialogFromWicInOrder(relay: PcscfRelay, request: SipRequest, tx: ServerTransaction, flow: W2Flow): Promise<void> {
  const { ctx } = relay;
  const dialog = await wicDialogOf(request, flow, ctx);
  if (dialog === undefined) {
    guardTrip(relay, 'unknown-dialog');
    tx.respond(createResponse(request, 481, 'Call/Transaction Does Not Exist'));
    return;
  }
  const popped = popOwnRoutes(request, ctx.uris).request;
  const out = withRouteSet(stripSecAgree(stripUntrustedHeaders(popped)), dialog.routeSetTowardIms);
  const targets = await mwTargetsOr503(relay, out, tx, dialog);
  if (targets === undefined) return;
  const leg: MediaLeg = { callId: callId(request), flowKey: flow.key, direction: dialog.direction };
  const withMedia = await relay.media.inRequest(out, 'wic', leg, tx);
  if (withMedia === undefined) return;
  // RFC 3261 §12.2.1.1: above the numbers of the P-CSCF's own requests in the dialog (cseq-offset.ts).
  const renumbered = requestTowardIms(withMedia, dialog);
  if (renumbered.cseqOffset !== undefined) await storeCseqOffset(ctx.dialogs, dialog.id, renumbered.cseqOffset);
  relay.forwarder.forward({
    serverTx: tx, toward: 'mw', request: renumbered.request, targets, viaParams: flowViaParam(flow),
    onResponse: async (response) => {
      if (request.method === 'BYE' && response.status < 300 && response.status >= 200) await forgetDialog(callId(request), tagOf(from(request)), ctx);
      return relay.media.inResponse(request, responseTowardWic(response, request), 'ims', leg);
    },
    onNotRelayed: endUnrelayed(relay, 'mw', renumbered.request, leg, tagOf(from(request))),
  });
}

/**
 * The ACK for a 2xx (its own transaction, RFC 3261 §17.1.1.3): only in an INVITE dialog of this
 * flow, along that dialog's route set (§12.2.1.1). Any other ACK is for nothing we know and is
 * discarded (§16: a proxy has no transaction to give it to), and counted.
 */
export async function ackFromWic(relay: PcscfRelay, ack: SipRequest, source: SipSource): Promise<void> {
  const { ctx } = relay;
  const flow = relay.flows.byConnection(source.connectionId ?? '');
  const dialog = flow === undefined ? undefined : await wicDialogOf(ack, flow, ctx);
  if (flow === undefined || dialog === undefined || dialog.method !== 'INVITE') {
    guardTrip(relay, 'stray-ack');
    return;
  }
  let out = withRouteSet(stripUntrustedHeaders(popOwnRoutes(ack, ctx.uris).request), dialog.routeSetTowardIms);
  out = await relay.media.inAck(out, 'wic', flow.key, tagOf(from(ack)));
  out = requestTowardIms(out, dialog).request; // the CSeq its INVITE left with (cseq-offset.ts)
  const target = (await mwTargets(out, relay.routing, dialogDestination(dialog)))[0];
  if (target === undefined) return;
  await sendStateless(relay, out, 'mw', target);
}

/**
 * A WIC's response no transaction claims (e.g. its 2xx retransmitted after ours ended, RFC 3261
 * §16.7): relayed only under our W2 Via, for a dialog of that flow, to the IMS hop that sent the
 * dialog's request. A next Via naming anything else is a client choosing where we send (issue
 * 11 #2): dropped and counted.
 */
export async function strayResponseFromWic(relay: PcscfRelay, response: SipResponse, source: SipSource): Promise<void> {
  const flow = relay.flows.byConnection(source.connectionId ?? '');
  const [top, next] = vias(response);
  const w2 = relay.ctx.uris.w2;
  const ours = top !== undefined && top.host === w2.host && top.port === w2.port;
  const dialog = flow === undefined || !ours || next === undefined ? undefined : await wicResponseDialog(response, flow, relay.ctx);
  const target = dialog === undefined || next === undefined ? undefined : viaResponseTarget(next);
  if (target === undefined || hopKey(target) !== dialog?.imsHop) {
    guardTrip(relay, 'stray-response');
    return;
  }
  await relay.send(popVia(response), 'mw', target);
}
