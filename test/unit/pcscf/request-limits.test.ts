// The per-connection and per-IP request caps of w2.limits (issue 11), piece by piece:
// PendingTransactions counts a connection's open server transactions through the transaction
// layer's own create/terminate hooks; RegistrationLimits tells a new binding from a refresh,
// a de-registration or a fetch, and counts the bindings of every flow of one address.
import t from 'tap';
import { PendingTransactions } from '../../../core/pcscf/pending-transactions.js';
import { RegistrationLimits } from '../../../core/pcscf/registration-limits.js';
import { bindingId } from '../../../core/pcscf/register.js';
import type { W2Flow } from '../../../core/pcscf/w2-flows.js';
import { createRequest, type SipRequest, type SipResponse } from '../../../core/sip/index.js';
import type { ServerTransaction } from '../../../core/sip/transaction/index.js';
import { MemoryRegistrationStore, type RegistrationBinding } from '../../../core/state/registration-store.js';
import { buildRequest, layerUnderTest, respond } from '../../support/transaction-harness.js';

function w2Source(connectionId: string) {
  return { transport: 'ws' as const, remoteAddress: '192.0.2.1', remotePort: 40000, localAddress: '', localPort: 0, connectionId };
}

t.test('issue 11: PendingTransactions refuses the request beyond the cap of its connection until one of its transactions terminates; CANCEL is never refused', async (t) => {
  const pending = new PendingTransactions(2);
  const txs: ServerTransaction[] = [];
  const refusals: (SipResponse | undefined)[] = [];
  const { layer } = layerUnderTest({
    onRequest: (_r, tx) => { txs.push(tx); refusals.push(pending.opened(tx)); },
    onServerTransactionEnded: (tx) => pending.ended(tx),
  });
  const receive = (method: string, connectionId: string): void => layer.receive({ message: buildRequest(method, { viaTransport: 'WS' }), source: w2Source(connectionId) });
  receive('MESSAGE', 'c1');
  receive('MESSAGE', 'c1');
  receive('MESSAGE', 'c2');
  receive('MESSAGE', 'c1');
  receive('CANCEL', 'c1');
  t.same(refusals.map((r) => r?.status), [undefined, undefined, undefined, 503, undefined], 'the third of c1 is refused; c2 and the CANCEL are not');
  t.match(refusals[3]?.reason, /too many open transactions on this connection \(at most 2\)/);
  t.equal(pending.countFor('c1'), 4, 'refused and exempt transactions count while they are open');
  for (const i of [3, 4, 0]) txs[i]!.respond(respond(txs[i]!.request, i === 3 ? 503 : 200));
  t.equal(pending.countFor('c1'), 1, 'RFC 3261 §17.2.2: a reliable transport ends a non-INVITE transaction with its final response');
  receive('MESSAGE', 'c1');
  t.equal(refusals[5], undefined, 'the freed slot is taken again');
  pending.releaseConnection('c1');
  txs[1]!.respond(respond(txs[1]!.request, 200));
  t.equal(pending.countFor('c1'), 0, 'a released connection is forgotten; late ends do not go negative');
});

t.test('issue 11: an INVITE answered 2xx (Accepted for Timer L, RFC 6026) no longer counts against the cap, so a client placing calls back to back is not refused', async (t) => {
  const pending = new PendingTransactions(2);
  const txs: ServerTransaction[] = [];
  const refusals: (SipResponse | undefined)[] = [];
  const { layer } = layerUnderTest({
    onRequest: (_r, tx) => { txs.push(tx); refusals.push(pending.opened(tx)); },
    onServerTransactionEnded: (tx) => pending.ended(tx),
  });
  const receive = (method: string): void => layer.receive({ message: buildRequest(method, { viaTransport: 'WS' }), source: w2Source('c1') });
  receive('INVITE');
  receive('INVITE');
  for (const tx of txs) tx.respond(respond(tx.request, 200));
  t.equal(pending.countFor('c1'), 2, 'both 2xx-answered INVITEs linger in Accepted');
  receive('INVITE');
  t.equal(refusals[2], undefined, 'the third call is admitted: answered transactions are pruned at the cap');
  t.equal(pending.countFor('c1'), 1, 'only the unanswered INVITE still counts');
  receive('MESSAGE');
  receive('MESSAGE');
  t.equal(refusals[4]?.status, 503, 'unanswered transactions still hit the cap');
});

function flowFrom(key: string, address: string): W2Flow {
  return { key, connection: { remote: { address, port: 40000 } } } as unknown as W2Flow;
}

function register(contact: string, options: { expires?: string; aor?: string } = {}): SipRequest {
  const aor = options.aor ?? 'sip:alice@ims.test';
  return createRequest({ method: 'REGISTER', uri: 'sip:ims.test', headers: [
    ['Via', 'SIP/2.0/WS x.invalid;branch=z9hG4bKreg'], ['From', `<${aor}>;tag=a`], ['To', `<${aor}>`], ['Call-ID', 'reg'], ['CSeq', '1 REGISTER'],
    ...(contact === '' ? [] : [['Contact', contact] as [string, string]]), ...(options.expires === undefined ? [] : [['Expires', options.expires] as [string, string]]),
  ] });
}

function binding(flowKey: string, contactUri: string, aor = 'sip:alice@ims.test'): RegistrationBinding {
  return {
    id: bindingId(flowKey, aor, contactUri), aor, flowKey, contact: `<${contactUri}>`, contactUri, outbound: false,
    serviceRoute: [], associatedUris: [aor], expiresAt: Date.now() + 600_000, registeredBy: 'client',
  };
}

t.test('issue 11: RegistrationLimits refuses only a new binding beyond the cap of its address; refresh, de-registration and fetch pass', async (t) => {
  const store = new MemoryRegistrationStore();
  const flows = [flowFrom('n/1', '192.0.2.1'), flowFrom('n/2', '192.0.2.1'), flowFrom('n/3', '198.51.100.9')];
  const limits = new RegistrationLimits(2, store, (address) => flows.filter((f) => f.connection.remote.address === address));
  const [one, two, elsewhere] = flows as [W2Flow, W2Flow, W2Flow];
  await store.put(binding('n/1', 'sip:a1@a.invalid'));
  await store.put(binding('n/2', 'sip:a2@a.invalid'));
  const refused = await limits.admit(register('<sip:a3@a.invalid>'), two);
  t.equal(refused?.status, 503, 'a third binding from 192.0.2.1');
  t.match(refused?.reason, /too many registrations from this address \(at most 2\)/);
  t.equal(refused === undefined ? undefined : refused.headers.find((h) => h.name === 'Retry-After')?.value, '60');
  t.equal(await limits.admit(register('<sip:a2@a.invalid>'), two), undefined, 'a refresh of its own binding');
  t.equal(await limits.admit(register('<sip:a3@a.invalid>', { expires: '0' }), two), undefined, 'Expires: 0 removes');
  t.equal(await limits.admit(register('<sip:a3@a.invalid>;expires=0', { expires: '600' }), two), undefined, 'expires=0 on the contact removes');
  t.equal(await limits.admit(register('*', { expires: '0' }), two), undefined, 'Contact: * removes');
  t.equal(await limits.admit(register(''), two), undefined, 'a fetch changes nothing');
  t.equal((await limits.admit(register('<sip:a1@a.invalid>'), two))?.status, 503, "another flow's contact is a new binding of this flow");
  t.equal((await limits.admit(register('<sip:a2@a.invalid>', { aor: 'sip:bob@ims.test' }), two))?.status, 503, 'the same contact for another AOR is a new binding');
  t.equal(await limits.admit(register('<sip:b1@b.invalid>'), elsewhere), undefined, 'another address has its own count');
  await store.remove(bindingId('n/1', 'sip:alice@ims.test', 'sip:a1@a.invalid'));
  t.equal(await limits.admit(register('<sip:a3@a.invalid>'), one), undefined, 'a removed binding frees its place');
});
