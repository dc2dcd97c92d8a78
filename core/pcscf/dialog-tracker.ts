import {
  callId, cseq, contacts, createRequest, formatUri, from, getHeader, getHeaders, parseNameAddr, tagOf, to, vias,
  type ContactBinding, type SipRequest, type SipResponse,
} from '../sip/index.js';
import { DTMF_RELAY_CONTENT_TYPE } from '../dtmf/index.js';
import { viaResponseTarget } from '../sip/transport/index.js';
import type { SipTarget } from '../sip/transport/types.js';
import { dialogId, type CseqOffset, type DialogRecord } from '../state/dialog-store.js';
import type { PcscfContext } from './context.js';
import { ownRequestCseq } from './cseq-offset.js';
import type { W2Flow } from './w2-flows.js';

/** Methods whose 1xx/2xx create a dialog (RFC 3261 §12, RFC 6665 §4.1.2.4, RFC 3515). */
export const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

function remoteTargetOf(contactsOf: ReturnType<typeof contacts>): string | undefined {
  const c = contactsOf.find((x): x is ContactBinding => !('star' in x && x.star));
  return c ? formatUri(c.uri) : undefined;
}

function withTarget(target: string | undefined): { wicTarget?: string } {
  return target === undefined ? {} : { wicTarget: target };
}

/** A dialog recorded again (another 1xx/2xx of its request) keeps its CSeq offset (cseq-offset.ts). */
function keptOffset(previous: DialogRecord | undefined): { cseqOffset?: CseqOffset } {
  return previous?.cseqOffset === undefined ? {} : { cseqOffset: previous.cseqOffset };
}

/**
 * R-ORIG-9: a 1xx/2xx with a To tag for a WIC's dialog-creating request: remember the dialog
 * (its IMS-side route set, remote target, tags) so mid-dialog requests can be checked
 * (R-ORIG-10) and the session released if the W2 connection dies.
 */
export async function recordOriginatingDialog(request: SipRequest, response: SipResponse, flow: W2Flow, ctx: PcscfContext): Promise<void> {
  if (!DIALOG_CREATING.has(request.method) || response.status < 101 || response.status >= 300) return;
  const remoteTag = tagOf(to(response));
  const wicTag = tagOf(from(request));
  if (remoteTag === undefined || wicTag === undefined) return;
  // The UAC's route set is the Record-Route list reversed (RFC 3261 §12.1.2); its first entries are
  // the two we added for this flow. Later entries of ours (a call between two WICs of this
  // P-CSCF spirals through us again) stay: the BYE must pass there too.
  const routeSet = getHeaders(response, 'Record-Route').reverse();
  while (routeSet.length > 0 && ctx.uris.isOwn(parseNameAddr(routeSet[0] as string, 'Record-Route').uri)) routeSet.shift();
  const id = dialogId(callId(request), wicTag);
  const previous = await ctx.dialogs.get(id);
  await putWhileFlowLives(flow, ctx, {
    id, callId: callId(request), wicTag, remoteTag, flowKey: flow.key, direction: 'originating', method: request.method,
    state: response.status >= 200 ? 'confirmed' : 'early',
    wicNameAddr: getHeader(request, 'From') ?? '', remoteNameAddr: getHeader(response, 'To') ?? '',
    // Only the IMS names the remote target (a 2xx always has a Contact, RFC 3261 §13.3.1.4).
    remoteTarget: remoteTargetOf(contacts(response)) ?? previous?.remoteTarget ?? '',
    routeSetTowardIms: routeSet, wicCseq: Math.max(cseq(request).seq, previous?.wicCseq ?? 0),
    remoteCseq: previous?.remoteCseq ?? 0, createdAt: previous?.createdAt ?? ctx.now(),
    ...withTarget(remoteTargetOf(contacts(request))), ...keptOffset(previous),
  });
}

/**
 * R-ORIG-9 for terminating dialogs: the WIC answered a request from the IMS. `request` is the
 * request as it arrived from the IMS (before our Record-Route), whose Record-Route list is the
 * route set toward the caller in sending order (RFC 3261 §12.1.1).
 */
export async function recordTerminatingDialog(request: SipRequest, response: SipResponse, flow: W2Flow, ctx: PcscfContext): Promise<void> {
  if (!DIALOG_CREATING.has(request.method) || response.status < 101 || response.status >= 300) return;
  const wicTag = tagOf(to(response));
  const remoteTag = tagOf(from(request));
  if (wicTag === undefined) return;
  const id = dialogId(callId(request), wicTag);
  const previous = await ctx.dialogs.get(id);
  const imsVia = vias(request)[0];
  await putWhileFlowLives(flow, ctx, {
    id, callId: callId(request), wicTag, flowKey: flow.key, direction: 'terminating', method: request.method,
    ...(imsVia !== undefined ? { imsHop: hopKey(viaResponseTarget(imsVia)) } : {}),
    state: response.status >= 200 ? 'confirmed' : 'early',
    wicNameAddr: getHeader(response, 'To') ?? '', remoteNameAddr: getHeader(request, 'From') ?? '',
    remoteTarget: remoteTargetOf(contacts(request)) ?? '', routeSetTowardIms: getHeaders(request, 'Record-Route'),
    wicCseq: previous?.wicCseq ?? 0, createdAt: previous?.createdAt ?? ctx.now(),
    remoteCseq: Math.max(cseq(request).seq, previous?.remoteCseq ?? 0),
    ...(remoteTag !== undefined ? { remoteTag } : {}),
    ...withTarget(remoteTargetOf(contacts(response))), ...keptOffset(previous),
  });
}

/**
 * Stores `dialog` unless its flow ended meanwhile. The flow's release (release.ts) reads the flow's
 * dialogs once; a 2xx that is stored after that read would stay for ever (the soak bench found
 * such records in Redis): so the record is dropped again when the flow is already gone. The
 * session itself ends through the unrelayed-answer path (the WIC never got the answer).
 */
async function putWhileFlowLives(flow: W2Flow, ctx: PcscfContext, dialog: DialogRecord): Promise<void> {
  await ctx.dialogs.put(dialog);
  if (!flow.alive) await ctx.dialogs.remove(dialog.id);
}

/** Drops the dialog an ended session leaves behind (2xx to BYE). */
export async function forgetDialog(callIdValue: string, wicTag: string | undefined, ctx: PcscfContext): Promise<void> {
  if (wicTag !== undefined) await ctx.dialogs.remove(dialogId(callIdValue, wicTag));
}

/**
 * Drops the early dialog of a failed dialog-creating request (non-2xx final). A confirmed
 * dialog of the same id stays: it belongs to another INVITE that succeeded (a duplicate INVITE
 * with a new branch refused 482 while the first was answered, RFC 3261 §8.2.2.2).
 */
export async function forgetFailedDialog(callIdValue: string, wicTag: string | undefined, ctx: PcscfContext): Promise<void> {
  if (wicTag === undefined) return;
  const id = dialogId(callIdValue, wicTag);
  const dialog = await ctx.dialogs.get(id);
  if (dialog !== undefined && dialog.state !== 'confirmed') await ctx.dialogs.remove(id);
}

/**
 * The BYE the P-CSCF sends toward the IMS on the WIC's behalf when the W2 connection died
 * (R-ORIG-9, TS 24.229 §5.2.8): the WIC's From/tag, the next CSeq, the stored route set, a
 * Reason header saying why. The caller adds Via and sends it.
 */
export function releaseRequest(dialog: DialogRecord, reason = 'SIP;cause=480;text="W2 connection closed"'): SipRequest {
  const routes = dialog.routeSetTowardIms;
  const headers: [string, string][] = [
    ['Max-Forwards', '70'], ['From', dialog.wicNameAddr], ['To', dialog.remoteNameAddr], ['Call-ID', dialog.callId],
    // RFC 3261 §12.2.1.1: above the last number the far end saw from the WIC's side (cseq-offset.ts).
    ['CSeq', `${ownRequestCseq(dialog).seq} BYE`], ['Reason', reason],
  ];
  for (const r of routes) headers.push(['Route', r]);
  return createRequest({ method: 'BYE', uri: dialog.remoteTarget, headers });
}

/**
 * The SIP INFO the P-CSCF sends toward the IMS on the WIC's behalf when the browser sent a DTMF
 * digit as RFC 4733 events the IMS side did not negotiate (`media.dtmf`, issue #14): the WIC's
 * From/tag, CSeq `seq` (cseq-offset.ts `ownRequestCseq`: the caller stores the grown offset, so
 * the WIC's later requests are renumbered above it), the stored route set, an
 * application/dtmf-relay body. The caller adds Via.
 */
export function dtmfInfoRequest(dialog: DialogRecord, body: string, seq: number): SipRequest {
  const headers: [string, string][] = [
    ['Max-Forwards', '70'], ['From', dialog.wicNameAddr], ['To', dialog.remoteNameAddr], ['Call-ID', dialog.callId],
    ['CSeq', `${seq} INFO`], ['Content-Type', DTMF_RELAY_CONTENT_TYPE],
  ];
  for (const r of dialog.routeSetTowardIms) headers.push(['Route', r]);
  return createRequest({ method: 'INFO', uri: dialog.remoteTarget, headers, body });
}

/**
 * The BYE the P-CSCF sends to the WIC when it ends a session on the WIC's side (the media of the
 * call failed, R-AGW-4): the remote party's From/tag and next CSeq, the WIC's Contact as the
 * Request-URI, no Route (the flow reaches the WIC directly). Undefined without the WIC's Contact.
 */
export function releaseRequestTowardWic(dialog: DialogRecord, reason: string): SipRequest | undefined {
  if (dialog.wicTarget === undefined) return undefined;
  return createRequest({ method: 'BYE', uri: dialog.wicTarget, headers: [
    ['Max-Forwards', '70'], ['From', dialog.remoteNameAddr], ['To', dialog.wicNameAddr], ['Call-ID', dialog.callId],
    ['CSeq', `${(dialog.remoteCseq ?? 0) + 1} BYE`], ['Reason', reason],
  ] });
}

/** The remote party's CSeq on a mid-dialog request from the IMS, to keep `remoteCseq` current. */
export async function noteRemoteCseq(request: SipRequest, ctx: PcscfContext): Promise<DialogRecord | undefined> {
  const tag = tagOf(to(request));
  if (tag === undefined) return undefined;
  const dialog = await ctx.dialogs.get(dialogId(callId(request), tag));
  if (dialog && cseq(request).seq > (dialog.remoteCseq ?? 0) && request.method !== 'ACK' && request.method !== 'CANCEL') {
    await ctx.dialogs.put({ ...dialog, remoteCseq: cseq(request).seq });
  }
  return dialog;
}

/**
 * R-ORIG-10: the dialog a WIC's mid-dialog request (or 2xx ACK) belongs to: its Call-ID and From
 * tag (the WIC's side) name a dialog the P-CSCF recorded on the flow the request came in on. A
 * dialog of another flow is not found (no hint that it exists). Keeps `wicCseq` current.
 */
export async function wicDialogOf(request: SipRequest, flow: W2Flow, ctx: PcscfContext): Promise<DialogRecord | undefined> {
  const tag = tagOf(from(request));
  if (tag === undefined) return undefined;
  const dialog = await ctx.dialogs.get(dialogId(callId(request), tag));
  if (dialog === undefined || dialog.flowKey !== flow.key) return undefined;
  if (cseq(request).seq > dialog.wicCseq && request.method !== 'ACK' && request.method !== 'CANCEL') {
    await ctx.dialogs.put({ ...dialog, wicCseq: cseq(request).seq });
  }
  return dialog;
}

/**
 * The dialog a response of the WIC belongs to when no transaction claims it (RFC 3261 §16.7: a
 * stray, e.g. a 2xx retransmitted after ours ended): the WIC's tag is its To tag. Only a dialog on
 * that flow with a known IMS hop qualifies.
 */
export async function wicResponseDialog(response: SipResponse, flow: W2Flow, ctx: PcscfContext): Promise<DialogRecord | undefined> {
  const tag = tagOf(to(response));
  if (tag === undefined) return undefined;
  const dialog = await ctx.dialogs.get(dialogId(callId(response), tag));
  return dialog !== undefined && dialog.flowKey === flow.key && dialog.imsHop !== undefined ? dialog : undefined;
}

/** `transport:host:port` of a target, as `DialogRecord.imsHop` stores it. */
export function hopKey(target: SipTarget): string {
  return `${target.transport}:${target.host.toLowerCase()}:${target.port}`;
}
