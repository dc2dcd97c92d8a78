/**
 * The calls of one session: the handle the client knows (callId = UaCall.id), and the mapping of
 * each call's events onto notifications (call.progress, call.answered, call.updated,
 * call.transferRequested, call.transferProgress, call.ended). A call placed to honour a
 * transfer also reports its progress to the transferor (RFC 3515 §2.4.4: NOTIFY sipfrag).
 */
import { DTMF_RELAY_CONTENT_TYPE, mediaTypeOf, parseDtmfRelay } from '../../core/contract/index.js';
import type { UaCall, UaCallCompletionOffer, UaTransferRequest } from '../../core/contract/index.js';
import { CallCompletionBook } from './call-completion-book.js';
import { endedParams, partyParams, type Params, withOptionalSdp } from './notification-params.js';
import { rpcError, UNKNOWN_CALL } from './rpc-errors.js';

export type Notify = (method: string, params: Params) => void;

export interface TrackedCall {
  readonly call: UaCall;
  /** A REFER from the other side that waits for call.acceptTransfer / call.rejectTransfer. */
  pendingTransfer: UaTransferRequest | undefined;
}

export class CallBook {
  readonly #calls = new Map<string, TrackedCall>();
  readonly #notify: Notify;
  readonly #onFault: (error: unknown) => void;
  /** TS 24.642 CCBS/CCNR: the offers these calls carried and the requests accepted. */
  readonly completions: CallCompletionBook;

  constructor(notify: Notify, onFault: (error: unknown) => void) {
    this.#notify = notify;
    this.#onFault = onFault;
    this.completions = new CallCompletionBook(notify);
  }

  get size(): number {
    return this.#calls.size;
  }

  ids(): string[] {
    return [...this.#calls.keys()];
  }

  /** The call, or -32004 with a hint (it may have ended already). */
  require(callId: string): TrackedCall {
    const tracked = this.#calls.get(callId);
    if (tracked === undefined) throw rpcError(UNKNOWN_CALL, { callId, hint: 'no such call in this session; it may have ended (see call.ended)' });
    return tracked;
  }

  /** Starts reporting a call. `transferor`: the REFER this call honours, told how it goes. */
  track(call: UaCall, transferor?: UaTransferRequest): TrackedCall {
    const tracked: TrackedCall = { call, pendingTransfer: undefined };
    this.#calls.set(call.id, tracked);
    const callId = call.id;
    let answered = false;
    const tell = (status: number, reason: string): void => {
      transferor?.notify(status, reason).catch(this.#onFault);
    };
    call.on('progress', (info) => {
      // TS 24.604 CDIV notification: the diversions of the History-Info, additive.
      const diversion = info.diversion !== undefined ? { diversion: info.diversion.map((d) => ({ ...d })) } : {};
      // TS 24.615: a 180 with Alert-Info call-waiting: the callee is busy in another call.
      const waiting = info.waiting === true ? { waiting: true } : {};
      // TS 24.642 CCNR: a 180 may offer completion of calls (RFC 6910 §4.4).
      if (info.callCompletion !== undefined) this.completions.offered(callId, info.callCompletion);
      const completion = info.callCompletion !== undefined ? { callCompletion: callCompletionParams(info.callCompletion) } : {};
      this.#notify('call.progress', withOptionalSdp({ callId, sipStatus: info.status, reason: info.reason, ...diversion, ...waiting, ...completion }, info.sdp));
      tell(info.status, info.reason);
    });
    call.on('answered', (info) => {
      answered = true;
      // TS 24.608 TIP/TIR: the connected identity, anonymous (never the hidden URI's name) when restricted.
      const connected = info.connected !== undefined ? { connected: partyParams(info.connected) } : {};
      this.#notify('call.answered', withOptionalSdp({ callId, ...connected }, info.sdp));
      tell(200, 'OK');
    });
    call.on('updated', (info) => {
      // TS 24.610 §4.5.2: sendonly/inactive from the other side means this client is held.
      const held = info.direction === 'sendonly' || info.direction === 'inactive';
      this.#notify('call.updated', { callId, sdp: info.sdp, direction: info.direction, held });
    });
    call.on('referred', (request) => {
      tracked.pendingTransfer = request;
      this.#notify('call.transferRequested', {
        callId, target: request.target, attended: request.replaces !== undefined,
        ...(request.referredBy !== undefined ? { referredBy: request.referredBy } : {}),
      });
    });
    call.on('info', (info) => {
      // Issue #14: DTMF from the far end as INFO application/dtmf-relay becomes call.dtmfReceived.
      if (mediaTypeOf(info.contentType) !== DTMF_RELAY_CONTENT_TYPE) return;
      const dtmf = parseDtmfRelay(info.body);
      if (dtmf !== undefined) this.#notify('call.dtmfReceived', { callId, digit: dtmf.digit, durationMs: dtmf.durationMs });
    });
    call.on('transferprogress', (info) => {
      this.#notify('call.transferProgress', { callId, sipStatus: info.status, reason: info.reason, final: info.final });
    });
    call.on('ended', (info) => {
      this.#calls.delete(callId);
      // RFC 3515 §2.4.5: the transferor learns the final outcome of the new call.
      if (!answered) tell(info.status ?? 487, info.reason ?? 'Request Terminated');
      // TS 24.642 CCBS/CCNR: the failed call offered completion of calls; callCompletion.request accepts.
      if (info.callCompletion !== undefined) this.completions.offered(callId, info.callCompletion);
      const completion = info.callCompletion !== undefined ? { callCompletion: callCompletionParams(info.callCompletion) } : {};
      this.#notify('call.ended', { ...endedParams(callId, info), ...completion });
    });
    return tracked;
  }

  /** Forgets every call (the UE closed them; their 'ended' events may still come). */
  clear(): void {
    this.#calls.clear();
    this.completions.clear();
  }
}

/** The offer as call.ended / call.progress carry it (schemas/jsonrpc/definitions CallCompletionOffer). */
function callCompletionParams(offer: UaCallCompletionOffer): Params {
  return { mode: offer.mode, uri: offer.uri };
}
