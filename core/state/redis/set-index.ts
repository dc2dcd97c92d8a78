/**
 * Index SETs (a flow's dialogs, a node's media legs...): members are ids of records kept under
 * their own keys. An index lives at least as long as its longest-lived member was given, so a
 * Redis left behind by a cluster that died entirely empties itself. Writers store the record
 * before adding it to an index, so a reader may drop a member whose record is gone (expired,
 * removed, or a writer died mid-way) or no longer points back (moved to another flow or node).
 */
import { LuaScript, type RedisClient } from './redis-link.js';

/** KEYS: the SET. ARGV: member, ttl ms. Adds; extends the key's life to ttl when it would end sooner. */
const ADD = new LuaScript(`
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
`);

export function indexAdd(redis: RedisClient, key: string, member: string, ttlMs: number): Promise<unknown> {
  return ADD.run(redis, [key], [member, Math.max(1, Math.round(ttlMs))]);
}

/**
 * The records an index SET names, each read from its own key (possibly other slots, one GET
 * each, sent together); members whose record is missing or fails `belongs` are removed.
 */
export async function readIndex<T>(
  redis: RedisClient, index: string, recordKey: (member: string) => string, belongs: (record: T) => boolean,
): Promise<T[]> {
  const members = await redis.smembers(index);
  if (members.length === 0) return [];
  const values = await Promise.all(members.map((m) => redis.get(recordKey(m))));
  const out: T[] = [];
  const stale: string[] = [];
  members.forEach((member, i) => {
    const json = values[i];
    const record = json === null || json === undefined ? undefined : JSON.parse(json) as T;
    if (record !== undefined && belongs(record)) out.push(record);
    else stale.push(member);
  });
  if (stale.length > 0) await redis.srem(index, ...stale);
  return out;
}
