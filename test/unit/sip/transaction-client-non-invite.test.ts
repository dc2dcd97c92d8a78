import t from 'tap';
import type { SipResponse } from '../../../core/sip/index.js';
import type { EpcError } from '../../../core/errors.js';
import { TransactionState, type TransactionLayer } from '../../../core/sip/transaction/index.js';
import { RecordingSender, buildRequest, flush, layerUnderTest, respond, sourceFrom, tcpTarget, udpTarget } from '../../support/transaction-harness.js';

function recorder() {
  const r = {
    provisional: [] as number[], finals: [] as number[], timeouts: 0, transportErrors: [] as EpcError[],
    onProvisional(res: SipResponse) { r.provisional.push(res.status); },
    onFinal(res: SipResponse) { r.finals.push(res.status); },
    onTimeout() { r.timeouts++; },
    onTransportError(err: EpcError) { r.transportErrors.push(err); },
  };
  return r;
}

function recv(layer: TransactionLayer, res: SipResponse): void {
  layer.receive({ message: res, source: sourceFrom('udp', 5080) });
}

t.test('RFC 3261 §17.1.2.2: in Trying, Timer E starts at T1 and doubles up to T2; Timer F = 64*T1 times out', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  const d = recorder();
  const tx = layer.sendRequest(buildRequest('OPTIONS'), udpTarget(), d);
  t.equal(tx.state, TransactionState.Trying);
  clock.advance(23_499);
  // Intervals 500, 1000, 2000, then capped at T2 = 4000.
  t.same(RecordingSender.times(sender.requests('OPTIONS')), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500]);
  clock.advance(32_000 - 23_499 - 1);
  t.equal(d.timeouts, 0);
  clock.advance(1);
  t.equal(d.timeouts, 1, 'Timer F fired at 32 s');
  t.equal(tx.state, TransactionState.Terminated);
  t.equal(clock.pending, 0);
});

t.test('RFC 3261 §17.1.2.2: in Proceeding, Timer E retransmits every T2 and Timer F still applies', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  const d = recorder();
  const req = buildRequest('REGISTER');
  const tx = layer.sendRequest(req, udpTarget(), d);
  clock.advance(600); // retransmission at 500, next E due at 1500 (interval 1000)
  recv(layer, respond(req, 100));
  t.equal(tx.state, TransactionState.Proceeding);
  t.same(d.provisional, [100]);
  clock.advance(10_000 - 600);
  t.same(RecordingSender.times(sender.requests('REGISTER')), [0, 500, 1500, 5500, 9500], 'E fires at 1500, then every T2');
  clock.advance(22_000);
  t.equal(d.timeouts, 1, 'a provisional does not stop Timer F');
});

t.test('RFC 3261 §8.1.3.1: a Timer F timeout reaches a TU without onTimeout as a synthetic 408', async (t) => {
  const { layer, clock } = layerUnderTest();
  const finals: SipResponse[] = [];
  layer.sendRequest(buildRequest('MESSAGE'), udpTarget(), { onFinal: (r) => { finals.push(r); } });
  clock.advance(32_000);
  t.same(finals.map((r) => [r.status, r.reason]), [[408, 'Request Timeout']]);
});

t.test('RFC 3261 §17.1.2.2: a final response gives Completed; Timer K = T4 absorbs response retransmissions', async (t) => {
  const stray: SipResponse[] = [];
  const { layer, clock, sender } = layerUnderTest({ onStrayResponse: (r) => { stray.push(r); } });
  const d = recorder();
  const req = buildRequest('MESSAGE');
  const tx = layer.sendRequest(req, udpTarget(), d);
  recv(layer, respond(req, 202));
  t.equal(tx.state, TransactionState.Completed);
  recv(layer, respond(req, 202));
  recv(layer, respond(req, 180));
  t.same(d.finals, [202], 'the final is passed up once');
  t.same(d.provisional, [], 'nothing else is passed up in Completed');
  clock.advance(10_000);
  t.equal(sender.requests('MESSAGE').length, 1, 'no Timer E in Completed');
  t.equal(tx.state, TransactionState.Terminated, 'Timer K (T4 = 5 s) has fired');
  t.equal(stray.length, 0);
  recv(layer, respond(req, 202));
  t.equal(stray.length, 1, 'after Timer K a retransmission is stray');
});

t.test('RFC 3261 §17.1.2.2: Timer K is exactly T4 on an unreliable transport', async (t) => {
  const { layer, clock } = layerUnderTest({ timers: { t4: 3000 } });
  const req = buildRequest('BYE');
  const tx = layer.sendRequest(req, udpTarget(), recorder());
  recv(layer, respond(req, 200));
  clock.advance(2999);
  t.equal(tx.state, TransactionState.Completed);
  clock.advance(1);
  t.equal(tx.state, TransactionState.Terminated);
});

t.test('RFC 3261 §17.1.2.2: on a reliable transport no Timer E and Timer K = 0', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  const d = recorder();
  const req = buildRequest('SUBSCRIBE', { viaTransport: 'TCP' });
  const tx = layer.sendRequest(req, tcpTarget(), d);
  clock.advance(31_000);
  t.equal(sender.requests('SUBSCRIBE').length, 1, 'never retransmitted');
  recv(layer, respond(req, 200));
  t.equal(tx.state, TransactionState.Terminated, 'Terminated at once');
  t.same(d.finals, [200]);
  t.equal(clock.pending, 0);
});

t.test('RFC 3261 §17.1.2.2/§8.1.3.1: a transport error ends the transaction, reported as a 503 without a handler', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  const finals: SipResponse[] = [];
  const tx = layer.sendRequest(buildRequest('OPTIONS'), udpTarget(), { onFinal: (r) => { finals.push(r); } });
  t.equal(finals.length, 0);
  sender.failing = true;
  clock.advance(500); // the retransmission fails
  await flush();
  t.same(finals.map((r) => r.status), [503]);
  t.equal(tx.state, TransactionState.Terminated);
  t.equal(clock.pending, 0);
});

t.test('RFC 3261 §17.1.2.2: timer values follow a configured T1/T2 (T1 = 100 ms, T2 = 300 ms)', async (t) => {
  const { layer, clock, sender } = layerUnderTest({ timers: { t1: 100, t2: 300 } });
  const d = recorder();
  layer.sendRequest(buildRequest('OPTIONS'), udpTarget(), d);
  clock.advance(1000);
  t.same(RecordingSender.times(sender.requests('OPTIONS')), [0, 100, 300, 600, 900]);
  clock.advance(64 * 100 - 1000);
  t.equal(d.timeouts, 1, 'Timer F = 64*T1 = 6.4 s');
});

t.test('RFC 3261 §17.1.2.2: Completed only absorbs, so it keeps the request identity (request line, top Via, CSeq: §17.1.3) and hears nothing more', async (t) => {
  const { layer, clock, sender } = layerUnderTest();
  const d = recorder();
  const req = buildRequest('REGISTER', { extraHeaders: [['Via', 'SIP/2.0/WS a.invalid;branch=z9hG4bKclient'], ['Path', '<sip:p@127.0.0.1;lr>']] });
  const tx = layer.sendRequest({ ...req, body: new Uint8Array([1, 2, 3]) }, udpTarget(), d);
  t.equal(tx.request.headers.length, 9, 'in Trying the whole request is there');
  recv(layer, respond(req, 200));
  t.equal(tx.state, TransactionState.Completed);
  t.same(tx.request.headers.map((h) => h.name), ['Via', 'CSeq'], 'only the identity, one Via');
  t.equal(tx.request.headers[0]?.value, req.headers[0]?.value, 'the top Via is this hop');
  t.equal(tx.request.method, 'REGISTER');
  t.equal(tx.request.body.length, 0);
  sender.failing = true;
  recv(layer, respond(req, 200));
  await flush();
  t.same(d.finals, [200], 'a retransmitted final is absorbed');
  t.same(d.transportErrors, [], 'no TU callback after the final');
  clock.advance(5_000);
  t.equal(tx.state, TransactionState.Terminated);
});

t.test('RFC 3261 §17.1.2.2: on a reliable transport the transaction ends with its request whole (no Completed state)', async (t) => {
  const { layer } = layerUnderTest();
  const req = buildRequest('MESSAGE', { viaTransport: 'TCP' });
  const tx = layer.sendRequest(req, tcpTarget(), recorder());
  recv(layer, respond(req, 200));
  t.equal(tx.state, TransactionState.Terminated);
  t.equal(tx.request, req);
});
