/**
 * The caller's side of an INVITE session (RFC 3261 §13.2): the INVITE as a TS 24.229 UE sends
 * it (Supported 100rel/timer/replaces, Session-Expires, Privacy), early dialogs and PRACK for
 * reliable provisionals (RFC 3262 §4), ACK of the 2xx (§13.2.2.4), 422 retry (RFC 4028 §7.4),
 * CANCEL (§9.1) and BYE.
 */
import {
  bodyText, contentType, cseq, generateCallId, generateTag, getHeader, optionTags, tagOf, to,
  type SipRequest, type SipResponse,
} from '../sip/index.js';
import { createCancel } from '../sip/transaction/index.js';
import type { CallEndCause, OutgoingCallOptions } from './api.js';
import { CallSession, type CallHooks } from './call-session.js';
import { Dialog } from './dialog.js';
import { callCompletionOffer } from './call-completion.js';
import { diversionsOf } from './history-info.js';
import { alertsCallWaiting } from './communication-waiting.js';
import { isEmergencyTarget } from './emergency.js';
import { connectedIdentity } from './party-identity.js';
import { readMinSe, readSessionExpires } from './session-timer.js';
import { focusUri } from './conference-focus.js';
import { buildInitialRequest, type UaContext } from './ua-context.js';
import { invalidState } from './ua-errors.js';
import { SUPPORTED_INVITE } from './ua-local.js';
import { MIN_SESSION_EXPIRES } from './ua-timers.js';

export class OutgoingCall extends CallSession {
  readonly direction = 'outgoing' as const;
  readonly #target: string;
  readonly #options: OutgoingCallOptions;
  #invite: SipRequest | undefined;
  #provisionalSeen = false;
  #cancelRequested = false;
  #lastRseq: number | undefined;
  #ack: SipRequest | undefined;
  #retried422 = false;

  constructor(ctx: UaContext, hooks: CallHooks, target: string, options: OutgoingCallOptions) {
    super(ctx, hooks, { callId: generateCallId(), localTag: generateTag(), remote: { uri: target }, state: 'calling' });
    this.emergency = isEmergencyTarget(target);
    this.#target = target;
    this.#options = options;
    this.localSdp = options.sdp;
  }

  /** Sends the INVITE (RFC 3261 §13.2.1). */
  start(): void {
    this.#sendInvite(1, this.ctx.sessionExpires);
  }

  #sendInvite(seq: number, sessionExpires: number): void {
    const headers: [string, string][] = [];
    if (sessionExpires > 0) {
      // RFC 4028 §7.1: ask for a session timer; the UAS picks the refresher.
      headers.push(['Session-Expires', String(sessionExpires)], ['Min-SE', String(MIN_SESSION_EXPIRES)]);
    }
    const privacy = this.#options.privacy;
    if (privacy !== undefined && privacy !== 'none') headers.push(['Privacy', privacy]); // RFC 3323 §4.2, R-ORIG-8
    for (const [name, value] of Object.entries(this.#options.headers ?? {})) headers.push([name, value]);
    const invite = buildInitialRequest(this.ctx, {
      method: 'INVITE', target: this.#target, callId: this.sipCallId, fromTag: this.localTag, cseq: seq,
      contact: true, supported: SUPPORTED_INVITE, headers, body: this.#options.sdp,
    });
    this.#invite = invite;
    this.ctx.transactions.start(invite, {
      onRetry: (retry) => { this.#invite = retry; },
      onProvisional: (response, request) => this.#onProvisional(response, request),
      onFinal: (response, request) => this.#onFinal(response, request),
      onExtra2xx: (response, request) => this.#onExtra2xx(response, request),
    });
  }

  #onProvisional(response: SipResponse, request: SipRequest): void {
    this.#provisionalSeen = true;
    if (this.#cancelRequested) { this.#sendCancel(); return; }
    if (response.status === 100 || this.callState === 'terminated') return;
    const remoteTag = tagOf(to(response));
    if (remoteTag !== undefined) {
      // RFC 3261 §12.1.2: an early dialog. Further forks are not followed (one early dialog).
      if (this.dialog === undefined) this.dialog = Dialog.asUac(request, response, this.ctx.local.secure);
      else if (this.dialog.remoteTag !== remoteTag) return;
    }
    this.noteRemoteAllow(response);
    if (optionTags(response, 'Require').includes('100rel') && this.dialog !== undefined) {
      const rseq = Number(getHeader(response, 'RSeq'));
      // RFC 3262 §4: a retransmission (RSeq not higher than the last) is not PRACKed again.
      if (!Number.isInteger(rseq) || (this.#lastRseq !== undefined && rseq <= this.#lastRseq)) return;
      this.#lastRseq = rseq;
      void this.request('PRACK', { headers: [['RAck', `${rseq} ${cseq(request).seq} INVITE`]] });
    }
    const sdp = contentType(response) === 'application/sdp' ? bodyText(response) : '';
    if (sdp.length > 0 && this.remoteSdp === undefined) this.remoteSdp = sdp;
    if (sdp.length > 0) this.callState = 'early';
    else if (this.callState === 'calling') this.callState = 'ringing';
    const diversion = diversionsOf(response); // TS 24.604 §4.5.2.6.1: 181 + History-Info
    const waiting = alertsCallWaiting(response) ? { waiting: true } : {}; // TS 24.615 §4.5.5.3.1, RFC 7462
    const callCompletion = callCompletionOffer(response, this.#target); // TS 24.642 CCNR: a 180 may offer it
    this.emit('progress', {
      status: response.status, reason: response.reason, ...(sdp.length > 0 ? { sdp } : {}), ...(diversion.length > 0 ? { diversion } : {}),
      ...waiting, ...(callCompletion !== undefined ? { callCompletion } : {}),
    });
  }

  #onFinal(response: SipResponse, request: SipRequest): void {
    if (response.status >= 200 && response.status < 300) return this.#onAnswered(response, request);
    if (response.status === 422 && !this.#retried422 && !this.#cancelRequested) {
      // RFC 4028 §7.4: retry with the interval the 422 asked for as Min-SE.
      this.#retried422 = true;
      this.#sendInvite(cseq(request).seq + 1, Math.max(readMinSe(response) ?? MIN_SESSION_EXPIRES, MIN_SESSION_EXPIRES));
      return;
    }
    const cause: CallEndCause = this.#cancelRequested && response.status === 487 ? 'local'
      : response.status === 408 ? 'failed' : 'rejected';
    const reasonHeader = getHeader(response, 'Reason');
    // TS 24.642 / RFC 6910 §4.4: a 486 (CCBS) or 480 (CCNR) may offer completion of calls.
    const callCompletion = callCompletionOffer(response, this.#target);
    this.finish({
      cause, status: response.status, reason: response.reason, ...(reasonHeader !== undefined ? { reasonHeader } : {}),
      ...(callCompletion !== undefined ? { callCompletion } : {}),
    });
  }

  #onAnswered(response: SipResponse, request: SipRequest): void {
    const remoteTag = tagOf(to(response)) ?? '';
    if (this.dialog === undefined || this.dialog.remoteTag !== remoteTag) {
      // No early dialog, or it was another fork's: the 2xx makes the dialog (RFC 3261 §13.2.2.4).
      this.dialog = Dialog.asUac(request, response, this.ctx.local.secure);
    } else {
      this.dialog.confirmWith(response);
    }
    this.dialog.localSeq = Math.max(this.dialog.localSeq, cseq(request).seq);
    this.noteRemoteAllow(response);
    // RFC 3261 §13.2.2.4: ACK the 2xx in the dialog (same CSeq number, new branch).
    this.#ack = this.dialog.createRequest('ACK', this.ctx.local, {}, cseq(request).seq);
    this.ctx.transactions.sendStateless(this.#ack);
    if (this.callState === 'terminated' || this.#cancelRequested) {
      // The 2xx crossed our CANCEL (RFC 3261 §9.1): the call is up, so end it with BYE.
      this.callState = 'confirmed';
      void this.sendBye({ cause: 'local', status: response.status, reason: 'cancelled' });
      return;
    }
    const sdp = bodyText(response);
    if (sdp.length > 0) this.remoteSdp = sdp;
    this.callState = 'confirmed';
    // RFC 4028 §7.2: no Session-Expires in the 2xx means no session timer.
    this.timer.negotiated(readSessionExpires(response), true);
    // TS 24.608 §4.5.2 (TIP/TIR): who answered travels with the answer.
    const connected = connectedIdentity(response);
    const focus = focusUri(response);
    this.emit('answered', { ...(sdp.length > 0 ? { sdp } : {}), connected, ...(focus !== undefined ? { focus } : {}) });
  }

  #onExtra2xx(response: SipResponse, request: SipRequest): void {
    const remoteTag = tagOf(to(response));
    if (this.dialog !== undefined && remoteTag === this.dialog.remoteTag) {
      if (this.#ack !== undefined) this.ctx.transactions.sendStateless(this.#ack); // a retransmitted 2xx
      return;
    }
    // RFC 3261 §13.2.2.4: a 2xx from another fork: ACK it and end that dialog with BYE.
    const fork = Dialog.asUac(request, response, this.ctx.local.secure);
    this.ctx.transactions.sendStateless(fork.createRequest('ACK', this.ctx.local, {}, cseq(request).seq));
    this.ctx.transactions.start(fork.createRequest('BYE', this.ctx.local), { onFinal: () => undefined });
  }

  override cancel(): Promise<void> {
    if (this.callState !== 'calling' && this.callState !== 'ringing' && this.callState !== 'early') {
      return Promise.reject(invalidState(`cannot cancel a call in state ${this.callState}`));
    }
    this.#cancelRequested = true;
    // RFC 3261 §9.1: CANCEL only once a provisional arrived; else it goes with the first one.
    if (this.#provisionalSeen) this.#sendCancel();
    return Promise.resolve();
  }

  #sendCancel(): void {
    const invite = this.#invite;
    if (invite === undefined) return;
    this.ctx.transactions.start(createCancel(invite), { onFinal: () => undefined });
  }

  hangup(): Promise<void> {
    if (this.callState === 'terminated') return Promise.resolve();
    if (this.callState === 'confirmed') return this.sendBye({ cause: 'local' });
    return this.cancel();
  }

  override describe(): Record<string, unknown> {
    return { ...super.describe(), target: this.#target };
  }
}
