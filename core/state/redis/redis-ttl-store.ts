/**
 * A plugin's TTL store (`host.state`) in Redis: one key per entry with its own TTL, single-key
 * commands only (so no hash tag: a namespace spreads over the cluster). take() is GETDEL: of two
 * concurrent takes exactly one gets the value (a single-use resume token).
 */
import type { TtlStore } from '../state-backend.js';
import type { RedisKeys } from './redis-keys.js';
import type { RedisLink } from './redis-link.js';

export class RedisTtlStore implements TtlStore {
  readonly #link: RedisLink;
  readonly #key: (key: string) => string;

  constructor(link: RedisLink, keys: RedisKeys, namespace: string) {
    this.#link = link;
    this.#key = (key) => keys.ttlEntry(namespace, key);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#link.run('state.get', (redis) => redis.get(this.#key(key)))) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#link.run('state.set', (redis) => redis.set(this.#key(key), value, 'PX', Math.max(1, Math.round(ttlMs))));
  }

  async take(key: string): Promise<string | undefined> {
    return (await this.#link.run('state.take', (redis) => redis.getdel(this.#key(key)))) ?? undefined;
  }

  async delete(key: string): Promise<void> {
    await this.#link.run('state.delete', (redis) => redis.del(this.#key(key)));
  }
}
