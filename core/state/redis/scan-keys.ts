/**
 * SCAN over the whole keyspace (admin listings: every binding, every dialog). A standalone Redis
 * is one keyspace; a Redis Cluster splits it over its masters and SCAN sees one node's keys
 * only, so each master that owns slots is scanned in turn. A master the client has no
 * connection to fails the listing (EPC_ERR_STATE_UNAVAILABLE through RedisLink.run): a listing
 * that silently missed a third of the keys would be worse than none.
 */
import { Cluster, type Redis } from 'ioredis';
import { slotOwners } from './key-slot.js';
import type { RedisClient } from './redis-link.js';

const SCAN_COUNT = '500';

/** Calls `onKeys` with each batch of keys matching `pattern` (batches may repeat a key: SCAN's guarantee). */
export async function scanKeys(client: RedisClient, pattern: string, onKeys: (keys: string[]) => Promise<void>): Promise<void> {
  for (const node of client instanceof Cluster ? mastersOwningSlots(client) : [client]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      if (keys.length > 0) await onKeys(keys);
    } while (cursor !== '0');
  }
}

/** The connection to every master in the client's slot table; throws when one has none. */
function mastersOwningSlots(cluster: Cluster): Redis[] {
  const owners = slotOwners(cluster);
  const connections = new Map(cluster.nodes('master').map((redis) => [`${redis.options.host}:${redis.options.port}`, redis]));
  return [...owners].map((owner) => {
    const redis = connections.get(owner);
    if (redis === undefined || redis.status === 'end' || redis.status === 'close') throw new Error(`Redis Cluster master ${owner} unreachable (SCAN needs every master)`);
    return redis;
  });
}
