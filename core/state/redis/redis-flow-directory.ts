/**
 * The flow-location directory in Redis: `{f:<flowKey>}:holder` names the node holding the flow
 * for the claim's TTL; the node's `{n:<nodeId>}:flows` SET lists what it claimed, for heldBy()
 * (entries another node has claimed since, or that expired or were released, are dropped as
 * they are read). A claim also makes the node known to the NodeDirectory: a holder that never
 * heartbeated is dead too.
 */
import type { FlowDirectory } from '../state-backend.js';
import type { RedisKeys } from './redis-keys.js';
import { LuaScript, type RedisLink } from './redis-link.js';
import { indexAdd } from './set-index.js';

/** KEYS: holder. ARGV: nodeId. Deletes only while ARGV[1] holds it (a later claim by another node wins). */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
`);

export class RedisFlowDirectory implements FlowDirectory {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;

  constructor(link: RedisLink, keys: RedisKeys) {
    this.#link = link;
    this.#keys = keys;
  }

  async claim(flowKey: string, nodeId: string, ttlMs: number): Promise<void> {
    await this.#link.run('flows.claim', async (redis) => {
      const previous = await redis.set(this.#keys.flowHolder(flowKey), nodeId, 'PX', Math.max(1, Math.round(ttlMs)), 'GET');
      await Promise.all([
        indexAdd(redis, this.#keys.nodeFlows(nodeId), flowKey, ttlMs),
        redis.sadd(this.#keys.knownNodes(), nodeId),
        previous !== null && previous !== nodeId ? redis.srem(this.#keys.nodeFlows(previous), flowKey) : undefined,
      ]);
    });
  }

  async holder(flowKey: string): Promise<string | undefined> {
    return (await this.#link.run('flows.holder', (redis) => redis.get(this.#keys.flowHolder(flowKey)))) ?? undefined;
  }

  async release(flowKey: string, nodeId: string): Promise<void> {
    await this.#link.run('flows.release', async (redis) => {
      await RELEASE.run(redis, [this.#keys.flowHolder(flowKey)], [nodeId]);
      await redis.srem(this.#keys.nodeFlows(nodeId), flowKey);
    });
  }

  async heldBy(nodeId: string): Promise<string[]> {
    return this.#link.run('flows.heldBy', async (redis) => {
      const members = await redis.smembers(this.#keys.nodeFlows(nodeId));
      if (members.length === 0) return [];
      const holders = await Promise.all(members.map((flowKey) => redis.get(this.#keys.flowHolder(flowKey))));
      const held = members.filter((_, i) => holders[i] === nodeId);
      if (held.length < members.length) await redis.srem(this.#keys.nodeFlows(nodeId), ...members.filter((_, i) => holders[i] !== nodeId));
      return held;
    });
  }
}
