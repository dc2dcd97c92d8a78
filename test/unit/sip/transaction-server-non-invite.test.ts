import t from 'tap';
import type { SipRequest } from '../../../core/sip/index.js';
import type { EpcError } from '../../../core/errors.js';
import { ServerNonInviteTransaction, TransactionState, type ServerTransaction } from '../../../core/sip/transaction/index.js';
import { RecordingSender, buildRequest, flush, layerUnderTest, respond, sourceFrom } from '../../support/transaction-harness.js';

function uas(timers?: { t1?: number }) {
  const seen: { request: SipRequest; tx: ServerTransaction }[] = [];
  const env = layerUnderTest({ onRequest: (request, tx) => { seen.push({ request, tx }); }, ...(timers ? { timers } : {}) });
  const txAt = (i: number): ServerNonInviteTransaction => {
    const tx = seen[i]?.tx;
    if (!(tx instanceof ServerNonInviteTransaction)) throw new Error('no non-INVITE server transaction');
    return tx;
  };
  return { ...env, seen, txAt };
}

t.test('RFC 3261 §17.2.2: a retransmission is discarded in Trying, answered with the last provisional in Proceeding and the final in Completed; the TU sees the request once', async (t) => {
  const { layer, sender, seen, txAt } = uas();
  const req = buildRequest('REGISTER');
  const receive = () => layer.receive({ message: req, source: sourceFrom('udp') });
  receive();
  const tx = txAt(0);
  t.equal(tx.state, TransactionState.Trying);
  receive();
  t.equal(sender.sent.length, 0, 'Trying: discarded, nothing sent (no 100 Trying for non-INVITE)');
  tx.respond(respond(req, 100));
  t.equal(tx.state, TransactionState.Proceeding);
  receive();
  t.equal(sender.responses(100).length, 2, 'Proceeding: the provisional again');
  tx.respond(respond(req, 401));
  t.equal(tx.state, TransactionState.Completed);
  receive();
  receive();
  t.equal(sender.responses(401).length, 3, 'Completed: the final again for each retransmission');
  t.equal(seen.length, 1);
});

t.test('RFC 3261 §17.2.2: Timer J = 64*T1 on an unreliable transport; later finals from the TU are discarded; no retransmission of its own', async (t) => {
  const { layer, clock, sender, seen, txAt } = uas();
  const req = buildRequest('OPTIONS');
  layer.receive({ message: req, source: sourceFrom('udp') });
  const tx = txAt(0);
  t.ok(tx.respond(respond(req, 200)));
  t.notOk(tx.respond(respond(req, 500)), 'a second final is discarded');
  clock.advance(31_999);
  t.equal(sender.responses().length, 1, 'a non-INVITE final is never retransmitted on a timer');
  t.equal(tx.state, TransactionState.Completed);
  clock.advance(1);
  t.equal(tx.state, TransactionState.Terminated, 'Timer J fired');
  layer.receive({ message: req, source: sourceFrom('udp') });
  t.equal(seen.length, 2, 'after Timer J the same request starts a new transaction');
});

t.test('RFC 3261 §17.2.2: on a reliable transport Timer J = 0', async (t) => {
  const { layer, clock, txAt } = uas();
  const req = buildRequest('MESSAGE', { viaTransport: 'TCP' });
  layer.receive({ message: req, source: sourceFrom('tcp') });
  const tx = txAt(0);
  tx.respond(respond(req, 200));
  t.equal(tx.state, TransactionState.Terminated);
  t.equal(clock.pending, 0);
  t.equal(layer.serverTransactionCount, 0);
});

t.test('RFC 3261 §17.2.2: a transport error informs the TU and terminates', async (t) => {
  const { layer, clock, sender, txAt } = uas();
  const req = buildRequest('BYE');
  layer.receive({ message: req, source: sourceFrom('udp') });
  const tx = txAt(0);
  const errors: EpcError[] = [];
  tx.delegate = { onTransportError: (e) => { errors.push(e); } };
  sender.failing = true;
  tx.respond(respond(req, 200));
  await flush();
  t.equal(errors.length, 1);
  t.equal(tx.state, TransactionState.Terminated);
  t.equal(clock.pending, 0, 'Timer J cancelled');
});

t.test('RFC 3261 §18.2.2 / RFC 3581: UDP responses go to the sent-by port, or the source port when rport was asked', async (t) => {
  const { layer, sender, txAt } = uas();
  const plain = buildRequest('OPTIONS', { sentBy: '192.0.2.10:5099' });
  layer.receive({ message: plain, source: sourceFrom('udp', 33_333) });
  txAt(0).respond(respond(plain, 200));
  t.same(sender.sent[0]?.target, { transport: 'udp', host: '127.0.0.1', port: 5099 }, 'the packet source address (received) with the sent-by port');
  const withRport = buildRequest('OPTIONS', { sentBy: '192.0.2.10:5099', viaParams: ';rport' });
  layer.receive({ message: withRport, source: sourceFrom('udp', 33_333) });
  txAt(1).respond(respond(withRport, 200));
  t.same(sender.sent[1]?.target, { transport: 'udp', host: '127.0.0.1', port: 33_333 });
  const withMaddr = buildRequest('OPTIONS', { sentBy: '192.0.2.10', viaParams: ';maddr=239.1.1.1' });
  layer.receive({ message: withMaddr, source: sourceFrom('udp', 33_333) });
  txAt(2).respond(respond(withMaddr, 200));
  t.same(sender.sent[2]?.target, { transport: 'udp', host: '239.1.1.1', port: 5060 }, 'maddr with the default port');
  t.same(RecordingSender.times(sender.sent), [0, 0, 0]);
});
