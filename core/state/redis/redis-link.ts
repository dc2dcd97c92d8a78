/**
 * The one ioredis connection of a RedisStateBackend, set up to fail fast: while Redis cannot be
 * reached a command rejects at once with EPC_ERR_STATE_UNAVAILABLE instead of queueing (no
 * offline queue, no resend of commands lost with a connection) or hanging (a command timeout
 * for a Redis that accepts connections but does not answer, e.g. stopped or swapping). The
 * client reconnects by itself; `health()` (for /ready) says whether the last word from Redis was
 * good: connected, and no command timed out since the last answer.
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '../../config/config-types.js';
import { EpcError } from '../../errors.js';
import type { StateHealth } from '../state-backend.js';

export interface RedisLinkOptions {
  /** Milliseconds a command may take before it fails (and health turns bad). */
  readonly commandTimeoutMs: number;
  /** Milliseconds between PINGs that keep `health()` current when nothing else runs; 0: none. */
  readonly healthPingIntervalMs?: number;
  readonly logger?: Logger;
}

/** Reconnect delays: quick at first (a restart or failover), then every 2 s at most. */
const retryStrategy = (attempt: number): number => Math.min(100 * attempt, 2_000);
const CONNECT_TIMEOUT_MS = 2_000;
const DEFAULT_HEALTH_PING_MS = 2_000;

/** ioredis's options (its `replyMapping` left to its default: exactOptionalPropertyTypes). */
export type LinkOptions = Omit<RedisOptions, 'replyMapping'>;

export function ioredisOptions(config: RedisConfig, commandTimeoutMs: number): LinkOptions {
  const common: LinkOptions = {
    enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs, connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy,
    connectionName: 'epcscf',
    // After a Sentinel failover the old primary answers READONLY until the connection moves.
    reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
  };
  if (config.sentinels !== undefined) {
    if (config.name === undefined) throw new EpcError('EPC_ERR_CONFIG_INVALID', 'cluster.redis.sentinels needs cluster.redis.name (the Sentinel master name)');
    if (config.url !== undefined) throw new EpcError('EPC_ERR_CONFIG_INVALID', 'cluster.redis: give either url or sentinels + name, not both');
    return { ...common, sentinels: config.sentinels.map((s) => ({ host: s.host, port: s.port })), name: config.name, sentinelRetryStrategy: retryStrategy };
  }
  if (config.url === undefined) throw new EpcError('EPC_ERR_CONFIG_INVALID', 'cluster.redis needs url, or sentinels + name');
  return common;
}

export class RedisLink {
  readonly redis: Redis;
  readonly #log: Logger | undefined;
  readonly #ping: NodeJS.Timeout | undefined;
  /** A command timed out and nothing answered since: Redis is connected but not serving. */
  #stalled = false;
  #lastReported: boolean | undefined;
  #closed: Promise<void> | undefined;

  constructor(config: RedisConfig, options: RedisLinkOptions) {
    const redisOptions = ioredisOptions(config, options.commandTimeoutMs);
    this.redis = config.url !== undefined && config.sentinels === undefined ? new Redis(config.url, redisOptions) : new Redis(redisOptions);
    this.#log = options.logger;
    // ioredis reports connection errors as events; without a listener Node would print them.
    this.redis.on('error', (error: Error) => this.#log?.debug({ err: { message: error.message } }, 'Redis connection error'));
    this.redis.on('ready', () => this.#report());
    this.redis.on('close', () => this.#report());
    const every = options.healthPingIntervalMs ?? DEFAULT_HEALTH_PING_MS;
    if (every > 0) {
      this.#ping = setInterval(() => void this.run('PING', (r) => r.ping()).catch(() => undefined), every);
      this.#ping.unref();
    }
  }

  /** Resolves once connected, or after `timeoutMs` either way (the backend then starts unavailable). */
  async connected(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.redis.on('ready', onReady);
    });
  }

  health(): StateHealth {
    const status = this.redis.status;
    if (status !== 'ready') return { ok: false, detail: `Redis ${status === 'end' ? 'connection closed' : `unreachable (${status})`}` };
    if (this.#stalled) return { ok: false, detail: 'Redis does not answer (command timed out)' };
    return { ok: true };
  }

  /**
   * Runs one Redis exchange; any failure becomes EPC_ERR_STATE_UNAVAILABLE naming `what`.
   * Without a connection it fails before touching ioredis, so nothing waits.
   */
  async run<T>(what: string, exchange: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') {
      const health = this.health();
      throw new EpcError('EPC_ERR_STATE_UNAVAILABLE', `${what}: ${health.ok ? 'Redis unreachable' : health.detail}`);
    }
    try {
      const result = await exchange(this.redis);
      if (this.#stalled) {
        this.#stalled = false;
        this.#report();
      }
      return result;
    } catch (error) {
      if (error instanceof EpcError) throw error;
      const message = (error as Error).message;
      if (/timed out/i.test(message) && !this.#stalled) {
        this.#stalled = true;
        this.#report();
      }
      throw new EpcError('EPC_ERR_STATE_UNAVAILABLE', `${what}: ${message}`, { cause: error });
    }
  }

  /** Idempotent: QUIT when connected (pending replies arrive first), else drop the connection. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#ping) clearInterval(this.#ping);
      if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
      this.redis.disconnect();
    })();
    return this.#closed;
  }

  /** Logs each change between serving and not serving once. */
  #report(): void {
    const health = this.health();
    if (health.ok === this.#lastReported || this.#closed) return;
    const first = this.#lastReported === undefined;
    this.#lastReported = health.ok;
    if (health.ok) this.#log?.info(first ? 'Redis state backend connected' : 'Redis state backend available again');
    else if (!first) this.#log?.warn({ detail: health.detail }, 'Redis state backend unavailable: requests that need shared state get 503 until it returns');
  }
}

/**
 * A Lua script run by its SHA1 (EVALSHA), sent in full on first use or after a Redis restart
 * (NOSCRIPT). Every key it touches is passed in KEYS and shares one hash tag (Redis Cluster).
 */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}
