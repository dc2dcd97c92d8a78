// Issue #15 "a terminating or in-dialog request that reaches a node that does not hold the flow is
// forwarded to the node that does", for the CANCEL (RFC 3261 §9.1: same Request-URI, Via branch
// and Route as its INVITE) and the ACK of a non-2xx: with Mw dispatched per request over the
// nodes (DNS SRV, round robin on cluster.mwUri), they may reach another node than their INVITE.
import t from 'tap';
import type { Pcscf } from '../../core/pcscf/index.js';
import { createResponse, getHeader, getHeaders, vias, type SipMessage, type SipRequest, type SipResponse } from '../../core/sip/index.js';
import { createAckForNonSuccess, createCancel } from '../../core/sip/transaction/index.js';
import type { FakeWic } from '../support/pcscf-rig.js';
import { registerOn, terminatingInvite, twoNodeCluster } from '../support/cluster-rig.js';

const at = (port: number) => ({ host: '127.0.0.1', port });
const isRequest = (method: string) => (m: SipMessage): boolean => m.kind === 'request' && m.method === method;
const topBranch = (m: SipMessage): string | undefined => vias(m)[0]?.branch;
/** The top Via branches of the ACKs the WIC got in call `callId`. */
const acksAt = (wic: FakeWic, callId: string): (string | undefined)[] =>
  wic.received.filter((m) => isRequest('ACK')(m) && getHeader(m, 'Call-ID') === callId).map(topBranch);

/** The WIC on `holder` rings for `invite` (sent by the core to `via`): returns the INVITE as the WIC got it. */
async function ringing(core: Awaited<ReturnType<typeof twoNodeCluster>>['core'], holder: Pcscf, wic: FakeWic, invite: SipRequest, via: number): Promise<SipRequest> {
  core.send(invite, at(via));
  const atWic = await wic.next<SipRequest>(isRequest('INVITE'));
  await holder.fromClient(wic.connection.id, createResponse(atWic, 180, 'Ringing', { toTag: 'w1' }));
  await core.response(180, 'INVITE');
  return atWic;
}

/** The WIC answers the CANCEL it got 200 and its INVITE 487 (RFC 3261 §9.2); returns the 487 the core got. */
async function wicCancels(core: Awaited<ReturnType<typeof twoNodeCluster>>['core'], holder: Pcscf, wic: FakeWic, atWic: SipRequest): Promise<{ ok: SipResponse; terminated: SipResponse }> {
  const cancel = await wic.next<SipRequest>(isRequest('CANCEL'));
  await holder.fromClient(wic.connection.id, createResponse(cancel, 200, 'OK'));
  await holder.fromClient(wic.connection.id, createResponse(atWic, 487, 'Request Terminated', { toTag: 'w1' }));
  return { ok: await core.response(200, 'CANCEL'), terminated: await core.response(487, 'INVITE') };
}

t.test('RFC 3261 §9.2/§16.10 in a cluster: the INVITE went through node A to the WIC on B, its CANCEL reaches B directly → B cancels its branch to the WIC, answers 200 itself, the IMS gets 487', async (t) => {
  const { core, b, portA, portB } = await twoNodeCluster(t);
  const { wic, path } = await registerOn(b, 'conn-b', core);
  const invite = terminatingInvite(core, path, 'cc-1');
  const atWic = await ringing(core, b, wic, invite, portA);
  t.ok(getHeaders(atWic, 'Via').some((v) => v.includes(`:${portA}`)), 'the INVITE crossed the cluster hop A → B');

  core.send(createCancel(invite), at(portB));
  const { ok, terminated } = await wicCancels(core, b, wic, atWic);
  t.equal(ok.status, 200, 'the IMS\'s CANCEL is answered 200 (hop by hop, RFC 3261 §16.10), not 481');
  t.equal(getHeaders(ok, 'Via').length, 1, 'by B itself: only the IMS\'s own Via on it');
  t.equal(terminated.status, 487, 'the INVITE ends 487 Request Terminated, through A');
  t.equal(getHeaders(terminated, 'Via').length, 1);
  core.send(createAckForNonSuccess(invite, terminated), at(portA));
  t.same(await b.dialogs.all(), [], 'no dialog left in the shared store');
});

t.test('RFC 3261 §16.10 in a cluster: the INVITE reached the WIC\'s node B directly, its CANCEL reaches node A (no transaction, no flow there) → A forwards it to B, the WIC is cancelled, the IMS gets 200 and 487', async (t) => {
  const { core, a, b, portA, portB } = await twoNodeCluster(t);
  const { wic, path } = await registerOn(b, 'conn-b', core);
  const invite = terminatingInvite(core, path, 'cc-2');
  const atWic = await ringing(core, b, wic, invite, portB);
  t.notOk(getHeaders(atWic, 'Via').some((v) => v.includes(`:${portA}`)), 'the INVITE never went through A');

  core.send(createCancel(invite), at(portA));
  const { ok, terminated } = await wicCancels(core, b, wic, atWic);
  t.equal(ok.status, 200, 'the CANCEL reached B through A and B\'s 200 came back (A keeps no INVITE context, RFC 3261 §16.10)');
  t.equal(getHeaders(ok, 'Via').length, 1, 'A\'s Via popped on the way back');
  t.equal(terminated.status, 487);
  core.send(createAckForNonSuccess(invite, terminated), at(portB));
  t.same(await a.dialogs.all(), [], 'no dialog left in the shared store');
});

t.test('RFC 3261 §16.10: a CANCEL that reaches the node that forwarded the INVITE is answered there and propagated along the branch (A → B → WIC)', async (t) => {
  const { core, b, portA } = await twoNodeCluster(t);
  const { wic, path } = await registerOn(b, 'conn-b', core);
  const invite = terminatingInvite(core, path, 'cc-3');
  const atWic = await ringing(core, b, wic, invite, portA);
  core.send(createCancel(invite), at(portA));
  const { ok, terminated } = await wicCancels(core, b, wic, atWic);
  t.equal(ok.status, 200);
  t.equal(terminated.status, 487);
});

t.test('RFC 3261 §17.1.1.3 in a cluster: the ACK of a 487 that reaches another node than its INVITE is absorbed by the INVITE transaction: never relayed to the WIC, and the 487 is no longer retransmitted', async (t) => {
  const { core, b, portA, portB } = await twoNodeCluster(t);
  const { wic, path } = await registerOn(b, 'conn-b', core);
  const invite = terminatingInvite(core, path, 'cc-4');
  const atWic = await ringing(core, b, wic, invite, portB);
  core.send(createCancel(invite), at(portB));
  const { terminated } = await wicCancels(core, b, wic, atWic);
  core.send(createAckForNonSuccess(invite, terminated), at(portA));
  // Timer G (T1 = 500 ms, doubling) would retransmit the 487 at +0.5 s and +1.5 s without the ACK.
  await new Promise((r) => setTimeout(r, 2200));
  const retransmitted = core.received.filter((m) => m.kind === 'response' && m.status === 487).length;
  t.ok(retransmitted <= 1, `the 487 stopped being retransmitted (${retransmitted} copies after the ACK)`);
  t.same(acksAt(wic, 'cc-4'), [topBranch(atWic)], 'the WIC sees only the ACK of its own 487 from B\'s client transaction (RFC 3261 §17.1.1.3), never the IMS\'s');

  // The same with the INVITE through A and the ACK at B, the WIC's node (its transaction there came from A).
  const second = terminatingInvite(core, path, 'cc-5');
  const atWic2 = await ringing(core, b, wic, second, portA);
  core.send(createCancel(second), at(portA));
  const { terminated: terminated2 } = await wicCancels(core, b, wic, atWic2);
  core.send(createAckForNonSuccess(second, terminated2), at(portB));
  await new Promise((r) => setTimeout(r, 300));
  t.same(acksAt(wic, 'cc-5'), [topBranch(atWic2)], 'nor when the ACK reaches the WIC\'s node directly');
});

t.test('RFC 3261 §16.10/§16.11 stateless behaviour in a cluster: a CANCEL no node has a transaction for gets 481, also after a cluster hop (never forwarded twice); an ACK for a flow no node holds is absorbed', async (t) => {
  const { core, b, portA, portB } = await twoNodeCluster(t);
  const { path } = await registerOn(b, 'conn-b', core);
  const token = /<sip:([^@]+)@/.exec(path)?.[1] ?? '';

  const stray = terminatingInvite(core, path, 'cc-6');
  core.send(createCancel(stray), at(portA));
  t.equal((await core.response(481, 'CANCEL')).reason, 'Call/Transaction Does Not Exist', 'A forwards it to B, B has no such INVITE: 481 comes back');

  const hopped = createCancel(terminatingInvite(core, `<sip:${token}@127.0.0.1:${portB};lr;ob;cluster-hop>`, 'cc-7'));
  core.send(hopped, at(portB));
  t.equal((await core.response(481, 'CANCEL')).status, 481, 'a CANCEL that already crossed a hop is answered 481 where it is');

  await b.sessionClosed('conn-b', { code: 1000, reason: 'bye' } as never);
  const gone = terminatingInvite(core, path, 'cc-8');
  core.send(createCancel(gone), at(portA));
  t.equal((await core.response(481, 'CANCEL')).status, 481, 'the flow is gone everywhere: 481 at once');
  core.send(createAckForNonSuccess(gone, createResponse(gone, 487, 'Request Terminated', { toTag: 'x' })), at(portA));
  core.send(createAckForNonSuccess(gone, createResponse(gone, 487, 'Request Terminated', { toTag: 'x' })), at(portB));
  await new Promise((r) => setTimeout(r, 300));
  t.same(core.received.filter((m) => m.kind === 'request' && m.method === 'ACK'), [], 'the ACKs were absorbed, not bounced back to the core or between nodes');
});
