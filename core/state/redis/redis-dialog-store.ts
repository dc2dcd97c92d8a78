/**
 * Dialogs in Redis (R-ORIG-9, R-ORIG-10): one key per dialog in its Call-ID's slot, written with
 * the Call-ID's index in one script; the flow's index (in the flow's slot) after it. A dialog has
 * no expiry of its own: its key lives `ttlMs` after its last change (cluster.redis.dialogTtlSeconds),
 * a safety net for records no node is left to remove.
 */
import { EpcError } from '../../errors.js';
import type { DialogRecord, DialogStore } from '../dialog-store.js';
import { callIdOfDialogId, type RedisKeys } from './redis-keys.js';
import { LuaScript, type RedisLink } from './redis-link.js';
import { scanKeys } from './scan-keys.js';
import { indexAdd, readIndex } from './set-index.js';

/** KEYS: dialog, Call-ID index. ARGV: JSON, id, ttl ms. Returns the previous JSON (or nil). */
const PUT_DIALOG = new LuaScript(`
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return previous
`);
/** KEYS: dialog, Call-ID index. ARGV: id. Returns the removed JSON (or nil). */
const REMOVE_DIALOG = new LuaScript(`
local previous = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[2]) end
return previous
`);

export class RedisDialogStore implements DialogStore {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;
  readonly #ttlMs: number;

  constructor(link: RedisLink, keys: RedisKeys, ttlMs: number) {
    this.#link = link;
    this.#keys = keys;
    this.#ttlMs = ttlMs;
  }

  async put(dialog: DialogRecord): Promise<void> {
    const callId = callIdOfDialogId(dialog.id);
    if (callId !== dialog.callId) {
      throw new EpcError('EPC_ERR_INVALID_STATE', `dialog id ${JSON.stringify(dialog.id)} is not its Call-ID ${JSON.stringify(dialog.callId)} and a tag`);
    }
    await this.#link.run('dialogs.put', async (redis) => {
      const previous = await PUT_DIALOG.run(redis, [this.#keys.dialog(callId, dialog.id), this.#keys.callDialogs(callId)], [JSON.stringify(dialog), dialog.id, this.#ttlMs]);
      const movedFrom = typeof previous === 'string' ? (JSON.parse(previous) as DialogRecord).flowKey : undefined;
      await Promise.all([
        indexAdd(redis, this.#keys.flowDialogs(dialog.flowKey), dialog.id, this.#ttlMs),
        movedFrom !== undefined && movedFrom !== dialog.flowKey ? redis.srem(this.#keys.flowDialogs(movedFrom), dialog.id) : undefined,
      ]);
    });
  }

  async get(id: string): Promise<DialogRecord | undefined> {
    const json = await this.#link.run('dialogs.get', (redis) => redis.get(this.#keys.dialog(callIdOfDialogId(id), id)));
    return json === null ? undefined : JSON.parse(json) as DialogRecord;
  }

  async byCallId(callId: string): Promise<DialogRecord[]> {
    return this.#link.run('dialogs.byCallId', async (redis) => {
      const ids = await redis.smembers(this.#keys.callDialogs(callId));
      if (ids.length === 0) return [];
      // One slot: the Call-ID's dialogs share its hash tag.
      const values = await redis.mget(ids.map((id) => this.#keys.dialog(callId, id)));
      return values.flatMap((json) => (json === null ? [] : [JSON.parse(json) as DialogRecord]));
    });
  }

  async byFlow(flowKey: string): Promise<DialogRecord[]> {
    return this.#link.run('dialogs.byFlow', (redis) => readIndex<DialogRecord>(
      redis, this.#keys.flowDialogs(flowKey), (id) => this.#keys.dialog(callIdOfDialogId(id), id), (d) => d.flowKey === flowKey,
    ));
  }

  async remove(id: string): Promise<void> {
    const callId = callIdOfDialogId(id);
    await this.#link.run('dialogs.remove', async (redis) => {
      const previous = await REMOVE_DIALOG.run(redis, [this.#keys.dialog(callId, id), this.#keys.callDialogs(callId)], [id]);
      if (typeof previous === 'string') await redis.srem(this.#keys.flowDialogs((JSON.parse(previous) as DialogRecord).flowKey), id);
    });
  }

  async all(): Promise<DialogRecord[]> {
    return this.#link.run('dialogs.all', async (redis) => {
      const out = new Map<string, DialogRecord>(); // SCAN may return a key twice
      await scanKeys(redis, this.#keys.allDialogsPattern(), async (keys) => {
        const values = await Promise.all(keys.map((key) => redis.get(key)));
        for (const json of values) {
          if (json === null) continue;
          const dialog = JSON.parse(json) as DialogRecord;
          out.set(dialog.id, dialog);
        }
      });
      return [...out.values()];
    });
  }
}
