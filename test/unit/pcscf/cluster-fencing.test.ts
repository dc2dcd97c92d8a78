// Issue #15 "Faults": time passing without heartbeats (core/pcscf/cluster/heartbeat-continuity.ts,
// self-fence.ts). A state-backend stall longer than the death period must not make the first node
// back clean up every other node; a node frozen past its death period and cleaned up by a survivor
// must fence itself (close its W2 sessions) instead of serving on as a zombie.
import t from 'tap';
import { pino } from 'pino';
import { BEATS_TO_DEATH, ClusterMembership, type DeadNodeCleanup, type SelfFence } from '../../../core/pcscf/cluster/cluster-membership.js';
import { MemoryStateBackend } from '../../../core/state/memory-state-backend.js';
import type { DialogRecord } from '../../../core/state/dialog-store.js';
import type { NodeDirectory } from '../../../core/state/state-backend.js';

const log = pino({ level: 'silent' });
const BEAT_MS = 1_000;
const GRACE_MS = 120_000;

interface Node {
  readonly membership: ClusterMembership;
  readonly byes: string[];
  readonly cleanups: DeadNodeCleanup[];
  readonly fences: SelfFence[];
}

function node(state: MemoryStateBackend, nodeId: string, now: () => number): Node {
  const byes: string[] = [];
  const cleanups: DeadNodeCleanup[] = [];
  const fences: SelfFence[] = [];
  const membership = new ClusterMembership({
    state, nodeId, mwContact: `sip:${nodeId}.invalid:5060`, heartbeatMs: BEAT_MS, adoptGraceMs: GRACE_MS, log, now,
    releaseDialog: async (dialog) => { byes.push(dialog.callId); },
    releaseMediaLeg: async () => undefined,
  });
  membership.onCleanup = (cleanup) => cleanups.push(cleanup);
  membership.onFenced = (fence) => fences.push(fence);
  return { membership, byes, cleanups, fences };
}

function confirmedCall(callId: string, flowKey: string): DialogRecord {
  return {
    id: `${callId} wic-tag`, callId, wicTag: 'wic-tag', remoteTag: 'r1', flowKey, direction: 'originating', method: 'INVITE', state: 'confirmed',
    wicNameAddr: '<sip:alice@ims.test>', remoteNameAddr: '<sip:bob@ims.test>', remoteTarget: 'sip:bob@192.0.2.9:5060',
    routeSetTowardIms: ['<sip:scscf.ims.test;lr>'], wicCseq: 1, cseqOffset: { value: 0 }, icid: 'icid-1', createdAt: 1_700_000_000_000,
  };
}

/** A NodeDirectory that fails every call while `down()` (Redis unreachable or frozen). */
function outage(nodes: NodeDirectory, down: () => boolean): NodeDirectory {
  const gate = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    if (down()) throw new Error('EPC_ERR_STATE_UNAVAILABLE (test outage)');
    return call(...args);
  };
  return {
    heartbeat: gate(nodes.heartbeat.bind(nodes)), get: gate(nodes.get.bind(nodes)), live: gate(nodes.live.bind(nodes)),
    dead: gate(nodes.dead.bind(nodes)), claimCleanup: gate(nodes.claimCleanup.bind(nodes)), forget: gate(nodes.forget.bind(nodes)),
  };
}

/** Two started nodes on one memory backend and a fake clock; `outage.down` makes the node directory fail (a Redis outage). */
async function twoNodes(): Promise<{ clock: { ms: number }; state: MemoryStateBackend; a: Node; b: Node; outage: { down: boolean } }> {
  const clock = { ms: 1_000_000 };
  const now = (): number => clock.ms;
  const state = new MemoryStateBackend({ now });
  const outageState = { down: false };
  Object.defineProperty(state, 'nodes', { value: outage(state.nodes, () => outageState.down) });
  const a = node(state, 'node-a', now);
  const b = node(state, 'node-b', now);
  await a.membership.start();
  await b.membership.start();
  return { clock, state, a, b, outage: outageState };
}

async function beat(clock: { ms: number }, nodes: readonly Node[], beats: number): Promise<void> {
  for (let i = 0; i < beats; i++) {
    clock.ms += BEAT_MS;
    for (const n of nodes) await n.membership.tick();
  }
}

t.test('issue #15: after a state-backend outage longer than the death period, no node cleans up the others (they heartbeat again within a death period)', async (t) => {
  const { clock, state, a, b, outage: redis } = await twoNodes();
  a.membership.flowOpened('node-a/1');
  b.membership.flowOpened('node-b/1');
  await state.dialogs.put(confirmedCall('call-a', 'node-a/1'));
  await state.dialogs.put(confirmedCall('call-b', 'node-b/1'));
  await beat(clock, [a, b], 5);

  redis.down = true; // every record expires meanwhile (Redis TTLs run on its wall clock)
  await beat(clock, [a, b], BEATS_TO_DEATH + 3);
  redis.down = false;
  // Node A ticks first each beat: without the rule it would find node B's record lapsed at once.
  await beat(clock, [a, b], 2 * BEATS_TO_DEATH);

  t.same([...a.byes, ...b.byes], [], 'no BYE toward the IMS for the other node\'s live call');
  t.same([...a.cleanups, ...b.cleanups], [], 'no node was cleaned up');
  t.same([...a.fences, ...b.fences], [], 'nobody had cleaned either node up: neither fences itself');
  t.same((await state.dialogs.all()).map((d) => d.callId).sort(), ['call-a', 'call-b'], 'both calls are still up');
  t.same((await state.nodes.live()).map((n) => n.nodeId).sort(), ['node-a', 'node-b']);
  await a.membership.close();
  await b.membership.close();
});

t.test('issue #15: a node really gone is still cleaned up, once the survivor\'s own heartbeats held a death period again', async (t) => {
  const { clock, state, a, b, outage: redis } = await twoNodes();
  b.membership.flowOpened('node-b/1');
  await state.dialogs.put(confirmedCall('call-b', 'node-b/1'));
  await beat(clock, [a, b], 5);
  redis.down = true;
  await beat(clock, [a, b], BEATS_TO_DEATH + 3);
  redis.down = false; // node B never comes back (it died during the outage)
  await beat(clock, [a], BEATS_TO_DEATH - 1);
  t.same(a.cleanups, [], 'not within a death period of the outage\'s end');
  await beat(clock, [a], 2);
  t.same(a.cleanups.map((c) => c.nodeId), ['node-b'], 'then node B is cleaned up');
  t.same(a.byes, ['call-b'], 'its call is released toward the IMS');
  await a.membership.close();
});

t.test('issue #15: a node stalled past its death period and cleaned up by a survivor fences itself, hands its flows over and re-joins', async (t) => {
  const { clock, state, a, b } = await twoNodes();
  a.membership.flowOpened('node-a/1');
  a.membership.flowOpened('node-a/2');
  await state.dialogs.put(confirmedCall('call-a', 'node-a/1'));
  await beat(clock, [a, b], 5);

  await beat(clock, [b], BEATS_TO_DEATH + 2); // node A frozen (SIGSTOP): node B cleans it up
  t.same(b.cleanups.map((c) => c.nodeId), ['node-a']);
  t.same(b.byes, ['call-a']);

  await a.membership.tick(); // node A thaws: its timer fires at once
  t.same(a.fences, [{ nodeId: 'node-a', flows: ['node-a/1', 'node-a/2'] }], 'node A fences itself: the W2 sessions of its flows get closed');
  t.ok(a.membership.handsOver('node-a/1'), 'its flows are released as handed over (the survivor kept their virtual-UE bindings for adoption)');
  await a.membership.flowClosed('node-a/1');
  t.notOk(a.membership.handsOver('node-a/1'), 'once released, the key is an ordinary one again');
  t.notOk(a.membership.handsOver('node-a/3'), 'a flow opened after the fence is released as ever');
  const record = await state.nodes.get('node-a');
  t.ok(record !== undefined && record.startedAt === clock.ms, 'node A re-joined as a new incarnation (a fresh heartbeat)');
  await beat(clock, [a, b], 2 * BEATS_TO_DEATH);
  t.equal(a.fences.length, 1, 'once');
  t.same(b.cleanups.map((c) => c.nodeId), ['node-a'], 'and is not taken for dead again');
  await a.membership.close();
  await b.membership.close();
});

t.test('issue #15: a node that wakes while the survivor is still cleaning it up fences itself too; the survivor keeps its new record', async (t) => {
  const { clock, state, a, b } = await twoNodes();
  a.membership.flowOpened('node-a/1');
  await beat(clock, [a, b], 5);
  clock.ms += (BEATS_TO_DEATH + 1) * BEAT_MS; // both stalled; node B wakes first and claims node A's cleanup
  t.ok(await state.nodes.claimCleanup('node-a', 'node-b', 60_000));
  await a.membership.tick();
  t.equal(a.fences.length, 1, 'the cleanup claim on node A is a survivor\'s: node A fences itself');
  await b.membership.tick();
  t.ok(await state.nodes.get('node-a') !== undefined, 'node A is live again under its new record');
  await a.membership.close();
  await b.membership.close();
});

t.test('issue #15: a node whose heartbeat lapsed but that nobody cleaned up carries on (no fence) and keeps survivors off while it re-joins', async (t) => {
  const { clock, state, a, b } = await twoNodes();
  a.membership.flowOpened('node-a/1');
  await state.dialogs.put(confirmedCall('call-a', 'node-a/1'));
  await beat(clock, [a, b], 5);
  clock.ms += (BEATS_TO_DEATH + 1) * BEAT_MS; // node A stalled, but wakes before node B's next beat
  await a.membership.tick();
  t.same(a.fences, [], 'not cleaned up: no fence');
  await beat(clock, [b, a], 2 * BEATS_TO_DEATH);
  t.same(b.cleanups, [], 'node B never took node A for dead');
  t.same(await state.dialogs.all().then((all) => all.map((d) => d.callId)), ['call-a'], 'its call is still up');
  await a.membership.close();
  await b.membership.close();
});
