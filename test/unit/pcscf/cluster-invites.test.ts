// Issue #15: a cluster node finds its INVITE server transactions by the IMS's own Via (RFC 3261
// §9.2, §17.2.3), below the one cluster hop a request may cross, and forgets them when they end.
import t from 'tap';
import { addHeader, getHeaders, type SipRequest } from '../../../core/sip/index.js';
import { createAckForNonSuccess, createCancel, TransactionState, type ServerTransaction } from '../../../core/sip/transaction/index.js';
import { ClusterInvites } from '../../../core/pcscf/cluster/cluster-invites.js';
import { buildRequest, layerUnderTest, respond, sourceFrom } from '../../support/transaction-harness.js';

const HOP_VIA = 'SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKhop-of-node-b';

/** The request as another node forwarded it across the cluster hop: its Via on top. */
const hopped = (request: SipRequest): SipRequest => addHeader(request, 'Via', HOP_VIA, { first: true });

function rig() {
  const invites = new ClusterInvites();
  const seen: ServerTransaction[] = [];
  const { layer, clock } = layerUnderTest({ onRequest: (_r, tx) => seen.push(tx), onServerTransactionEnded: (tx) => invites.ended(tx) });
  return { invites, seen, layer, clock };
}

t.test('RFC 3261 §9.2 across a cluster hop: an INVITE that came through another node is found by the CANCEL the IMS sent directly, and the other way round', async (t) => {
  const { invites, seen, layer } = rig();
  const invite = buildRequest('INVITE');
  layer.receive({ message: hopped(invite), source: sourceFrom('udp') });
  invites.note(seen[0]!, true);
  t.equal(invites.find(createCancel(invite), false), seen[0], 'the IMS\'s CANCEL, received directly, finds the INVITE that crossed the hop');
  t.equal(invites.find(hopped(createCancel(invite)), true), seen[0], 'and a CANCEL that crossed a hop finds it too');
  t.equal(invites.find(createCancel(buildRequest('INVITE')), false), undefined, 'another branch finds nothing');

  const direct = buildRequest('INVITE', { callId: 'call-2' });
  layer.receive({ message: direct, source: sourceFrom('udp') });
  invites.note(seen[1]!, false);
  t.equal(invites.find(hopped(createCancel(direct)), true), seen[1], 'an INVITE received directly is found by a CANCEL forwarded by another node');
  t.equal(getHeaders(hopped(createCancel(direct)), 'Via').length, 2);
  t.equal(invites.size, 2);
  invites.note(seen[1]!, false);
  t.equal(invites.size, 2, 'noting the same transaction again adds nothing');
});

t.test('RFC 3261 §17.2.1: the ACK of a non-2xx is absorbed by its INVITE transaction (Completed → Confirmed) and the index forgets it when the transaction ends; an ACK of a 2xx is never absorbed', async (t) => {
  const { invites, seen, layer, clock } = rig();
  const invite = buildRequest('INVITE');
  layer.receive({ message: hopped(invite), source: sourceFrom('udp') });
  const tx = seen[0]!;
  invites.note(tx, true);
  t.notOk(invites.absorbAck(createAckForNonSuccess(invite, respond(invite, 487)), false), 'nothing to absorb while the INVITE is pending (Proceeding)');
  const final = respond(tx.request, 487);
  tx.respond(final);
  t.equal(tx.state, TransactionState.Completed);
  t.ok(invites.absorbAck(createAckForNonSuccess(invite, final), false), 'the IMS\'s ACK, received directly, is absorbed');
  t.equal(tx.state, TransactionState.Confirmed, 'the 487 is no longer retransmitted (Timer G stopped)');
  clock.advance(10_000); // Timer I (T4 on UDP)
  t.equal(invites.size, 0, 'the ended transaction is forgotten');
  t.notOk(invites.absorbAck(createAckForNonSuccess(invite, final), false));

  const accepted = buildRequest('INVITE', { callId: 'call-3' });
  layer.receive({ message: accepted, source: sourceFrom('udp') });
  invites.note(seen[1]!, false);
  seen[1]!.respond(respond(accepted, 200));
  t.notOk(invites.absorbAck(createAckForNonSuccess(accepted, respond(accepted, 200)), false), 'in Accepted an ACK belongs to the TU (RFC 6026 §8.7)');
});
