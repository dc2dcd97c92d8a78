/**
 * One INVITE session of the virtual UE (RFC 3261 §13-15), the part shared by both directions:
 * requests inside the dialog (BYE, re-INVITE, UPDATE (RFC 3311), INFO, REFER/NOTIFY (RFC 3515),
 * OPTIONS), offer/answer renegotiation, hold/resume (RFC 3264 §8.4), session timers (RFC 4028)
 * and the end of the call. outgoing-call.ts and incoming-call.ts add the initial INVITE.
 */
import { EventEmitter } from 'node:events';
import {
  bodyText, contentType, cseq, formatUri, from, generateTag, tagOf, getHeader, getHeaders, optionTags, type SipRequest, type SipResponse,
} from '../sip/index.js';
import type { AnswerOptions, CallEndInfo, CallEvents, CallState, PartyIdentity, UaCall } from './api.js';
import { referToWithReplaces, TransferAgent } from './call-transfer.js';
import { parseTarget, targetText } from './client-input.js';
import type { Dialog, InDialogInit } from './dialog.js';
import { answerDirection, bumpVersion, directionOf, mediaCount, withAnswerSetup, withDirection, type Direction } from './sdp-direction.js';
import { readSessionExpires, SessionTimer, type SessionExpires } from './session-timer.js';
import { respond, type UaContext } from './ua-context.js';
import { invalidArgument, invalidState, UaRejectedError } from './ua-errors.js';
import { ACCEPT, ALLOW, SUPPORTED_INVITE } from './ua-local.js';

export interface CallHooks {
  /** The call ended: the UE forgets it. */
  ended(call: CallSession): void;
  /** Another call of this UE by handle (attended transfer). */
  lookup(call: UaCall): CallSession | undefined;
}

let nextCallNumber = 1;

const KNOWN_METHODS = new Set(['REGISTER', 'PUBLISH', 'SUBSCRIBE', 'MESSAGE']);
const DTMF_DIGITS = /^[0-9*#A-Da-d]+$/;

export abstract class CallSession extends EventEmitter<CallEvents> implements UaCall {
  readonly id = `call-${nextCallNumber++}-${generateTag()}`;
  abstract readonly direction: 'outgoing' | 'incoming';
  readonly sipCallId: string;
  readonly localTag: string;
  remote: PartyIdentity;
  remoteOffer: string | undefined = undefined;
  /** RFC 3891: the handle of the call this one replaces (incoming INVITE with Replaces). */
  replaces: string | undefined = undefined;
  /** An emergency call this UE placed (emergency.ts): never transferred (R-MMTEL-4). */
  emergency = false;
  protected readonly ctx: UaContext;
  protected readonly hooks: CallHooks;
  protected callState: CallState;
  protected dialog: Dialog | undefined;
  protected localSdp: string | undefined;
  protected remoteSdp: string | undefined;
  /** The direction we want (sendonly while we hold). */
  protected wanted: Direction = 'sendrecv';
  protected remoteAllow: ReadonlySet<string> = new Set();
  protected readonly timer: SessionTimer;
  protected readonly transferAgent: TransferAgent;
  #offerPending = false;
  #endedWith: CallEndInfo | undefined;
  #endEmitted = false;

  protected constructor(ctx: UaContext, hooks: CallHooks, init: { callId: string; localTag: string; remote: PartyIdentity; state: CallState }) {
    super();
    this.ctx = ctx;
    this.hooks = hooks;
    this.sipCallId = init.callId;
    this.localTag = init.localTag;
    this.remote = init.remote;
    this.callState = init.state;
    this.timer = new SessionTimer(ctx.clock, { refresh: () => this.#refreshSession(), expire: () => void this.#sessionExpired() });
    this.transferAgent = new TransferAgent({
      request: (method, init) => this.request(method, init),
      respond: (request, status, reason, init) => this.respondTo(request, status, reason, init),
      progress: (info) => this.emit('transferprogress', info),
      referred: (transfer) => this.emit('referred', transfer),
    }, ctx.impu);
    ctx.bindDialog(init.callId, init.localTag, this);
  }

  get state(): CallState {
    return this.callState;
  }

  /** The dialog, once there is one (attended transfer reads its tags). */
  get dialogInfo(): { callId: string; localTag: string; remoteTag: string; remoteUri: string } | undefined {
    const d = this.dialog;
    return d === undefined ? undefined : { callId: d.callId, localTag: d.localTag, remoteTag: d.remoteTag, remoteUri: d.remoteUri };
  }

  ring(_earlySdp?: string): Promise<void> { return Promise.reject(invalidState('ring() applies to an incoming call')); }
  answer(_sdp: string, _options?: AnswerOptions): Promise<void> { return Promise.reject(invalidState('answer() applies to an incoming call')); }
  reject(_status?: number, _reason?: string): Promise<void> { return Promise.reject(invalidState('reject() applies to an incoming call')); }
  deflect(_target: string): Promise<void> { return Promise.reject(invalidState('deflect() applies to an incoming call')); }
  cancel(): Promise<void> { return Promise.reject(invalidState('cancel() applies to an outgoing call')); }
  abstract hangup(): Promise<void>;

  // ---- renegotiation ---------------------------------------------------------------------------

  async update(sdp: string): Promise<string> {
    if (this.#offerPending) throw invalidState('an offer is already pending (RFC 3261 §14.1)');
    if (this.callState === 'confirmed') return this.#offer('INVITE', sdp);
    // RFC 3311 §5.1: in an early dialog the offer goes in UPDATE, if the peer allows it.
    if (this.callState === 'early' && this.dialog !== undefined && this.remoteAllow.has('UPDATE')) return this.#offer('UPDATE', sdp);
    throw invalidState(`cannot renegotiate a call in state ${this.callState}`);
  }

  /** TS 24.610: this side asked for hold (and has not resumed since). */
  get onHold(): boolean {
    return this.wanted !== 'sendrecv';
  }

  /** TS 24.610 §4.5.2.1 / RFC 3264 §8.4: sendonly (inactive if we were only receiving). */
  hold(): Promise<string> {
    const local = this.#requireLocalSdp();
    const current = directionOf(local);
    this.wanted = current === 'recvonly' || current === 'inactive' ? 'inactive' : 'sendonly';
    return this.update(withDirection(local, this.wanted));
  }

  resume(): Promise<string> {
    this.wanted = 'sendrecv';
    return this.update(withDirection(this.#requireLocalSdp(), 'sendrecv'));
  }

  /** RFC 3261 §14.1: re-INVITE (or UPDATE) with a new offer; resolves with the answer. */
  async #offer(method: 'INVITE' | 'UPDATE', sdp: string, retried = false): Promise<string> {
    this.#offerPending = true;
    let response: SipResponse;
    try {
      response = await this.request(method, { headers: [...this.#timerHeaders(), ['Supported', SUPPORTED_INVITE.join(', ')]], body: sdp });
    } finally {
      this.#offerPending = false;
    }
    if (response.status >= 200 && response.status < 300) {
      const answer = bodyText(response);
      this.localSdp = sdp;
      if (answer.length > 0) this.remoteSdp = answer;
      this.timer.negotiated(readSessionExpires(response) ?? this.#currentTimer(), true);
      return answer;
    }
    if (response.status === 491 && !retried) {
      // RFC 3261 §14.1: glare. The Call-ID owner waits 2.1-4 s, the other side 0-2 s, then retries.
      const wait = this.direction === 'outgoing' ? 2100 + Math.random() * 1900 : Math.random() * 2000;
      await new Promise<void>((resolve) => this.ctx.clock.setTimeout(resolve, wait));
      return this.#offer(method, sdp, true);
    }
    if (response.status === 408 || response.status === 481) {
      // RFC 3261 §14.1 / §12.2.1.2: the dialog is gone (481) or unreachable (408): end it.
      if (response.status === 408) void this.sendBye({ cause: 'failed', status: 408, reason: 'no answer to the re-INVITE' });
      else this.finish({ cause: 'failed', status: 481, reason: response.reason });
    }
    throw new UaRejectedError(response.status, response.reason, `${method} renegotiation`);
  }

  #requireLocalSdp(): string {
    if (this.localSdp === undefined || this.callState !== 'confirmed') throw invalidState('hold/resume need a confirmed call with SDP');
    return this.localSdp;
  }

  // ---- DTMF, transfer --------------------------------------------------------------------------

  async dtmf(digits: string, durationMs = 100): Promise<void> {
    if (!DTMF_DIGITS.test(digits)) throw invalidArgument(`DTMF digits must be 0-9, *, #, A-D (got "${digits}")`);
    if (!Number.isInteger(durationMs) || durationMs < 40 || durationMs > 5000) throw invalidArgument('DTMF duration must be 40-5000 ms');
    if (this.callState !== 'confirmed') throw invalidState(`cannot send DTMF in state ${this.callState}`);
    for (const digit of digits) {
      // application/dtmf-relay: one INFO per digit, sent one after the other.
      const response = await this.request('INFO', { body: `Signal=${digit.toUpperCase()}\r\nDuration=${durationMs}\r\n`, contentType: 'application/dtmf-relay' });
      if (response.status >= 300) throw new UaRejectedError(response.status, response.reason, 'INFO (DTMF)');
    }
  }

  async transfer(target: string | UaCall): Promise<void> {
    if (this.callState !== 'confirmed') throw invalidState(`cannot transfer a call in state ${this.callState}`);
    // R-MMTEL-4 / TS 24.629: a UE with an emergency call shall not transfer it (nor hand it over as the consultation).
    const consultation = typeof target === 'string' ? undefined : this.hooks.lookup(target);
    if (this.emergency || consultation?.emergency === true) throw invalidState('an emergency call is never transferred (R-MMTEL-4, TS 24.629)');
    let referTo: string;
    if (typeof target === 'string') {
      // Issue #11: a client's target is parsed; URI headers (?X=y) never reach the Refer-To.
      referTo = `<${targetText(target, 'transfer target')}>`;
    } else {
      const other = this.hooks.lookup(target)?.dialogInfo;
      if (other === undefined || target === this) throw invalidArgument('attended transfer needs another call of this UE with a dialog');
      // RFC 3891 §6.1: the tags as the transfer target sees its dialog (its local tag = to-tag).
      referTo = referToWithReplaces(other.remoteUri, { callId: other.callId, toTag: other.remoteTag, fromTag: other.localTag });
    }
    const response = await this.transferAgent.refer(referTo);
    if (response.status >= 300) throw new UaRejectedError(response.status, response.reason, 'REFER');
  }

  async referParty(party: string, method: 'INVITE' | 'BYE'): Promise<void> {
    if (this.callState !== 'confirmed') throw invalidState(`cannot add or remove conference parties in state ${this.callState}`);
    if (method !== 'INVITE' && method !== 'BYE') throw invalidArgument('a conference REFER carries method=INVITE or method=BYE');
    // RFC 4579 §5.5 / §5.10: the method parameter tells the focus to invite or to release the party.
    const uri = parseTarget(party, 'party');
    const referTo = uri.kind === 'sip'
      ? `<${formatUri({ ...uri, params: [...uri.params.filter((p) => p.name.toLowerCase() !== 'method'), { name: 'method', value: method }] })}>`
      : `<${formatUri(uri)}>`; // a tel URI has no method parameter: the focus takes it as INVITE
    const response = await this.transferAgent.refer(referTo);
    if (response.status >= 300) throw new UaRejectedError(response.status, response.reason, 'REFER (conference)');
  }

  // ---- requests inside the dialog --------------------------------------------------------------

  /** A request inside the dialog; resolves with its final response (ACKing a 2xx to re-INVITE). */
  protected request(method: string, init: InDialogInit = {}): Promise<SipResponse> {
    const dialog = this.dialog;
    if (dialog === undefined) return Promise.reject(invalidState(`no dialog yet for ${method}`));
    const request = dialog.createRequest(method, this.ctx.local, init);
    return new Promise((resolve) => {
      this.ctx.transactions.start(request, {
        onRetry: (retry) => { dialog.localSeq = Math.max(dialog.localSeq, cseq(retry).seq); },
        onFinal: (response, sent) => {
          if (method === 'INVITE' && response.status >= 200 && response.status < 300) {
            dialog.refreshTarget(response);
            this.ctx.transactions.sendStateless(dialog.createRequest('ACK', this.ctx.local, {}, cseq(sent).seq));
          } else if (method === 'UPDATE' && response.status < 300) dialog.refreshTarget(response);
          resolve(response);
        },
      });
    });
  }

  protected respondTo(request: SipRequest, status: number, reason?: string, init: InDialogInit = {}): void {
    respond(this.ctx, request, status, reason, { toTag: this.localTag, ...init });
  }

  /** Requests the UE routes to this call by Call-ID and our tag. */
  receiveRequest(request: SipRequest): void {
    const dialog = this.dialog;
    if (request.method === 'ACK') { this.receiveAck(request); return; }
    if (dialog === undefined || (getTag(request) !== dialog.remoteTag && dialog.remoteTag !== '')) {
      this.respondTo(request, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (!dialog.acceptRemoteCseq(request)) {
      this.respondTo(request, 500, 'CSeq Out of Order'); // RFC 3261 §12.2.2
      return;
    }
    switch (request.method) {
      case 'BYE': return this.receiveBye(request);
      case 'INVITE': case 'UPDATE': return this.#receiveOffer(request);
      case 'PRACK': return this.receivePrack(request);
      case 'INFO':
        this.respondTo(request, 200);
        this.emit('info', { contentType: contentType(request) ?? '', body: bodyText(request) });
        return;
      case 'REFER': return this.transferAgent.onRefer(request);
      case 'NOTIFY': return this.transferAgent.onNotify(request);
      case 'OPTIONS':
        return this.respondTo(request, 200, 'OK', { headers: [['Allow', ALLOW], ['Accept', ACCEPT], ['Supported', SUPPORTED_INVITE.join(', ')]] });
      default:
        // RFC 3261 §8.2.1: a method we know but do not take here gets 405 with Allow; others 501.
        if (KNOWN_METHODS.has(request.method)) this.respondTo(request, 405, 'Method Not Allowed', { headers: [['Allow', ALLOW]] });
        else this.respondTo(request, 501, 'Not Implemented');
    }
  }

  protected receiveAck(_ack: SipRequest): void {}
  protected receivePrack(request: SipRequest): void {
    this.respondTo(request, 481, 'Call/Transaction Does Not Exist');
  }

  protected receiveBye(request: SipRequest): void {
    this.respondTo(request, 200);
    this.finish({ cause: 'remote', ...reasonOf(request) });
  }

  /** A re-INVITE or UPDATE from the other side: answer from our last description (RFC 3264 §6, §8). */
  #receiveOffer(request: SipRequest): void {
    const dialog = this.dialog as Dialog;
    if (this.#offerPending) {
      this.respondTo(request, 491, 'Request Pending'); // RFC 3261 §14.2 / RFC 3311 §5.2: glare
      return;
    }
    if (request.method === 'INVITE' && this.callState !== 'confirmed') {
      this.respondTo(request, 500, 'Server Internal Error', { headers: [['Retry-After', String(Math.floor(Math.random() * 10))]] }); // RFC 3261 §14.2
      return;
    }
    dialog.refreshTarget(request);
    const offer = bodyText(request);
    const timer = this.#answerTimer(request);
    const headers: [string, string][] = [['Contact', this.ctx.local.contact()], ['Allow', ALLOW], ['Supported', SUPPORTED_INVITE.join(', ')], ...timer.headers];
    if (offer.length === 0) {
      // A session refresh (RFC 4028 §10) or an offerless re-INVITE: our last description is the offer.
      const body = request.method === 'INVITE' ? this.localSdp : undefined;
      this.respondTo(request, 200, 'OK', body !== undefined ? { headers, body } : { headers });
      this.timer.negotiated(timer.value, false);
      return;
    }
    const local = this.localSdp;
    if (local === undefined || mediaCount(offer) !== mediaCount(local)) {
      this.respondTo(request, 488, 'Not Acceptable Here'); // RFC 3264 §6: an answer mirrors the offer's m= lines
      return;
    }
    const direction = answerDirection(directionOf(offer), this.wanted);
    // RFC 3264 §6 / RFC 5763 §5: the answer is our last description with its DTLS role settled.
    const settled = withAnswerSetup(local, this.remoteSdp);
    const answer = direction !== directionOf(settled) ? withDirection(settled, direction) : settled === local ? local : bumpVersion(settled);
    this.localSdp = answer;
    this.remoteSdp = offer;
    this.respondTo(request, 200, 'OK', { headers, body: answer });
    this.timer.negotiated(timer.value, false);
    this.emit('updated', { sdp: offer, direction: directionOf(offer) });
  }

  // ---- session timers (RFC 4028) -----------------------------------------------------------------

  /** What we answer to a request that carries Session-Expires (RFC 4028 §9). */
  #answerTimer(request: SipRequest): { headers: [string, string][]; value: SessionExpires | undefined } {
    const asked = readSessionExpires(request);
    if (asked === undefined) return { headers: [], value: undefined };
    const uacSupports = optionTags(request, 'Supported').includes('timer');
    const refresher = asked.refresher ?? (uacSupports ? 'uac' : 'uas');
    const value = { interval: asked.interval, refresher } as const;
    const headers: [string, string][] = [['Session-Expires', `${asked.interval};refresher=${refresher}`]];
    if (uacSupports) headers.push(['Require', 'timer']);
    return { headers, value };
  }

  protected answerTimerHeaders(request: SipRequest): { headers: [string, string][]; value: SessionExpires | undefined } {
    return this.#answerTimer(request);
  }

  #currentTimer(): SessionExpires | undefined {
    return this.timer.interval > 0 ? { interval: this.timer.interval, refresher: this.timer.weRefresh ? 'uac' : 'uas' } : undefined;
  }

  #timerHeaders(): [string, string][] {
    const current = this.#currentTimer();
    return current === undefined ? [] : [['Session-Expires', `${current.interval};refresher=${current.refresher}`]];
  }

  /** RFC 4028 §7.4 / §10: UPDATE without a body when the peer allows it, else re-INVITE with our SDP. */
  #refreshSession(): void {
    if (this.callState !== 'confirmed' || this.#offerPending) {
      this.timer.negotiated(this.#currentTimer(), true);
      return;
    }
    const interval = this.timer.interval;
    const method = this.remoteAllow.has('UPDATE') ? 'UPDATE' : 'INVITE';
    const headers: [string, string][] = [['Session-Expires', `${interval};refresher=uac`], ['Supported', SUPPORTED_INVITE.join(', ')]];
    this.#offerPending = method === 'INVITE';
    void this.request(method, method === 'INVITE' && this.localSdp !== undefined ? { headers, body: this.localSdp } : { headers }).then((response) => {
      this.#offerPending = false;
      if (response.status < 300) this.timer.negotiated(readSessionExpires(response) ?? { interval, refresher: 'uac' }, true);
      else if (response.status === 408 || response.status === 481) void this.sendBye({ cause: 'failed', status: response.status, reason: 'session refresh failed' });
      else this.timer.negotiated({ interval, refresher: 'uas' }, true); // let expiry end it if nobody refreshes
    });
  }

  async #sessionExpired(): Promise<void> {
    // RFC 4028 §10: no refresh arrived in time: BYE.
    await this.sendBye({ cause: 'failed', reason: 'session timer expired' }, 'SIP;cause=408;text="Session timer expired"');
  }

  // ---- the end ------------------------------------------------------------------------------------

  /** BYE (RFC 3261 §15.1.1); 'ended' follows its final response (or the 408 of Timer F). */
  protected sendBye(info: CallEndInfo, reasonHeader?: string): Promise<void> {
    if (this.callState === 'terminated' || this.dialog === undefined) return Promise.resolve();
    this.callState = 'terminated';
    this.timer.stop();
    const headers: [string, string][] = reasonHeader !== undefined ? [['Reason', reasonHeader]] : [];
    return this.request('BYE', { headers }).then(() => this.finish(info), () => this.finish(info));
  }

  /** Ends the call once: stops timers, forgets the dialog, emits 'ended'. */
  protected finish(info: CallEndInfo): void {
    if (this.#endEmitted) return;
    this.#endEmitted = true;
    this.#endedWith = info;
    this.callState = 'terminated';
    this.timer.stop();
    this.stopTimers();
    this.ctx.unbindDialog(this.sipCallId, this.localTag);
    this.hooks.ended(this);
    this.emit('ended', info);
  }

  protected stopTimers(): void {}

  /** The W2 client went away: no SIP (the core releases the dialogs), just 'ended'. */
  close(): void {
    this.finish({ cause: 'connection' });
  }

  protected noteRemoteAllow(message: SipRequest | SipResponse): void {
    const allow = getHeaders(message, 'Allow').map((m) => m.toUpperCase());
    if (allow.length > 0) this.remoteAllow = new Set(allow);
  }

  describe(): Record<string, unknown> {
    return {
      id: this.id, sipCallId: this.sipCallId, direction: this.direction, state: this.callState, remote: { ...this.remote },
      localTag: this.localTag, remoteTag: this.dialog?.remoteTag, sessionTimer: this.timer.interval > 0 ? { interval: this.timer.interval, refresher: this.timer.weRefresh } : undefined,
      ended: this.#endedWith,
    };
  }
}

function getTag(request: SipRequest): string {
  return tagOf(from(request)) ?? '';
}

/** The Reason header (RFC 3326) of a BYE/CANCEL, for CallEndInfo. */
export function reasonOf(request: SipRequest): { reasonHeader?: string } {
  const value = getHeader(request, 'Reason');
  return value === undefined ? {} : { reasonHeader: value };
}
