/**
 * The calls of one session: the handle the client knows (callId = UaCall.id), and the mapping of
 * each call's events onto notifications (call.progress, call.answered, call.updated,
 * call.transferRequested, call.transferProgress, call.ended). A call placed to honour a
 * transfer also reports its progress to the transferor (RFC 3515 §2.4.4: NOTIFY sipfrag).
 */
import { DTMF_RELAY_CONTENT_TYPE, parseDtmfRelay } from '../../core/dtmf/index.js';
import type { UaCall, UaTransferRequest } from '../../core/contract/index.js';
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

  constructor(notify: Notify, onFault: (error: unknown) => void) {
    this.#notify = notify;
    this.#onFault = onFault;
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
      this.#notify('call.progress', withOptionalSdp({ callId, sipStatus: info.status, reason: info.reason, ...diversion }, info.sdp));
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
      if (info.contentType.split(';')[0]?.trim().toLowerCase() !== DTMF_RELAY_CONTENT_TYPE) return;
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
      this.#notify('call.ended', endedParams(callId, info));
    });
    return tracked;
  }

  /** Forgets every call (the UE closed them; their 'ended' events may still come). */
  clear(): void {
    this.#calls.clear();
  }
}
