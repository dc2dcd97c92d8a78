import { EpcError } from '../errors.js';
import { addHeader, callId, generateBranch, tagOf, to, type SipRequest, type SipResponse } from '../sip/index.js';
import type { SipTarget } from '../sip/transport/types.js';
import type { DialogRecord } from '../state/dialog-store.js';
import type { MediaLeg } from './alg/ims-alg.js';
import { keepForAdoption } from './cluster/flow-adoption.js';
import { forgetDialog, releaseRequest, releaseRequestTowardWic } from './dialog-tracker.js';
import type { Side } from './forwarder.js';
import type { PcscfRelay } from './relay.js';
import { sendStateless } from './relay-steps.js';
import { endCallsInSetup } from './setup-release.js';
import { mwTargets } from './routing.js';
import { endUnrelayedAnswer } from './unrelayed-answer.js';
import type { W2Flow } from './w2-flows.js';

/**
 * The W2 connection is gone (R-ORIG-9, R-REG-25): its bindings die (terminating requests now
 * get 430/480), pending INVITEs it originated are cancelled, and confirmed dialogs are
 * released with a BYE toward the IMS.
 */
export async function releaseW2Flow(relay: PcscfRelay, flow: W2Flow): Promise<void> {
  const { ctx, admission } = relay;
  admission.webAuth.flowReleased(flow);
  // Issue #15: a node leaving the cluster (SIGTERM) or fencing itself keeps the virtual UE's bindings
  // for the adopt grace instead: its clients resume on another node with no REGISTER (cluster/flow-adoption.ts).
  const membership = relay.cluster?.membership;
  const released = membership?.handsOver(flow.key) === true
    ? await keepForAdoption(ctx.registrations, flow.key, membership.adoptGraceMs, ctx.now())
    : await ctx.registrations.removeFlow(flow.key);
  // R-REG-25: epcscf registered these as a trusted node, so epcscf de-registers them.
  const deregistrations = admission.deregistrar.deregister(flow, released, 'flow-ended');
  admission.calls.releaseFlow(flow.key);
  admission.pending.releaseConnection(flow.connection.id);
  relay.forwarder.cancelFrom(flow.connection.id);
  // The flow owns its media legs: all go with it, early, confirmed or still being set up.
  const sends: Promise<void>[] = [relay.media.releaseFlow(flow.key, 'W2 connection closed')];
  // Issue #15: the directory entries go, the flow's own and those of other nodes' flows it adopted.
  const keys = flow.aliases === undefined ? [flow.key] : [flow.key, ...flow.aliases];
  if (membership !== undefined) for (const key of keys) sends.push(membership.flowClosed(key));
  for (const key of keys) {
    if (key !== flow.key) await ctx.registrations.removeFlow(key); // moved on adoption: normally none left
    for (const dialog of await ctx.dialogs.byFlow(key)) {
      await ctx.dialogs.remove(dialog.id);
      if (dialog.state !== 'confirmed' || dialog.method !== 'INVITE' || dialog.remoteTarget === '') continue;
      sends.push(byeTowardIms(relay, releaseRequest(dialog)));
    }
  }
  await Promise.all([...sends, deregistrations]);
}

/**
 * The media gateway says a call's media is gone (R-AGW-4: consent freshness failed, DTLS
 * failed, or no media for the idle timeout): the session is released both ways — BYE toward
 * the IMS and toward the WIC, each with a Reason — and its media freed. `ngCallId` is the
 * gateway's call id; unknown ids (already released) are ignored.
 */
export async function releaseOnMediaEvent(relay: PcscfRelay, ngCallId: string, kind: string): Promise<void> {
  const leg = relay.media.alg?.legOf(ngCallId);
  if (leg === undefined) return;
  relay.ctx.log.warn({ callId: leg.callId, event: kind }, 'media failed: releasing the session (R-AGW-4)');
  await relay.media.release(leg, `media ${kind}`);
  endCallsInSetup(relay, leg, kind); // issue #15: a call still ringing is answered 503 and cancelled
  const dialogs = (await relay.ctx.dialogs.byCallId(leg.callId)).filter((d) => d.flowKey === leg.flowKey && d.method === 'INVITE');
  await releaseBothWays(relay, dialogs, `SIP;cause=503;text="media ${kind}"`);
}

/**
 * An operator ends a call (admin API): the dialog's media is freed and BYE goes toward the
 * IMS and toward the WIC with `Reason: Q.850;cause=16` (normal clearing, RFC 3326) and the
 * given text. Resolves false for an unknown dialog; an early dialog is refused (its INVITE
 * transaction is still the client's to cancel).
 */
export async function terminateByOperator(relay: PcscfRelay, dialogId: string, why: string): Promise<boolean> {
  const dialog = await relay.ctx.dialogs.get(dialogId);
  if (dialog === undefined) return false;
  if (dialog.state !== 'confirmed') throw new EpcError('EPC_ERR_INVALID_STATE', `dialog ${dialogId} is not confirmed yet`);
  relay.ctx.log.info({ callId: dialog.callId, why }, 'releasing a session on request');
  await relay.media.release({ callId: dialog.callId, flowKey: dialog.flowKey, direction: dialog.direction }, why);
  // The text goes inside a quoted-string (RFC 3261 §25.1): no quote, backslash or control
  // character (a CR LF from the admin API's ?reason= would start a header of its own).
  await releaseBothWays(relay, [dialog], `Q.850;cause=16;text="${why.replace(/["\\\x00-\x1f\x7f]/g, '')}"`);
  return true;
}

/** Forgets the dialogs and sends BYE (with `reason`) toward the IMS and the WIC for confirmed ones. */
async function releaseBothWays(relay: PcscfRelay, dialogs: readonly DialogRecord[], reason: string): Promise<void> {
  const sends: Promise<void>[] = [];
  for (const dialog of dialogs) {
    await relay.ctx.dialogs.remove(dialog.id);
    if (dialog.state !== 'confirmed') continue;
    if (dialog.remoteTarget !== '') sends.push(byeTowardIms(relay, releaseRequest(dialog, reason)));
    const flow = relay.flows.byKey(dialog.flowKey);
    const towardWic = releaseRequestTowardWic(dialog, reason);
    if (flow !== undefined && towardWic !== undefined) sends.push(sendOwnRequest(relay, 'w2', towardWic, relay.flows.targetOf(flow)));
  }
  await Promise.all(sends);
}

export function byeTowardIms(relay: PcscfRelay, bye: SipRequest): Promise<void> {
  // releaseRequest: the Request-URI is the dialog's remote target, which the IMS gave.
  return mwTargets(bye, relay.routing, bye.uri.kind === 'sip' ? bye.uri : undefined).then(
    (targets) => (targets[0] === undefined ? undefined : sendOwnRequest(relay, 'mw', bye, targets[0])),
    () => undefined,
  );
}

/**
 * Sends a request of our own (a released session's BYE, a trusted-node de-registration, a DTMF
 * INFO) and resolves on its outcome, whatever it is.
 */
export function sendOwnRequest(relay: PcscfRelay, side: Side, request: SipRequest, target: SipTarget): Promise<void> {
  return new Promise<void>((resolve) => {
    const withVia = addHeader(request, 'Via', relay.via(side, target, generateBranch()), { first: true });
    try {
      (side === 'mw' ? relay.mw : relay.w2).sendRequest(withVia, target, { onFinal: () => resolve(), onTimeout: () => resolve(), onTransportError: () => resolve() });
    } catch {
      resolve();
    }
    // Do not hold shutdown for long on a silent peer.
    setTimeout(resolve, 2_000).unref();
  });
}

/**
 * `onNotRelayed` of a forwarding toward `side` (RFC 3261 §16.7, issue 11 #9): a 2xx to an INVITE
 * that will not reach the client is acknowledged and its session ended with BYE (each fork's
 * once); when the whole attempt failed (`refusedNow`, the client got 502) an initial INVITE's
 * media and dialog are released too.
 */
export function endUnrelayed(relay: PcscfRelay, side: Side, forwarded: SipRequest, leg: MediaLeg, wicTagOfRequest: string | undefined) {
  const ended = new Set<string>();
  const initial = tagOf(to(forwarded)) === undefined;
  return async (response: SipResponse, target: SipTarget, refusedNow: boolean): Promise<void> => {
    if (refusedNow && initial) {
      await relay.media.release(leg, `unprocessable ${response.status}`);
      await forgetDialog(callId(forwarded), side === 'mw' ? wicTagOfRequest : tagOf(to(response)), relay.ctx);
    }
    if (forwarded.method !== 'INVITE' || response.status >= 300) return;
    const { ack, bye } = endUnrelayedAnswer(forwarded, response, relay.ctx.uris, side === 'mw', 'SIP;cause=502;text="unprocessable response"');
    await sendStateless(relay, ack, side, target);
    const fork = tagOf(to(response)) ?? '';
    if (!initial || ended.has(fork)) return; // a re-INVITE's dialog lives on; each fork is ended once
    ended.add(fork);
    await sendOwnRequest(relay, side, bye, target);
  };
}
