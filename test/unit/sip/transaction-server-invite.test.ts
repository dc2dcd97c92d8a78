import t from 'tap';
import { cseq, getHeader, tagOf, to } from '../../../core/sip/index.js';
import type { SipRequest } from '../../../core/sip/index.js';
import type { EpcError } from '../../../core/errors.js';
import {
  ServerInviteTransaction, TransactionState, type ServerTransaction, type TransactionLayerOptions,
} from '../../../core/sip/transaction/index.js';
import { RecordingSender, buildRequest, flush, layerUnderTest, respond, sourceFrom } from '../../support/transaction-harness.js';

/** A layer whose TU records requests and stray ACKs; INVITE arrives from alice over `transport`. */
function uas(options: Partial<TransactionLayerOptions> = {}) {
  const seen: { request: SipRequest; tx: ServerTransaction }[] = [];
  const strayAcks: SipRequest[] = [];
  const env = layerUnderTest({
    onRequest: (request, tx) => { seen.push({ request, tx }); },
    onStrayAck: (ack) => { strayAcks.push(ack); },
    ...options,
  });
  return { ...env, seen, strayAcks };
}

function inviteTx(seen: readonly { tx: ServerTransaction }[]): ServerInviteTransaction {
  const tx = seen[0]?.tx;
  if (!(tx instanceof ServerInviteTransaction)) throw new Error('no INVITE server transaction');
  return tx;
}

function ackFor(invite: SipRequest, toTag: string, branch?: string): SipRequest {
  const viaBranch = branch ?? /branch=([^;]+)/.exec(getHeader(invite, 'Via') ?? '')?.[1];
  return buildRequest('ACK', { ...(viaBranch === undefined ? {} : { branch: viaBranch }), seq: cseq(invite).seq, toTag });
}

t.test('RFC 3261 §17.2.1: the transaction sends 100 Trying after 200 ms when the TU has not answered', async (t) => {
  const { layer, clock, sender, seen } = uas();
  const invite = buildRequest('INVITE');
  layer.receive({ message: invite, source: sourceFrom('udp') });
  t.equal(seen.length, 1, 'the INVITE is passed to the TU');
  t.equal(inviteTx(seen).state, TransactionState.Proceeding);
  clock.advance(199);
  t.equal(sender.sent.length, 0);
  clock.advance(1);
  const trying = sender.responses(100);
  t.equal(trying.length, 1);
  const msg = trying[0]?.message;
  if (msg?.kind !== 'response') throw new Error('no 100');
  t.equal(tagOf(to(msg)), undefined, 'no To tag added to a 100 Trying');
  t.same(cseq(msg), { seq: 1, method: 'INVITE' });
  t.same(trying[0]?.target, { transport: 'udp', host: '127.0.0.1', port: 5070 }, 'sent to the Via sent-by (RFC 3261 §18.2.2)');
});

t.test('RFC 3261 §17.2.1: no 100 Trying when the TU answers within 200 ms; immediate 100 Trying when configured', async (t) => {
  const a = uas();
  const invite = buildRequest('INVITE');
  a.layer.receive({ message: invite, source: sourceFrom('udp') });
  a.clock.advance(150);
  inviteTx(a.seen).respond(respond(invite, 180));
  a.clock.advance(10_000);
  t.same(a.sender.responses().map((r) => r.message.kind === 'response' && r.message.status), [180]);

  const b = uas({ tryingDelay: 0 });
  b.layer.receive({ message: buildRequest('INVITE'), source: sourceFrom('udp') });
  t.equal(b.sender.responses(100).length, 1, 'sent before the TU even sees the INVITE returns');
});

t.test('RFC 3261 §17.2.1: an INVITE retransmission in Proceeding gets the latest provisional again and never reaches the TU', async (t) => {
  const { layer, sender, seen, clock } = uas();
  const invite = buildRequest('INVITE');
  layer.receive({ message: invite, source: sourceFrom('udp') });
  layer.receive({ message: invite, source: sourceFrom('udp') });
  t.equal(sender.responses(100).length, 1, 'a retransmission before 200 ms makes the 100 Trying due at once');
  clock.advance(1000);
  t.equal(sender.responses(100).length, 1, 'and it is not sent twice');
  inviteTx(seen).respond(respond(invite, 183));
  layer.receive({ message: invite, source: sourceFrom('udp') });
  t.equal(sender.responses(183).length, 2);
  t.equal(seen.length, 1, 'the TU saw the INVITE once');
});

t.test('RFC 3261 §17.2.1: a 3xx-6xx gives Completed; Timer G retransmits it from T1 doubling to T2; an ACK gives Confirmed and Timer I = T4', async (t) => {
  const { layer, clock, sender, seen, strayAcks } = uas();
  const invite = buildRequest('INVITE');
  layer.receive({ message: invite, source: sourceFrom('udp') });
  const tx = inviteTx(seen);
  t.ok(tx.respond(respond(invite, 486, 'uas-tag')));
  t.equal(tx.state, TransactionState.Completed);
  clock.advance(11_999);
  t.same(RecordingSender.times(sender.responses(486)), [0, 500, 1500, 3500, 7500, 11500], 'G: 500, 1000, 2000, 4000, 4000');
  layer.receive({ message: invite, source: sourceFrom('udp') });
  t.equal(sender.responses(486).length, 7, 'an INVITE retransmission in Completed gets the final again');
  t.notOk(tx.respond(respond(invite, 200)), 'a later response from the TU is discarded');
  layer.receive({ message: ackFor(invite, 'uas-tag'), source: sourceFrom('udp') });
  t.equal(tx.state, TransactionState.Confirmed);
  clock.advance(4000);
  t.equal(sender.responses(486).length, 7, 'no retransmission once confirmed');
  layer.receive({ message: ackFor(invite, 'uas-tag'), source: sourceFrom('udp') });
  t.equal(strayAcks.length, 0, 'ACKs are absorbed by the transaction');
  t.equal(tx.state, TransactionState.Confirmed);
  clock.advance(999);
  t.equal(tx.state, TransactionState.Confirmed, 'Timer I runs T4 = 5 s from the ACK');
  clock.advance(1);
  t.equal(tx.state, TransactionState.Terminated, 'Timer I fired');
  t.equal(layer.serverTransactionCount, 0);
});

t.test('RFC 3261 §17.2.1: Timer H = 64*T1 without an ACK terminates the transaction and tells the TU', async (t) => {
  const { layer, clock, sender, seen } = uas();
  const invite = buildRequest('INVITE');
  layer.receive({ message: invite, source: sourceFrom('udp') });
  const tx = inviteTx(seen);
  let timeouts = 0;
  tx.delegate = { onTimeout: () => { timeouts++; } };
  tx.respond(respond(invite, 404));
  clock.advance(31_999);
  t.equal(timeouts, 0);
  const retransmissions = sender.responses(404).length;
  clock.advance(1);
  t.equal(timeouts, 1);
  t.equal(tx.state, TransactionState.Terminated);
  clock.advance(60_000);
  t.equal(sender.responses(404).length, retransmissions, 'retransmissions stop with Timer H');
  t.equal(clock.pending, 0);
});

t.test('RFC 6026 §8.7: a 2xx gives Accepted; INVITE retransmissions are absorbed, TU 2xx are sent, ACKs go to the TU, Timer L = 64*T1', async (t) => {
  const { layer, clock, sender, seen, strayAcks } = uas();
  const invite = buildRequest('INVITE');
  layer.receive({ message: invite, source: sourceFrom('udp') });
  const tx = inviteTx(seen);
  tx.respond(respond(invite, 200, 'ok-tag'));
  t.equal(tx.state, TransactionState.Accepted);
  layer.receive({ message: invite, source: sourceFrom('udp') });
  t.equal(sender.responses(200).length, 1, 'the INVITE retransmission is absorbed (no 2xx resent by the transaction)');
  t.equal(seen.length, 1, '...and not passed to the TU');
  clock.advance(500);
  t.equal(sender.responses(200).length, 1, 'no Timer G for a 2xx');
  t.ok(tx.respond(respond(invite, 200, 'ok-tag')), 'the TU retransmits its 2xx through the transaction');
  t.equal(sender.responses(200).length, 2);
  t.notOk(tx.respond(respond(invite, 500)), 'a non-2xx in Accepted is discarded');
  layer.receive({ message: ackFor(invite, 'ok-tag'), source: sourceFrom('udp') });
  layer.receive({ message: ackFor(invite, 'ok-tag', 'z9hG4bKnewAckBranch'), source: sourceFrom('udp') });
  t.equal(strayAcks.length, 2, 'an ACK matching the Accepted transaction and a 2xx ACK in its own branch both reach the TU');
  t.equal(tx.state, TransactionState.Accepted);
  clock.advance(31_499);
  t.equal(tx.state, TransactionState.Accepted);
  clock.advance(1);
  t.equal(tx.state, TransactionState.Terminated, 'Timer L fired');
});

t.test('RFC 3261 §17.2.1: on a reliable transport no Timer G and Timer I = 0; responses return on the same connection', async (t) => {
  const { layer, clock, sender, seen } = uas();
  const invite = buildRequest('INVITE', { viaTransport: 'TCP' });
  layer.receive({ message: invite, source: sourceFrom('tcp', 40_000) });
  const tx = inviteTx(seen);
  tx.respond(respond(invite, 480));
  clock.advance(20_000);
  t.equal(sender.responses(480).length, 1, 'never retransmitted');
  t.same(sender.responses(480)[0]?.target, { transport: 'tcp', host: '127.0.0.1', port: 5070, connectionId: 'conn-in-1' });
  layer.receive({ message: ackFor(invite, 'b-tag-1'), source: sourceFrom('tcp', 40_000) });
  t.equal(tx.state, TransactionState.Terminated, 'Timer I = 0');
  t.equal(clock.pending, 0);
});

t.test('RFC 3261 §17.2.1: a transport error in Proceeding or Completed informs the TU and terminates', async (t) => {
  const { layer, clock, sender, seen } = uas();
  const invite = buildRequest('INVITE');
  layer.receive({ message: invite, source: sourceFrom('udp') });
  const tx = inviteTx(seen);
  const errors: EpcError[] = [];
  tx.delegate = { onTransportError: (e) => { errors.push(e); } };
  sender.failing = true;
  tx.respond(respond(invite, 503));
  await flush();
  t.equal(errors[0]?.code, 'EPC_ERR_SIP_TRANSPORT');
  t.equal(tx.state, TransactionState.Terminated);
  t.equal(clock.pending, 0, 'Timers G and H cancelled');
});

t.test('RFC 6026 §8.7: a transport error in Accepted is reported but the transaction keeps absorbing until Timer L', async (t) => {
  const { layer, clock, sender, seen } = uas();
  const invite = buildRequest('INVITE');
  layer.receive({ message: invite, source: sourceFrom('udp') });
  const tx = inviteTx(seen);
  const errors: EpcError[] = [];
  tx.delegate = { onTransportError: (e) => { errors.push(e); } };
  sender.failing = true;
  tx.respond(respond(invite, 200));
  await flush();
  t.equal(errors.length, 1);
  t.equal(tx.state, TransactionState.Accepted);
  clock.advance(32_000);
  t.equal(tx.state, TransactionState.Terminated);
});
