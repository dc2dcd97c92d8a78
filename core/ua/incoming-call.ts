/**
 * The callee's side of an INVITE session (RFC 3261 §13.3): 100 Trying at once, 180 or 183
 * (reliably with RSeq/Require 100rel when the caller supports it, RFC 3262 §3), PRACK, 200 with
 * the session timer answer (RFC 4028 §9), waiting for the ACK (Timer H-like 64*T1 guard,
 * §13.3.1.4), reject, CANCEL (§9.2) and BYE.
 */
import { bodyParts, bodyText, callId, cseq, generateTag, getHeader, getHeaders, optionTags, topVia, sdpOf, type SipRequest } from '../sip/index.js';
import type { TimerHandle } from '../sip/clock.js';
import type { AnswerOptions, PartyIdentity, UaAttachment } from './api.js';
import { attachmentsOf, isWaitingCall } from './communication-waiting.js';
import { CallSession, reasonOf, type CallHooks } from './call-session.js';
import { targetText } from './client-input.js';
import { Dialog, type InDialogInit } from './dialog.js';
import type { SessionExpires } from './session-timer.js';
import { respond, type UaContext } from './ua-context.js';
import { invalidArgument, invalidState } from './ua-errors.js';
import { ALLOW, SUPPORTED_INVITE } from './ua-local.js';
import { TRANSACTION_TIMEOUT_MS } from './ua-timers.js';

interface PendingPrack {
  readonly rseq: number;
  readonly acknowledged: Promise<boolean>;
  settle(ok: boolean): void;
  timer: TimerHandle;
}

export class IncomingCall extends CallSession {
  readonly direction = 'incoming' as const;
  readonly #invite: SipRequest;
  readonly #caller100rel: boolean;
  readonly #callerRequires100rel: boolean;
  /** TS 24.615 CW: the AS marked this call as waiting. */
  readonly waiting: boolean;
  /** R-MMTEL-3: the body parts beside the SDP. */
  readonly attachments: readonly UaAttachment[];
  #rseq = Math.floor(Math.random() * 1000) + 1;
  #prack: PendingPrack | undefined;
  #ackTimer: TimerHandle | undefined;
  #hangupAfterAck = false;
  /** The session timer our 200 announced; it starts with the ACK (RFC 4028 §9). */
  #pendingTimer: SessionExpires | undefined;

  constructor(ctx: UaContext, hooks: CallHooks, invite: SipRequest, remote: PartyIdentity) {
    const localTag = generateTag();
    super(ctx, hooks, { callId: callId(invite), localTag, remote, state: 'ringing' });
    this.#invite = invite;
    this.dialog = Dialog.asUas(invite, localTag, ctx.local.secure);
    // RFC 5621: a multipart/mixed INVITE (e.g. SDP + 3GPP CW XML) offers its application/sdp part.
    const offer = bodyParts(invite) !== undefined ? sdpOf(invite) ?? '' : bodyText(invite);
    this.remoteOffer = offer.length > 0 ? offer : undefined;
    this.attachments = attachmentsOf(invite);
    this.waiting = isWaitingCall(invite, this.attachments);
    this.remoteSdp = this.remoteOffer;
    this.#caller100rel = optionTags(invite, 'Supported').includes('100rel');
    this.#callerRequires100rel = optionTags(invite, 'Require').includes('100rel');
    this.noteRemoteAllow(invite);
    // RFC 3261 §17.2.1: 100 Trying at once, so the P-CSCF's INVITE client transaction stops Timer B.
    respond(ctx, invite, 100, 'Trying');
  }

  /** The responses that set up the dialog copy Record-Route and carry our Contact (RFC 3261 §12.1.1). */
  #dialogHeaders(): [string, string][] {
    return [
      ...getHeaders(this.#invite, 'Record-Route').map((rr): [string, string] => ['Record-Route', rr]),
      ['Contact', this.ctx.local.contact()], ['Allow', ALLOW], ['Supported', SUPPORTED_INVITE.join(', ')],
    ];
  }

  #respondInvite(status: number, reason?: string, init: InDialogInit = {}): void {
    respond(this.ctx, this.#invite, status, reason, { toTag: this.localTag, ...init });
  }

  override async ring(earlySdp?: string): Promise<void> {
    if (this.callState !== 'ringing' && this.callState !== 'early') throw invalidState(`cannot ring in state ${this.callState}`);
    // RFC 3262 §3: one unacknowledged reliable provisional at a time.
    if (this.#prack !== undefined && !(await this.#prack.acknowledged)) return;
    const reliable = this.#callerRequires100rel || (this.#caller100rel && earlySdp !== undefined);
    const headers = this.#dialogHeaders();
    if (reliable) {
      const rseq = ++this.#rseq;
      headers.push(['Require', '100rel'], ['RSeq', String(rseq)]);
      this.#awaitPrack(rseq);
    }
    if (earlySdp !== undefined) {
      this.localSdp = earlySdp;
      this.callState = 'early';
      this.#respondInvite(183, 'Session Progress', { headers, body: earlySdp });
    } else {
      this.#respondInvite(180, 'Ringing', { headers });
    }
  }

  #awaitPrack(rseq: number): void {
    let settle: (ok: boolean) => void = () => undefined;
    const acknowledged = new Promise<boolean>((resolve) => { settle = resolve; });
    const timer = this.ctx.clock.setTimeout(() => {
      // RFC 3262 §3: no PRACK within 64*T1: reject the INVITE with a 5xx.
      settle(false);
      if (this.callState === 'ringing' || this.callState === 'early') {
        this.#respondInvite(504, 'Reliable Provisional Not Acknowledged');
        this.finish({ cause: 'failed', status: 504, reason: 'no PRACK' });
      }
    }, TRANSACTION_TIMEOUT_MS);
    this.#prack = { rseq, acknowledged, settle, timer };
  }

  protected override receivePrack(request: SipRequest): void {
    const [rseq, seq, method] = (getHeader(request, 'RAck') ?? '').trim().split(/\s+/);
    const prack = this.#prack;
    // RFC 3262 §3: the RAck must name the pending reliable provisional, else 481.
    if (prack === undefined || Number(rseq) !== prack.rseq || Number(seq) !== cseq(this.#invite).seq || method?.toUpperCase() !== 'INVITE') {
      this.respondTo(request, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    this.ctx.clock.clearTimeout(prack.timer);
    this.#prack = undefined;
    const sdp = bodyText(request);
    if (sdp.length > 0 && this.remoteSdp === undefined) this.remoteSdp = sdp; // answer to an offer in our 183
    this.respondTo(request, 200);
    prack.settle(true);
  }

  override async answer(sdp: string, options: AnswerOptions = {}): Promise<void> {
    if (this.callState !== 'ringing' && this.callState !== 'early') throw invalidState(`cannot answer in state ${this.callState}`);
    if (typeof sdp !== 'string' || sdp.length === 0) throw invalidArgument('answer() needs the SDP answer');
    // RFC 3262 §3: the 2xx waits for the PRACK of a pending reliable provisional.
    if (this.#prack !== undefined && !(await this.#prack.acknowledged)) return;
    if (this.callState !== 'ringing' && this.callState !== 'early') return;
    const timer = this.answerTimerHeaders(this.#invite);
    const headers = [...this.#dialogHeaders(), ...timer.headers];
    // TS 24.608 §4.5.2.4 TIR: the callee withholds its connected identity (RFC 3323 §4.2).
    if (options.privacy === 'id') headers.push(['Privacy', 'id']);
    this.localSdp = sdp;
    this.callState = 'answering';
    this.#respondInvite(200, 'OK', { headers, body: sdp });
    this.#pendingTimer = timer.value;
    // RFC 3261 §13.3.1.4: no ACK within 64*T1: the session is not up; end it with BYE.
    this.#ackTimer = this.ctx.clock.setTimeout(() => {
      this.#ackTimer = undefined;
      if (this.callState !== 'answering') return;
      this.callState = 'confirmed';
      void this.sendBye({ cause: 'failed', status: 408, reason: 'no ACK for the 2xx' });
    }, TRANSACTION_TIMEOUT_MS);
  }

  protected override receiveAck(ack: SipRequest): void {
    if (this.callState !== 'answering' || cseq(ack).seq !== cseq(this.#invite).seq) return; // ACK of a re-INVITE or a non-2xx
    if (this.#ackTimer !== undefined) this.ctx.clock.clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    const sdp = bodyText(ack);
    if (sdp.length > 0 && this.remoteSdp === undefined) this.remoteSdp = sdp; // offerless INVITE: the answer is in the ACK
    this.callState = 'confirmed';
    this.timer.negotiated(this.#pendingTimer, false);
    this.emit('answered', sdp.length > 0 ? { sdp } : {});
    if (this.#hangupAfterAck) void this.sendBye({ cause: 'local' });
  }

  override async reject(status = 486, reason?: string): Promise<void> {
    if (this.callState !== 'ringing' && this.callState !== 'early') throw invalidState(`cannot reject in state ${this.callState}`);
    if (!Number.isInteger(status) || status < 300 || status > 699) throw invalidArgument(`reject status must be 300-699 (got ${status})`);
    // RFC 3261 §25.1 Reason-Phrase: one line (the response builder refuses it too).
    if (reason !== undefined && /[\r\n\0]/.test(reason)) throw invalidArgument('reject reason must be one line without CR, LF or NUL');
    this.#respondInvite(status, reason);
    this.finish({ cause: 'rejected', status, ...(reason !== undefined ? { reason } : {}) });
  }

  /**
   * Communication deflection by the served UE (TS 24.604 CD, spec-digest §11): 302 Moved
   * Temporarily whose Contact is the deflect-to URI and nothing else of this UE's (RFC 3261
   * §21.3.3: the Contact of a 3xx lists where to try instead). The network redirects the call.
   */
  override async deflect(target: string): Promise<void> {
    if (this.callState !== 'ringing' && this.callState !== 'early') throw invalidState(`cannot deflect in state ${this.callState}`);
    const uri = targetText(target, 'target');
    this.#respondInvite(302, 'Moved Temporarily', { headers: [['Contact', `<${uri}>`]] });
    this.finish({ cause: 'rejected', status: 302, reason: `deflected to ${uri}` });
  }

  /** RFC 3261 §9.2: 200 to the CANCEL, 487 to the INVITE if it is still pending. */
  receiveCancel(cancel: SipRequest): void {
    respond(this.ctx, cancel, 200, 'OK');
    if (this.callState !== 'ringing' && this.callState !== 'early') return;
    this.#respondInvite(487, 'Request Terminated');
    this.finish({ cause: 'remote', status: 487, ...reasonOf(cancel) });
  }

  /** The top Via branch of the INVITE (a CANCEL carries the same one, RFC 3261 §9.1). */
  get inviteBranch(): string {
    return topVia(this.#invite).branch ?? '';
  }

  protected override receiveBye(request: SipRequest): void {
    // RFC 3261 §15.1.2: a BYE on the early dialog ends the INVITE with 487.
    if (this.callState === 'ringing' || this.callState === 'early') this.#respondInvite(487, 'Request Terminated');
    super.receiveBye(request);
  }

  hangup(): Promise<void> {
    switch (this.callState) {
      case 'terminated': return Promise.resolve();
      case 'ringing': case 'early': return this.reject();
      // RFC 3261 §15: the callee waits for the ACK before sending BYE.
      case 'answering': this.#hangupAfterAck = true; return Promise.resolve();
      default: return this.sendBye({ cause: 'local' });
    }
  }

  protected override stopTimers(): void {
    if (this.#ackTimer !== undefined) this.ctx.clock.clearTimeout(this.#ackTimer);
    if (this.#prack !== undefined) {
      this.ctx.clock.clearTimeout(this.#prack.timer);
      this.#prack.settle(false);
    }
    this.#ackTimer = undefined;
    this.#prack = undefined;
  }
}
