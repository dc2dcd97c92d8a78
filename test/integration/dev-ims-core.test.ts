/**
 * examples/dev-ims-core: the demo IMS core behind `npm start`. Two plain SipStacks over UDP play
 * the UEs (each also plays its own P-CSCF by registering a Path that points at itself).
 */
import t from 'tap';
import type { Test } from 'tap';
import {
  answerChallenge, authValues, callId, createRequest, formatAuth, generateCallId, generateTag, getHeader, getHeaders,
  nameAddrList, formatUri, pickChallenge, createResponse, type SipRequest, type SipResponse,
} from '../../core/sip/index.js';
import { SipStack } from '../../core/sip/stack.js';
import type { ServerTransaction } from '../../core/sip/transaction/index.js';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';

const TIMERS = { t1: 50, t2: 400, t4: 500 };

interface Inbound { readonly request: SipRequest; readonly tx: ServerTransaction }

/** A bare UE on its own SipStack; `contactHost` is a `.invalid` name, as browsers use (RFC 7118 App. B.1). */
class TestUe {
  readonly stack: SipStack;
  readonly user: string;
  readonly callIdValue = generateCallId();
  readonly contact: string;
  readonly #inbox: Inbound[] = [];
  readonly #waiting: ((item: Inbound) => void)[] = [];
  readonly acks: SipRequest[] = [];
  #cseq = 0;

  private constructor(stack: SipStack, user: string) {
    this.stack = stack;
    this.user = user;
    this.contact = `sip:${user}@${Math.random().toString(36).slice(2, 10)}.invalid;transport=ws`;
  }

  static async start(user: string): Promise<TestUe> {
    let ue!: TestUe;
    const stack = await SipStack.start({
      listeners: ['udp:127.0.0.1:0'], timers: TIMERS, tryingDelay: 0,
      onRequest: (request, tx) => ue.#deliver({ request, tx }),
      onStrayAck: (ack) => ue.acks.push(ack),
    });
    ue = new TestUe(stack, user);
    return ue;
  }

  /** The Path this UE registers: a loose route to itself, like a P-CSCF's (RFC 3327). */
  get path(): string {
    const { port } = this.stack.localVia('udp');
    return `<sip:term@127.0.0.1:${port};lr>`;
  }

  #deliver(item: Inbound): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(item);
    else this.#inbox.push(item);
  }

  nextRequest(timeoutMs = 3000): Promise<Inbound> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.user}: no request within ${timeoutMs} ms`)), timeoutMs);
      this.#waiting.push((item) => { clearTimeout(timer); resolve(item); });
    });
  }

  /** Sends through the core; resolves with the provisional responses and the final one. */
  send(core: DevImsCore, request: SipRequest): Promise<{ provisional: SipResponse[]; final: SipResponse }> {
    const provisional: SipResponse[] = [];
    const withVia = createRequest({
      method: request.method, uri: request.uri,
      headers: [['Via', this.stack.newVia('udp')], ...request.headers.map((h) => [h.name, h.value] as [string, string])],
      body: request.body,
    });
    return new Promise((resolve) => {
      this.stack.transactions.sendRequest(withVia, { transport: 'udp', ...core.address }, {
        onProvisional: (r) => provisional.push(r),
        onFinal: (final) => resolve({ provisional, final }),
      });
    });
  }

  register(core: DevImsCore, options: { expires?: number; password?: string; authorization?: string } = {}): Promise<{ final: SipResponse }> {
    this.#cseq += 1;
    const headers: [string, string][] = [
      ['Max-Forwards', '70'], ['From', `<sip:${this.user}@ims.test>;tag=${generateTag()}`], ['To', `<sip:${this.user}@ims.test>`],
      ['Call-ID', this.callIdValue], ['CSeq', `${this.#cseq} REGISTER`], ['Contact', `<${this.contact}>`],
      ['Expires', String(options.expires ?? 600)], ['Path', this.path], ['Supported', 'path'],
    ];
    if (options.authorization !== undefined) headers.push(['Authorization', options.authorization]);
    return this.send(core, createRequest({ method: 'REGISTER', uri: 'sip:ims.test', headers }));
  }

  /** REGISTER, answer the 401 challenge (RFC 3261 §22.2), REGISTER again. */
  async registerWithDigest(core: DevImsCore, password: string, expires = 600): Promise<{ challenge: SipResponse; final: SipResponse }> {
    const first = await this.register(core, { expires });
    const challenge = pickChallenge(authValues(first.final, 'WWW-Authenticate'));
    if (challenge === undefined) throw new Error(`no digest challenge in ${first.final.status}`);
    const credentials = answerChallenge(challenge, { method: 'REGISTER', uri: 'sip:ims.test', username: this.user, password });
    const second = await this.register(core, { expires, authorization: formatAuth(credentials) });
    return { challenge: first.final, final: second.final };
  }

  close(): Promise<void> {
    return this.stack.close();
  }
}

async function setup(t: Test): Promise<{ core: DevImsCore; alice: TestUe; bob: TestUe }> {
  const core = await DevImsCore.start({ port: 0, timers: TIMERS });
  const alice = await TestUe.start('alice');
  const bob = await TestUe.start('bob');
  t.teardown(async () => {
    await alice.close();
    await bob.close();
    await core.close();
  });
  return { core, alice, bob };
}

t.test('RFC 3261 §22.4: REGISTER without credentials is challenged 401 with a digest WWW-Authenticate', async (t) => {
  const { core, alice } = await setup(t);
  const { final } = await alice.register(core);
  t.equal(final.status, 401);
  const challenge = authValues(final, 'WWW-Authenticate')[0];
  t.equal(challenge?.scheme, 'Digest');
  t.equal(challenge?.params['realm'], 'ims.test');
  t.ok(challenge?.params['nonce']);
});

t.test('TS 24.229 5.4.1.2: digest REGISTER gets 200 with Service-Route, P-Associated-URI, Path and the Contact', async (t) => {
  const { core, alice } = await setup(t);
  const { final } = await alice.registerWithDigest(core, 'alicepw');
  t.equal(final.status, 200);
  const { port } = core.address;
  t.same(getHeaders(final, 'Service-Route'), [`<sip:orig@127.0.0.1:${port};lr>`], 'RFC 3608: Service-Route names the core');
  t.same(nameAddrList(final, 'P-Associated-URI').map((na) => formatUri(na.uri)), ['sip:alice@ims.test', 'tel:+15550001'],
    'RFC 7315 §4.1: SIP URI and the tel alias');
  t.same(getHeaders(final, 'Path'), [alice.path], 'RFC 3327 §5.3: Path echoed');
  t.match(getHeader(final, 'Contact'), new RegExp(`^<${alice.contact.replace(/[.;]/g, '\\$&')}>;expires=(599|600)$`));
  t.equal(core.location.bindings('alice').length, 1);
});

t.test('RFC 3261 §22.4: a wrong password is refused 403 and nothing is bound', async (t) => {
  const { core, alice } = await setup(t);
  const { final } = await alice.registerWithDigest(core, 'wrong');
  t.equal(final.status, 403);
  t.equal(core.location.bindings('alice').length, 0);
});

t.test('RFC 3261 §10.3: Expires 0 removes the binding (de-registration)', async (t) => {
  const { core, alice } = await setup(t);
  t.equal((await alice.registerWithDigest(core, 'alicepw')).final.status, 200);
  const { final } = await alice.registerWithDigest(core, 'alicepw', 0);
  t.equal(final.status, 200);
  t.equal(getHeader(final, 'Contact'), undefined, 'no binding left to list');
  t.equal(core.location.bindings('alice').length, 0);
});

t.test('RFC 3327 §5.3: an INVITE between registered users is routed by the stored Path (Route = Path, R-URI = contact), record-routed, and the dialog works end to end', async (t) => {
  const { core, alice, bob } = await setup(t);
  t.equal((await alice.registerWithDigest(core, 'alicepw')).final.status, 200);
  const registered = await bob.registerWithDigest(core, 'bobpw');
  t.equal(registered.final.status, 200);
  const serviceRoute = getHeader(registered.final, 'Service-Route') as string;
  const coreRecordRoute = `<sip:127.0.0.1:${core.address.port};lr>`;

  const callIdValue = generateCallId();
  const fromTag = generateTag();
  const invite = createRequest({
    method: 'INVITE', uri: 'sip:bob@ims.test',
    headers: [['Route', serviceRoute], ['Max-Forwards', '70'], ['From', `<sip:alice@ims.test>;tag=${fromTag}`], ['To', '<sip:bob@ims.test>'],
      ['Call-ID', callIdValue], ['CSeq', '1 INVITE'], ['Contact', `<${alice.contact}>`], ['Content-Type', 'application/sdp']],
    body: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n',
  });
  const outcome = alice.send(core, invite);

  const { request: atBob, tx } = await bob.nextRequest();
  t.equal(atBob.method, 'INVITE');
  t.equal(formatUri(atBob.uri), bob.contact, 'Request-URI is the registered contact');
  t.same(getHeaders(atBob, 'Route'), [bob.path], 'Route is the stored Path; the Service-Route entry was consumed');
  t.same(getHeaders(atBob, 'Record-Route'), [coreRecordRoute], 'the core record-routes itself');
  t.equal(getHeader(atBob, 'Max-Forwards'), '69');
  t.equal(callId(atBob), callIdValue);

  // Bob plays his own terminating P-CSCF: it record-routes itself on top (RFC 3261 §16.6 step 4).
  const bobRecordRoute = `<sip:127.0.0.1:${bob.stack.localVia('udp').port};lr>`;
  const toTag = generateTag();
  const rr: [string, string][] = [['Record-Route', bobRecordRoute], ['Record-Route', coreRecordRoute], ['Contact', `<${bob.contact}>`]];
  tx.respond(createResponse(atBob, 180, 'Ringing', { toTag, headers: rr }));
  tx.respond(createResponse(atBob, 200, 'OK', { toTag, headers: rr }));
  const { provisional, final } = await outcome;
  t.same(provisional.filter((r) => r.status !== 100).map((r) => r.status), [180], '180 forwarded');
  t.equal(final.status, 200);
  t.equal(getHeaders(final, 'Via').length, 1, 'the core removed its own Via');
  t.same(getHeaders(final, 'Record-Route'), [bobRecordRoute, coreRecordRoute], 'Record-Route reaches the caller intact');

  // RFC 3261 §12.1.2: the caller's route set is the Record-Route list reversed; in-dialog
  // requests go through the core (its Route entry is consumed) on to bob's proxy.
  const dialogHeaders = (seq: string): [string, string][] => [
    ['Route', coreRecordRoute], ['Route', bobRecordRoute], ['Max-Forwards', '70'],
    ['From', `<sip:alice@ims.test>;tag=${fromTag}`], ['To', `<sip:bob@ims.test>;tag=${toTag}`], ['Call-ID', callIdValue], ['CSeq', seq]];
  const ack = createRequest({ method: 'ACK', uri: bob.contact, headers: [['Via', alice.stack.newVia('udp')], ...dialogHeaders('1 ACK')] });
  await alice.stack.sendAck(ack, { transport: 'udp', ...core.address });
  const byeOutcome = alice.send(core, createRequest({ method: 'BYE', uri: bob.contact, headers: dialogHeaders('2 BYE') }));
  const { request: byeAtBob, tx: byeTx } = await bob.nextRequest();
  t.equal(byeAtBob.method, 'BYE');
  t.same(getHeaders(byeAtBob, 'Route'), [bobRecordRoute], 'the core consumed its own Route entry');
  t.same(getHeaders(byeAtBob, 'Record-Route'), [], 'no Record-Route on in-dialog requests');
  byeTx.respond(createResponse(byeAtBob, 200, 'OK'));
  t.equal((await byeOutcome).final.status, 200);
  t.equal(bob.acks.length, 1, 'the 2xx ACK was forwarded statelessly by Route');
  t.equal(bob.acks[0] && getHeaders(bob.acks[0], 'Via').length, 2, 'with the core\'s Via on top');
});

t.test('TS 24.229 terminating: 404 for an unknown user, 480 for a known user who is not registered', async (t) => {
  const { core, alice } = await setup(t);
  const registered = await alice.registerWithDigest(core, 'alicepw');
  const serviceRoute = getHeader(registered.final, 'Service-Route') as string;
  const inviteTo = (target: string): SipRequest => createRequest({
    method: 'INVITE', uri: target,
    headers: [['Route', serviceRoute], ['Max-Forwards', '70'], ['From', `<sip:alice@ims.test>;tag=${generateTag()}`], ['To', `<${target}>`],
      ['Call-ID', generateCallId()], ['CSeq', '1 INVITE'], ['Contact', `<${alice.contact}>`]],
  });
  t.equal((await alice.send(core, inviteTo('sip:dave@ims.test'))).final.status, 404);
  t.equal((await alice.send(core, inviteTo('sip:carol@ims.test'))).final.status, 480);
});

t.test('RFC 3261 §16.3: Max-Forwards 0 is answered 483', async (t) => {
  const { core, alice } = await setup(t);
  const request = createRequest({
    method: 'OPTIONS', uri: 'sip:bob@ims.test',
    headers: [['Max-Forwards', '0'], ['From', `<sip:alice@ims.test>;tag=${generateTag()}`], ['To', '<sip:bob@ims.test>'],
      ['Call-ID', generateCallId()], ['CSeq', '1 OPTIONS']],
  });
  t.equal((await alice.send(core, request)).final.status, 483);
});
