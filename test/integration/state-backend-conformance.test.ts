/**
 * Issue #15: one StateBackend contract, two implementations that behave alike. The same suite
 * (test/support/state-conformance.ts) runs against the Redis backend on a real redis-server
 * (standalone, and a one-node Redis Cluster that refuses any command or script whose keys span
 * hash slots: the key layout is Redis Cluster safe) and on a real three-master Redis Cluster
 * through ioredis's Cluster client (cluster.redis.clusterNodes: keys spread over the masters,
 * scripts routed by their first key, listings SCAN every master). The memory backend (core/state/
 * memory-state-backend.ts) runs the very same suite beside these:
 *   t.test('the memory backend keeps the StateBackend contract', (t) => stateBackendConformance(t, 'memory', async () => new MemoryStateBackend()));
 */
import t from 'tap';
import type { RedisConfig } from '../../core/config/config-types.js';
import { resolvedRedisConfig } from '../support/redis-config.js';
import { RedisStateBackend } from '../../core/state/redis/index.js';
import { startRedis } from '../support/peers/redis.js';
import { startRedisCluster } from '../support/peers/redis-cluster.js';
import { stateBackendConformance } from '../support/state-conformance.js';

/** cluster.redis as the config loader makes it (defaults filled), on `url` (or Redis Cluster seeds) with its own key prefix. */
export function redisConfig(where: string | { readonly clusterNodes: readonly { host: string; port: number }[] }, keyPrefix: string): RedisConfig {
  const redis = typeof where === 'string' ? { url: where, keyPrefix } : { clusterNodes: where.clusterNodes, keyPrefix };
  return resolvedRedisConfig(redis);
}

for (const cluster of [false, true]) {
  t.test(`the Redis backend (${cluster ? 'one-node Redis Cluster' : 'standalone redis-server'}) keeps the StateBackend contract`, async (t) => {
    const redis = await startRedis({ cluster });
    t.teardown(() => redis.stop());
    let run = 0;
    await stateBackendConformance(t, 'redis', () => RedisStateBackend.connect(redisConfig(redis.url, `conformance${++run}:`), { healthPingIntervalMs: 0 }));
  });
}

t.test('the Redis backend on a three-master Redis Cluster (cluster.redis.clusterNodes, ioredis Cluster client) keeps the StateBackend contract', async (t) => {
  const cluster = await startRedisCluster({ masters: 3 });
  t.teardown(() => cluster.stop());
  let run = 0;
  await stateBackendConformance(t, 'redis', () => RedisStateBackend.connect(redisConfig({ clusterNodes: cluster.seeds }, `conformance${++run}:`), { healthPingIntervalMs: 0 }));
});
