/**
 * Media-leg ownership in Redis: `{m:<ngCallId>}:leg` holds the record (living `ttlMs` after its
 * last change, like a dialog), indexed by owning node and by gateway in their own slots. A leg
 * moved to another node or gateway leaves the old indexes at once.
 */
import type { MediaLegDirectory, MediaLegRecord } from '../state-backend.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisLink } from './redis-link.js';
import { indexAdd, readIndex } from './set-index.js';

export class RedisMediaLegDirectory implements MediaLegDirectory {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;
  readonly #ttlMs: number;

  constructor(link: RedisLink, keys: RedisKeys, ttlMs: number) {
    this.#link = link;
    this.#keys = keys;
    this.#ttlMs = ttlMs;
  }

  async put(leg: MediaLegRecord): Promise<void> {
    const k = this.#keys;
    await this.#link.run('mediaLegs.put', async (redis) => {
      const json = await redis.set(k.mediaLeg(leg.ngCallId), JSON.stringify(leg), 'PX', this.#ttlMs, 'GET');
      const previous = json === null ? undefined : JSON.parse(json) as MediaLegRecord;
      await Promise.all([
        indexAdd(redis, k.nodeLegs(leg.nodeId), leg.ngCallId, this.#ttlMs),
        indexAdd(redis, k.gatewayLegs(leg.gateway), leg.ngCallId, this.#ttlMs),
        redis.sadd(k.knownNodes(), leg.nodeId),
        previous !== undefined && previous.nodeId !== leg.nodeId ? redis.srem(k.nodeLegs(previous.nodeId), leg.ngCallId) : undefined,
        previous !== undefined && previous.gateway !== leg.gateway ? redis.srem(k.gatewayLegs(previous.gateway), leg.ngCallId) : undefined,
      ]);
    });
  }

  async remove(ngCallId: string): Promise<void> {
    const k = this.#keys;
    await this.#link.run('mediaLegs.remove', async (redis) => {
      const json = await redis.getdel(k.mediaLeg(ngCallId));
      if (json === null) return;
      const leg = JSON.parse(json) as MediaLegRecord;
      await Promise.all([redis.srem(k.nodeLegs(leg.nodeId), ngCallId), redis.srem(k.gatewayLegs(leg.gateway), ngCallId)]);
    });
  }

  async byNode(nodeId: string): Promise<MediaLegRecord[]> {
    return this.#link.run('mediaLegs.byNode', (redis) =>
      readIndex<MediaLegRecord>(redis, this.#keys.nodeLegs(nodeId), (id) => this.#keys.mediaLeg(id), (leg) => leg.nodeId === nodeId));
  }

  async byGateway(gateway: string): Promise<MediaLegRecord[]> {
    return this.#link.run('mediaLegs.byGateway', (redis) =>
      readIndex<MediaLegRecord>(redis, this.#keys.gatewayLegs(gateway), (id) => this.#keys.mediaLeg(id), (leg) => leg.gateway === gateway));
  }
}
