/**
 * The UE's registration (TS 24.229 §5.1.1): REGISTER with +sip.instance/reg-id (RFC 5626
 * §4.2), Supported path/outbound, digest on 401 (scenario 1); on 200 the Service-Route
 * (RFC 3608) and P-Associated-URI (RFC 3455) are kept; re-registration at the R-REG-23 time
 * with the same Call-ID and the next CSeq (RFC 3261 §10.2.4); de-registration with Expires 0
 * (R-REG-24).
 */
import { EventEmitter } from 'node:events';
import {
  contacts, cseq, expires as expiresOf, formatUri, generateCallId, generateTag, getHeader, getHeaders, getParam, nameAddrList, parseUri,
  type ContactBinding, type SipResponse,
} from '../sip/index.js';
import type { TimerHandle } from '../sip/clock.js';
import { ownCopies } from '../sip/own-copy.js';
import type { RegistrationInfo } from './api.js';
import { buildInitialRequest, type UaContext } from './ua-context.js';
import { SUPPORTED_REGISTER } from './ua-local.js';
import type { RegistrationSnapshot } from './registration-snapshot.js';
import { refreshDelaySeconds } from './ua-timers.js';

/** Answers that say "the core did not answer", not "you may not register" (RFC 3261 §21.4.9, §21.5). */
const TRANSIENT_FAILURES = new Set([408, 500, 503, 504]);

export class RegistrationClient extends EventEmitter<{ change: [info: RegistrationInfo] }> {
  readonly #ctx: UaContext;
  readonly #registrar: string;
  readonly #requestedExpires: number;
  readonly #callId: string;
  readonly #fromTag: string;
  #cseq = 0;
  #info: RegistrationInfo = { state: 'unregistered' };
  #serviceRoute: string[] = [];
  #refresh: TimerHandle | undefined;
  #inFlight: Promise<RegistrationInfo> | undefined;
  /** Min-Expires learnt from a 423 (RFC 3261 §10.2.8). */
  #minExpires = 0;
  /** When the registrar's binding lapses (clock ms); a failed refresh keeps it until then. */
  #expiresAt = 0;
  /** Refreshes that failed in a row (RFC 5626 §4.5 back-off). */
  #failedRefreshes = 0;
  /** When the scheduled refresh is due (clock ms; 0: none scheduled). */
  #refreshAt = 0;

  /** `adopted`: carry on a registration another node made (registration-snapshot.ts) instead of starting one. */
  constructor(ctx: UaContext, registrar: string, requestedExpires: number, adopted?: RegistrationSnapshot) {
    super();
    this.#ctx = ctx;
    this.#registrar = registrar;
    this.#requestedExpires = requestedExpires;
    this.#callId = adopted?.callId ?? generateCallId();
    this.#fromTag = adopted?.fromTag ?? generateTag();
    if (adopted !== undefined) this.#adopt(adopted);
  }

  /**
   * What another node needs to carry this registration on (issue #15), while registered: the
   * same Call-ID, tag and Contact, the CSeq reached, the binding's times and Service-Route.
   */
  snapshot(): RegistrationSnapshot | undefined {
    if (this.#info.state !== 'registered' || this.#info.expires === undefined) return undefined;
    const local = this.#ctx.local;
    return {
      version: 1, callId: this.#callId, fromTag: this.#fromTag, cseq: this.#cseq,
      contactUser: local.contactUser, contactHost: local.contactHost, instanceId: local.instanceId, regId: local.regId,
      expires: this.#info.expires, expiresAt: this.#expiresAt, refreshAt: this.#refreshAt, minExpires: this.#minExpires,
      serviceRoute: [...this.#serviceRoute], associatedUris: [...(this.#info.associatedUris ?? [])],
      digest: this.#ctx.transactions.digestSnapshot(),
    };
  }

  /**
   * RFC 3261 §10.2.4 from the registrar's point of view nothing changed: the binding stands until
   * `expiresAt`; the refresh is due at `refreshAt` (R-REG-23), at once when that has passed.
   */
  #adopt(snapshot: RegistrationSnapshot): void {
    this.#cseq = snapshot.cseq;
    this.#minExpires = snapshot.minExpires;
    this.#expiresAt = snapshot.expiresAt;
    this.#serviceRoute = [...snapshot.serviceRoute];
    this.#ctx.transactions.restoreDigest(snapshot.digest);
    this.#info = {
      state: 'registered', expires: snapshot.expires,
      ...(snapshot.associatedUris.length > 0 ? { associatedUris: [...snapshot.associatedUris] } : {}),
    };
    this.#refreshIn(Math.max(0, snapshot.refreshAt - this.#ctx.clock.now()));
  }

  get info(): RegistrationInfo {
    return this.#info;
  }

  get serviceRoute(): readonly string[] {
    return this.#serviceRoute;
  }

  get callId(): string {
    return this.#callId;
  }

  register(): Promise<RegistrationInfo> {
    return this.#send(Math.max(this.#requestedExpires, this.#minExpires));
  }

  unregister(): Promise<RegistrationInfo> {
    this.#stopRefresh();
    return this.#send(0);
  }

  /** The connection is gone: no SIP, no timers; the core forgets the binding itself (R-REG-25). */
  close(): void {
    this.#stopRefresh();
    if (this.#info.state !== 'unregistered' && this.#info.state !== 'failed') this.#set({ state: 'unregistered', reason: 'connection closed' });
  }

  #send(expires: number): Promise<RegistrationInfo> {
    // One REGISTER at a time per Call-ID (RFC 3261 §10.2: a UA MUST NOT send a new registration
    // until the previous one has completed): a second call waits for the first.
    const previous = this.#inFlight;
    const next = previous === undefined ? this.#transaction(expires) : previous.catch(() => this.#info).then(() => this.#transaction(expires));
    this.#inFlight = next;
    void next.finally(() => { if (this.#inFlight === next) this.#inFlight = undefined; });
    return next;
  }

  #transaction(expires: number): Promise<RegistrationInfo> {
    const refreshing = this.#info.state === 'registered';
    this.#set({ ...(refreshing && expires > 0 ? this.#info : {}), state: expires === 0 ? 'unregistering' : refreshing ? 'registered' : 'registering' });
    // RFC 3261 §10.2: the To of a REGISTER is the AOR being registered, Request-URI the registrar.
    const request = buildInitialRequest(this.#ctx, {
      method: 'REGISTER', target: this.#registrar, to: this.#ctx.impu, callId: this.#callId, fromTag: this.#fromTag, cseq: ++this.#cseq,
      supported: SUPPORTED_REGISTER, register: true,
      headers: [['Contact', this.#ctx.local.registerContact()], ['Expires', String(expires)]],
    });
    const sent = refreshing ? this.#ctx.transactions.preAuthorize(request) : request;
    return new Promise((resolve) => {
      this.#ctx.transactions.start(sent, {
        onRetry: (retry) => { this.#cseq = Math.max(this.#cseq, cseq(retry).seq); },
        onFinal: (response) => resolve(this.#onFinal(response, expires)),
      });
    });
  }

  #onFinal(response: SipResponse, requested: number): Promise<RegistrationInfo> | RegistrationInfo {
    const minExpires = Number(getHeader(response, 'Min-Expires'));
    if (response.status === 423 && Number.isInteger(minExpires) && minExpires > requested && requested > 0) {
      // RFC 3261 §10.2.8: 423 Interval Too Brief: retry with the registrar's Min-Expires (and keep it).
      this.#minExpires = minExpires;
      return this.#transaction(minExpires);
    }
    if (response.status >= 200 && response.status < 300) {
      if (requested === 0) {
        this.#serviceRoute = [];
        return this.#set({ state: 'unregistered', status: response.status, reason: response.reason });
      }
      const granted = this.#grantedExpires(response) ?? requested;
      if (granted <= 0) return this.#set({ state: 'unregistered', status: response.status, reason: 'the registrar granted no binding' });
      this.#serviceRoute = ownCopies(getHeaders(response, 'Service-Route')); // kept for hours: not slices of the 200 (own-copy.ts)
      const associatedUris = safeAssociated(response);
      this.#expiresAt = this.#ctx.clock.now() + granted * 1000;
      this.#failedRefreshes = 0;
      this.#scheduleRefresh(granted);
      return this.#set({ state: 'registered', expires: granted, status: response.status, reason: response.reason, ...(associatedUris.length > 0 ? { associatedUris } : {}) });
    }
    if (requested === 0) {
      // A failed de-registration still ends ours: the binding expires on its own (RFC 3261 §10.2.2).
      this.#serviceRoute = [];
      return this.#set({ state: 'unregistered', status: response.status, reason: response.reason });
    }
    if (TRANSIENT_FAILURES.has(response.status) && this.#expiresAt > 0) return this.#retryLater(response);
    this.#stopRefresh();
    this.#serviceRoute = [];
    return this.#set({ state: 'failed', status: response.status, reason: response.reason });
  }

  /**
   * Issue 11 #10: a refresh that failed because the core was unreachable (408/500/503/504) does
   * not end the registration: the registrar's binding stands until it expires (RFC 3261 §10.2.1),
   * so we stay registered meanwhile and try again after Retry-After or the RFC 5626 §4.5 back-off
   * (base 30 s, doubling, at most 1800 s), also past expiry, until the core answers again.
   */
  #retryLater(response: SipResponse): RegistrationInfo {
    this.#failedRefreshes++;
    const retryAfter = Number.parseInt(getHeader(response, 'Retry-After') ?? '', 10);
    const backoff = Math.min(1800, 30 * 2 ** (this.#failedRefreshes - 1));
    const remaining = (this.#expiresAt - this.#ctx.clock.now()) / 1000;
    let delay = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : backoff;
    // Before expiry, retry early enough to refresh in time (but not in a tight loop).
    if (remaining > 2) delay = Math.max(1, Math.min(delay, remaining / 2));
    this.#refreshIn(delay * 1000);
    if (remaining > 0) return this.#set({ ...this.#info, state: 'registered', status: response.status, reason: response.reason });
    this.#serviceRoute = [];
    return this.#set({ state: 'failed', status: response.status, reason: `${response.reason} (retrying in ${Math.round(delay)} s)` });
  }

  /** The expires of *our* contact in the 200 (RFC 3261 §10.2.4), else the Expires header. */
  #grantedExpires(response: SipResponse): number | undefined {
    const ours = formatUri(parseUri(this.#ctx.local.contactUri));
    for (const c of safeContacts(response)) {
      const instance = getParam(c.params, '+sip.instance');
      const mine = formatUri(c.uri) === ours || (typeof instance === 'string' && instance.includes(this.#ctx.local.instanceId));
      if (!mine) continue;
      const value = Number(getParam(c.params, 'expires'));
      if (Number.isFinite(value)) return value;
    }
    return expiresOf(response);
  }

  #scheduleRefresh(expires: number): void {
    this.#refreshIn(refreshDelaySeconds(expires) * 1000);
  }

  #refreshIn(ms: number): void {
    this.#stopRefresh();
    this.#refreshAt = this.#ctx.clock.now() + ms;
    this.#refresh = this.#ctx.clock.setTimeout(() => {
      this.#refresh = undefined;
      this.#refreshAt = 0;
      void this.register();
    }, ms);
  }

  #stopRefresh(): void {
    if (this.#refresh !== undefined) this.#ctx.clock.clearTimeout(this.#refresh);
    this.#refresh = undefined;
    this.#refreshAt = 0;
  }

  #set(info: RegistrationInfo): RegistrationInfo {
    const changed = info.state !== this.#info.state || info.expires !== this.#info.expires || info.status !== this.#info.status;
    this.#info = info;
    if (changed) this.emit('change', info);
    return info;
  }
}

function safeContacts(response: SipResponse): ContactBinding[] {
  try {
    return contacts(response).filter((c): c is ContactBinding => !('star' in c && c.star));
  } catch {
    return [];
  }
}

function safeAssociated(response: SipResponse): string[] {
  try {
    return nameAddrList(response, 'P-Associated-URI').map((na) => formatUri(na.uri));
  } catch {
    return [];
  }
}
