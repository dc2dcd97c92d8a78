/**
 * Registrations in Redis (R-REG-17): one key per binding that expires at the binding's expiresAt
 * (RFC 3261 §10.3: an expired binding is gone, Redis 7.0 has no per-field TTL), indexed by flow
 * (a ZSET in the flow's slot, written with the binding in one script) and by contact URI (a ZSET
 * in the contact's slot). Index members are scored by expiresAt: reads take the unexpired ones,
 * writes trim the expired ones, and an index key expires with its last binding.
 */
import { EpcError } from '../../errors.js';
import type { RegistrationBinding, RegistrationStore } from '../registration-store.js';
import { flowKeyOfBindingId, type RedisKeys } from './redis-keys.js';
import { LuaScript, type RedisLink } from './redis-link.js';
import { scanKeys } from './scan-keys.js';

/** Adds member ARGV[1] scored ARGV[2] (expiresAt) to ZSET KEYS[1], drops members expired at ARGV[3], keeps the key until its last member expires. */
const INDEX_ADD = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
`;
const ADD_TO_INDEX = new LuaScript(INDEX_ADD);
/** KEYS: flow index, binding. ARGV: id, expiresAt, now, JSON. */
const PUT_BINDING = new LuaScript(`redis.call('SET', KEYS[2], ARGV[4], 'PXAT', ARGV[2])${INDEX_ADD}`);
/** KEYS: binding, flow index. ARGV: id. Returns the binding's JSON (or nil). */
const REMOVE_BINDING = new LuaScript(`
local value = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return value
`);
/** KEYS: flow index, then the bindings' keys. ARGV: the bindings' ids. Returns the JSON of those that existed. */
const REMOVE_FLOW = new LuaScript(`
local out = {}
for i, id in ipairs(ARGV) do
  local value = redis.call('GET', KEYS[i + 1])
  if value then out[#out + 1] = value end
  redis.call('DEL', KEYS[i + 1])
  redis.call('ZREM', KEYS[1], id)
end
return out
`);

export class RedisRegistrationStore implements RegistrationStore {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;
  readonly #now: () => number;

  constructor(link: RedisLink, keys: RedisKeys, now: () => number = Date.now) {
    this.#link = link;
    this.#keys = keys;
    this.#now = now;
  }

  async put(binding: RegistrationBinding): Promise<void> {
    if (flowKeyOfBindingId(binding.id) !== binding.flowKey) {
      throw new EpcError('EPC_ERR_INVALID_STATE', `binding id ${JSON.stringify(binding.id)} does not start with its flow key ${JSON.stringify(binding.flowKey)}`);
    }
    const now = this.#now();
    if (binding.expiresAt <= now) return this.remove(binding.id); // already expired: nothing to keep
    const k = this.#keys;
    await this.#link.run('registrations.put', (redis) => Promise.all([
      // The contact index first: a binding is never findable by flow but not by contact.
      ADD_TO_INDEX.run(redis, [k.contactBindings(binding.contactUri)], [binding.id, binding.expiresAt, now]),
      PUT_BINDING.run(redis, [k.flowBindings(binding.flowKey), k.binding(binding.flowKey, binding.id)], [binding.id, binding.expiresAt, now, JSON.stringify(binding)]),
    ]));
  }

  async remove(id: string): Promise<void> {
    const flowKey = flowKeyOfBindingId(id);
    await this.#link.run('registrations.remove', async (redis) => {
      const json = await REMOVE_BINDING.run(redis, [this.#keys.binding(flowKey, id), this.#keys.flowBindings(flowKey)], [id]);
      if (typeof json === 'string') await redis.zrem(this.#keys.contactBindings((JSON.parse(json) as RegistrationBinding).contactUri), id);
    });
  }

  async byFlow(flowKey: string): Promise<RegistrationBinding[]> {
    const now = this.#now();
    return this.#link.run('registrations.byFlow', async (redis) => {
      const ids = await redis.zrangebyscore(this.#keys.flowBindings(flowKey), `(${now}`, '+inf');
      if (ids.length === 0) return [];
      // One slot: the flow's binding keys share its hash tag.
      return live(await redis.mget(ids.map((id) => this.#keys.binding(flowKey, id))), now);
    });
  }

  async byContactUri(contactUri: string): Promise<RegistrationBinding[]> {
    const now = this.#now();
    return this.#link.run('registrations.byContactUri', async (redis) => {
      const ids = await redis.zrangebyscore(this.#keys.contactBindings(contactUri), `(${now}`, '+inf');
      // Each binding lives in its flow's slot: one GET each, sent together. An id without a
      // binding (written concurrently, or a writer died mid-way) is skipped, not pruned: the
      // entry leaves the index when its score (expiresAt) passes.
      return live(await Promise.all(ids.map((id) => redis.get(this.#keys.binding(flowKeyOfBindingId(id), id)))), now);
    });
  }

  async all(): Promise<RegistrationBinding[]> {
    const now = this.#now();
    return this.#link.run('registrations.all', async (redis) => {
      const out = new Map<string, RegistrationBinding>(); // SCAN may return a key twice
      await scanKeys(redis, this.#keys.allBindingsPattern(), async (keys) => {
        for (const b of live(await Promise.all(keys.map((key) => redis.get(key))), now)) out.set(b.id, b);
      });
      return [...out.values()];
    });
  }

  async removeFlow(flowKey: string): Promise<RegistrationBinding[]> {
    const now = this.#now();
    return this.#link.run('registrations.removeFlow', async (redis) => {
      const index = this.#keys.flowBindings(flowKey);
      const ids = await redis.zrange(index, '0', '-1');
      if (ids.length === 0) return [];
      const removed = await REMOVE_FLOW.run(redis, [index, ...ids.map((id) => this.#keys.binding(flowKey, id))], ids) as string[];
      const bindings = removed.map((json) => JSON.parse(json) as RegistrationBinding);
      await Promise.all(bindings.map((b) => redis.zrem(this.#keys.contactBindings(b.contactUri), b.id)));
      return bindings.filter((b) => b.expiresAt > now);
    });
  }
}

/** The unexpired bindings among stored JSON values (a key may outlive expiresAt by Redis's expiry granularity). */
function live(values: readonly (string | null)[], now: number): RegistrationBinding[] {
  const out: RegistrationBinding[] = [];
  for (const json of values) {
    if (json === null) continue;
    const binding = JSON.parse(json) as RegistrationBinding;
    if (binding.expiresAt > now) out.push(binding);
  }
  return out;
}
