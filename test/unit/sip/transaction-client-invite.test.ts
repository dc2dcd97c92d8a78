import t from 'tap';
import { cseq, getHeader, getHeaders, tagOf, to, topVia, vias } from '../../../core/sip/index.js';
import type { SipRequest, SipResponse } from '../../../core/sip/index.js';
import { TransactionLayer, TransactionState, type ClientTransactionDelegate } from '../../../core/sip/transaction/index.js';
import type { EpcError } from '../../../core/errors.js';
import { FakeClock } from '../../support/fake-clock.js';
import { RecordingSender, buildRequest, flush, layerUnderTest, respond, sourceFrom, tcpTarget, udpTarget } from '../../support/transaction-harness.js';

/** A delegate that records every outcome. */
function recorder(withTimeout = true): ClientTransactionDelegate & {
  provisional: SipResponse[]; finals: SipResponse[]; timeouts: number; transportErrors: EpcError[];
} {
  const r = {
    provisional: [] as SipResponse[], finals: [] as SipResponse[], timeouts: 0, transportErrors: [] as EpcError[],
    onProvisional: (res: SipResponse) => { r.provisional.push(res); },
    onFinal: (res: SipResponse) => { r.finals.push(res); },
    onTransportError: (err: EpcError) => { r.transportErrors.push(err); },
  };
  return withTimeout ? Object.assign(r, { onTimeout: () => { r.timeouts++; } }) : r;
}

/** A response arriving from bob's UDP port. */
function recv(layer: TransactionLayer, res: SipResponse): void {
  layer.receive({ message: res, source: sourceFrom('udp', 5080) });
}

t.test('RFC 3261 §17.1.1.2: Timer A starts at T1 and doubles (no T2 cap) while Calling; Timer B = 64*T1 ends it', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  const d = recorder();
  const tx = layer.sendRequest(buildRequest('INVITE'), udpTarget(), d);
  t.equal(tx.state, TransactionState.Calling);
  clock.advance(31_999);
  // Intervals 500, 1000, 2000, 4000, 8000, 16000: 8000 and 16000 exceed T2 = 4000.
  t.same(RecordingSender.times(sender.requests('INVITE')), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  t.equal(d.timeouts, 0);
  clock.advance(1);
  t.equal(d.timeouts, 1, 'Timer B fired at 64*T1 = 32 s');
  t.equal(tx.state, TransactionState.Terminated);
  t.equal(layer.clientTransactionCount, 0, 'a terminated transaction is destroyed at once');
  clock.advance(100_000);
  t.equal(sender.requests('INVITE').length, 7, 'no retransmission after Terminated');
  t.equal(clock.pending, 0);
});

t.test('RFC 3261 §8.1.3.1: a Timer B timeout reaches a TU without onTimeout as a synthetic 408', async (t) => {
  const { layer, clock } = layerUnderTest();
  const d = recorder(false);
  layer.sendRequest(buildRequest('INVITE'), udpTarget(), d);
  clock.advance(32_000);
  t.equal(d.finals.length, 1);
  t.equal(d.finals[0]?.status, 408);
  t.equal(cseq(d.finals[0] as SipResponse).method, 'INVITE');
});

t.test('RFC 3261 §17.1.1.2: a 1xx moves Calling to Proceeding, stops Timer A, and Timer B no longer applies', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  const d = recorder();
  const invite = buildRequest('INVITE');
  const tx = layer.sendRequest(invite, udpTarget(), d);
  clock.advance(600); // one retransmission at 500
  recv(layer, respond(invite, 100));
  recv(layer, respond(invite, 180));
  t.equal(tx.state, TransactionState.Proceeding);
  t.same(d.provisional.map((r) => r.status), [100, 180], 'each provisional is passed to the TU');
  clock.advance(120_000);
  t.equal(sender.requests('INVITE').length, 2, 'no retransmission in Proceeding');
  t.equal(d.timeouts, 0, 'no Timer B timeout in Proceeding');
  t.equal(tx.state, TransactionState.Proceeding);
});

t.test('RFC 3261 §17.1.1.2/§17.1.1.3: a 3xx-6xx gives Completed, one ACK built from the INVITE, retransmitted finals re-ACKed, Timer D = 32 s', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  const d = recorder();
  // As a proxy would send it: our Via on top of the UAC's, and a Route set.
  const invite = buildRequest('INVITE', {
    seq: 17,
    extraHeaders: [['Via', 'SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKuac'], ['Route', '<sip:pcscf.example.com;lr>, <sip:scscf.example.com;lr>']],
  });
  const target = udpTarget(5999);
  const tx = layer.sendRequest(invite, target, d);
  recv(layer, respond(invite, 180));
  recv(layer, respond(invite, 486, 'busy-tag'));
  t.equal(tx.state, TransactionState.Completed);
  t.same(d.finals.map((r) => r.status), [486]);

  const acks = sender.requests('ACK');
  t.equal(acks.length, 1);
  const ackRecord = acks[0];
  if (!ackRecord || ackRecord.message.kind !== 'request') throw new Error('no ACK');
  const ack: SipRequest = ackRecord.message;
  t.same(ackRecord.target, target, 'sent where the INVITE went');
  t.same(ack.uri, invite.uri, 'same Request-URI');
  t.equal(vias(ack).length, 1, 'a single Via');
  t.equal(topVia(ack).branch, topVia(invite).branch, 'equal to the top Via of the INVITE');
  t.same(cseq(ack), { seq: 17, method: 'ACK' });
  t.equal(getHeader(ack, 'Call-ID'), getHeader(invite, 'Call-ID'));
  t.equal(getHeader(ack, 'From'), getHeader(invite, 'From'));
  t.equal(tagOf(to(ack)), 'busy-tag', 'To carries the tag of the response');
  t.same(getHeaders(ack, 'Route'), getHeaders(invite, 'Route'), 'the Route set of the INVITE');
  t.equal(ack.body.length, 0);

  recv(layer, respond(invite, 486, 'busy-tag'));
  t.equal(sender.requests('ACK').length, 2, 'a retransmitted final is answered with the ACK again');
  t.equal(d.finals.length, 1, '...and not passed to the TU');
  clock.advance(31_999);
  t.equal(tx.state, TransactionState.Completed);
  clock.advance(1);
  t.equal(tx.state, TransactionState.Terminated, 'Timer D fired at 32 s');
});

t.test('RFC 6026 §8.4: a 2xx gives Accepted; later 2xx (retransmissions and forks) go to the TU until Timer M = 64*T1', async (t) => {
  const stray: SipResponse[] = [];
  const { layer, clock, sender } = layerUnderTest({ onStrayResponse: (r) => { stray.push(r); } });
  const d = recorder();
  const invite = buildRequest('INVITE');
  const tx = layer.sendRequest(invite, udpTarget(), d);
  recv(layer, respond(invite, 200, 'fork-1'));
  t.equal(tx.state, TransactionState.Accepted);
  t.equal(sender.requests('ACK').length, 0, 'the TU, not the transaction, ACKs a 2xx (§13.2.2.4)');
  recv(layer, respond(invite, 200, 'fork-1'));
  recv(layer, respond(invite, 200, 'fork-2'));
  t.same(d.finals.map((r) => tagOf(to(r))), ['fork-1', 'fork-1', 'fork-2']);
  recv(layer, respond(invite, 486, 'late'));
  t.equal(d.finals.length, 3, 'a non-2xx in Accepted is discarded');
  clock.advance(500);
  t.equal(sender.requests('INVITE').length, 1, 'no Timer A in Accepted');
  clock.advance(31_499);
  t.equal(tx.state, TransactionState.Accepted);
  clock.advance(1);
  t.equal(tx.state, TransactionState.Terminated, 'Timer M fired at 64*T1');
  recv(layer, respond(invite, 200, 'fork-1'));
  t.equal(stray.length, 1, 'after Timer M a 2xx is a stray response');
});

t.test('RFC 3261 §17.1.1.2: on a reliable transport no Timer A and Timer D = 0', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  const d = recorder();
  const invite = buildRequest('INVITE', { viaTransport: 'TCP' });
  const tx = layer.sendRequest(invite, tcpTarget(), d);
  clock.advance(31_999);
  t.equal(sender.requests('INVITE').length, 1, 'never retransmitted');
  recv(layer, respond(invite, 603));
  t.equal(sender.requests('ACK').length, 1);
  t.equal(tx.state, TransactionState.Terminated, 'Timer D = 0: Terminated at once');
  t.equal(clock.pending, 0);
});

t.test('RFC 3261 §17.1.1.2: Timer B still times out a reliable INVITE that gets no answer', async (t) => {
  const { layer, clock } = layerUnderTest();
  const d = recorder();
  layer.sendRequest(buildRequest('INVITE', { viaTransport: 'TCP' }), tcpTarget(), d);
  clock.advance(32_000);
  t.equal(d.timeouts, 1);
});

t.test('RFC 3261 §17.1.1.2/§8.1.3.1: a transport error ends the transaction and is reported (503 without a handler)', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  sender.failing = true;
  const withHandler = recorder();
  const tx1 = layer.sendRequest(buildRequest('INVITE'), udpTarget(), withHandler);
  const bare = { finals: [] as SipResponse[], onFinal(r: SipResponse) { bare.finals.push(r); } };
  const tx2 = layer.sendRequest(buildRequest('INVITE'), udpTarget(), bare);
  await flush();
  t.equal(withHandler.transportErrors.length, 1);
  t.equal(withHandler.transportErrors[0]?.code, 'EPC_ERR_SIP_TRANSPORT');
  t.match(withHandler.transportErrors[0]?.message, /ECONNREFUSED/);
  t.equal(withHandler.finals.length, 0, 'onTransportError replaces the synthetic response');
  t.same(bare.finals.map((r) => r.status), [503], 'treated as a 503');
  t.equal(tx1.state, TransactionState.Terminated);
  t.equal(tx2.state, TransactionState.Terminated);
  t.equal(clock.pending, 0, 'Timers A and B cancelled');
  t.equal(layer.clientTransactionCount, 0);
});

t.test('RFC 3261 §17.1.1.2: a sender that throws synchronously is a transport error too', async (t) => {
  const clock = new FakeClock();
  const layer = new TransactionLayer({ sender: { send: () => { throw new Error('EPIPE'); } }, clock, onRequest: () => {} });
  const d = recorder();
  const tx = layer.sendRequest(buildRequest('INVITE'), udpTarget(), d);
  await flush();
  t.match(d.transportErrors[0]?.message, /EPIPE/);
  t.equal(tx.state, TransactionState.Terminated);
  t.equal(clock.pending, 0);
});
