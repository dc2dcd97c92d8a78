import { bodyText, contentType, createResponse, type SipRequest } from '../sip/index.js';
import type { ServerTransaction } from '../sip/transaction/index.js';
import { DTMF_RELAY_CONTENT_TYPE, formatDtmfRelay, parseDtmfRelay } from '../dtmf/index.js';
import type { MediaLeg } from './alg/ims-alg.js';
import { ownRequestCseq, storeCseqOffset } from './cseq-offset.js';
import { dtmfInfoRequest } from './dialog-tracker.js';
import { sendOwnRequest } from './release.js';
import type { PcscfRelay } from './relay.js';
import { mwTargets } from './routing.js';

/**
 * The media gateway consumed a DTMF digit the browser sent as RFC 4733 events that the IMS
 * side did not negotiate (`media.dtmf` auto/info, issue #14): the P-CSCF sends it toward the
 * IMS as SIP INFO application/dtmf-relay in the call's confirmed dialog, with the next WIC-side
 * CSeq: the dialog's CSeq offset grows, so the WIC's later requests are renumbered above it
 * (cseq-offset.ts, RFC 3261 §12.2.2). Resolves false when no confirmed dialog of the leg is
 * known (nothing sent); else once the INFO has its final response (or gave up).
 */
export async function dtmfTowardIms(relay: PcscfRelay, ngCallId: string, digit: string, durationMs: number): Promise<boolean> {
  const { ctx } = relay;
  const leg = relay.media.alg?.legOf(ngCallId);
  if (leg === undefined) return false;
  const dialogs = (await ctx.dialogs.byCallId(leg.callId))
    .filter((d) => d.flowKey === leg.flowKey && d.method === 'INVITE' && d.state === 'confirmed' && d.remoteTarget !== '');
  const found = dialogs[0];
  if (found === undefined) return false;
  // In the dialog's CSeq order: after a WIC request being forwarded, before the next one.
  const sent = await relay.cseqSteps.run(found.id, async () => {
    const dialog = await ctx.dialogs.get(found.id);
    if (dialog === undefined || dialog.state !== 'confirmed') return undefined;
    const own = ownRequestCseq(dialog);
    const info = dtmfInfoRequest(dialog, formatDtmfRelay(digit, durationMs), own.seq);
    await storeCseqOffset(ctx.dialogs, dialog.id, own.cseqOffset);
    const target = (await mwTargets(info, relay.routing, info.uri.kind === 'sip' ? info.uri : undefined).catch(() => []))[0];
    if (target === undefined) return undefined;
    ctx.log.debug({ callId: leg.callId, digit, cseq: own.seq }, 'DTMF from RFC 4733 sent toward IMS as INFO');
    return { outcome: sendOwnRequest(relay, 'mw', info, target) }; // handed to the transaction layer: the next step may go
  });
  if (sent === undefined) return false;
  await sent.outcome;
  return true;
}

/**
 * `media.dtmf: rfc4733` (issue #14): an INFO application/dtmf-relay from the IMS is played to
 * the browser as RFC 4733 events by the gateway and answered 200 here (not relayed). True when
 * it was; false (relay the INFO as usual) in other modes, for other bodies, or when the WIC
 * negotiated no telephone-event.
 */
export async function dtmfInfoAsRtp(relay: PcscfRelay, request: SipRequest, leg: MediaLeg, tx: ServerTransaction): Promise<boolean> {
  const alg = relay.media.alg;
  if (relay.dtmfMode !== 'rfc4733' || alg === undefined) return false;
  if (contentType(request) !== DTMF_RELAY_CONTENT_TYPE) return false;
  const dtmf = parseDtmfRelay(bodyText(request));
  if (dtmf === undefined || !(await alg.playDtmfTowardWic(leg, dtmf.digit, dtmf.durationMs))) return false;
  tx.respond(createResponse(request, 200, 'OK'));
  return true;
}
