/**
 * A scriptable in-memory stand-in for core/ua's VirtualUe (core/ua/api.ts), for plugin unit
 * tests: it records what the plugin asked for and lets the test play the network's part
 * (`call.progress(180)`, `ue.incoming(...)`, `call.end(...)`). It sends a REGISTER through the
 * transport on register/unregister, so tests see what reaches host.sip.fromClient.
 */
import { EventEmitter } from 'node:events';
import { createRequest } from '../../core/sip/index.js';
import {
  UaRejectedError,
  type CallEndInfo, type CallEvents, type CallState, type OutgoingCallOptions, type PartyIdentity, type RegistrationInfo,
  type SubscriptionEvents, type UaCall, type UaIncomingMessage, type UaSubscription, type UaTransferRequest, type VirtualUe,
  type VirtualUeEvents, type VirtualUeOptions, type UaCallCompletion, type UaCallCompletionOffer, type CallCompletionEvents,
  type RegistrationSnapshot,
} from '../../core/ua/index.js';

export const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n';
export const ANSWER = 'v=0\r\no=- 2 2 IN IP4 127.0.0.2\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n';

export interface FakeUeScript {
  /** What register() resolves with; default registered, 600 s, the IMPU as associated URI. */
  registerOutcome?: RegistrationInfo;
  /** register() rejects with this. */
  registerError?: Error;
  /** message() outcome; default 200 OK. */
  messageOutcome?: { status: number; reason: string };
  /** subscribe() rejects with a UaRejectedError carrying this SIP status (as core/ua does). */
  subscribeRejectStatus?: number;
  /** call() rejects with this (e.g. EpcError EPC_ERR_MEDIA). */
  callError?: Error;
  /** Hold register() until the test calls `releaseRegister()`. */
  holdRegister?: boolean;
}

let nextCall = 1;
let nextSubscription = 1;

export interface RecordedAction {
  readonly method: string;
  readonly args: readonly unknown[];
}

export class FakeUaCall extends EventEmitter<CallEvents> implements UaCall {
  readonly id = `call-${nextCall++}`;
  readonly sipCallId = `${this.id}@fake`;
  readonly direction: 'outgoing' | 'incoming';
  readonly remote: PartyIdentity;
  readonly remoteOffer: string | undefined;
  readonly actions: RecordedAction[] = [];
  state: CallState;
  /** What update/hold/resume resolve with. */
  answerSdp = ANSWER;

  constructor(direction: 'outgoing' | 'incoming', remote: PartyIdentity, remoteOffer?: string) {
    super();
    this.direction = direction;
    this.remote = remote;
    this.remoteOffer = remoteOffer;
    this.state = direction === 'outgoing' ? 'calling' : 'ringing';
  }

  #record(method: string, ...args: unknown[]): void {
    this.actions.push({ method, args });
  }

  actionNames(): string[] {
    return this.actions.map((a) => a.method);
  }

  // ---- the network's part ----
  progress(status: number, sdp?: string): void {
    this.state = sdp === undefined ? 'ringing' : 'early';
    this.emit('progress', { status, reason: status === 180 ? 'Ringing' : 'Session Progress', ...(sdp !== undefined ? { sdp } : {}) });
  }

  answered(sdp?: string): void {
    this.state = 'confirmed';
    this.emit('answered', sdp !== undefined ? { sdp } : {});
  }

  end(info: CallEndInfo): void {
    this.state = 'terminated';
    this.emit('ended', info);
  }

  // ---- UaCall ----
  async ring(earlySdp?: string): Promise<void> {
    this.#record('ring', earlySdp);
    if (earlySdp !== undefined) this.state = 'early';
  }

  async answer(sdp: string): Promise<void> {
    this.#record('answer', sdp);
    this.state = 'answering';
  }

  async reject(status?: number, reason?: string): Promise<void> {
    this.#record('reject', status, reason);
    this.end({ cause: 'rejected', status: status ?? 486 });
  }

  async deflect(target: string): Promise<void> {
    this.#record('deflect', target);
    this.end({ cause: 'rejected', status: 302, reason: `deflected to ${target}` });
  }

  async cancel(): Promise<void> {
    this.#record('cancel');
  }

  async hangup(): Promise<void> {
    this.#record('hangup');
    this.end({ cause: 'local' });
  }

  async update(sdp: string): Promise<string> {
    this.#record('update', sdp);
    return this.answerSdp;
  }

  async hold(): Promise<string> {
    this.#record('hold');
    return this.answerSdp;
  }

  async resume(): Promise<string> {
    this.#record('resume');
    return this.answerSdp;
  }

  async dtmf(digits: string, durationMs?: number): Promise<void> {
    this.#record('dtmf', digits, durationMs);
  }

  async transfer(target: string | UaCall): Promise<void> {
    this.#record('transfer', typeof target === 'string' ? target : { call: target.id });
  }

  async referParty(party: string, method: 'INVITE' | 'BYE'): Promise<void> {
    this.#record('referParty', party, method);
  }

  describe(): Record<string, unknown> {
    return { id: this.id, state: this.state };
  }
}

export class FakeTransferRequest implements UaTransferRequest {
  readonly target: string;
  readonly referredBy?: string;
  readonly replaces?: string;
  readonly actions: RecordedAction[] = [];

  constructor(target: string, extra: { referredBy?: string; replaces?: string } = {}) {
    this.target = target;
    if (extra.referredBy !== undefined) this.referredBy = extra.referredBy;
    if (extra.replaces !== undefined) this.replaces = extra.replaces;
  }

  async accept(): Promise<void> {
    this.actions.push({ method: 'accept', args: [] });
  }

  async reject(status?: number): Promise<void> {
    this.actions.push({ method: 'reject', args: [status] });
  }

  async notify(status: number, reason: string): Promise<void> {
    this.actions.push({ method: 'notify', args: [status, reason] });
  }
}

export class FakeSubscription extends EventEmitter<SubscriptionEvents> implements UaSubscription {
  readonly id = `sub-${nextSubscription++}`;
  readonly event: string;
  readonly target: string | undefined;
  unsubscribed = false;

  constructor(event: string, target: string | undefined) {
    super();
    this.event = event;
    this.target = target;
  }

  async unsubscribe(): Promise<void> {
    this.unsubscribed = true;
  }
}

/** A completion-of-calls request (TS 24.642); the test emits 'ready' / 'terminated'. */
export class FakeCallCompletion extends EventEmitter<CallCompletionEvents> implements UaCallCompletion {
  readonly id = `cc-${nextSubscription++}`;
  readonly offer: UaCallCompletionOffer;
  state = 'requested';
  cancelled = false;
  readonly #recall: (options: OutgoingCallOptions) => Promise<UaCall>;

  constructor(offer: UaCallCompletionOffer, recall: (options: OutgoingCallOptions) => Promise<UaCall>) {
    super();
    this.offer = offer;
    this.#recall = recall;
  }

  recall(options: OutgoingCallOptions): Promise<UaCall> {
    return this.#recall(options);
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    this.emit('terminated', { reason: 'unsubscribed' });
  }
}

export class FakeVirtualUe extends EventEmitter<VirtualUeEvents> implements VirtualUe {
  readonly options: VirtualUeOptions;
  readonly script: FakeUeScript;
  readonly instanceId: string;
  readonly calls = new Map<string, FakeUaCall>();
  readonly subscriptions: FakeSubscription[] = [];
  readonly received: unknown[] = [];
  readonly actions: RecordedAction[] = [];
  registration: RegistrationInfo = { state: 'unregistered' };
  closed = false;
  #releaseRegister: (() => void) | undefined;
  #token: string | undefined;

  /** REGISTERs this UE (or the one whose snapshot it adopted) sent: the snapshot's CSeq. */
  #registers = 0;

  constructor(options: VirtualUeOptions, script: FakeUeScript = {}) {
    super();
    this.options = options;
    this.script = script;
    const adopted = options.adopt;
    this.instanceId = adopted?.instanceId ?? options.instanceId ?? 'urn:uuid:00000000-0000-4000-8000-000000000001';
    if (adopted !== undefined) {
      // Issue #15: carried on from another node's snapshot, registered with no REGISTER.
      this.#registers = adopted.cseq;
      this.registration = { state: 'registered', expires: adopted.expires, associatedUris: [...adopted.associatedUris] };
    }
  }

  /** A snapshot shaped like core/ua's (it passes readRegistrationSnapshot), while registered. */
  registrationSnapshot(): RegistrationSnapshot | undefined {
    if (this.registration.state !== 'registered') return undefined;
    const expires = this.registration.expires ?? 600;
    const now = Date.now();
    return {
      version: 1, callId: `fake-${this.instanceId.slice(-12)}`, fromTag: 'fake', cseq: this.#registers,
      contactUser: this.instanceId.slice(-12), contactHost: 'fake.invalid', instanceId: this.instanceId, regId: 1,
      expires, expiresAt: now + expires * 1000, refreshAt: now + expires * 500, minExpires: 0,
      serviceRoute: ['<sip:orig@scscf.ims.test;lr>'], associatedUris: [...(this.registration.associatedUris ?? [])], digest: [],
    };
  }

  /** Lets a held register() (script.holdRegister) complete. */
  releaseRegister(): void {
    this.#releaseRegister?.();
  }

  async register(): Promise<RegistrationInfo> {
    this.actions.push({ method: 'register', args: [] });
    this.#registers += 1;
    this.registration = { state: 'registering' };
    await this.options.transport.send(this.#register(this.options.expires ?? 600000));
    if (this.script.holdRegister) await new Promise<void>((resolve) => { this.#releaseRegister = resolve; });
    if (this.script.registerError) throw this.script.registerError;
    this.registration = this.script.registerOutcome ?? { state: 'registered', expires: 600, associatedUris: [this.options.identity.impu], status: 200, reason: 'OK' };
    this.emit('registration', this.registration);
    return this.registration;
  }

  async unregister(): Promise<RegistrationInfo> {
    this.actions.push({ method: 'unregister', args: [] });
    this.registration = { state: 'unregistering' };
    await this.options.transport.send(this.#register(0));
    this.registration = { state: 'unregistered', status: 200, reason: 'OK' };
    this.emit('registration', this.registration);
    return this.registration;
  }

  /** The token the UE would carry now (identity.token, then each updateToken). */
  get token(): string | undefined {
    return this.#token ?? this.options.identity.token;
  }

  updateToken(token: string): void {
    this.actions.push({ method: 'updateToken', args: [token] });
    this.#token = token;
  }

  async call(target: string, options: OutgoingCallOptions): Promise<UaCall> {
    this.actions.push({ method: 'call', args: [target, options] });
    if (this.script.callError) throw this.script.callError;
    const call = new FakeUaCall('outgoing', { uri: target });
    this.calls.set(call.id, call);
    call.on('ended', () => this.calls.delete(call.id));
    return call;
  }

  async message(target: string, body: string, contentType?: string): Promise<{ status: number; reason: string }> {
    this.actions.push({ method: 'message', args: [target, body, contentType] });
    return this.script.messageOutcome ?? { status: 200, reason: 'OK' };
  }

  async subscribe(event: string, target?: string, expires?: number): Promise<UaSubscription> {
    this.actions.push({ method: 'subscribe', args: [event, target, expires] });
    const status = this.script.subscribeRejectStatus;
    if (status !== undefined) throw new UaRejectedError(status, 'Rejected', 'SUBSCRIBE');
    const subscription = new FakeSubscription(event, target);
    this.subscriptions.push(subscription);
    return subscription;
  }

  readonly callCompletions: FakeCallCompletion[] = [];

  async requestCallCompletion(offer: UaCallCompletionOffer): Promise<UaCallCompletion> {
    this.actions.push({ method: 'requestCallCompletion', args: [offer] });
    const status = this.script.subscribeRejectStatus;
    if (status !== undefined) throw new UaRejectedError(status, 'Rejected', 'SUBSCRIBE call-completion');
    const completion = new FakeCallCompletion(offer, (options) => this.call(offer.target, options));
    this.callCompletions.push(completion);
    return completion;
  }

  receive(message: unknown): void {
    this.received.push(message);
  }

  close(): void {
    this.closed = true;
    for (const call of [...this.calls.values()]) call.end({ cause: 'connection' });
  }

  describe(): Record<string, unknown> {
    return { instanceId: this.instanceId };
  }

  // ---- the network's part ----
  /** A terminating INVITE (offer null = an offerless INVITE): emits 'incoming' and returns the call. */
  incoming(from: PartyIdentity, offer: string | null = OFFER): FakeUaCall {
    const call = new FakeUaCall('incoming', from, offer ?? undefined);
    this.calls.set(call.id, call);
    call.on('ended', () => this.calls.delete(call.id));
    this.emit('incoming', call, from);
    return call;
  }

  deliverMessage(message: UaIncomingMessage): void {
    this.emit('message', message);
  }

  #register(expires: number) {
    const impu = this.options.identity.impu;
    return createRequest({
      method: 'REGISTER',
      uri: `sip:${impu.split('@')[1] ?? 'ims.test'}`,
      headers: [['From', `<${impu}>;tag=fake`], ['To', `<${impu}>`], ['Call-ID', 'fake-register'], ['CSeq', '1 REGISTER'], ['Expires', String(expires)]],
    });
  }
}

/** A factory the plugin can call, keeping every UE it made (the newest last). */
export function fakeUeFactory(script: FakeUeScript = {}): { create: (options: VirtualUeOptions) => FakeVirtualUe; made: FakeVirtualUe[] } {
  const made: FakeVirtualUe[] = [];
  return {
    made,
    create: (options) => {
      const ue = new FakeVirtualUe(options, script);
      made.push(ue);
      return ue;
    },
  };
}
