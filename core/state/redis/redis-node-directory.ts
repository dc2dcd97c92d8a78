/**
 * The node directory in Redis: a node's record lives under `{n:<nodeId>}:node` for its heartbeat's
 * TTL; `{nodes}:known` lists every node that heartbeated, claimed a flow or opened a media leg
 * and was not forgotten. Dead: known, no live heartbeat, and either it heartbeated once (its
 * `{n:<nodeId>}:seen` marker) or it still holds flows or media legs. The cleanup of a dead node
 * goes to one survivor: SET NX PX on `{n:<nodeId>}:cleanup`.
 */
import type { MediaLegRecord, NodeDirectory, NodeRecord } from '../state-backend.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisLink } from './redis-link.js';

export class RedisNodeDirectory implements NodeDirectory {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;

  constructor(link: RedisLink, keys: RedisKeys) {
    this.#link = link;
    this.#keys = keys;
  }

  async heartbeat(node: NodeRecord, ttlMs: number): Promise<void> {
    const k = this.#keys;
    await this.#link.run('nodes.heartbeat', (redis) => Promise.all([
      redis.set(k.node(node.nodeId), JSON.stringify(node), 'PX', Math.max(1, Math.round(ttlMs))),
      redis.set(k.nodeSeen(node.nodeId), '1'),
      redis.sadd(k.knownNodes(), node.nodeId),
    ]));
  }

  async get(nodeId: string): Promise<NodeRecord | undefined> {
    const json = await this.#link.run('nodes.get', (redis) => redis.get(this.#keys.node(nodeId)));
    return json === null ? undefined : JSON.parse(json) as NodeRecord;
  }

  async live(): Promise<NodeRecord[]> {
    return this.#link.run('nodes.live', async (redis) => {
      const ids = await redis.smembers(this.#keys.knownNodes());
      const values = await Promise.all(ids.map((id) => redis.get(this.#keys.node(id))));
      return values.flatMap((json) => (json === null ? [] : [JSON.parse(json) as NodeRecord]));
    });
  }

  async dead(): Promise<string[]> {
    return this.#link.run('nodes.dead', async (redis) => {
      const k = this.#keys;
      const ids = await redis.smembers(k.knownNodes());
      const verdicts = await Promise.all(ids.map(async (id): Promise<'live' | 'dead' | 'gone'> => {
        const [alive, seen] = await Promise.all([redis.exists(k.node(id)), redis.exists(k.nodeSeen(id))]);
        if (alive === 1) return 'live';
        if (seen === 1) return 'dead';
        return (await holdsAnything(redis, k, id)) ? 'dead' : 'gone';
      }));
      const gone = ids.filter((_, i) => verdicts[i] === 'gone');
      if (gone.length > 0) await redis.srem(k.knownNodes(), ...gone); // a holder that never heartbeated and holds nothing now
      return ids.filter((_, i) => verdicts[i] === 'dead');
    });
  }

  async claimCleanup(deadNodeId: string, byNodeId: string, ttlMs: number): Promise<boolean> {
    const won = await this.#link.run('nodes.claimCleanup', (redis) =>
      redis.set(this.#keys.nodeCleanup(deadNodeId), byNodeId, 'PX', Math.max(1, Math.round(ttlMs)), 'NX'));
    return won === 'OK';
  }

  async forget(nodeId: string): Promise<void> {
    const k = this.#keys;
    await this.#link.run('nodes.forget', (redis) => Promise.all([
      // One slot: the node's own keys share its hash tag.
      redis.del(k.node(nodeId), k.nodeSeen(nodeId), k.nodeCleanup(nodeId)),
      redis.srem(k.knownNodes(), nodeId),
    ]));
  }
}

/** A live flow claim or a media leg of `nodeId`. */
async function holdsAnything(redis: RedisLink['redis'], k: RedisKeys, nodeId: string): Promise<boolean> {
  const [flows, legs] = await Promise.all([redis.smembers(k.nodeFlows(nodeId)), redis.smembers(k.nodeLegs(nodeId))]);
  const holders = await Promise.all(flows.map((flowKey) => redis.get(k.flowHolder(flowKey))));
  if (holders.some((holder) => holder === nodeId)) return true;
  const owners = await Promise.all(legs.map((ngCallId) => redis.get(k.mediaLeg(ngCallId))));
  return owners.some((json) => json !== null && (JSON.parse(json) as MediaLegRecord).nodeId === nodeId);
}
