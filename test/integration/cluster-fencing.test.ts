// Issue #15 "Faults": time passing without heartbeats, with real processes. Two epcscf nodes, each
// its own process, share a real redis-server in front of the embedded dev IMS core; cluster.mwUri
// names node A. Heartbeat 1 s: a node is dead after 3 missed beats.
// (a) Redis unreachable past the death period with a call up between alice (A) and bob (B): every
//     record expires meanwhile (Redis TTLs are wall-clock); once Redis is back neither node cleans
//     up the other (the sweep waits a death period of its own unbroken heartbeats,
//     pcscf/cluster/heartbeat-continuity.ts): no BYE, and the call still works end to end. Twice:
//     Redis frozen (SIGSTOP; the heartbeats written on the stalled connection run at the thaw), and
//     Redis down (SIGKILL, connections refused) then back from its AOF with its data.
// (b) Node A frozen past the death period: B cleans it up; when A thaws it finds it was cleaned up
//     and fences itself (pcscf/cluster/self-fence.ts): alice's WebSocket is closed with 1001.
import t, { type Test } from 'tap';
import type { SipRequest } from '../../core/sip/index.js';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { startEpcscfNode, type EpcscfNode } from '../support/peers/epcscf-node.js';
import { freezeProcessTree } from '../support/peers/freeze.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startRedis, type RedisPeer } from '../support/peers/redis.js';
import { JsSipUser, withDeadline } from '../support/wic/jssip-user.js';

const HEARTBEAT_SECONDS = 1;
/** Longer than the death period (3 beats), with a margin. */
const FREEZE_MS = 5_500;
/** After the thaw: two death periods, long enough for any (wrong) sweep to have happened. */
const AFTER_THAW_MS = 6_500;

async function twoNodes(t: Test, persistent = false): Promise<{ redis: RedisPeer; a: EpcscfNode; b: EpcscfNode }> {
  const redis = await startRedis({ persistent });
  t.teardown(() => redis.stop());
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const mwA = await allocatePort();
  t.teardown(() => releasePort(mwA));
  const cluster = { mwUri: `sip:127.0.0.1:${mwA}`, flowSecret: 'fencing-test-flow-secret-of-32-chars', heartbeatSeconds: HEARTBEAT_SECONDS, redis: { url: redis.url } };
  const [a, b] = await Promise.all([
    startEpcscfNode({ nodeId: 'node-a', mwPort: mwA, nextHop: core.uri, cluster }),
    startEpcscfNode({ nodeId: 'node-b', nextHop: core.uri, cluster }),
  ]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  return { redis, a, b };
}

async function user(t: Test, node: EpcscfNode, name: 'alice' | 'bob'): Promise<JsSipUser> {
  const wic = await JsSipUser.connect({ wsUrl: `${node.baseUrl}/sip`, user: name, password: `${name}pw` });
  t.teardown(() => wic.stop());
  t.equal(await wic.register(), 200, `${name} registered through ${node.nodeId}`);
  return wic;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const byesSeenBy = (wic: JsSipUser): number => wic.capture.frames
  .filter((f) => f.direction === 'received' && f.message?.kind === 'request' && (f.message as SipRequest).method === 'BYE').length;

async function callThroughOutage(t: Test, persistent: boolean, outage: (redis: RedisPeer) => Promise<void>): Promise<void> {
  const { redis, a, b } = await twoNodes(t, persistent);
  const alice = await user(t, a, 'alice');
  const bob = await user(t, b, 'bob');
  const call = alice.call('sip:bob@ims.test');
  const incoming = await bob.nextIncoming(8_000);
  incoming.answer();
  await call.confirmed(8_000);
  await withDeadline(incoming.confirmed(), 8_000, 'bob gets the ACK');

  await outage(redis);
  await sleep(AFTER_THAW_MS);

  t.equal(byesSeenBy(alice) + byesSeenBy(bob), 0, 'no BYE reached either party');
  t.notOk(call.session.isEnded() || incoming.session.isEnded(), 'the call is still up on both sides');
  t.notMatch(a.output() + b.output(), /a cluster node stopped heartbeating/, 'neither node took the other for dead');
  // The call still works end to end: bob hangs up, the BYE crosses B, the core, A to alice.
  const end = call.ended(8_000);
  incoming.hangup();
  t.equal((await end).originator, 'remote', 'bob\'s BYE reaches alice after the outage');
}

t.test('issue #15: Redis frozen (SIGSTOP) past the death period with a call up between two nodes — after the thaw no node cleans up the other: no BYE, the call still up', (t) =>
  callThroughOutage(t, false, async (redis) => {
    redis.pause();
    await sleep(FREEZE_MS);
    redis.resume();
  }));

t.test('issue #15: Redis down past the death period (killed, back from its AOF) with a call up between two nodes — no node cleans up the other: no BYE, the call still up', (t) =>
  callThroughOutage(t, true, async (redis) => {
    await redis.kill();
    await sleep(FREEZE_MS);
    await redis.restart();
  }));

t.test('issue #15: a node frozen past the death period and cleaned up by the survivor fences itself when it thaws — its client\'s WebSocket is closed (1001)', async (t) => {
  const { a, b } = await twoNodes(t);
  const alice = await user(t, a, 'alice');
  await user(t, b, 'bob');

  const frozen = freezeProcessTree(a.pid);
  t.teardown(() => frozen.thaw());
  const deadline = Date.now() + 15_000;
  while (!/a cluster node stopped heartbeating/.test(b.output())) {
    if (Date.now() > deadline) throw new Error('node B never cleaned node A up');
    await sleep(100);
  }
  t.pass('node B cleaned node A up');
  await sleep(500); // B's cleanup under way or done
  t.same(alice.socket.closeCodes, [], 'alice\'s WebSocket is still open while node A is frozen');

  const thawedAt = Date.now();
  frozen.thaw();
  const closeDeadline = thawedAt + 3_000 * HEARTBEAT_SECONDS;
  while (alice.socket.closeCodes.length === 0 && Date.now() < closeDeadline) await sleep(50);
  t.same(alice.socket.closeCodes.slice(0, 1), [1001], `node A closed alice's WebSocket with 1001 ${Date.now() - thawedAt} ms after the thaw (bound ${closeDeadline - thawedAt} ms)`);
  t.match(a.output(), /a survivor cleaned it up .*: fencing itself/, 'node A says why');
});
