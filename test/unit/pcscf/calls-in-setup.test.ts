// Issue #15 / R-AGW-4: the INVITE transactions of calls in setup, by media leg: only those still
// without a final response are handed out, and the table sweeps what ended as it grows.
import t from 'tap';
import type { ServerTransaction } from '../../../core/sip/transaction/index.js';
import { CallsInSetup } from '../../../core/pcscf/calls-in-setup.js';
import { buildRequest, layerUnderTest, respond, sourceFrom } from '../../support/transaction-harness.js';

function invites(count: number): ServerTransaction[] {
  const seen: ServerTransaction[] = [];
  const { layer } = layerUnderTest({ onRequest: (_r, tx) => seen.push(tx) });
  for (let i = 0; i < count; i++) layer.receive({ message: buildRequest('INVITE', { callId: `call-${i}` }), source: sourceFrom('udp') });
  return seen;
}

t.test('RFC 3261 §17.2.1: a leg\'s attempts still in Proceeding are taken once; one that got its final is not', async (t) => {
  const table = new CallsInSetup();
  const [ringing, answered] = invites(2) as [ServerTransaction, ServerTransaction];
  table.opened('leg-1', ringing);
  table.opened('leg-1', answered);
  answered.respond(respond(answered.request, 200));
  t.same(table.take('leg-1'), [ringing], 'only the INVITE without a final');
  t.same(table.take('leg-1'), [], 'taken once');
  t.same(table.take('unknown'), []);
});

t.test('the table does not grow with calls that ended: swept as it passes its threshold', async (t) => {
  const table = new CallsInSetup();
  const all = invites(600);
  for (const [i, tx] of all.entries()) {
    table.opened(`leg-${i}`, tx);
    if (i % 100 !== 0) tx.respond(respond(tx.request, 486));
  }
  t.ok(table.size < 300, `ended attempts were swept (${table.size} left of 600)`);
  t.same(table.take('leg-500'), [all[500]], 'an attempt still ringing is kept');
});
