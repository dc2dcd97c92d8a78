// Issue #15 "Faults" with real peers: two epcscf nodes (two processes) share a real redis-server,
// one flow secret and one Mw URI, in front of Kamailio (the IMS core). A JSON-RPC client (alice)
// registers through node A (digest with Kamailio). Node A dies (SIGKILL) or stops (SIGTERM): alice
// connects to node B and resumes with her token; she is registered again without a REGISTER
// reaching Kamailio (counted from Kamailio's own log: its config logs every request it gets),
// and a MESSAGE and a call from bob (on node B) reach her through Kamailio: B adopted the virtual UE's
// binding from Redis and her old flow token (in Kamailio's Path) now leads to her new connection.
// How Kamailio reaches both nodes without DNS: cluster.mwUri = node B's Mw address (B, the
// survivor, forwards to A what belongs to A's flows while A lives; core/pcscf/cluster/).
import t, { type Test } from 'tap';
import { RedisStateBackend } from '../../core/state/redis/index.js';
import { startImsCore, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { startEpcscfNode, type EpcscfNode } from '../support/peers/epcscf-node.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startRedis, type RedisPeer } from '../support/peers/redis.js';

const HEARTBEAT_SECONDS = 1;
/** Signalling only (media.mode off on the nodes): the SDP crosses untouched. */
const PLAIN_OFFER = [
  'v=0', 'o=- 20518 0 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 40000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', '',
].join('\r\n');
const FLOW_SECRET = 'cluster-failover-flow-secret-32-chars-long';

interface TwoNodes { readonly redis: RedisPeer; readonly core: ImsCoreStandIn; readonly a: EpcscfNode; readonly b: EpcscfNode }

async function twoNodes(t: Test): Promise<TwoNodes> {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const mwB = await allocatePort();
  t.teardown(() => releasePort(mwB));
  const cluster = { mwUri: `sip:127.0.0.1:${mwB}`, flowSecret: FLOW_SECRET, heartbeatSeconds: HEARTBEAT_SECONDS, redis: { url: redis.url } };
  const plugins = [{ name: 'jsonrpc-ws' }];
  const [a, b] = await Promise.all([
    startEpcscfNode({ nodeId: 'node-a', nextHop: core.uri('udp'), cluster, plugins }),
    startEpcscfNode({ nodeId: 'node-b', mwPort: mwB, nextHop: core.uri('udp'), cluster, plugins }),
  ]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  return { redis, core, a, b };
}

/** REGISTERs Kamailio received, as its config logs them (`REQ REGISTER sip:… from ip:port`). */
function registersAtIms(core: ImsCoreStandIn): number {
  return core.output().split('\n').filter((line) => /REQ REGISTER /.test(line)).length;
}

async function rpcClient(t: Test, node: EpcscfNode): Promise<RpcWsClient> {
  const client = await RpcWsClient.connect(`${node.baseUrl}/jsonrpc`);
  t.teardown(() => client.close());
  return client;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Until node A's heartbeat has lapsed in Redis (3 beats after its death) and the survivor's sweep
 * has cleaned it up (it is forgotten: no longer among the dead): the sweep kept alice's binding.
 */
async function untilSweptAway(redis: RedisPeer, nodeId: string, withinMs: number): Promise<void> {
  const state = await RedisStateBackend.connect({ url: redis.url, keyPrefix: 'epcscf:', commandTimeoutMs: 1000, dialogTtlMs: 60_000 });
  try {
    const deadline = Date.now() + withinMs;
    while (await state.nodes.get(nodeId) !== undefined || (await state.nodes.dead()).includes(nodeId)) {
      if (Date.now() > deadline) throw new Error(`${nodeId} not cleaned up after ${withinMs} ms`);
      await sleep(200);
    }
  } finally {
    await state.close();
  }
}

/** alice registers on A, bob on B; returns alice's resume token with the REGISTER count at the IMS. */
async function registered(t: Test, nodes: TwoNodes): Promise<{ alice: RpcWsClient; bob: RpcWsClient; resumeToken: string; instanceId: unknown }> {
  const alice = await rpcClient(t, nodes.a);
  const result = await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  t.equal(result['state'], 'registered', 'alice registered through node A (digest with Kamailio)');
  const bob = await rpcClient(t, nodes.b);
  t.equal((await bob.request('session.register', { impu: 'sip:bob@ims.test', password: 'secret' }))['state'], 'registered', 'bob registered through node B');
  // Reachable before the fault: Kamailio → Path (B's mwUri) → B forwards to A, which holds alice's flow.
  await bob.request('message.send', { to: 'sip:alice@ims.test', body: 'before' });
  await alice.notification('message.received', (p) => p['body'] === 'before');
  return { alice, bob, resumeToken: String(result['resumeToken']), instanceId: result['instanceId'] };
}

/** On node B: session.resume → registered, nothing new at the IMS, and bob's MESSAGE reaches alice there. */
async function resumeOnB(t: Test, nodes: TwoNodes, bob: RpcWsClient, resumeToken: string, instanceId: unknown, registersBefore: number): Promise<void> {
  const again = await rpcClient(t, nodes.b);
  const resumed = await again.request('session.resume', { resumeToken });
  t.equal(resumed['state'], 'registered', `alice is registered on node B: ${JSON.stringify(resumed)}`);
  t.equal(resumed['instanceId'], instanceId, 'the same +sip.instance');
  await bob.request('message.send', { to: 'sip:alice@ims.test', body: 'found you on B' });
  t.equal((await again.notification('message.received', (p) => p['body'] === 'found you on B'))['body'], 'found you on B',
    'bob\'s MESSAGE reached alice on node B through Kamailio (her old flow token in its Path now leads to B)');
  t.equal(registersAtIms(nodes.core), registersBefore, 'no REGISTER reached the IMS core for the resumption (no re-registration storm)');
  const reply = await again.request('message.send', { to: 'sip:bob@ims.test', body: 'back from B' });
  t.ok(reply, 'and alice sends from node B as a registered user');
  await bob.notification('message.received', (p) => p['body'] === 'back from B');
  // A call from bob to alice: INVITE → Kamailio → alice's Path (old token) → node B → alice.
  const { callId } = await bob.request('call.invite', { to: 'sip:alice@ims.test', sdp: PLAIN_OFFER });
  const incoming = await again.notification('call.incoming', (p) => p['callId'] !== undefined);
  await again.request('call.answer', { callId: String(incoming['callId']), sdp: PLAIN_OFFER });
  await bob.notification('call.answered', (p) => p['callId'] === callId);
  t.pass('bob\'s call reached alice on node B and she answered it');
  await again.request('call.hangup', { callId: String(incoming['callId']) });
  t.equal((await bob.notification('call.ended', (p) => p['callId'] === callId))['cause'], 'remote', 'her BYE from node B ended it at bob');
  t.equal(registersAtIms(nodes.core), registersBefore, 'still no REGISTER at the IMS core');
}

t.test('issue #15 "Faults": SIGKILL of node A → a jsonrpc-ws client resumes on node B with its token and is registered with no REGISTER at the IMS core; a MESSAGE and a call reach it there', async (t) => {
  const nodes = await twoNodes(t);
  const { bob, resumeToken, instanceId } = await registered(t, nodes);
  const before = registersAtIms(nodes.core);
  t.equal(before, 4, 'Kamailio saw two REGISTERs each for alice and bob (digest challenge, then credentials)');

  const exit = await nodes.a.kill();
  t.equal(exit.signal, 'SIGKILL', 'node A was killed: no de-registration, no release');
  // A client reconnects after a back-off; meanwhile node A's heartbeat lapses (3 beats) and B's
  // sweep releases what A held, but keeps alice's virtual-UE binding for the adopt grace.
  await untilSweptAway(nodes.redis, 'node-a', 20_000);
  await resumeOnB(t, nodes, bob, resumeToken, instanceId, before);
});

t.test('issue #15 "Graceful restart": SIGTERM of node A → its WebSockets get 1001, the client resumes on node B with no REGISTER at the IMS core; a MESSAGE and a call reach it there', async (t) => {
  const nodes = await twoNodes(t);
  const { alice, bob, resumeToken, instanceId } = await registered(t, nodes);
  // A call up between alice (node A) and bob (node B) when A stops: it is released as ever.
  const { callId } = await bob.request('call.invite', { to: 'sip:alice@ims.test', sdp: PLAIN_OFFER });
  const incoming = await alice.notification('call.incoming');
  await alice.request('call.answer', { callId: String(incoming['callId']), sdp: PLAIN_OFFER });
  await bob.notification('call.answered', (p) => p['callId'] === callId);
  const before = registersAtIms(nodes.core);
  const closed = new Promise<number>((resolve) => alice.ws.once('close', (code) => resolve(code)));
  await nodes.a.stop();
  t.equal(await closed, 1001, 'RFC 6455 §7.4.1: node A said "going away"');
  t.equal(registersAtIms(nodes.core), before, 'node A de-registered nothing on Mw');
  t.equal((await bob.notification('call.ended', (p) => p['callId'] === callId))['cause'], 'remote', 'R-ORIG-9: node A released the call it carried (BYE toward the IMS) as it stopped');
  await resumeOnB(t, nodes, bob, resumeToken, instanceId, before);
});
