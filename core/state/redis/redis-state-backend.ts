/**
 * The Redis StateBackend (issue #15: several nodes share one state home): every store of the
 * contract over one ioredis client (redis-link.ts: one Redis, Sentinel or a Redis Cluster) with the
 * key layout of redis-keys.ts.
 * While Redis cannot be reached every method rejects at once with EPC_ERR_STATE_UNAVAILABLE and
 * health() is not ok; the connection comes back by itself.
 */
import type { Logger } from 'pino';
import type { RedisConfig } from '../../config/config-types.js';
import type { StateBackend, StateHealth, TtlStore } from '../state-backend.js';
import { RedisDialogStore } from './redis-dialog-store.js';
import { RedisFlowDirectory } from './redis-flow-directory.js';
import { RedisKeys } from './redis-keys.js';
import { RedisLink } from './redis-link.js';
import { RedisMediaLegDirectory } from './redis-media-leg-directory.js';
import { RedisNodeDirectory } from './redis-node-directory.js';
import { RedisRegistrationStore } from './redis-registration-store.js';
import { RedisTtlStore } from './redis-ttl-store.js';

export interface RedisStateBackendOptions {
  readonly logger?: Logger;
  /** Epoch ms for registration expiry checks (default Date.now; Redis expires keys on its own clock). */
  readonly now?: () => number;
  /** Milliseconds between health PINGs when idle (default 2 s; 0: none). */
  readonly healthPingIntervalMs?: number;
}

export class RedisStateBackend implements StateBackend {
  readonly kind = 'redis' as const;
  readonly registrations: RedisRegistrationStore;
  readonly dialogs: RedisDialogStore;
  readonly flows: RedisFlowDirectory;
  readonly nodes: RedisNodeDirectory;
  readonly mediaLegs: RedisMediaLegDirectory;
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;
  readonly #namespaces = new Map<string, TtlStore>();

  constructor(config: RedisConfig, options: RedisStateBackendOptions = {}) {
    this.#keys = new RedisKeys(config.keyPrefix);
    this.#link = new RedisLink(config, {
      commandTimeoutMs: config.commandTimeoutMs, keyPrefix: config.keyPrefix,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.healthPingIntervalMs !== undefined ? { healthPingIntervalMs: options.healthPingIntervalMs } : {}),
    });
    this.registrations = new RedisRegistrationStore(this.#link, this.#keys, options.now);
    this.dialogs = new RedisDialogStore(this.#link, this.#keys, config.dialogTtlMs);
    this.flows = new RedisFlowDirectory(this.#link, this.#keys);
    this.nodes = new RedisNodeDirectory(this.#link, this.#keys);
    this.mediaLegs = new RedisMediaLegDirectory(this.#link, this.#keys, config.dialogTtlMs);
  }

  /**
   * A backend whose connection is up, or, when Redis does not answer within `waitMs`, one that
   * starts unavailable and connects when Redis comes (a node may start before its Redis).
   */
  static async connect(config: RedisConfig, options: RedisStateBackendOptions & { readonly waitMs?: number } = {}): Promise<RedisStateBackend> {
    const backend = new RedisStateBackend(config, options);
    if (!(await backend.#link.connected(options.waitMs ?? 2_000))) {
      const health = backend.health();
      options.logger?.warn({ detail: health.ok ? undefined : health.detail }, 'Redis state backend not reachable yet: /ready stays false and requests that need shared state get 503 until it is');
    }
    return backend;
  }

  namespace(name: string): TtlStore {
    let store = this.#namespaces.get(name);
    if (store === undefined) {
      store = new RedisTtlStore(this.#link, this.#keys, name);
      this.#namespaces.set(name, store);
    }
    return store;
  }

  health(): StateHealth {
    return this.#link.health();
  }

  close(): Promise<void> {
    return this.#link.close();
  }
}
