/**
 * Issue 11: "bounded everything ... open transactions, registrations per IP". The P-CSCF caps
 * the SIP server transactions one W2 connection keeps open (w2.limits.maxPendingTransactionsPerConnection)
 * and the registration bindings one source IP holds (w2.limits.maxRegistrationsPerIp): beyond
 * either, 503 + Retry-After (RFC 3261 §21.5.4) and nothing goes to Mw; each refusal is counted
 * in epcscf_w2_refused_total. Full stack on loopback (test/support/sip-ws-stack.ts).
 */
import t from 'tap';
import { setTimeout as delay } from 'node:timers/promises';
import { getHeader, type SipRequest } from '../../core/sip/index.js';
import type { FakeImsCore } from '../support/fake-ims-core.js';
import { RawSipWsClient, registerOver, startStack } from '../support/sip-ws-stack.js';
import { CHROME_AUDIO_OFFER } from '../unit/ng/ims-alg-requests.js';
import { parsePrometheusText, sampleValue } from '../unit/admin/prometheus-text.js';

/** A REGISTER of `contactUser`'s contact for `user` (its own transaction: branch from Call-ID and CSeq). */
function sendRegister(client: RawSipWsClient, user: string, callId: string, cseq: number, options: { contactUser?: string; expires?: number } = {}): void {
  const contactUser = options.contactUser ?? user;
  client.send([
    'REGISTER sip:ims.test SIP/2.0', `Via: SIP/2.0/WSS ${user}.invalid;branch=z9hG4bK${callId}-${cseq}`, 'Max-Forwards: 70',
    `From: <sip:${user}@ims.test>;tag=r${callId}`, `To: <sip:${user}@ims.test>`, `Call-ID: ${callId}`, `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${contactUser}@${contactUser}.invalid;transport=ws>`, `Expires: ${options.expires ?? 600}`, 'Supported: path',
  ]);
}

/** The registrar's 200, granting the requested contact for `expires` seconds. */
function grant(core: FakeImsCore, atCore: SipRequest, expires = 600): void {
  const contact = (getHeader(atCore, 'Contact') ?? '').replace(/;expires=\d+/, '');
  core.answer(atCore, 200, { headers: [
    ['Contact', `${contact};expires=${expires}`], ['Service-Route', `<sip:orig@127.0.0.1:${core.port};lr>`],
    ['P-Associated-URI', `<${(getHeader(atCore, 'To') ?? '').replace(/^<|>.*$/g, '')}>`], ['Path', getHeader(atCore, 'Path') ?? ''],
  ] });
}

async function requestAtCore(core: FakeImsCore, method: string, callId: string): Promise<SipRequest> {
  return core.next<SipRequest>((m) => m.kind === 'request' && m.method === method && getHeader(m, 'Call-ID') === callId);
}

/** Nothing with this Call-ID reached the IMS core (given time for a forwarded request to arrive). */
async function nothingAtCore(core: FakeImsCore, callId: string): Promise<boolean> {
  await delay(300);
  return !core.received.some((m) => getHeader(m, 'Call-ID') === callId);
}

async function refusedCount(metrics: { metrics(): Promise<string> }, reason: string): Promise<number | undefined> {
  return sampleValue(parsePrometheusText(await metrics.metrics()), 'epcscf_w2_refused_total', { reason });
}

t.test('issue 11, R-ORIG-12: beyond maxPendingTransactionsPerConnection a request gets 503 + Retry-After and nothing reaches Mw; another connection is unaffected; a completed transaction frees its slot', async (t) => {
  const { core, metrics, url } = await startStack(t, { maxPendingTransactionsPerConnection: 2 });
  const alice = await RawSipWsClient.open(t, url);
  const bob = await RawSipWsClient.open(t, url);
  sendRegister(alice, 'alice', 'pt-1', 1);
  sendRegister(alice, 'alice', 'pt-2', 1);
  const first = await requestAtCore(core, 'REGISTER', 'pt-1');
  await requestAtCore(core, 'REGISTER', 'pt-2');
  sendRegister(alice, 'alice', 'pt-3', 1);
  const refused = await alice.response('pt-3', 'REGISTER');
  t.equal(refused.status, 503, 'RFC 3261 §21.5.4: temporary, this server');
  t.match(refused.reason, /too many open transactions on this connection/);
  t.equal(getHeader(refused, 'Retry-After'), '5', 'RFC 3261 §20.33: when to try again');
  t.ok(await nothingAtCore(core, 'pt-3'), 'the refused request never reached the IMS core');
  t.equal(await refusedCount(metrics, 'pending_transactions'), 1, 'counted in /metrics');

  sendRegister(bob, 'bob', 'pt-bob', 1);
  t.ok(await requestAtCore(core, 'REGISTER', 'pt-bob'), 'another connection still registers');

  grant(core, first);
  t.equal((await alice.response('pt-1', 'REGISTER')).status, 200);
  sendRegister(alice, 'alice', 'pt-4', 1);
  t.ok(await requestAtCore(core, 'REGISTER', 'pt-4'), 'the slot of the completed transaction is free again');
  t.equal(await refusedCount(metrics, 'pending_transactions'), 1);
});

t.test('issue 11: a CANCEL is never refused for open transactions, so a client at the cap can still end its call', async (t) => {
  const { core, metrics, url } = await startStack(t, { maxPendingTransactionsPerConnection: 2 });
  const alice = await RawSipWsClient.open(t, url);
  await registerOver(alice, core, 'alice');
  alice.send([
    'INVITE sip:carol@ims.test SIP/2.0', 'Via: SIP/2.0/WSS alice.invalid;branch=z9hG4bKinv-c1', 'Max-Forwards: 70',
    'From: <sip:alice@ims.test>;tag=t-c1', 'To: <sip:carol@ims.test>', 'Call-ID: c1', 'CSeq: 1 INVITE',
    'Contact: <sip:alice@alice.invalid;transport=ws;ob>', 'Content-Type: application/sdp',
  ], CHROME_AUDIO_OFFER);
  core.answer(await requestAtCore(core, 'INVITE', 'c1'), 180, { toTag: 'callee' });
  t.equal((await alice.response('c1', 'INVITE', false)).status, 180);
  sendRegister(alice, 'alice', 'c-reg', 2);
  await requestAtCore(core, 'REGISTER', 'c-reg'); // two open: the INVITE and this REGISTER
  sendRegister(alice, 'alice', 'c-over', 3);
  t.equal((await alice.response('c-over', 'REGISTER')).status, 503, 'the cap is reached');
  alice.send([
    'CANCEL sip:carol@ims.test SIP/2.0', 'Via: SIP/2.0/WSS alice.invalid;branch=z9hG4bKinv-c1', 'Max-Forwards: 70',
    'From: <sip:alice@ims.test>;tag=t-c1', 'To: <sip:carol@ims.test>', 'Call-ID: c1', 'CSeq: 1 CANCEL',
  ]);
  t.equal((await alice.response('c1', 'CANCEL')).status, 200, 'RFC 3261 §16.10: the CANCEL is answered, not refused');
  t.ok(await requestAtCore(core, 'CANCEL', 'c1'), 'and the cancellation goes on toward the IMS');
  t.equal(await refusedCount(metrics, 'pending_transactions'), 1, 'only the REGISTER was refused');
});

t.test('issue 11, R-ORIG-12: beyond maxRegistrationsPerIp a new binding from that address gets 503 + Retry-After with nothing on Mw, while refreshes and de-registrations pass', async (t) => {
  const { core, metrics, url } = await startStack(t, { maxRegistrationsPerIp: 2 });
  const alice = await RawSipWsClient.open(t, url);
  const bob = await RawSipWsClient.open(t, url);
  const carol = await RawSipWsClient.open(t, url);
  sendRegister(alice, 'alice', 'ra', 1);
  grant(core, await requestAtCore(core, 'REGISTER', 'ra'));
  t.equal((await alice.response('ra', 'REGISTER')).status, 200);
  sendRegister(bob, 'bob', 'rb', 1);
  grant(core, await requestAtCore(core, 'REGISTER', 'rb'));
  t.equal((await bob.response('rb', 'REGISTER')).status, 200, 'two bindings from 127.0.0.1: the cap');

  sendRegister(carol, 'carol', 'rc', 1);
  const refused = await carol.response('rc', 'REGISTER');
  t.equal(refused.status, 503, 'RFC 3261 §21.5.4: temporary, this server');
  t.match(refused.reason, /too many registrations from this address/);
  t.equal(getHeader(refused, 'Retry-After'), '60');
  t.ok(await nothingAtCore(core, 'rc'), 'the refused REGISTER never reached the registrar');

  sendRegister(alice, 'alice', 'ra2', 1, { contactUser: 'alice2' });
  t.equal((await alice.response('ra2', 'REGISTER')).status, 503, 'a second contact on a registered connection is a new binding too');
  t.ok(await nothingAtCore(core, 'ra2'));

  sendRegister(alice, 'alice', 'ra', 2);
  grant(core, await requestAtCore(core, 'REGISTER', 'ra'));
  t.equal((await alice.response('ra', 'REGISTER')).status, 200, 'a refresh of an existing binding passes at the cap');

  sendRegister(bob, 'bob', 'rb', 2, { expires: 0 });
  grant(core, await requestAtCore(core, 'REGISTER', 'rb'), 0);
  t.equal((await bob.response('rb', 'REGISTER')).status, 200, 'a de-registration passes at the cap');

  sendRegister(carol, 'carol', 'rc', 2);
  grant(core, await requestAtCore(core, 'REGISTER', 'rc'));
  t.equal((await carol.response('rc', 'REGISTER')).status, 200, 'the freed binding can be taken by another connection');
  t.equal(await refusedCount(metrics, 'registrations_per_ip'), 2, 'both refusals counted in /metrics');
});

t.test('issue 11: the bindings of a connection that closed no longer count against its address', async (t) => {
  const { core, url } = await startStack(t, { maxRegistrationsPerIp: 1 });
  const alice = await RawSipWsClient.open(t, url);
  const bob = await RawSipWsClient.open(t, url);
  sendRegister(alice, 'alice', 'ca', 1);
  grant(core, await requestAtCore(core, 'REGISTER', 'ca'));
  t.equal((await alice.response('ca', 'REGISTER')).status, 200);
  sendRegister(bob, 'bob', 'cb', 1);
  t.equal((await bob.response('cb', 'REGISTER')).status, 503, 'the address is at its cap');
  alice.close();
  await delay(300); // R-REG-25: the P-CSCF drops the bindings of the closed flow
  sendRegister(bob, 'bob', 'cb', 2);
  t.ok(await requestAtCore(core, 'REGISTER', 'cb'), 'the binding went with the connection');
});
