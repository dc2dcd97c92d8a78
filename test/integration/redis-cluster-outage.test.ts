/**
 * Issue #15, "keys designed so Redis Cluster works", on a real three-master Redis Cluster through
 * cluster.redis.clusterNodes (ioredis Cluster client): listings see the keys of every master;
 * one master killed → operations on its slots reject at once with EPC_ERR_STATE_UNAVAILABLE and
 * health() (/ready) is false naming it, the other masters' slots keep working (cluster-require-
 * full-coverage no) or, with Redis's default (yes), fail just as fast once Redis declares the
 * cluster down (CLUSTERDOWN); the master comes back → the backend recovers by itself.
 */
import t from 'tap';
import type { RedisConfig } from '../../core/config/config-types.js';
import { keySlot } from '../../core/state/redis/key-slot.js';
import { RedisStateBackend } from '../../core/state/redis/index.js';
import { startRedisCluster, type RedisCluster, type RedisClusterNode } from '../support/peers/redis-cluster.js';
import { resolvedRedisConfig, settled } from '../support/redis-config.js';
import { binding, dialog } from '../support/state-conformance.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const NAMESPACE = 'jsonrpc-ws';

function clusterConfig(cluster: RedisCluster, keyPrefix: string): RedisConfig {
  return resolvedRedisConfig({ clusterNodes: cluster.seeds, keyPrefix, commandTimeoutSeconds: 0.5 });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** A TTL-store key (`<prefix>ns:<namespace>:<key>`, no hash tag) that lands on `node`'s slots, or off them. */
async function ttlKeyWhere(node: RedisClusterNode, prefix: string, onNode: boolean): Promise<string> {
  const ranges = await node.slotRanges();
  for (let i = 0; ; i++) {
    const key = `${onNode ? 'on' : 'off'}-${i}`;
    const slot = keySlot(`${prefix}ns:${NAMESPACE}:${key}`);
    if (ranges.some(([start, end]) => slot >= start && slot <= end) === onNode) return key;
  }
}

/** A flow key whose `{f:<flow>}` keys land on `node`'s slots, or off them. */
async function flowWhere(node: RedisClusterNode, onNode: boolean): Promise<string> {
  const ranges = await node.slotRanges();
  for (let i = 0; ; i++) {
    const flow = `${onNode ? 'on' : 'off'}/${i}`;
    const slot = keySlot(`{f:${flow}}`);
    if (ranges.some(([start, end]) => slot >= start && slot <= end) === onNode) return flow;
  }
}

t.test('three masters, cluster-require-full-coverage no', async (t) => {
  const cluster = await startRedisCluster({ masters: 3, nodeTimeoutMs: 1_000, requireFullCoverage: false });
  t.teardown(() => cluster.stop());

  await t.test('R-REG-17, R-ORIG-10: the full listings see the bindings and dialogs kept on every master (SCAN visits each)', async (t) => {
    const state = await RedisStateBackend.connect(clusterConfig(cluster, 'listing:'), { healthPingIntervalMs: 0 });
    t.teardown(() => state.close());
    const flows = Array.from({ length: 30 }, (_, i) => `n${i}/1`);
    for (const flow of flows) {
      await state.registrations.put(binding(flow, 'sip:alice@ims.test', `sip:alice@${flow.replace('/', '-')}.invalid`));
      await state.dialogs.put(dialog(`call-${flow}`, 'w1', flow));
    }
    const perMaster = await Promise.all(cluster.nodes.map(async (node) => {
      const ranges = await node.slotRanges();
      return flows.filter((flow) => ranges.some(([s, e]) => keySlot(`{f:${flow}}`) >= s && keySlot(`{f:${flow}}`) <= e)).length;
    }));
    t.ok(perMaster.every((n) => n > 0), `the bindings are spread over all three masters (${perMaster.join(' / ')})`);
    t.equal((await state.registrations.all()).length, 30, 'registrations.all() lists every binding');
    t.equal((await state.dialogs.all()).length, 30, 'dialogs.all() lists every dialog');
  });

  await t.test('one master killed: its slots fail fast with EPC_ERR_STATE_UNAVAILABLE and health is false; the others keep serving; it comes back: recovered by itself', async (t) => {
    const prefix = 'outage:';
    const state = await RedisStateBackend.connect(clusterConfig(cluster, prefix), { healthPingIntervalMs: 500 });
    t.teardown(() => state.close());
    const victim = cluster.nodes[0] as RedisClusterNode;
    const survivor = cluster.nodes[1] as RedisClusterNode;
    const store = state.namespace(NAMESPACE);
    const [lostKey, keptKey, lostFlow, keptFlow] = await Promise.all([
      ttlKeyWhere(victim, prefix, true), ttlKeyWhere(victim, prefix, false), flowWhere(victim, true), flowWhere(victim, false),
    ]);
    await store.set(lostKey, 'on-the-victim', 60_000);
    await store.set(keptKey, 'elsewhere', 60_000);
    const kept = binding(keptFlow, 'sip:bob@ims.test', 'sip:bob@b1.invalid');
    await state.registrations.put(kept);
    await until('healthy before the kill', () => state.health().ok, 3_000);

    await victim.kill();
    const lost = await settled(store.get(lostKey));
    t.equal(lost.code, 'EPC_ERR_STATE_UNAVAILABLE', 'an entry in the dead master\'s slots: EPC_ERR_STATE_UNAVAILABLE');
    t.ok(lost.ms < 400, `at once: not after ioredis's retries, well before the 500 ms command timeout (${lost.ms} ms)`);
    const lostLookup = await settled(state.registrations.byFlow(lostFlow));
    t.equal(lostLookup.code, 'EPC_ERR_STATE_UNAVAILABLE', 'a flow whose keys hash to the dead master: EPC_ERR_STATE_UNAVAILABLE');
    t.ok(lostLookup.ms < 400, `at once (${lostLookup.ms} ms)`);
    await until('health turns false', () => !state.health().ok, 3_000);
    const health = state.health();
    t.match(health, { ok: false, detail: new RegExp(`^Redis Cluster master unreachable: 127\\.0\\.0\\.1:${victim.port} `) }, `/ready names the lost master (${health.ok ? '' : health.detail})`);
    t.equal(await store.get(keptKey), 'elsewhere', 'an entry on another master is still served');
    t.same(await state.registrations.byFlow(keptFlow), [kept], 'so is a flow on another master');
    t.match(await settled(state.registrations.all()), { code: 'EPC_ERR_STATE_UNAVAILABLE' }, 'a full listing refuses rather than silently missing a third of the keys');

    await until('a survivor flags the master failed', async () => (await survivor.failedPeers()).includes(victim.port), 8_000);
    t.equal(await store.get(keptKey), 'elsewhere', 'once Redis marked the master failed, the other masters still serve (require-full-coverage no)');
    t.match(await settled(store.get(lostKey)), { code: 'EPC_ERR_STATE_UNAVAILABLE' }, 'and the dead master\'s slots still fail');
    t.notOk(state.health().ok, 'health stays false while the master is gone');

    await victim.restart();
    await until('health is ok again by itself', () => state.health().ok, 10_000);
    t.pass('health() is ok again without any call from the test');
    t.equal(await store.get(lostKey), undefined, 'the restarted master serves its slots again (empty: nothing was persisted)');
    await store.set(lostKey, 'again', 60_000);
    t.equal(await store.get(lostKey), 'again', 'and takes writes');
    t.equal(await store.get(keptKey), 'elsewhere', 'the other masters kept their data');
    t.equal((await state.registrations.all()).length, 1, 'the full listing works again');
  });
});

t.test('three masters, Redis\'s default cluster-require-full-coverage yes: once Redis declares the cluster down every operation fails fast, and recovers by itself', async (t) => {
  const cluster = await startRedisCluster({ masters: 3, nodeTimeoutMs: 1_000 });
  t.teardown(() => cluster.stop());
  const prefix = 'down:';
  const state = await RedisStateBackend.connect(clusterConfig(cluster, prefix), { healthPingIntervalMs: 500 });
  t.teardown(() => state.close());
  const victim = cluster.nodes[2] as RedisClusterNode;
  const survivor = cluster.nodes[0] as RedisClusterNode;
  const store = state.namespace(NAMESPACE);
  const keptKey = await ttlKeyWhere(victim, prefix, false);
  await store.set(keptKey, 'elsewhere', 60_000);

  await victim.kill();
  await until('the survivors say cluster_state:fail', async () => (await survivor.clusterState()) === 'fail', 8_000);
  const down = await settled(store.get(keptKey));
  t.equal(down.code, 'EPC_ERR_STATE_UNAVAILABLE', 'an entry on a live master: EPC_ERR_STATE_UNAVAILABLE (CLUSTERDOWN)');
  t.ok(down.ms < 400, `at once: not after ioredis's CLUSTERDOWN retries, well before the 500 ms command timeout (${down.ms} ms)`);
  const saysClusterDown = (): boolean => { const h = state.health(); return !h.ok && /CLUSTERDOWN/.test(h.detail); };
  await until('health says the cluster is down', saysClusterDown, 3_000);
  t.match(state.health(), { ok: false, detail: /^Redis Cluster masters unreachable: .*CLUSTERDOWN/ }, `health names the live masters as refusing too (${JSON.stringify(state.health())})`);

  await victim.restart();
  await until('health is ok again by itself', () => state.health().ok, 10_000);
  t.equal(await store.get(keptKey), 'elsewhere', 'the live masters\' data is served again');
});
