import {
  addHeader, callId, createResponse, generateBranch, maxForwards, optionTags, parseUri, setHeader,
  type SipRequest, type SipResponse, type SipUri, type Via,
} from '../sip/index.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/index.js';
import type { SipTarget } from '../sip/transport/types.js';
import type { DialogRecord } from '../state/dialog-store.js';
import type { Side } from './forwarder.js';
import type { RefusalReason, RelayGuard } from './pcscf-events.js';
import type { PcscfRelay } from './relay.js';
import { mwTargets } from './routing.js';
import type { W2Flow } from './w2-flows.js';

/** The steps requests from both sides share: validation, CANCEL, Record-Route, targets on Mw, stateless sends. */

/** RFC 3261 §16.3 request validation shared by both sides. Returns true when it answered. */
export function refuseEarly(request: SipRequest, tx: ServerTransaction): boolean {
  if (request.uri.kind === 'absolute') {
    tx.respond(createResponse(request, 416, 'Unsupported URI Scheme')); // RFC 3261 §16.3 step 2
    return true;
  }
  if (request.method !== 'ACK' && maxForwards(request) === 0) {
    tx.respond(createResponse(request, 483, 'Too Many Hops')); // RFC 3261 §16.3 step 3
    return true;
  }
  // RFC 3261 §16.3 step 6; sec-agree is dropped rather than refused (R-REG-15, R-ORIG-6).
  const unsupported = optionTags(request, 'Proxy-Require').filter((t) => t !== 'sec-agree');
  if (unsupported.length > 0) {
    tx.respond(createResponse(request, 420, 'Bad Extension', { headers: [['Unsupported', unsupported.join(', ')]] }));
    return true;
  }
  return false;
}

/** A CANCEL received on `layer`'s side for an INVITE we forwarded. */
export function cancelForwarded(relay: PcscfRelay, layer: TransactionLayer, cancel: SipRequest, tx: ServerTransaction): void {
  const invite = layer.findInviteServerTransaction(cancel);
  if (invite === undefined) {
    tx.respond(createResponse(cancel, 481, 'Call/Transaction Does Not Exist'));
    return;
  }
  // RFC 3261 §16.10: answer the CANCEL ourselves, then cancel the branch we forwarded.
  tx.respond(createResponse(cancel, 200, 'OK'));
  relay.forwarder.cancel(invite);
}

/**
 * R-SIPWS-12 double Record-Route: the entry facing the next hop goes on top, so both
 * directions of the dialog find us (Mw entry plain, W2 entry with the flow token).
 */
export function recordRoute(relay: PcscfRelay, request: SipRequest, flow: W2Flow, direction: 'toward-mw' | 'toward-w2'): SipRequest {
  const mw = relay.ctx.uris.mwRecordRoute(relay.mwTransport);
  const w2 = relay.ctx.uris.w2RecordRoute(flow.token);
  return addHeader(request, 'Record-Route', direction === 'toward-mw' ? `${mw}, ${w2}` : `${w2}, ${mw}`, { first: true });
}

/** Next-hop targets on Mw, or undefined after answering 503 when nothing resolves (RFC 3263 §4.3). */
export async function mwTargetsOr503(relay: PcscfRelay, request: SipRequest, tx: ServerTransaction, dialog?: DialogRecord): Promise<SipTarget[] | undefined> {
  try {
    const targets = await mwTargets(request, relay.routing, dialog === undefined ? undefined : dialogDestination(dialog));
    const usable = relay.nextHops.usable(targets);
    if (usable.length > 0) return usable;
    if (targets.length > 0) {
      // Issue 11 #10: the next hop is known dead: say so now rather than after Timer B/F (32 s).
      const retryAfter = String(relay.nextHops.retryAfterSeconds);
      tx.respond(createResponse(tx.request, 503, 'Service Unavailable - IMS core not responding', { headers: [['Retry-After', retryAfter]] }));
      return undefined;
    }
  } catch (error) {
    relay.ctx.log.warn({ err: error }, 'next hop not resolvable');
  }
  tx.respond(createResponse(tx.request, 503, 'Service Unavailable - no route to the IMS core'));
  return undefined;
}

/** Where a dialog's requests go when its route set is empty and no entry point is set: the remote target the IMS gave. */
export function dialogDestination(dialog: DialogRecord): SipUri | undefined {
  if (dialog.remoteTarget === '') return undefined;
  try {
    const uri = parseUri(dialog.remoteTarget);
    return uri.kind === 'sip' ? uri : undefined;
  } catch {
    return undefined;
  }
}

/** An ACK for a 2xx or a released-session BYE: no transaction state on our side. */
export async function sendStateless(relay: PcscfRelay, request: SipRequest, side: Side, target: SipTarget): Promise<void> {
  const mf = maxForwards(request);
  const out = addHeader(setHeader(request, 'Max-Forwards', String(mf === undefined ? 70 : Math.max(0, mf - 1))), 'Via', relay.via(side, target, generateBranch()), { first: true });
  await relay.send(out, side, target);
}

/** Our Mw Via names the flow, so a stray response finds its way back (`;ftok=`). */
export function flowViaParam(flow: W2Flow): string {
  return `;ftok=${flow.token}`;
}

export function isOwnMwVia(relay: PcscfRelay, via: Via): boolean {
  return relay.mwAddresses.some((a) => a.host === via.host && a.port === (via.port ?? 5060));
}

/** A w2.limits cap refused the request: answered here, counted, nothing on Mw. */
export function refuse(relay: PcscfRelay, tx: ServerTransaction, response: SipResponse, reason: RefusalReason, flow: W2Flow): void {
  relay.observer.emit('refused', reason, flow.connection.id);
  tx.respond(response);
}

export function guardTrip(relay: PcscfRelay, guard: RelayGuard): void {
  relay.ctx.log.debug({ guard }, 'routing guard: refused or dropped');
  if (relay.observer.listenerCount('guard') > 0) relay.observer.emit('guard', guard);
}

export function safeCallId(request: SipRequest): string | undefined {
  try {
    return callId(request);
  } catch {
    return undefined;
  }
}
