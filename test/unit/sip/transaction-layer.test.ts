import t from 'tap';
import { authValues, createRequest, cseq, generateBranch, getHeader, getHeaders, tagOf, to, topVia, vias } from '../../../core/sip/index.js';

const authValuesOf = (r: SipRequest) => authValues(r, 'Authorization');
import type { SipRequest, SipResponse } from '../../../core/sip/index.js';
import { EpcError } from '../../../core/errors.js';
import {
  ServerInviteTransaction, ServerNonInviteTransaction, TransactionLayer, TransactionState, createCancel,
  type ServerTransaction,
} from '../../../core/sip/transaction/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { PeeredNetwork, buildRequest, flush, layerUnderTest, respond, sourceFrom, udpTarget } from '../../support/transaction-harness.js';

function finalsRecorder() {
  const r = { finals: [] as SipResponse[], provisional: [] as SipResponse[],
    onFinal(res: SipResponse) { r.finals.push(res); }, onProvisional(res: SipResponse) { r.provisional.push(res); } };
  return r;
}

t.test('RFC 3261 §17.1.3: responses match by top Via branch and CSeq method, so a CANCEL and its INVITE keep apart', async (t) => {
  const stray: SipResponse[] = [];
  const { layer } = layerUnderTest({ onStrayResponse: (r) => { stray.push(r); } });
  const invite = buildRequest('INVITE');
  const cancel = createCancel(invite);
  const inviteOutcome = finalsRecorder();
  const cancelOutcome = finalsRecorder();
  const inviteTx = layer.sendRequest(invite, udpTarget(), inviteOutcome);
  layer.receive({ message: respond(invite, 180), source: sourceFrom('udp', 5080) });
  const cancelTx = layer.sendRequest(cancel, udpTarget(), cancelOutcome);
  t.not(inviteTx.id, cancelTx.id, 'same branch, different transactions');
  layer.receive({ message: respond(cancel, 200), source: sourceFrom('udp', 5080) });
  t.same(cancelOutcome.finals.map((r) => r.status), [200]);
  t.same(inviteOutcome.finals, [], 'the 200 to CANCEL does not complete the INVITE');
  layer.receive({ message: respond(invite, 487), source: sourceFrom('udp', 5080) });
  t.same(inviteOutcome.finals.map((r) => r.status), [487]);
  layer.receive({ message: respond(buildRequest('INVITE'), 200), source: sourceFrom('udp', 5080) });
  t.equal(stray.length, 1, 'an unknown branch is a stray response');
});

t.test('RFC 3261 §17.2.3: server matching is branch + sent-by + method; ACK matches the INVITE transaction', async (t) => {
  const seen: ServerTransaction[] = [];
  const { layer } = layerUnderTest({ onRequest: (_r, tx) => { seen.push(tx); } });
  const branch = generateBranch();
  layer.receive({ message: buildRequest('INVITE', { branch }), source: sourceFrom('udp') });
  layer.receive({ message: buildRequest('INVITE', { branch, sentBy: '127.0.0.2:5070' }), source: sourceFrom('udp') });
  layer.receive({ message: buildRequest('OPTIONS', { branch }), source: sourceFrom('udp') });
  layer.receive({ message: buildRequest('INVITE', { branch, sentBy: '127.0.0.1:5070' }), source: sourceFrom('udp') });
  t.equal(seen.length, 3, 'another sent-by or another method is another transaction; the same triple is a retransmission');
  t.ok(seen[0] instanceof ServerInviteTransaction);
  t.ok(seen[2] instanceof ServerNonInviteTransaction);
  const first = seen[0];
  if (!(first instanceof ServerInviteTransaction)) throw new Error('unreachable');
  first.respond(respond(first.request, 486, 'x'));
  layer.receive({ message: buildRequest('ACK', { branch, toTag: 'x' }), source: sourceFrom('udp') });
  t.equal(first.state, TransactionState.Confirmed);
  t.equal(seen.length, 3, 'the ACK never reaches the TU as a request');
});

t.test('RFC 3261 §9.2: a CANCEL gets its own non-INVITE transaction and findInviteServerTransaction finds the INVITE it targets', async (t) => {
  const seen: { request: SipRequest; tx: ServerTransaction }[] = [];
  const { layer, sender } = layerUnderTest({ onRequest: (request, tx) => { seen.push({ request, tx }); } });
  const invite = buildRequest('INVITE');
  layer.receive({ message: invite, source: sourceFrom('udp') });
  const cancel = createCancel(invite);
  layer.receive({ message: cancel, source: sourceFrom('udp') });
  t.equal(seen.length, 2);
  const cancelTx = seen[1]?.tx;
  t.ok(cancelTx instanceof ServerNonInviteTransaction, 'CANCEL is a non-INVITE server transaction');
  t.equal(seen[1]?.request.method, 'CANCEL');
  const target = layer.findInviteServerTransaction(cancel);
  t.equal(target, seen[0]?.tx, 'the INVITE with the same branch and sent-by');
  // The UAS core: 200 to the CANCEL, 487 to the INVITE (§9.2).
  cancelTx?.respond(respond(cancel, 200));
  target?.respond(respond(invite, 487));
  t.same(sender.responses().map((r) => r.message.kind === 'response' && `${r.message.status} ${cseq(r.message).method}`), ['200 CANCEL', '487 INVITE']);
  t.equal(layer.findInviteServerTransaction(createCancel(buildRequest('INVITE'))), undefined, 'no INVITE for an unknown branch');
});

t.test('RFC 3261 §9.1: createCancel copies Request-URI, Call-ID, From, To, CSeq number, the top Via and Route, without Require', async (t) => {
  const invite = buildRequest('INVITE', {
    seq: 42,
    extraHeaders: [['Via', 'SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKlower'], ['Route', '<sip:p1.example.com;lr>'], ['Require', '100rel']],
  });
  const cancel = createCancel(invite);
  t.equal(cancel.method, 'CANCEL');
  t.same(cancel.uri, invite.uri);
  t.equal(vias(cancel).length, 1);
  t.equal(topVia(cancel).branch, topVia(invite).branch);
  t.same(cseq(cancel), { seq: 42, method: 'CANCEL' });
  for (const h of ['Call-ID', 'From', 'To']) t.equal(getHeader(cancel, h), getHeader(invite, h), h);
  t.same(getHeaders(cancel, 'Route'), ['<sip:p1.example.com;lr>']);
  t.equal(getHeader(cancel, 'Require'), undefined);
  t.throws(() => createCancel(buildRequest('OPTIONS')), { code: 'EPC_ERR_INVALID_STATE' });
});

t.test('RFC 3261 §17.2.3: without a magic-cookie branch the RFC 2543 rules match retransmissions and the ACK (by our To tag)', async (t) => {
  const seen: ServerTransaction[] = [];
  const strayAcks: SipRequest[] = [];
  const { layer, sender } = layerUnderTest({ onRequest: (_r, tx) => { seen.push(tx); }, onStrayAck: (a) => { strayAcks.push(a); } });
  const invite = buildRequest('INVITE', { branch: '2543-old-branch' });
  layer.receive({ message: invite, source: sourceFrom('udp') });
  layer.receive({ message: invite, source: sourceFrom('udp') });
  t.equal(seen.length, 1, 'a retransmission matches');
  layer.receive({ message: buildRequest('INVITE', { branch: '2543-old-branch', seq: 2 }), source: sourceFrom('udp') });
  t.equal(seen.length, 2, 'another CSeq is another transaction');
  const tx = seen[0];
  if (!(tx instanceof ServerInviteTransaction)) throw new Error('no INVITE tx');
  tx.respond(respond(invite, 486, 'our-tag'));
  layer.receive({ message: buildRequest('ACK', { branch: '2543-old-branch', toTag: 'other-tag' }), source: sourceFrom('udp') });
  t.equal(tx.state, TransactionState.Completed, 'an ACK with another To tag does not match');
  t.equal(strayAcks.length, 1);
  layer.receive({ message: buildRequest('ACK', { branch: '2543-old-branch', toTag: 'our-tag' }), source: sourceFrom('udp') });
  t.equal(tx.state, TransactionState.Confirmed);
  t.ok(sender.responses(486).length >= 1);
});

t.test('sendRequest refuses what RFC 3261 forbids: an ACK transaction, a branch without z9hG4bK, a reused branch, a closed layer', async (t) => {
  const { layer } = layerUnderTest();
  t.throws(() => layer.sendRequest(buildRequest('ACK'), udpTarget(), finalsRecorder()), { code: 'EPC_ERR_INVALID_STATE', message: /§17\.1\.1\.3/ });
  t.throws(() => layer.sendRequest(buildRequest('OPTIONS', { branch: 'abc' }), udpTarget(), finalsRecorder()), { message: /z9hG4bK/ });
  const req = buildRequest('OPTIONS');
  layer.sendRequest(req, udpTarget(), finalsRecorder());
  t.throws(() => layer.sendRequest(req, udpTarget(), finalsRecorder()), { message: /already exists/ });
  layer.close();
  const err = t.throws(() => layer.sendRequest(buildRequest('OPTIONS'), udpTarget(), finalsRecorder()));
  t.ok(err instanceof EpcError);
});

t.test('timer configuration is validated (T1/T2/T4 positive)', async (t) => {
  t.throws(() => layerUnderTest({ timers: { t1: 0 } }), { code: 'EPC_ERR_CONFIG_INVALID' });
  t.throws(() => layerUnderTest({ timers: { t2: Number.NaN } }), { code: 'EPC_ERR_CONFIG_INVALID' });
  t.same(layerUnderTest({ timers: { t1: 250 } }).layer.timers, { t1: 250, t2: 4000, t4: 5000, d: 32000 });
});

t.test('a message whose Via or CSeq the accessors reject is discarded and reported, never thrown', async (t) => {
  const discarded: string[] = [];
  const seen: SipRequest[] = [];
  const { layer } = layerUnderTest({ onDiscarded: (_m, reason) => { discarded.push(reason); }, onRequest: (r) => { seen.push(r); } });
  const broken = createRequest({
    method: 'OPTIONS', uri: 'sip:bob@127.0.0.1',
    headers: [['Via', 'this is not a via'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:b@b>'], ['Call-ID', 'x'], ['CSeq', '1 OPTIONS'], ['Max-Forwards', '70']],
  });
  t.doesNotThrow(() => layer.receive({ message: broken, source: sourceFrom('udp') }));
  t.equal(discarded.length, 1);
  t.equal(seen.length, 0);
});

t.test('issue 11 (fuzz): a request whose header the TU cannot read is answered with the parse status, and its transaction ends', async (t) => {
  // Found by test/robustness/fuzz-w2-sip-ws.test.ts: REGISTER with an empty "Authorization:"
  // reached a registrar whose authValues() threw SipParseError; the layer took that for a
  // discarded message, so the request was never answered and its transaction never ended.
  const { layer, sender, clock } = layerUnderTest({ onRequest: (r) => { authValuesOf(r); } });
  const register = buildRequest('REGISTER', { extraHeaders: [['Authorization', '']] });
  t.doesNotThrow(() => layer.receive({ message: register, source: sourceFrom('udp') }));
  const answers = sender.responses();
  t.same(answers.map((r) => (r.message as SipResponse).status), [400], 'RFC 3261 §21.4.1: 400 to the malformed request');
  t.ok(((answers[0]?.message as SipResponse | undefined)?.reason ?? '').length > 3, 'with a reason phrase that says why');
  clock.advance(64 * 500 + 1);
  t.equal(layer.serverTransactionCount, 0, 'the server transaction completed and ended (Timer J), nothing leaks');
});

t.test('close() stops every transaction and timer, is idempotent, and ignores later messages', async (t) => {
  const seen: SipRequest[] = [];
  const { layer, clock, sender } = layerUnderTest({ onRequest: (r, tx) => { seen.push(r); if (r.method === 'OPTIONS') tx.respond(respond(r, 200)); } });
  const outcome = finalsRecorder();
  let timeouts = 0;
  layer.sendRequest(buildRequest('INVITE'), udpTarget(), { ...outcome, onTimeout: () => { timeouts++; } });
  layer.sendRequest(buildRequest('MESSAGE'), udpTarget(), outcome);
  layer.receive({ message: buildRequest('INVITE'), source: sourceFrom('udp') });
  layer.receive({ message: buildRequest('OPTIONS'), source: sourceFrom('udp') });
  t.ok(clock.pending > 0);
  t.equal(layer.clientTransactionCount, 2);
  t.equal(layer.serverTransactionCount, 2);
  layer.close();
  t.equal(clock.pending, 0, 'no timer handle left behind');
  t.equal(layer.clientTransactionCount + layer.serverTransactionCount, 0);
  t.doesNotThrow(() => layer.close(), 'idempotent');
  const sentBefore = sender.sent.length;
  layer.receive({ message: buildRequest('BYE'), source: sourceFrom('udp') });
  clock.advance(100_000);
  t.equal(sender.sent.length, sentBefore, 'nothing sent after close');
  t.equal(seen.length, 2, 'nothing reaches the TU after close');
  t.equal(timeouts + outcome.finals.length, 0, 'the TU is not told anything by close');
});

t.test('RFC 3261 §17 end to end: INVITE (first datagram lost) / 180 / 200 / ACK / BYE / 200 between two layers, plus a rejected INVITE ACKed by the transaction', async (t) => {
  const net = new PeeredNetwork();
  const ALICE = 5070;
  const BOB = 5080;
  const bobRequests: string[] = [];
  const bobAcks: SipRequest[] = [];
  const bob = new TransactionLayer({
    sender: net.senderFor(BOB), clock: net.clock,
    onRequest: (req, tx) => {
      bobRequests.push(req.method);
      if (req.method === 'INVITE' && cseq(req).seq === 1) {
        tx.respond(respond(req, 180, 'bob-dialog'));
        tx.respond(respond(req, 200, 'bob-dialog'));
      } else if (req.method === 'INVITE') {
        tx.respond(respond(req, 603, 'bob-declines'));
      } else {
        tx.respond(respond(req, 200));
      }
    },
    onStrayAck: (ack) => { bobAcks.push(ack); },
  });
  const aliceSender = net.senderFor(ALICE);
  const alice = new TransactionLayer({ sender: aliceSender, clock: net.clock, onRequest: () => {} });
  net.attach(ALICE, alice);
  net.attach(BOB, bob);
  const bobTarget = udpTarget(BOB);

  net.dropNext(); // the first INVITE is lost: Timer A recovers it
  const inviteOutcome = finalsRecorder();
  const invite = buildRequest('INVITE', { seq: 1 });
  const inviteTx = alice.sendRequest(invite, bobTarget, inviteOutcome);
  await flush();
  t.same(bobRequests, [], 'nothing arrived yet');
  net.clock.advance(500);
  await flush();
  t.same(bobRequests, ['INVITE']);
  t.same(inviteOutcome.provisional.map((r) => r.status), [180]);
  t.same(inviteOutcome.finals.map((r) => r.status), [200]);
  t.equal(inviteTx.state, TransactionState.Accepted);

  // The TU ACKs the 2xx itself, in a new branch, straight through the transport (§13.2.2.4).
  const ok = inviteOutcome.finals[0] as SipResponse;
  const ack = buildRequest('ACK', { seq: 1, toTag: tagOf(to(ok)) ?? '' });
  await aliceSender.send(ack, bobTarget);
  await flush();
  t.equal(bobAcks.length, 1, 'the 2xx ACK reaches the UAS TU');
  t.same(bobRequests, ['INVITE'], '...not as a new request');

  const byeOutcome = finalsRecorder();
  alice.sendRequest(buildRequest('BYE', { seq: 2, toTag: 'bob-dialog' }), bobTarget, byeOutcome);
  await flush();
  t.same(byeOutcome.finals.map((r) => r.status), [200]);

  const rejectedOutcome = finalsRecorder();
  const invite2 = buildRequest('INVITE', { seq: 3, callId: 'call-2@example.com' });
  const tx2 = alice.sendRequest(invite2, bobTarget, rejectedOutcome);
  await flush();
  t.same(rejectedOutcome.finals.map((r) => r.status), [603]);
  t.equal(tx2.state, TransactionState.Completed);
  t.equal(bobAcks.length, 1, 'the ACK for 603 is absorbed by the UAS transaction, not passed up');
  const ackOnWire = net.log.filter((e) => e.message.kind === 'request' && e.message.method === 'ACK').at(-1)?.message;
  t.ok(ackOnWire && getHeader(ackOnWire, 'CSeq') === '3 ACK', 'the transaction generated the ACK');

  net.clock.advance(64 * 500);
  await flush();
  t.equal(alice.clientTransactionCount + alice.serverTransactionCount, 0, 'all of alice\'s transactions ended');
  t.equal(bob.clientTransactionCount + bob.serverTransactionCount, 0, 'all of bob\'s transactions ended');
  t.equal(net.clock.pending, 0);
  alice.close();
  bob.close();
});

t.test('RFC 3261 §17.1.1.2/§17.2.1: a transport that delivers synchronously leaves no stray timers (ACK arriving inside respond())', async (t) => {
  const clock = new FakeClock();
  const wire: string[] = [];
  let alice: TransactionLayer | undefined;
  let bob: TransactionLayer | undefined;
  const deliver = (to: () => TransactionLayer | undefined, remotePort: number) => ({
    send: async (message: SipRequest | SipResponse) => {
      wire.push(message.kind === 'request' ? message.method : `${message.status}`);
      to()?.receive({ message, source: sourceFrom('udp', remotePort) });
    },
  });
  bob = new TransactionLayer({
    sender: deliver(() => alice, 5080), clock, tryingDelay: 0,
    onRequest: (req, tx) => { tx.respond(respond(req, 486)); },
  });
  alice = new TransactionLayer({ sender: deliver(() => bob, 5070), clock, onRequest: () => {} });
  const outcome = finalsRecorder();
  const tx = alice.sendRequest(buildRequest('INVITE'), udpTarget(), outcome);
  t.same(wire, ['INVITE', '100', '486', 'ACK'], 'the whole exchange ran inside sendRequest');
  t.equal(tx.state, TransactionState.Completed);
  t.same(clock.pendingDelays(), [5000, 32_000], 'only bob\'s Timer I (T4) and alice\'s Timer D run: G and H were stopped by the ACK');
  clock.advance(10_000);
  t.same(wire, ['INVITE', '100', '486', 'ACK'], 'no Timer A, G or H retransmission survived the synchronous answers');
  t.equal(bob.serverTransactionCount, 0, 'Timer I ended the UAS transaction');
  clock.advance(30_000);
  t.equal(clock.pending, 0);
  alice.close();
  bob.close();
});

t.test('issue 11: onServerTransactionEnded reports each server transaction once, when it terminates (the pair of onRequest)', async (t) => {
  const opened: ServerTransaction[] = [];
  const ended: ServerTransaction[] = [];
  const { layer, clock } = layerUnderTest({ onRequest: (_r, tx) => { opened.push(tx); }, onServerTransactionEnded: (tx) => { ended.push(tx); } });
  layer.receive({ message: buildRequest('MESSAGE'), source: sourceFrom('tcp') });
  layer.receive({ message: buildRequest('OPTIONS'), source: sourceFrom('udp') });
  t.equal(opened.length, 2);
  t.same(ended, [], 'open while unanswered');
  const [overTcp, overUdp] = opened as [ServerTransaction, ServerTransaction];
  overTcp.respond(respond(overTcp.request, 200));
  t.same(ended, [overTcp], 'RFC 3261 §17.2.2: Timer J is 0 on a reliable transport');
  overUdp.respond(respond(overUdp.request, 200));
  t.equal(ended.length, 1, 'Completed absorbs retransmissions for Timer J on UDP');
  clock.advance(layer.timers.t1 * 64);
  t.same(ended, [overTcp, overUdp], 'each reported once');
  t.equal(layer.serverTransactionCount, 0);
});
