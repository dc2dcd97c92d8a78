/**
 * Caps on the calls W2 clients originate (issue 11 #4: one client's 100 ringing INVITEs took
 * every IMS media port pair and everyone else got 503). A call counts from its initial INVITE
 * until its INVITE transaction failed or its dialog ended, per W2 connection (flow) and per
 * source IP, for every plugin alike since all SIP passes here. The check runs before the
 * IMS-ALG allocates media, so a refused INVITE costs no port.
 *
 * The refusal is 503 with Retry-After (RFC 3261 §21.5.4: a temporary condition of this server;
 * the client may call again once one of its calls ends), not 486 Busy Here, which speaks for
 * the callee, nor 403, which says the request will never be served.
 *
 * Nothing is hooked on the ways a call ends (final responses, BYE either way, media failure,
 * operator release): a call is live while its INVITE server transaction is still open or while
 * the dialog store (the one record of dialogs) holds its dialog. That is re-checked only when a
 * cap is reached, so the cost is a few store reads on refusal paths, none per message.
 */
import { callId, createResponse, from, tagOf, type SipRequest, type SipResponse } from '../sip/index.js';
import { TransactionState, type Transaction } from '../sip/transaction/index.js';
import { dialogId, type DialogStore } from '../state/dialog-store.js';

export interface CallCaps {
  readonly maxCallsPerClient: number;
  readonly maxCallsPerIp: number;
}

export type CallRefusalReason = 'calls_per_client' | 'calls_per_ip';

/** Seconds the client is asked to wait (RFC 3261 §20.33): long enough to end a call first. */
export const CALL_CAP_RETRY_AFTER_SECONDS = 10;

interface CallEntry {
  readonly flowKey: string;
  readonly ip: string;
  readonly dialogId: string;
  /** The INVITE server transaction; while it is open the call is pending. */
  readonly tx: Pick<Transaction, 'state'>;
}

export class CallLimits {
  readonly #caps: CallCaps;
  readonly #dialogs: DialogStore;
  readonly #byFlow = new Map<string, Set<CallEntry>>();
  readonly #byIp = new Map<string, Set<CallEntry>>();

  constructor(caps: CallCaps, dialogs: DialogStore) {
    this.#caps = caps;
    this.#dialogs = dialogs;
  }

  /**
   * An initial INVITE from `flowKey` (source `ip`): undefined when admitted (the call is counted
   * from now on), else the refusal to send and its reason.
   */
  async admit(request: SipRequest, tx: Pick<Transaction, 'state'>, flowKey: string, ip: string): Promise<{ response: SipResponse; reason: CallRefusalReason } | undefined> {
    const byFlow = this.#byFlow.get(flowKey);
    if (byFlow !== undefined && byFlow.size >= this.#caps.maxCallsPerClient && await this.#prune(byFlow) >= this.#caps.maxCallsPerClient) {
      return { reason: 'calls_per_client', response: refusal(request, `too many calls on this connection (at most ${this.#caps.maxCallsPerClient})`) };
    }
    const byIp = this.#byIp.get(ip);
    if (byIp !== undefined && byIp.size >= this.#caps.maxCallsPerIp && await this.#prune(byIp) >= this.#caps.maxCallsPerIp) {
      return { reason: 'calls_per_ip', response: refusal(request, `too many calls from this address (at most ${this.#caps.maxCallsPerIp})`) };
    }
    const entry: CallEntry = { flowKey, ip, dialogId: dialogId(callId(request), tagOf(from(request)) ?? ''), tx };
    add(this.#byFlow, flowKey, entry);
    add(this.#byIp, ip, entry);
    return undefined;
  }

  /** Calls counted for a flow now (tests, admin views); stale entries included until the next check. */
  countedFor(flowKey: string): number {
    return this.#byFlow.get(flowKey)?.size ?? 0;
  }

  /** The W2 connection is gone: its calls are released with it (pcscf #releaseFlow). */
  releaseFlow(flowKey: string): void {
    const entries = this.#byFlow.get(flowKey);
    if (entries === undefined) return;
    this.#byFlow.delete(flowKey);
    for (const entry of entries) this.#forget(entry, false);
  }

  /** Drops the entries of `set` whose call ended; returns how many are still live. */
  async #prune(set: Set<CallEntry>): Promise<number> {
    for (const entry of [...set]) {
      if (await this.#isLive(entry)) continue;
      this.#forget(entry, true);
    }
    return set.size;
  }

  async #isLive(entry: CallEntry): Promise<boolean> {
    const state = entry.tx.state;
    if (state === TransactionState.Trying || state === TransactionState.Proceeding) return true;
    const dialog = await this.#dialogs.get(entry.dialogId);
    return dialog !== undefined && dialog.method === 'INVITE';
  }

  #forget(entry: CallEntry, fromFlow: boolean): void {
    if (fromFlow) remove(this.#byFlow, entry.flowKey, entry);
    remove(this.#byIp, entry.ip, entry);
  }
}

function refusal(request: SipRequest, why: string): SipResponse {
  // RFC 3261 §21.5.4 + §20.33: temporary, with when to try again; the reason phrase says why.
  return createResponse(request, 503, `Service Unavailable - ${why}`, { headers: [['Retry-After', String(CALL_CAP_RETRY_AFTER_SECONDS)]] });
}

function add(index: Map<string, Set<CallEntry>>, key: string, entry: CallEntry): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(entry);
}

function remove(index: Map<string, Set<CallEntry>>, key: string, entry: CallEntry): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(entry);
  if (set.size === 0) index.delete(key);
}
