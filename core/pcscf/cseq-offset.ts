/**
 * The WIC-side CSeq offset of a dialog (issue #14 DTMF interworking).
 *
 * Why: when the P-CSCF itself sends a request inside a dialog on the WIC's behalf (an INFO
 * application/dtmf-relay for a digit the browser sent as RFC 4733 events, `media.dtmf`), that
 * request takes a CSeq number from the WIC's side of the dialog: RFC 3261 §12.2.1.1 says every
 * request of a UAC in a dialog carries a number one higher than the previous one, and the far end
 * MUST refuse with 500 a request whose number is lower than the last it saw (§12.2.2). The WIC
 * (JsSIP over sip-ws, or the virtual UE of jsonrpc-ws/xmpp-ws) never learns that number, so its
 * next request would reuse it and the far end would refuse the hold re-INVITE, or the BYE.
 *
 * So from the first request of its own in a dialog the P-CSCF keeps an offset in the dialog
 * record (it survives like the rest of the dialog state): each own request bumps it by one;
 * every later WIC→IMS request of the dialog leaves with `CSeq + offset`, and every response
 * relayed back carries the WIC's own number again. The ACK of a 2xx gets the offset its INVITE
 * got (a digit may be sent between the two), as does a PRACK's RAck (RFC 3262 §7.2). A CANCEL
 * needs nothing: it is hop-by-hop and built from the INVITE as forwarded (§9.1, §16.10).
 * Requests from the IMS are untouched: their CSeq space is the far end's.
 */
import { cseq, getHeader, setHeader, type SipRequest, type SipResponse } from '../sip/index.js';
import type { CseqOffset, DialogRecord, DialogStore } from '../state/dialog-store.js';

export type { CseqOffset } from '../state/dialog-store.js';

function offsetOf(dialog: DialogRecord): number {
  return dialog.cseqOffset?.value ?? 0;
}

/**
 * The CSeq number of a request the P-CSCF sends itself toward the IMS in `dialog` (RFC 3261
 * §12.2.1.1: one above the last the far end saw from the WIC's side), and the offset to store
 * before sending it (one more). A released session's BYE (the dialog's last request) needs only `seq`.
 */
export function ownRequestCseq(dialog: DialogRecord): { readonly seq: number; readonly cseqOffset: CseqOffset } {
  const value = offsetOf(dialog) + 1;
  return { seq: dialog.wicCseq + value, cseqOffset: { ...dialog.cseqOffset, value } };
}

/**
 * A WIC's request in `dialog` as it leaves toward the IMS: CSeq plus the offset (the one its
 * INVITE got for an ACK; RAck likewise for a PRACK). `cseqOffset` is the state to store when it
 * changed (an INVITE sent with an offset: its ACK must get the same one), else undefined.
 */
export function requestTowardIms(request: SipRequest, dialog: DialogRecord): { readonly request: SipRequest; readonly cseqOffset?: CseqOffset } {
  const state = dialog.cseqOffset;
  if (state === undefined || state.value === 0) return { request };
  const { seq, method } = cseq(request);
  if (request.method === 'ACK') return { request: withSeq(request, seq + inviteOffset(state, seq), method) };
  let out = withSeq(request, seq + state.value, method);
  const rack = request.method === 'PRACK' ? getHeader(request, 'RAck') : undefined;
  const rackParts = rack?.trim().split(/\s+/);
  if (rackParts?.length === 3 && /^\d+$/.test(rackParts[1] ?? '')) {
    const inviteSeq = Number(rackParts[1]);
    out = setHeader(out, 'RAck', `${rackParts[0]} ${inviteSeq + inviteOffset(state, inviteSeq)} ${rackParts[2]}`);
  }
  if (request.method !== 'INVITE') return { request: out };
  return { request: out, cseqOffset: { value: state.value, invite: { wicSeq: seq, offset: state.value } } };
}

/** Stores a dialog's new offset state on its current record (other fields may have moved on). */
export async function storeCseqOffset(dialogs: DialogStore, dialogId: string, cseqOffset: CseqOffset): Promise<void> {
  const current = await dialogs.get(dialogId);
  if (current !== undefined) await dialogs.put({ ...current, cseqOffset });
}

/**
 * A response relayed to the WIC for its request `wicRequest`: the WIC's own CSeq number again
 * (RFC 3261 §8.2.6.2). Responses the P-CSCF builds from that request already have it.
 */
export function responseTowardWic(response: SipResponse, wicRequest: SipRequest): SipResponse {
  const own = cseq(wicRequest);
  return cseq(response).seq === own.seq ? response : withSeq(response, own.seq, cseq(response).method);
}

/**
 * A response from the IMS no transaction claims (a 2xx to INVITE retransmitted, RFC 3261 §16.7)
 * on its way to the WIC of `dialog`: the offset taken off again.
 */
export function strayResponseTowardWic(response: SipResponse, dialog: DialogRecord): SipResponse {
  const state = dialog.cseqOffset;
  if (state === undefined || state.value === 0) return response;
  const { seq, method } = cseq(response);
  const invite = state.invite;
  if (method === 'INVITE' && invite !== undefined && seq === invite.wicSeq + invite.offset) return withSeq(response, invite.wicSeq, method);
  return seq > state.value ? withSeq(response, seq - state.value, method) : response;
}

/**
 * The offset the INVITE numbered `wicSeq` got: the one noted when it was forwarded, else 0 (an
 * INVITE is noted whenever it leaves with an offset, so one that is not left before any).
 */
function inviteOffset(state: CseqOffset, wicSeq: number): number {
  return state.invite?.wicSeq === wicSeq ? state.invite.offset : 0;
}

function withSeq<M extends SipRequest | SipResponse>(message: M, seq: number, method: string): M {
  return setHeader(message, 'CSeq', `${seq} ${method}`);
}

/**
 * Runs the steps of one dialog that read and then use its CSeq state one after the other: a
 * WIC's request from dialog lookup to forwarding (media offers in between are asynchronous) and
 * an own request of the P-CSCF. Without it a digit detected while a WIC's re-INVITE waits for
 * the media gateway would leave first with a higher number, and the re-INVITE get 500 (§12.2.2).
 */
export class DialogSequencer {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(dialogId: string, step: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(dialogId) ?? Promise.resolve();
    const result = previous.then(step, step);
    const tail = result.then(() => undefined, () => undefined);
    this.#tails.set(dialogId, tail);
    void tail.then(() => {
      if (this.#tails.get(dialogId) === tail) this.#tails.delete(dialogId);
    });
    return result;
  }
}
