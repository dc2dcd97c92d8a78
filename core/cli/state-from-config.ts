/**
 * The shared state home of this node from `cluster.redis` (issue #15): the Redis StateBackend
 * when it is set, connected (or connecting: a node may start before its Redis, and stays not
 * ready until it answers); undefined when it is not, so the P-CSCF keeps its memory stores and
 * the one-node hot path pays nothing for a cluster it does not use.
 */
import type { Logger } from 'pino';
import type { EpcscfConfig } from '../config/config-types.js';
import type { StateBackend } from '../state/state-backend.js';

/** How long the start waits for Redis before it goes on not ready. */
const REDIS_START_WAIT_MS = 2_000;

export async function stateFromConfig(config: EpcscfConfig, logger: Logger): Promise<StateBackend | undefined> {
  const redis = config.cluster.redis;
  if (redis === undefined) return undefined;
  // Imported lazily: a memory-only node never loads ioredis.
  const { RedisStateBackend } = await import('../state/redis/index.js');
  return RedisStateBackend.connect(redis, { logger: logger.child({ component: 'state' }), waitMs: REDIS_START_WAIT_MS });
}
