/**
 * The virtual Gm UE (api.ts): one per W2 client of a non-SIP plugin. It owns the registration,
 * the calls and the subscriptions of that client, and routes what the core delivers
 * (`receive`): responses to their client transaction, requests to the dialog they belong to
 * (RFC 3261 §12.2.2) or, outside a dialog, to the method's handler (§8.2).
 */
import { EventEmitter } from 'node:events';
import { pino, type Logger } from 'pino';
import {
  bodyText, callId as callIdOf, contentType, DigestClient, getHeader, optionTags, parseUri, tagOf, to, topVia,
  type SipRequest, type SipResponse,
} from '../sip/index.js';
import { systemClock, type Clock } from '../sip/clock.js';
import { EpcError } from '../errors.js';
import type {
  OutgoingCallOptions, RegistrationInfo, UaCall, UaCallCompletion, UaCallCompletionOffer, UaSubscription, VirtualUe, VirtualUeEvents, VirtualUeOptions,
} from './api.js';
import { CallCompletionRequest } from './call-completion-request.js';
import type { CallSession, CallHooks } from './call-session.js';
import { ClientTransactions } from './client-transactions.js';
import { IncomingCall } from './incoming-call.js';
import { OutgoingCall } from './outgoing-call.js';
import { callerIdentity } from './party-identity.js';
import { RegistrationClient } from './registration-client.js';
import type { RegistrationSnapshot } from './registration-snapshot.js';
import { readMinSe, readSessionExpires } from './session-timer.js';
import { Subscription } from './subscription.js';
import { buildInitialRequest, respond, type DialogOwner, type UaContext } from './ua-context.js';
import { checkBearerToken, checkBodyType, checkDisplayName, checkPrivateIdentity, parseTarget } from './client-input.js';
import { invalidArgument } from './ua-errors.js';
import { ACCEPT, ALLOW, LocalUe, SUPPORTED_INVITE, UNDERSTOOD_EXTENSIONS } from './ua-local.js';
import { MIN_SESSION_EXPIRES } from './ua-timers.js';

export interface VirtualUeRuntime {
  readonly clock?: Clock;
  readonly log?: Logger;
}

const UA_VERSION = '0.1.0';
const OTHER_KNOWN_METHODS = new Set(['REGISTER', 'PUBLISH', 'SUBSCRIBE', 'BYE', 'UPDATE', 'PRACK', 'INFO', 'ACK']);

function defaultImpi(impu: string): string {
  const uri = parseUri(impu);
  // TS 23.003 §13.3: without an ISIM the private identity has the user@realm form.
  return uri.kind === 'sip' ? `${uri.user ?? ''}@${uri.host}` : impu.replace(/^[a-z]+:/i, '');
}

export class VirtualUeImpl extends EventEmitter<VirtualUeEvents> implements VirtualUe {
  readonly #ctx: UaContext;
  readonly #registration: RegistrationClient;
  readonly #dialogs = new Map<string, DialogOwner>();
  readonly #calls = new Map<string, CallSession>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #hooks: CallHooks;
  /** The web token of a scenario 2/3 UE (identity.token, replaced by updateToken). */
  #token: string | undefined;
  #closed = false;

  constructor(options: VirtualUeOptions & VirtualUeRuntime) {
    super();
    // Issue #11: every client string is checked against the grammar it will be written in.
    const impuUri = parseTarget(options.identity.impu, 'identity.impu');
    if (options.identity.displayName !== undefined) checkDisplayName(options.identity.displayName, 'identity.displayName');
    const impi = options.identity.impi !== undefined
      ? checkPrivateIdentity(options.identity.impi, 'identity.impi')
      : checkPrivateIdentity(defaultImpi(options.identity.impu), 'identity.impu (its user@host is the default impi)');
    const adopted = options.adopt;
    const local = new LocalUe({
      secure: options.secure,
      ...(options.instanceId !== undefined ? { instanceId: options.instanceId } : {}),
      ...(options.regId !== undefined ? { regId: options.regId } : {}),
      ...(adopted !== undefined ? { instanceId: adopted.instanceId, regId: adopted.regId, contact: { user: adopted.contactUser, host: adopted.contactHost } } : {}),
    });
    const log = options.log ?? pino({ level: 'silent' });
    const clock = options.clock ?? systemClock;
    const password = options.identity.password;
    if (options.identity.token !== undefined) {
      // TS 24.371 §6: scenario 1 (digest) or scenario 2/3 (token), one credential per UE.
      if (password !== undefined) throw invalidArgument('identity: give a password (IMS digest) or a token (web authentication), not both');
      this.#token = checkBearerToken(options.identity.token, 'identity.token');
    }
    const digest = password !== undefined ? new DigestClient({ username: impi, password }) : undefined;
    const transport = options.transport;
    const transactions = new ClientTransactions({ send: (m) => transport.send(m), clock, digest, log, via: (branch) => local.via(branch) });
    const registration = (): RegistrationClient => this.#registration;
    this.#ctx = {
      local, clock, log, transactions, impu: options.identity.impu, displayName: options.identity.displayName,
      userAgent: options.userAgent ?? `epcscf-ua/${UA_VERSION}`, sessionExpires: options.sessionExpires ?? 1800,
      serviceRoute: () => registration().serviceRoute,
      bearerToken: () => this.#token,
      bindDialog: (callId, tag, owner) => this.#dialogs.set(`${callId} ${tag}`, owner),
      unbindDialog: (callId, tag) => this.#dialogs.delete(`${callId} ${tag}`),
    };
    const registrar = options.registrar ?? (impuUri.kind === 'sip' ? `sip:${impuUri.host}` : undefined);
    if (registrar === undefined) throw invalidArgument('a tel: IMPU needs options.registrar');
    this.#registration = new RegistrationClient(this.#ctx, registrar, options.expires ?? 600000, adopted);
    this.#registration.on('change', (info) => this.emit('registration', info));
    this.#hooks = {
      ended: (call) => this.#calls.delete(call.id),
      lookup: (call) => this.#calls.get(call.id),
    };
  }

  get instanceId(): string {
    return this.#ctx.local.instanceId;
  }

  get registration(): RegistrationInfo {
    return this.#registration.info;
  }

  registrationSnapshot(): RegistrationSnapshot | undefined {
    return this.#registration.snapshot();
  }

  get calls(): ReadonlyMap<string, UaCall> {
    return this.#calls;
  }

  register(): Promise<RegistrationInfo> {
    if (this.#closed) return Promise.reject(new EpcError('EPC_ERR_UA_CLOSED'));
    return this.#registration.register();
  }

  unregister(): Promise<RegistrationInfo> {
    if (this.#closed) return Promise.reject(new EpcError('EPC_ERR_UA_CLOSED'));
    return this.#registration.unregister();
  }

  updateToken(token: string): void {
    this.#usable();
    if (this.#token === undefined) throw invalidArgument('updateToken: this UE registers with a password (IMS digest), not a web token');
    this.#token = checkBearerToken(token, 'token');
  }

  async call(target: string, options: OutgoingCallOptions): Promise<UaCall> {
    this.#usable();
    checkTarget(target);
    if (typeof options?.sdp !== 'string' || options.sdp.length === 0) throw invalidArgument('call() needs the SDP offer');
    const call = new OutgoingCall(this.#ctx, this.#hooks, target, options);
    this.#calls.set(call.id, call);
    call.start();
    return call;
  }

  message(target: string, body: string, type = 'text/plain'): Promise<{ status: number; reason: string }> {
    this.#usable();
    checkTarget(target);
    if (typeof body !== 'string') throw invalidArgument('message() needs a text body');
    const request = buildInitialRequest(this.#ctx, { method: 'MESSAGE', target, body, contentType: checkBodyType(type, 'contentType') });
    return new Promise((resolve) => {
      this.#ctx.transactions.start(request, { onFinal: (response) => resolve({ status: response.status, reason: response.reason }) });
    });
  }

  async subscribe(event: string, target?: string, expires?: number): Promise<UaSubscription> {
    this.#usable();
    if (!/^[A-Za-z0-9.!%*_+`'~-]+$/.test(event)) throw invalidArgument(`not an event package token: ${event}`);
    const to = target ?? this.#ctx.impu;
    checkTarget(to);
    const subscription = new Subscription(this.#ctx, event, (s) => this.#subscriptions.delete(s));
    this.#subscriptions.add(subscription);
    // TS 24.229 §5.1.1.3: the reg-event subscription asks for 600000 s.
    await subscription.start(to, expires ?? (event === 'reg' ? 600000 : 3600));
    return subscription;
  }

  requestCallCompletion(offer: UaCallCompletionOffer): Promise<UaCallCompletion> {
    this.#usable();
    // TS 24.642 / RFC 6910 §7.2: the request is a call-completion subscription to the monitor.
    return CallCompletionRequest.start(offer, {
      subscribe: (event, target) => this.subscribe(event, target),
      call: (target, options) => this.call(target, options),
    });
  }

  receive(message: SipRequest | SipResponse): void {
    if (this.#closed) return;
    try {
      if (message.kind === 'response') this.#ctx.transactions.receive(message);
      else this.#receiveRequest(message);
    } catch (error) {
      // A message the core let through but we cannot read: answer 400 when it is a request.
      this.#ctx.log.warn({ err: error }, 'virtual UE: message not handled');
      if (message.kind === 'request' && message.method !== 'ACK') {
        try { respond(this.#ctx, message, 400, 'Bad Request'); } catch { /* nothing to answer with */ }
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.transactions.clear();
    this.#registration.close();
    for (const call of [...this.#calls.values()]) call.close();
    for (const sub of [...this.#subscriptions]) sub.close();
    this.#dialogs.clear();
  }

  describe(): Record<string, unknown> {
    return {
      instanceId: this.instanceId, impu: this.#ctx.impu, registration: this.#registration.info, closed: this.#closed,
      credential: this.#token !== undefined ? 'token' : this.#ctx.transactions.hasDigest ? 'password' : 'none',
      calls: [...this.#calls.values()].map((c) => c.describe()),
      subscriptions: [...this.#subscriptions].map((s) => s.describe()),
    };
  }

  #usable(): void {
    if (this.#closed) throw new EpcError('EPC_ERR_UA_CLOSED');
  }

  #receiveRequest(request: SipRequest): void {
    const callId = callIdOf(request);
    if (request.method === 'CANCEL') return this.#receiveCancel(request, callId);
    const toTag = tagOf(to(request));
    if (toTag !== undefined) {
      const owner = this.#dialogs.get(`${callId} ${toTag}`);
      if (owner !== undefined) return owner.receiveRequest(request);
      // RFC 3261 §12.2.2: no such dialog: 481 (an ACK is never answered).
      if (request.method !== 'ACK') respond(this.#ctx, request, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    switch (request.method) {
      case 'INVITE': return this.#receiveInvite(request);
      case 'MESSAGE': {
        // RFC 3428 §7: 200 once the message is accepted for delivery to the client.
        respond(this.#ctx, request, 200, 'OK');
        this.emit('message', { from: callerIdentity(request), contentType: contentType(request) ?? 'text/plain', body: bodyText(request) });
        return;
      }
      case 'OPTIONS':
        respond(this.#ctx, request, 200, 'OK', { headers: [['Allow', ALLOW], ['Accept', ACCEPT], ['Supported', SUPPORTED_INVITE.join(', ')]] });
        return;
      case 'NOTIFY': {
        // RFC 3842 §4.1: unsolicited MWI arrives without a subscription.
        respond(this.#ctx, request, 200, 'OK');
        this.emit('unsolicitednotify', { event: (getHeader(request, 'Event') ?? '').split(';')[0]?.trim() ?? '', contentType: contentType(request) ?? '', body: bodyText(request) });
        return;
      }
      case 'ACK': return; // an ACK for a response we no longer track
      case 'SUBSCRIBE': respond(this.#ctx, request, 489, 'Bad Event'); return; // RFC 6665 §8.2.1: we serve no event package
      case 'REFER': respond(this.#ctx, request, 403, 'Forbidden - REFER outside a dialog'); return;
      case 'BYE': case 'UPDATE': case 'PRACK': case 'INFO':
        respond(this.#ctx, request, 481, 'Call/Transaction Does Not Exist'); return;
      default:
        if (OTHER_KNOWN_METHODS.has(request.method)) respond(this.#ctx, request, 405, 'Method Not Allowed', { headers: [['Allow', ALLOW]] });
        else respond(this.#ctx, request, 501, 'Not Implemented', { headers: [['Allow', ALLOW]] }); // RFC 3261 §8.2.1
    }
  }

  #receiveInvite(invite: SipRequest): void {
    // RFC 3261 §8.2.2.3: an extension we do not understand in Require → 420 with Unsupported.
    const unsupported = optionTags(invite, 'Require').filter((tag) => !UNDERSTOOD_EXTENSIONS.has(tag));
    if (unsupported.length > 0) {
      respond(this.#ctx, invite, 420, 'Bad Extension', { headers: [['Unsupported', unsupported.join(', ')]] });
      return;
    }
    // RFC 4028 §8.1: an interval below our Min-SE → 422 with Min-SE.
    const asked = readSessionExpires(invite);
    if (asked !== undefined && asked.interval < MIN_SESSION_EXPIRES) {
      respond(this.#ctx, invite, 422, 'Session Interval Too Small', { headers: [['Min-SE', String(Math.max(MIN_SESSION_EXPIRES, readMinSe(invite) ?? 0))]] });
      return;
    }
    let replaced: CallSession | undefined;
    const replaces = getHeader(invite, 'Replaces');
    if (replaces !== undefined) {
      replaced = this.#findReplaced(replaces);
      // RFC 3891 §3: no matching dialog (or an early one we did not create) → 481.
      if (replaced === undefined) {
        respond(this.#ctx, invite, 481, 'Call/Transaction Does Not Exist');
        return;
      }
    }
    if (this.listenerCount('incoming') === 0) {
      respond(this.#ctx, invite, 480, 'Temporarily Unavailable');
      return;
    }
    const from = callerIdentity(invite);
    const call = new IncomingCall(this.#ctx, this.#hooks, invite, from);
    this.#calls.set(call.id, call);
    if (replaced !== undefined) {
      const old = replaced;
      call.replaces = old.id;
      // RFC 3891 §3: once the new dialog is up, the replaced one is ended.
      call.once('answered', () => void old.hangup().catch(() => undefined));
    }
    this.emit('incoming', call, from);
  }

  /** RFC 3891 §3: `call-id;to-tag=<our tag>;from-tag=<their tag>`. */
  #findReplaced(value: string): CallSession | undefined {
    const [id, ...params] = value.split(';').map((p) => p.trim());
    const param = (name: string): string | undefined => params.find((p) => p.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1);
    const toTag = param('to-tag');
    const fromTag = param('from-tag');
    for (const call of this.#calls.values()) {
      const d = call.dialogInfo;
      if (d === undefined || d.callId !== id || d.localTag !== toTag || d.remoteTag !== fromTag) continue;
      if (call.state === 'terminated') return undefined;
      // An early dialog may only be replaced when we created it (we are the caller, RFC 3891 §3).
      if (call.state !== 'confirmed' && call.direction === 'incoming') return undefined;
      return call;
    }
    return undefined;
  }

  #receiveCancel(cancel: SipRequest, callId: string): void {
    const branch = topVia(cancel).branch ?? '';
    for (const call of this.#calls.values()) {
      if (call instanceof IncomingCall && call.sipCallId === callId && call.inviteBranch === branch) {
        call.receiveCancel(cancel);
        return;
      }
    }
    respond(this.#ctx, cancel, 481, 'Call/Transaction Does Not Exist'); // RFC 3261 §9.2
  }
}

/** A SIP, SIPS or tel URI without URI headers (client-input.ts, RFC 3261 §19.1.1). */
function checkTarget(target: string): void {
  parseTarget(target, 'target');
}
