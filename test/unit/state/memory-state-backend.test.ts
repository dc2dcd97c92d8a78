// core/state: the memory StateBackend (issue #15): flow and node directories, media legs and
// namespaced TTL stores behave as the StateBackend contract says, on a fake clock.
import t from 'tap';
import { MemoryStateBackend } from '../../../core/state/memory-state-backend.js';

function backend(): { state: MemoryStateBackend; advance: (ms: number) => void } {
  let now = 1_000_000;
  return { state: new MemoryStateBackend({ now: () => now }), advance: (ms) => { now += ms; } };
}

t.test('the flow directory names the node holding a flow; only the holder releases it; claims expire', async (t) => {
  const { state, advance } = backend();
  await state.flows.claim('a/1', 'a', 10_000);
  await state.flows.claim('a/2', 'a', 10_000);
  t.equal(await state.flows.holder('a/1'), 'a');
  t.same((await state.flows.heldBy('a')).sort(), ['a/1', 'a/2']);
  await state.flows.claim('a/2', 'b', 10_000); // b adopted it
  await state.flows.release('a/2', 'a');
  t.equal(await state.flows.holder('a/2'), 'b', 'a release by a former holder leaves a later claim alone');
  await state.flows.release('a/2', 'b');
  t.equal(await state.flows.holder('a/2'), undefined);
  advance(10_001);
  t.equal(await state.flows.holder('a/1'), undefined, 'an unrefreshed claim expires');
  t.same(await state.flows.heldBy('a'), []);
});

t.test('the node directory: live while heartbeating, dead once the heartbeat expires, one cleanup winner, forget', async (t) => {
  const { state, advance } = backend();
  const a = { nodeId: 'a', mwContact: 'sip:127.0.0.1:5060', startedAt: 1 };
  const b = { nodeId: 'b', mwContact: 'sip:127.0.0.1:5062', startedAt: 2 };
  await state.nodes.heartbeat(a, 3000);
  await state.nodes.heartbeat(b, 3000);
  await state.flows.claim('b/1', 'b', 60_000);
  t.same((await state.nodes.live()).map((n) => n.nodeId).sort(), ['a', 'b']);
  t.same(await state.nodes.get('b'), b);
  t.same(await state.nodes.dead(), []);
  advance(2000);
  await state.nodes.heartbeat(a, 3000);
  advance(1500); // b missed its beats
  t.same((await state.nodes.live()).map((n) => n.nodeId), ['a']);
  t.equal(await state.nodes.get('b'), undefined);
  t.same(await state.nodes.dead(), ['b'], 'b stopped heartbeating while holding a flow');
  t.equal(await state.nodes.claimCleanup('b', 'a', 5000), true, 'the first survivor wins the cleanup');
  t.equal(await state.nodes.claimCleanup('b', 'c', 5000), false, 'another one does not');
  t.equal(await state.nodes.claimCleanup('b', 'a', 5000), false, 'nor does the winner twice (SET NX semantics)');
  advance(5001);
  t.equal(await state.nodes.claimCleanup('b', 'c', 5000), true, 'an abandoned cleanup is taken over once its claim expires');
  await state.nodes.heartbeat(a, 3000);
  await state.flows.release('b/1', 'b');
  await state.nodes.forget('b');
  t.same(await state.nodes.dead(), [], 'a forgotten node is no longer dead');
});

t.test('a node that holds flows but never heartbeated (its record is gone) counts as dead', async (t) => {
  const { state } = backend();
  await state.flows.claim('x/1', 'x', 60_000);
  await state.mediaLegs.put({ ngCallId: 'c1', nodeId: 'y', gateway: 'in-process', createdAt: 0 });
  t.same((await state.nodes.dead()).sort(), ['x', 'y']);
});

t.test('media legs are found by node and by gateway', async (t) => {
  const { state } = backend();
  await state.mediaLegs.put({ ngCallId: 'c1', nodeId: 'a', gateway: 'udp:10.0.0.1:2223', createdAt: 1 });
  await state.mediaLegs.put({ ngCallId: 'c2', nodeId: 'b', gateway: 'udp:10.0.0.1:2223', createdAt: 2 });
  await state.mediaLegs.put({ ngCallId: 'c3', nodeId: 'a', gateway: 'in-process', createdAt: 3 });
  t.same((await state.mediaLegs.byNode('a')).map((l) => l.ngCallId), ['c1', 'c3']);
  t.same((await state.mediaLegs.byGateway('udp:10.0.0.1:2223')).map((l) => l.ngCallId), ['c1', 'c2']);
  await state.mediaLegs.remove('c1');
  t.same((await state.mediaLegs.byNode('a')).map((l) => l.ngCallId), ['c3']);
});

t.test('namespaced TTL stores: separate namespaces, expiry, take is single-use', async (t) => {
  const { state, advance } = backend();
  const jsonrpc = state.namespace('jsonrpc-ws');
  const xmpp = state.namespace('xmpp-ws');
  t.equal(state.namespace('jsonrpc-ws'), jsonrpc, 'one store per namespace');
  await jsonrpc.set('k', 'v1', 1000);
  await xmpp.set('k', 'v2', 1000);
  t.equal(await jsonrpc.get('k'), 'v1');
  t.equal(await xmpp.get('k'), 'v2', 'keys of two namespaces never collide');
  t.equal(await jsonrpc.take('k'), 'v1');
  t.equal(await jsonrpc.take('k'), undefined, 'a second take gets nothing');
  advance(1001);
  t.equal(await xmpp.get('k'), undefined, 'expired');
  await xmpp.set('d', 'x', 1000);
  await xmpp.delete('d');
  t.equal(await xmpp.get('d'), undefined);
});

t.test('memory is the default kind, always healthy, and closes idempotently', async (t) => {
  const { state } = backend();
  t.equal(state.kind, 'memory');
  t.same(state.health(), { ok: true });
  await state.close();
  await state.close();
  await state.registrations.put({
    id: 'a/1 sip:alice@ims.test sip:x@y', aor: 'sip:alice@ims.test', flowKey: 'a/1', contact: '<sip:x@y>', contactUri: 'sip:x@y',
    outbound: false, serviceRoute: [], associatedUris: [], expiresAt: Number.MAX_SAFE_INTEGER, registeredBy: 'client',
  });
  t.equal((await state.registrations.byFlow('a/1')).length, 1, 'the registration store is the existing memory one');
});
