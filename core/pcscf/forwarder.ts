import type { Logger } from 'pino';
import {
  addHeader, callId, createResponse, generateBranch, generateTag, maxForwards, setHeader, splitList,
  type SipMessage, type SipRequest, type SipResponse,
} from '../sip/index.js';
import {
  createCancel, TransactionState, type ClientTransaction, type ServerTransaction, type TransactionLayer,
} from '../sip/transaction/index.js';
import type { SipTarget } from '../sip/transport/types.js';
import { isStateUnavailable, stateUnavailableResponse } from './state-unavailable.js';
import type { AdmissionTicket, MwAdmission } from './mw-admission.js';

export type Side = 'mw' | 'w2';

export interface Forwarding {
  /** The server transaction of the inbound request (on the other side than `toward`). */
  readonly serverTx: ServerTransaction;
  readonly toward: Side;
  /** The request as it should leave, except our Via and the decremented Max-Forwards. */
  readonly request: SipRequest;
  /** Next-hop addresses to try in order (RFC 3263 §4.3 failover on 503, timeout, transport error). */
  readonly targets: readonly SipTarget[];
  /**
   * Procedure hook: may rewrite each response (or act on it) before it is relayed. When it throws
   * (a Record-Route, SDP... it cannot process), the response is not relayed: see `onNotRelayed`.
   */
  readonly onResponse?: (response: SipResponse) => SipResponse | Promise<SipResponse>;
  /**
   * A final response that will not reach the client (RFC 3261 §16.7, §21.5.3): `onResponse` could
   * not process it, or the client was already answered 502 for an earlier one. The procedure ends
   * what the far side set up (for a 2xx to INVITE: ACK + BYE toward `target`, where the request
   * went). `refusedNow`: this response made the forwarder answer the client 502 (the whole
   * attempt failed); false for a 2xx of another fork after the client already had its final.
   */
  readonly onNotRelayed?: (response: SipResponse, target: SipTarget, refusedNow: boolean) => Promise<void>;
  /** What to answer when every target failed without a response of its own (default 408/503 from the tx). */
  readonly failureStatus?: number;
  /** Extra Via parameters (e.g. the flow token that routes a stray response back, RFC 3261 §18.2.2). */
  readonly viaParams?: string;
}

interface Context {
  readonly forwarding: Forwarding;
  target: number;
  client: ClientTransaction | undefined;
  /** A 1xx arrived (RFC 3261 §9.1: CANCEL only after a provisional). */
  provisional: boolean;
  cancelRequested: boolean;
  finalRelayed: boolean;
  /** Responses are relayed in order even when hooks are asynchronous. */
  chain: Promise<void>;
  /** The client has a final response (set in `chain` order): a 502 of ours, or a relayed one. */
  answered: 'no' | 'relayed' | 'refused';
  /** The slot of the per-node bound toward Mw (mw-admission.ts), until the first response. */
  ticket: AdmissionTicket | undefined;
  /** Attempts started (the current one's number): callbacks of an abandoned attempt see another. */
  attempts: number;
  /** The no-answer failover deadline of the current attempt. */
  noAnswerTimer: NodeJS.Timeout | undefined;
}

export interface ForwarderOptions {
  readonly layers: Readonly<Record<Side, TransactionLayer>>;
  /** Our Via value (with `branch`) for a request leaving on `side` toward `target`. */
  readonly via: (side: Side, target: SipTarget, branch: string) => string;
  /** Branch for a forwarded request (RFC 3261 §16.6 step 8: loop-detectable). Default: random. */
  readonly branch?: (request: SipRequest) => string;
  /** Our host as a Warning warn-agent (RFC 3261 §20.43) in a 502 sent to a client on `side`. */
  readonly warnAgent: (side: Side) => string;
  /** A response the forwarder would not relay (a procedure could not process it): counted. */
  readonly onUnprocessable?: () => void;
  /**
   * Issue 15: the per-node bound on requests toward Mw. A request beyond it waits in its queue
   * or is answered 503 with Retry-After (`onOverloaded` is told, for the metrics).
   */
  readonly mwAdmission?: MwAdmission;
  readonly onOverloaded?: (serverTx: ServerTransaction) => void;
  /**
   * RFC 3263 §4.3 failover on silence: a target that answered nothing within this many ms is
   * given up for the request when another target is left (0: never; only timeout, transport
   * error, 503, 408). `onNoAnswer` is told (next-hop health counts it as a failure).
   */
  readonly noAnswerMs?: number;
  readonly onNoAnswer?: (request: SipRequest, target: SipTarget) => void;
  readonly log: Logger;
}

/**
 * The stateful part of the proxy (RFC 3261 §16.6-16.10): one client transaction per inbound
 * server transaction, responses relayed back with our Via removed, CANCEL propagated, and
 * RFC 3263 failover across next-hop targets.
 */
export class Forwarder {
  readonly #options: ForwarderOptions;
  readonly #contexts = new Map<ServerTransaction, Context>();
  /** Pending INVITEs by the connection they came in on (only W2 sources have one). */
  readonly #invitesByConnection = new Map<string, Set<ServerTransaction>>();
  /** INVITEs a CANCEL reached before they were forwarded (their procedure was still running). */
  readonly #cancelledBeforeForwarding = new WeakSet<ServerTransaction>();
  /** INVITEs sent to a given-up target and cancelled there once (its later 1xx change nothing). */
  readonly #lateCancelled = new WeakSet<SipRequest>();

  constructor(options: ForwarderOptions) {
    this.#options = options;
  }

  get pending(): number {
    return this.#contexts.size;
  }

  /**
   * Call-IDs of requests forwarded and still waiting for their final response (the media audit:
   * a leg of one of them is not an orphan). Built on demand; not for a per-message path.
   */
  pendingCallIds(): Set<string> {
    const ids = new Set<string>();
    for (const context of this.#contexts.values()) {
      if (!context.finalRelayed) ids.add(callId(context.forwarding.serverTx.request));
    }
    return ids;
  }

  forward(forwarding: Forwarding): void {
    const context: Context = {
      forwarding, target: 0, client: undefined, provisional: false, cancelRequested: false, finalRelayed: false, chain: Promise.resolve(), answered: 'no',
      ticket: undefined, attempts: 0, noAnswerTimer: undefined,
    };
    this.#contexts.set(forwarding.serverTx, context);
    if (this.#cancelledBeforeForwarding.has(forwarding.serverTx)) {
      // RFC 3261 §16.10: cancelled before any branch existed: no branch is started; the
      // attempt ends with 487 through the same relay (and response hook) as any final.
      this.#relay(context, createResponse(forwarding.serverTx.request, 487, 'Request Terminated'), true);
      return;
    }
    const connectionId = forwarding.serverTx.source?.connectionId;
    if (connectionId !== undefined && forwarding.serverTx.request.method === 'INVITE') {
      let set = this.#invitesByConnection.get(connectionId);
      if (set === undefined) this.#invitesByConnection.set(connectionId, (set = new Set()));
      set.add(forwarding.serverTx);
    }
    const admission = forwarding.toward === 'mw' ? this.#options.mwAdmission : undefined;
    if (admission === undefined) {
      this.#attempt(context);
      return;
    }
    context.ticket = admission.admit(() => this.#attempt(context), () => {
      // RFC 3261 §21.5.4 + §20.33: this server is overloaded for now; nothing went to Mw.
      this.#options.onOverloaded?.(forwarding.serverTx);
      this.#relay(context, createResponse(forwarding.serverTx.request, 503, 'Service Unavailable - too many requests toward the IMS core', {
        headers: [['Retry-After', String(admission.retryAfterSeconds)]],
      }), true);
    });
  }

  /**
   * A CANCEL matched `inviteTx` (RFC 3261 §16.10): cancel the branch we forwarded. Returns
   * false when there is nothing pending (the caller answers 481 or lets the final go).
   */
  cancel(inviteTx: ServerTransaction): boolean {
    const context = this.#contexts.get(inviteTx);
    if (context === undefined) {
      // The INVITE's procedure (e.g. its offer in the media gateway) has not forwarded it yet:
      // remember the CANCEL so `forward` ends the attempt instead of starting a branch.
      if (inviteTx.state !== TransactionState.Proceeding) return false;
      this.#cancelledBeforeForwarding.add(inviteTx);
      return true;
    }
    if (context.finalRelayed) return false;
    if (context.ticket?.queued === true) {
      // Still waiting for a slot toward Mw: nothing was sent, so nothing to cancel there.
      context.ticket.release();
      this.#relay(context, createResponse(inviteTx.request, 487, 'Request Terminated'), true);
      return true;
    }
    context.cancelRequested = true;
    if (context.provisional) this.#sendCancel(context);
    return true;
  }

  /** Cancels every pending INVITE that arrived over a connection that is now dead (R-ORIG-9). */
  cancelFrom(connectionId: string): void {
    const pending = this.#invitesByConnection.get(connectionId);
    if (pending === undefined) return;
    this.#invitesByConnection.delete(connectionId);
    for (const serverTx of pending) this.cancel(serverTx);
  }

  #attempt(context: Context): void {
    const { forwarding } = context;
    const target = forwarding.targets[context.target];
    if (target === undefined) {
      this.#relay(context, createResponse(forwarding.serverTx.request, forwarding.failureStatus ?? 503, undefined, {}), true);
      return;
    }
    const branch = this.#options.branch ? this.#options.branch(forwarding.serverTx.request) : generateBranch();
    const request = prepare(forwarding.request, this.#options.via(forwarding.toward, target, branch) + (forwarding.viaParams ?? ''));
    const attempt = ++context.attempts;
    const current = (): boolean => attempt === context.attempts;
    try {
      context.client = this.#options.layers[forwarding.toward].sendRequest(request, target, {
        onProvisional: (response) => {
          if (!current()) return this.#lateProvisional(context, request, target);
          this.#answeredSomething(context);
          context.provisional = true;
          if (context.cancelRequested) this.#sendCancel(context);
          // RFC 3261 §16.7 step 5: a 100 is hop-by-hop; never forwarded.
          if (response.status > 100) this.#relay(context, response);
        },
        onFinal: (response) => {
          if (!current()) return this.#lateFinal(context, response, target);
          this.#answeredSomething(context);
          const failover = (response.status === 503 || response.status === 408) && !context.provisional && !context.cancelRequested;
          if (failover && context.target + 1 < forwarding.targets.length) {
            this.#options.log.info({ target, status: response.status }, 'next hop failed; trying the next target (RFC 3263 §4.3)');
            context.target++;
            this.#attempt(context);
            return;
          }
          this.#relay(context, response);
        },
      });
      this.#armNoAnswer(context, request, target);
    } catch (error) {
      this.#options.log.error({ err: error }, 'could not start the client transaction');
      this.#relay(context, createResponse(forwarding.serverTx.request, 500, 'Server Internal Error'), true);
    }
  }

  /**
   * RFC 3263 §4.3: when another target is left, a silent one is given up after `noAnswerMs`
   * rather than after the 32 s of Timer B/F; its client transaction runs on unheard (a late
   * answer is ended: #lateProvisional, #lateFinal).
   */
  #armNoAnswer(context: Context, request: SipRequest, target: SipTarget): void {
    const noAnswerMs = this.#options.noAnswerMs ?? 0;
    if (noAnswerMs <= 0 || context.target + 1 >= context.forwarding.targets.length) return;
    const attempt = context.attempts;
    context.noAnswerTimer = setTimeout(() => {
      context.noAnswerTimer = undefined;
      if (attempt !== context.attempts || context.finalRelayed || context.cancelRequested) return;
      this.#options.log.info({ target, noAnswerMs }, 'next hop silent; trying the next target (RFC 3263 §4.3)');
      this.#options.onNoAnswer?.(request, target);
      context.target++;
      this.#attempt(context);
    }, noAnswerMs);
    context.noAnswerTimer.unref();
  }

  /** The current attempt heard from its next hop: no failover on silence, and the Mw slot is free. */
  #answeredSomething(context: Context): void {
    if (context.noAnswerTimer !== undefined) clearTimeout(context.noAnswerTimer);
    context.noAnswerTimer = undefined;
    context.ticket?.release();
  }

  /** A given-up target answered after all: an INVITE there is cancelled (RFC 3261 §9.1, after a 1xx). */
  #lateProvisional(context: Context, request: SipRequest, target: SipTarget): void {
    if (request.method !== 'INVITE' || this.#lateCancelled.has(request)) return;
    this.#lateCancelled.add(request);
    try {
      this.#options.layers[context.forwarding.toward].sendRequest(createCancel(request), target, { onFinal: () => undefined });
    } catch (error) {
      this.#options.log.warn({ err: error }, 'could not cancel the INVITE of a given-up target');
    }
  }

  /** A given-up target's 2xx is never relayed: the procedure acknowledges and ends it (RFC 3261 §16.7). */
  #lateFinal(context: Context, response: SipResponse, target: SipTarget): void {
    if (response.status >= 300 || response.status < 200) return;
    void this.#notRelayed(context.forwarding, popVia(response), target, false);
  }

  #forgetInvite(serverTx: ServerTransaction): void {
    const connectionId = serverTx.source?.connectionId;
    if (connectionId === undefined) return;
    const set = this.#invitesByConnection.get(connectionId);
    if (set === undefined) return;
    set.delete(serverTx);
    if (set.size === 0) this.#invitesByConnection.delete(connectionId);
  }

  #sendCancel(context: Context): void {
    const client = context.client;
    if (client === undefined || client.request.method !== 'INVITE') return;
    const cancel = createCancel(client.request);
    const target = context.forwarding.targets[context.target] as SipTarget;
    try {
      this.#options.layers[context.forwarding.toward].sendRequest(cancel, target, { onFinal: () => undefined });
    } catch (error) {
      this.#options.log.warn({ err: error }, 'could not send CANCEL');
    }
  }

  /** `ours`: a response this proxy made from the client's request (no Via of ours to remove). */
  #relay(context: Context, response: SipResponse, ours = false): void {
    const { forwarding } = context;
    const isFinal = response.status >= 200;
    // After a final non-2xx nothing else is relayed; 2xx may repeat (RFC 6026 forked 2xx).
    if (context.finalRelayed && (!isFinal || response.status >= 300)) return;
    if (isFinal) {
      context.finalRelayed = true;
      context.ticket?.release();
      if (context.noAnswerTimer !== undefined) clearTimeout(context.noAnswerTimer);
      context.noAnswerTimer = undefined;
      this.#forgetInvite(forwarding.serverTx);
      // Keep the context while 2xx retransmissions may still arrive for an INVITE (RFC 6026 §7.1).
      if (forwarding.serverTx.request.method !== 'INVITE' || response.status >= 300) this.#contexts.delete(forwarding.serverTx);
      else setTimeout(() => this.#contexts.delete(forwarding.serverTx), 32_000).unref();
    }
    const stripped = ours ? response : popVia(response);
    const target = forwarding.targets[context.target];
    context.chain = context.chain.then(async () => {
      if (context.answered === 'refused') {
        // The client was told 502: a 2xx of another fork is ended, never relayed.
        if (isFinal && response.status < 300 && target !== undefined) await this.#notRelayed(forwarding, stripped, target, false);
        return;
      }
      let out: SipResponse;
      try {
        out = forwarding.onResponse ? await forwarding.onResponse(stripped) : stripped;
      } catch (error) {
        await this.#unprocessable(context, stripped, target, error);
        return;
      }
      if (isFinal) context.answered = 'relayed';
      forwarding.serverTx.respond(out);
    });
  }

  /**
   * RFC 3261 §16.7: a response the procedure cannot process is never relayed unchanged. A
   * provisional is dropped (the final decides); the first final becomes 502 Bad Gateway with a
   * Warning (§21.5.3, §20.43 code 399); the procedure then ends what the far side set up.
   */
  async #unprocessable(context: Context, response: SipResponse, target: SipTarget | undefined, error: unknown): Promise<void> {
    const { forwarding } = context;
    this.#options.onUnprocessable?.();
    this.#options.log.warn({ err: error, status: response.status, method: forwarding.request.method }, 'response the P-CSCF cannot process: not relayed (RFC 3261 §16.7)');
    if (response.status < 200) return;
    const refusedNow = context.answered === 'no';
    if (refusedNow && isStateUnavailable(error)) {
      context.answered = 'refused';
      forwarding.serverTx.respond(stateUnavailableResponse(forwarding.serverTx.request)); // issue #15: shared state down, retry soon
    } else if (refusedNow) {
      context.answered = 'refused';
      const clientSide: Side = forwarding.toward === 'mw' ? 'w2' : 'mw';
      const why = `unprocessable ${response.status} from the next hop: ${error instanceof Error ? error.message : String(error)}`;
      const warning = `399 ${this.#options.warnAgent(clientSide)} "${why.replace(/["\\\x00-\x1f\x7f]/g, "'").slice(0, 200)}"`;
      forwarding.serverTx.respond(createResponse(forwarding.serverTx.request, 502, 'Bad Gateway', { toTag: generateTag(), headers: [['Warning', warning]] }));
    }
    if (target !== undefined) await this.#notRelayed(forwarding, response, target, refusedNow);
  }

  async #notRelayed(forwarding: Forwarding, response: SipResponse, target: SipTarget, refusedNow: boolean): Promise<void> {
    try {
      await forwarding.onNotRelayed?.(response, target, refusedNow);
    } catch (error) {
      this.#options.log.error({ err: error }, 'could not end what an unrelayed response set up');
    }
  }
}

/** RFC 3261 §16.6 steps 3 and 8: decrement Max-Forwards (70 when absent) and push our Via. */
function prepare(request: SipRequest, via: string): SipRequest {
  const mf = maxForwards(request);
  const withMf = setHeader(request, 'Max-Forwards', String(mf === undefined ? 70 : mf - 1));
  return addHeader(withMf, 'Via', via, { first: true });
}

/** RFC 3261 §16.7 step 3: remove the topmost Via value (which is ours). */
export function popVia<M extends SipMessage>(msg: M): M {
  return popFirstValue(msg, 'Via');
}

/** RFC 3261 §16.12: remove the first Route value. */
export function popRoute<M extends SipMessage>(msg: M): M {
  return popFirstValue(msg, 'Route');
}

/** Removes the first value of a list header, whether it shares its line with others or not. */
function popFirstValue<M extends SipMessage>(msg: M, name: 'Via' | 'Route'): M {
  const index = msg.headers.findIndex((h) => h.name === name);
  if (index < 0) return msg;
  const values = splitList(msg.headers[index]!.value);
  const headers = [...msg.headers];
  if (values.length <= 1) headers.splice(index, 1);
  else headers[index] = { name, value: values.slice(1).join(', ') };
  return { ...msg, headers };
}
