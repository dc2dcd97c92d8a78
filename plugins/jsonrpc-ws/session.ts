/**
 * One JSON-RPC client (a W2 connection) and its virtual Gm UE (core/ua). The session does the
 * JSON-RPC 2.0 envelope (F-JR-1, R-JR-4) and the bounds; method handlers (methods/*.ts) drive
 * the UE; the UE's events become notifications (call-book.ts, subscription-book.ts). Every SIP
 * message the core sends this client goes to `ue.receive`; the UE's own SIP goes to the core
 * through `host.sip.fromClient` (architecture.md: every plugin speaks Gm SIP to the core).
 */
import type { JSONRPCID, JSONRPCResponse } from 'json-rpc-2.0';
import { createJSONRPCErrorResponse } from 'json-rpc-2.0';
import type { W2Host } from '../../core/contract/index.js';
import type { SessionCloseReason, W2Connection, W2Frame, W2Session } from '../../core/contract/index.js';
import type { SipRequest, SipResponse } from '../../core/contract/index.js';
import type { PluginUeOptions, RegistrationSnapshot, UtRequest, UtResponse, VirtualUe } from '../../core/contract/index.js';
import { FloodGuard } from '../../core/contract/index.js';
import { CallBook } from './call-book.js';
import type { JsonRpcDispatcher } from './dispatcher.js';
import { classifyEntry, idKey, parseFrame, type RpcCall } from './envelope.js';
import { partyParams, registrationParams, withOptionalSdp, type Params } from './notification-params.js';
import type { JsonRpcWsOptions } from './options.js';
import type { ResumableRegistration, ResumeHolder, ResumeStore } from './resume-store.js';
import type { RpcContext, UeStart } from './rpc-context.js';
import { INVALID_REQUEST, NOT_REGISTERED, PARSE_ERROR, RATE_LIMITED, UT_UNAVAILABLE, WRONG_STATE, errorMessage, rpcError } from './rpc-errors.js';
import { messageSummaryParams, SubscriptionBook } from './subscription-book.js';
import { waitingCallParams } from './waiting-calls.js';

/** Builds the connection's UE: host.ua.create in production, a fake in unit tests. */
export type VirtualUeFactory = (conn: W2Connection, options: PluginUeOptions) => VirtualUe;

export interface JsonRpcWsDeps {
  readonly createUe: VirtualUeFactory;
  readonly resume: ResumeStore;
  readonly dispatcher: JsonRpcDispatcher;
  readonly now?: () => number;
}

/** RFC 6455 §7.4.1 close codes this plugin uses. */
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_NORMAL = 1000;

/** How long onClose waits for a de-registering REGISTER to reach the core (it never waits for the answer). */
const DEREGISTER_HANDOFF_MS = 200;

export interface JsonRpcWsCounters {
  framesIn: number;
  requests: number;
  clientNotifications: number;
  responses: number;
  errors: number;
  notificationsOut: number;
  rateLimited: number;
}

export class JsonRpcWsSession implements W2Session, RpcContext, ResumeHolder {
  readonly options: JsonRpcWsOptions;
  readonly calls: CallBook;
  readonly subscriptions: SubscriptionBook;
  readonly resume: ResumeStore;
  readonly #conn: W2Connection;
  readonly #host: W2Host;
  readonly #deps: JsonRpcWsDeps;
  readonly #flood: FloodGuard;
  readonly #inFlight = new Set<string>();
  readonly #openedAt = new Date();
  readonly #counters: JsonRpcWsCounters = { framesIn: 0, requests: 0, clientNotifications: 0, responses: 0, errors: 0, notificationsOut: 0, rateLimited: 0 };
  #ue: VirtualUe | undefined;
  #ueStart: UeStart | undefined;
  #resumeToken: string | undefined;
  #handedOver = false;
  #closed = false;
  /** Resolves the next time the UE hands a SIP message to the core (see #deregisterOnClose). */
  #sendWaiters: (() => void)[] = [];

  get conferenceFactoryUri(): string | undefined {
    return this.#host.mmtel?.conferenceFactoryUri;
  }

  constructor(conn: W2Connection, host: W2Host, options: JsonRpcWsOptions, deps: JsonRpcWsDeps) {
    this.#conn = conn;
    this.#host = host;
    this.options = options;
    this.#deps = deps;
    this.resume = deps.resume;
    this.#flood = new FloodGuard({ ratePerSecond: options.floodRatePerSecond, burst: options.floodBurst }, deps.now ?? Date.now);
    const notify = (method: string, params: Params): void => this.notify(method, params);
    const onFault = (error: unknown): void => this.#host.log.warn({ connectionId: conn.id, err: error }, 'jsonrpc-ws: a background SIP step failed');
    this.calls = new CallBook(notify, onFault);
    this.subscriptions = new SubscriptionBook(notify);
  }

  // ---- RpcContext --------------------------------------------------------------------------------

  get ue(): VirtualUe | undefined {
    return this.#ue;
  }

  utRequest(request: UtRequest): Promise<UtResponse> {
    const ut = this.#host.ut;
    if (ut === undefined) return Promise.reject(rpcError(UT_UNAVAILABLE, { hint: 'service configuration over Ut is not configured on this eP-CSCF (ut.xcapRoot)' }));
    return ut.request(this.#conn.id, request);
  }

  get impu(): string | undefined {
    return this.#ueStart?.identity.impu;
  }

  get usesToken(): boolean {
    return this.#ueStart?.identity.token !== undefined;
  }

  openUe(start: UeStart): VirtualUe {
    if (this.#closed) throw rpcError(WRONG_STATE, { hint: 'the connection is closing' });
    if (this.#ue !== undefined) throw rpcError(WRONG_STATE, { hint: 'this connection already has a UE' });
    const ue = this.#deps.createUe(this.#conn, {
      identity: start.identity,
      onSent: () => this.#wakeSendWaiters(),
      ...(start.instanceId !== undefined ? { instanceId: start.instanceId } : {}),
      ...(start.expires !== undefined ? { expires: start.expires } : {}),
      ...(start.adopt !== undefined ? { adopt: start.adopt } : {}),
    });
    this.#ue = ue;
    this.#ueStart = start;
    this.#wireUe(ue);
    return ue;
  }

  closeUe(): void {
    const ue = this.#ue;
    this.#ue = undefined;
    this.#ueStart = undefined;
    if (this.#resumeToken !== undefined) this.#revoke(this.#resumeToken);
    this.#resumeToken = undefined;
    this.subscriptions.clear();
    if (ue === undefined) return;
    ue.removeAllListeners();
    this.calls.clear();
    ue.close();
  }

  async issueResumeToken(): Promise<string | undefined> {
    const ue = this.#ue;
    const start = this.#ueStart;
    if (this.options.resumeGraceSeconds === 0 || ue === undefined || start === undefined) return undefined;
    if (this.#resumeToken !== undefined) this.#revoke(this.#resumeToken);
    this.#resumeToken = undefined;
    let token: string;
    try {
      token = await this.resume.issue(this.#resumable(ue, start), this);
    } catch (error) {
      // Shared state unreachable (EPC_ERR_STATE_UNAVAILABLE): registered, just not resumable.
      this.#host.log.warn({ connectionId: this.#conn.id, err: error }, 'jsonrpc-ws: resume token not stored, registration not resumable');
      return undefined;
    }
    if (this.#ue !== ue || this.#closed) {
      // The UE or the connection went while the token was being stored: it resumes nothing.
      this.#revoke(token);
      return undefined;
    }
    this.#resumeToken = token;
    return token;
  }

  replaceToken(token: string): void {
    const ue = this.#ue;
    const start = this.#ueStart;
    if (ue === undefined || start === undefined) throw rpcError(NOT_REGISTERED, { state: 'unregistered', hint: 'call session.register with a token first' });
    ue.updateToken(token);
    this.#ueStart = { ...start, identity: { ...start.identity, token } };
    this.#amendResume();
  }

  /** What a resume needs of this UE's registration, as it stands now. */
  #resumable(ue: VirtualUe, start: UeStart): ResumableRegistration {
    const snapshot = ue.registrationSnapshot();
    return {
      identity: start.identity,
      instanceId: ue.instanceId,
      ...(start.expires !== undefined ? { expires: start.expires } : {}),
      ...(snapshot !== undefined ? { snapshot } : {}),
    };
  }

  /** The credential or the registration changed (new web token, a refresh): the resume token follows. */
  #amendResume(): void {
    const token = this.#resumeToken;
    const ue = this.#ue;
    const start = this.#ueStart;
    if (token === undefined || ue === undefined || start === undefined) return;
    this.resume.amend(token, this.#resumable(ue, start))
      .catch((error: unknown) => this.#host.log.warn({ connectionId: this.#conn.id, err: error }, 'jsonrpc-ws: the resume token keeps the previous registration state'));
  }

  adoptRegisteredFlow(snapshot: RegistrationSnapshot): Promise<boolean> {
    const adopt = this.#host.sip.adoptRegisteredFlow;
    if (adopt === undefined) return Promise.resolve(false);
    return adopt.call(this.#host.sip, this.#conn.id, `sip:${snapshot.contactUser}@${snapshot.contactHost}`, snapshot.expiresAt).then(() => true, (error: unknown) => {
      this.#host.log.info({ connectionId: this.#conn.id, err: error }, 'jsonrpc-ws: the registered flow could not be taken over, registering again');
      return false;
    });
  }

  notify(method: string, params: Params): void {
    if (this.#closed) return;
    this.#counters.notificationsOut += 1;
    this.#send({ jsonrpc: '2.0', method, params });
  }

  // ---- ResumeHolder ------------------------------------------------------------------------------

  /** session.resume on another connection took this registration: let go without de-registering. */
  handOver(): void {
    this.#handedOver = true;
    this.#resumeToken = undefined;
    this.#conn.close(CLOSE_NORMAL, 'resumed on another connection');
  }

  // ---- W2Session ---------------------------------------------------------------------------------

  onFrame(frame: W2Frame): void {
    if (this.#closed) return;
    this.#counters.framesIn += 1;
    if (typeof frame !== 'string') {
      // This API is JSON text (RFC 8259); RFC 6455 §7.4.1: 1003 = a data type it cannot accept.
      this.notify('session.error', { code: INVALID_REQUEST, message: 'binary frames are not accepted', data: { hint: 'send each JSON-RPC message as a text frame' } });
      this.#conn.close(CLOSE_UNSUPPORTED_DATA, 'text frames only');
      return;
    }
    // Frames are handled concurrently (a call.invite must not hold up a call.hangup): onFrame
    // returns at once and each answer goes out when ready (JSON-RPC 2.0 §6: order not guaranteed).
    void this.#handleText(frame).catch((error: unknown) => {
      this.#host.log.error({ connectionId: this.#conn.id, err: error }, 'jsonrpc-ws: frame handling failed');
    });
  }

  onSipRequest(request: SipRequest): void {
    this.#fromCore(request);
  }

  onSipResponse(response: SipResponse): void {
    this.#fromCore(response);
  }

  async onClose(reason: SessionCloseReason): Promise<void> {
    this.#closed = true;
    const ue = this.#ue;
    const token = this.#resumeToken;
    this.#host.log.debug({ connectionId: this.#conn.id, ...reason, counters: this.#counters }, 'jsonrpc-ws: session closed');
    if (ue === undefined) return;
    const registered = ue.registration.state === 'registered';
    if (registered && !this.#handedOver) {
      if (token !== undefined && this.options.resumeGraceSeconds > 0) {
        // The registration may be resumed on a new connection for the grace period; the core
        // has already dropped this flow, so the IMS reaches nobody until then (430, RFC 5626 §5.3).
        this.#resumeToken = undefined;
        await this.resume.park(token, this.options.resumeGraceSeconds * 1000).catch((error: unknown) => {
          this.#host.log.warn({ connectionId: this.#conn.id, err: error }, 'jsonrpc-ws: resume token not parked, registration not resumable');
        });
      } else if (!this.usesToken) {
        await this.#deregisterOnClose(ue);
      }
      // R-REG-25: a web-token (trusted-node) registration is the P-CSCF's: it de-registers it on
      // Mw itself when this flow ends, so the plugin sends nothing (no second REGISTER Expires: 0).
    }
    this.closeUe(); // revokes a token that was not parked (a registration that lapsed before the drop)
  }

  describe(): Record<string, unknown> {
    return {
      connectionId: this.#conn.id,
      remote: `${this.#conn.remote.address}:${this.#conn.remote.port}`,
      secure: this.#conn.secure,
      openedAt: this.#openedAt.toISOString(),
      registration: this.#ue?.registration.state ?? 'unregistered',
      ...(this.impu !== undefined ? { impu: this.impu } : {}),
      ...(this.#ue !== undefined ? { instanceId: this.#ue.instanceId } : {}),
      calls: this.calls.size,
      subscriptions: this.subscriptions.size,
      inFlight: this.#inFlight.size,
      ...this.#counters,
    };
  }

  // ---- JSON-RPC envelope -------------------------------------------------------------------------

  async #handleText(text: string): Promise<void> {
    const content = parseFrame(text, this.options.maxBatch);
    switch (content.kind) {
      case 'parse-error':
        // F-JR-1: invalid JSON → -32700 with id null.
        if (this.#takeToken()) this.#sendError(null, PARSE_ERROR, { detail: content.detail, hint: 'each text frame must hold one JSON value' });
        return;
      case 'empty-batch':
        if (this.#takeToken()) this.#sendError(null, INVALID_REQUEST, { reason: 'empty batch: a batch needs at least one request' });
        return;
      case 'batch-too-long':
        if (this.#takeToken()) this.#sendError(null, INVALID_REQUEST, { reason: `a batch of ${content.length} exceeds maxBatch`, maxBatch: this.options.maxBatch });
        return;
      case 'single': {
        const response = await this.#handleEntry(content.entry);
        if (response !== null) this.#sendResponse(response);
        return;
      }
      case 'batch': {
        // JSON-RPC 2.0 §6: one array of answers, none for notifications, nothing when all were.
        const responses = (await Promise.all(content.entries.map((entry) => this.#handleEntry(entry)))).filter((r): r is JSONRPCResponse => r !== null);
        if (responses.length > 0) this.#sendResponse(responses);
        return;
      }
    }
  }

  async #handleEntry(entry: unknown): Promise<JSONRPCResponse | null> {
    const classified = classifyEntry(entry);
    if (classified.kind === 'invalid') {
      return this.#takeToken() ? errorResponse(classified.id, INVALID_REQUEST, { reason: classified.reason }) : null;
    }
    const { call } = classified;
    if (call.id === undefined) return this.#handleClientNotification(call);
    const id = call.id;
    this.#counters.requests += 1;
    if (!this.#takeToken()) {
      this.#counters.rateLimited += 1;
      return this.#closed ? null : errorResponse(id, RATE_LIMITED, { limit: 'floodRatePerSecond', floodRatePerSecond: this.options.floodRatePerSecond, floodBurst: this.options.floodBurst, hint: 'slow down; a sustained flood closes the connection' });
    }
    const key = idKey(id);
    // R-JR-4: every id is answered exactly once, so a second request with an id still in flight is refused.
    if (this.#inFlight.has(key)) return errorResponse(id, INVALID_REQUEST, { reason: 'duplicate id: a request with this id is still in flight (R-JR-4)', id });
    if (this.#inFlight.size >= this.options.maxInFlight) {
      this.#counters.rateLimited += 1;
      return errorResponse(id, RATE_LIMITED, { limit: 'maxInFlight', maxInFlight: this.options.maxInFlight, hint: 'wait for answers before sending more requests' });
    }
    this.#inFlight.add(key);
    try {
      return await this.#deps.dispatcher.receive({ jsonrpc: '2.0', method: call.method, params: call.params, id }, this);
    } finally {
      this.#inFlight.delete(key);
    }
  }

  /**
   * JSON-RPC 2.0 §4.1: a notification is never answered. It still runs, and a failure is not
   * dropped silently: it is reported with a session.error notification naming the method.
   */
  async #handleClientNotification(call: RpcCall): Promise<null> {
    this.#counters.clientNotifications += 1;
    if (!this.#takeToken()) {
      this.#counters.rateLimited += 1;
      this.notify('session.error', { code: RATE_LIMITED, message: errorMessage(RATE_LIMITED), method: call.method, data: { limit: 'floodRatePerSecond' } });
      return null;
    }
    const outcome = await this.#deps.dispatcher.receive({ jsonrpc: '2.0', method: call.method, params: call.params, id: null }, this);
    if (outcome?.error) {
      this.notify('session.error', { code: outcome.error.code, message: outcome.error.message, method: call.method, data: { ...(outcome.error.data as object | undefined), notification: true } });
    }
    return null;
  }

  /**
   * The token bucket; a sustained flood (floodCloseAfter refusals without the client slowing
   * down, FloodGuard.refusedWhileFlooding) closes with 1008 like sip-ws.
   */
  #takeToken(): boolean {
    if (this.#closed) return false;
    if (this.#flood.take()) return true;
    if (this.#flood.refusedWhileFlooding >= this.options.floodCloseAfter) {
      this.#host.log.warn({ connectionId: this.#conn.id, remote: this.#conn.remote }, 'jsonrpc-ws: sustained flood, closing with 1008');
      this.notify('session.error', { code: RATE_LIMITED, message: 'sustained flood: closing the connection', data: { limit: 'floodCloseAfter', floodCloseAfter: this.options.floodCloseAfter } });
      this.#closed = true;
      this.#host.observer.emit('refused', { reason: 'flood', remoteAddress: this.#conn.remote.address, connectionId: this.#conn.id });
      this.#conn.close(CLOSE_POLICY_VIOLATION, 'flood');
    }
    return false;
  }

  #sendError(id: JSONRPCID, code: number, data: Record<string, unknown>): void {
    this.#sendResponse(errorResponse(id, code, data));
  }

  #sendResponse(response: JSONRPCResponse | JSONRPCResponse[]): void {
    const list = Array.isArray(response) ? response : [response];
    this.#counters.responses += list.length;
    this.#counters.errors += list.filter((r) => r.error !== undefined).length;
    this.#send(response);
  }

  #send(payload: unknown): void {
    if (this.#closed) return;
    // A connection that is closing rejects; nothing is left to tell that client.
    this.#conn.send(JSON.stringify(payload)).catch(() => undefined);
  }

  /** Voids a token; the store is told in the background (an unreachable one lets it expire). */
  #revoke(token: string): void {
    this.resume.revoke(token).catch((error: unknown) => this.#host.log.debug({ connectionId: this.#conn.id, err: error }, 'jsonrpc-ws: resume token left to expire'));
  }

  // ---- the UE ------------------------------------------------------------------------------------

  #wireUe(ue: VirtualUe): void {
    ue.on('registration', (info) => {
      // Issue #15: every refresh moves the CSeq and the digest nonce count; a resume elsewhere carries on from there.
      if (info.state === 'registered') this.#amendResume();
      this.notify('session.registration', registrationParams(info, this.impu));
    });
    ue.on('incoming', (call, from) => {
      if (this.calls.size >= this.options.maxCallsPerClient) {
        // The bound is this client's: the caller hears busy (RFC 3261 §21.4.24 486 Busy Here).
        this.#host.log.info({ connectionId: this.#conn.id, maxCallsPerClient: this.options.maxCallsPerClient }, 'jsonrpc-ws: call limit reached, incoming call rejected 486');
        call.reject(486, 'Busy Here').catch(() => undefined);
        return;
      }
      this.calls.track(call);
      // TS 24.629 ECT / RFC 3891: the call this INVITE with Replaces takes over, additive.
      const replaced = call.replaces !== undefined ? { replacesCallId: call.replaces } : {};
      this.notify('call.incoming', withOptionalSdp({ callId: call.id, from: partyParams(from), ...waitingCallParams(call), ...replaced }, call.remoteOffer));
    });
    ue.on('message', (message) => this.notify('message.received', { from: partyParams(message.from), contentType: message.contentType, body: message.body }));
    ue.on('unsolicitednotify', (info) => this.notify('subscription.notify', { subscriptionId: null, event: info.event, state: 'active', contentType: info.contentType, body: info.body, ...messageSummaryParams(info.event, info.body) }));
  }

  /** The UE's SIP went to the core (host.ua binds it to this connection's host.sip). */
  #wakeSendWaiters(): void {
    const waiters = this.#sendWaiters;
    this.#sendWaiters = [];
    for (const wake of waiters) wake();
  }

  #fromCore(message: SipRequest | SipResponse): void {
    const ue = this.#ue;
    if (ue === undefined) {
      this.#host.log.debug({ connectionId: this.#conn.id, kind: message.kind }, 'jsonrpc-ws: SIP for a session without a UE ignored');
      return;
    }
    ue.receive(message);
  }

  /**
   * Resume off (grace 0): REGISTER Expires: 0 leaves through the core while onClose runs (the
   * core still takes fromClient then), so the IMS does not keep a binding nobody can reach.
   * Its answer can no longer arrive; the UE is closed right after the request left.
   */
  async #deregisterOnClose(ue: VirtualUe): Promise<void> {
    const sent = new Promise<void>((resolve) => this.#sendWaiters.push(resolve));
    ue.unregister().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, DEREGISTER_HANDOFF_MS); });
    await Promise.race([sent, timeout]);
    clearTimeout(timer);
  }
}

function errorResponse(id: JSONRPCID, code: number, data: Record<string, unknown>): JSONRPCResponse {
  return createJSONRPCErrorResponse(id, code, errorMessage(code), data);
}
