/**
 * The ioredis client of a RedisStateBackend (one Redis, Sentinel, or a Redis Cluster), set up to
 * fail fast: while Redis cannot be reached a command rejects at once with
 * EPC_ERR_STATE_UNAVAILABLE instead of queueing (no offline queue, no resend of commands lost
 * with a connection) or hanging (a command timeout for a Redis that accepts connections but does
 * not answer, e.g. stopped or swapping). The client reconnects by itself; `health()` (for
 * /ready) says whether the last word from Redis was good: connected, no command timed out since
 * the last answer, and (Redis Cluster) every master that owns slots answered its last probe.
 */
import { createHash } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '../../config/config-types.js';
import { EpcError } from '../../errors.js';
import type { StateHealth } from '../state-backend.js';
import { MasterReachability } from './master-reachability.js';

/** One Redis or Sentinel (`Redis`), or a Redis Cluster (`Cluster`): both take the same commands. */
export type RedisClient = Redis | Cluster;

export interface RedisLinkOptions {
  /** Milliseconds a command may take before it fails (and health turns bad). */
  readonly commandTimeoutMs: number;
  /** Milliseconds between PINGs (Redis Cluster: a probe of every master) that keep `health()` current when nothing else runs; 0: none. */
  readonly healthPingIntervalMs?: number;
  /** Prefix of the Redis Cluster probe keys (cluster.redis.keyPrefix). */
  readonly keyPrefix?: string;
  readonly logger?: Logger;
}

/** Reconnect delays: quick at first (a restart or failover), then every 2 s at most. */
const retryStrategy = (attempt: number): number => Math.min(100 * attempt, 2_000);
const CONNECT_TIMEOUT_MS = 2_000;
const DEFAULT_HEALTH_PING_MS = 2_000;
/** Redis Cluster: how often a master that did not answer is probed again. */
const MASTER_RECOVERY_PROBE_MS = 500;

/** ioredis's options (its `replyMapping` left to its default: exactOptionalPropertyTypes). */
export type LinkOptions = Omit<RedisOptions, 'replyMapping'>;
export type LinkClusterOptions = Omit<ClusterOptions, 'redisOptions'> & { redisOptions: Omit<NonNullable<ClusterOptions['redisOptions']>, 'replyMapping'> };

function commonOptions(commandTimeoutMs: number) {
  return {
    maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs, connectTimeout: CONNECT_TIMEOUT_MS, connectionName: 'epcscf',
  } as const;
}

/**
 * AUTH and TLS of every data connection (sentinels: the primary and replicas; clusterNodes: every
 * node) from cluster.redis.username / password / tls; a url carries its own. `tls: {}`: Node's
 * defaults, i.e. the system CAs, the certificate and host name checked.
 */
function authOptions(config: RedisConfig): { username?: string; password?: string; tls?: Record<string, never> } {
  return {
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.tls === true ? { tls: {} } : {}),
  };
}

/** Redis's answers to a refused AUTH or a command sent without it (Redis 6 ACL and older). */
const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH failed|NOPERM/i;

export function ioredisOptions(config: RedisConfig, commandTimeoutMs: number): LinkOptions {
  const common: LinkOptions = {
    ...commonOptions(commandTimeoutMs), enableOfflineQueue: false, retryStrategy,
    // After a Sentinel failover the old primary answers READONLY until the connection moves.
    reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
  };
  const given = [config.url, config.sentinels, config.clusterNodes].filter((x) => x !== undefined).length;
  if (given !== 1) throw new EpcError('EPC_ERR_CONFIG_INVALID', 'cluster.redis needs exactly one of url, sentinels + name, clusterNodes');
  if (config.sentinels !== undefined) {
    if (config.name === undefined) throw new EpcError('EPC_ERR_CONFIG_INVALID', 'cluster.redis.sentinels needs cluster.redis.name (the Sentinel master name)');
    return {
      ...common, ...authOptions(config),
      sentinels: config.sentinels.map((s) => ({ host: s.host, port: s.port })), name: config.name, sentinelRetryStrategy: retryStrategy,
      ...(config.sentinelPassword !== undefined ? { sentinelPassword: config.sentinelPassword } : {}),
      // One tls switch: the Sentinels are reached over TLS as well as the primary they name.
      ...(config.tls === true ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
    };
  }
  return common;
}

/**
 * Redis Cluster: the same fail-fast rules per master. A command for the slots of a master that
 * is gone fails as soon as its connection is refused (or after the command timeout), not after
 * ioredis's retries (retryDelayOnFailover / retryDelayOnClusterDown 0: no retry on a lost
 * connection or CLUSTERDOWN); MOVED and ASK (resharding, a replica promoted) are still followed.
 * Writes and reads go to masters only (scaleReads 'master': what was just written is what is read).
 * The offline queue stays on: ioredis opens each master's connection on its first command and,
 * without the queue, would refuse every command sent while that connection is being opened.
 * Nothing waits in it for long: RedisLink.run refuses while the cluster client is not ready,
 * a refused connection empties it at once, and the command timeout bounds the rest.
 */
export function ioredisClusterOptions(commandTimeoutMs: number, config?: RedisConfig): LinkClusterOptions {
  return {
    enableOfflineQueue: true, enableReadyCheck: true, scaleReads: 'master',
    clusterRetryStrategy: retryStrategy, retryDelayOnFailover: 0, retryDelayOnClusterDown: 0,
    slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
    // Every node's connection authenticates (and speaks TLS) alike: the cluster's own setting.
    redisOptions: { ...commonOptions(commandTimeoutMs), ...(config !== undefined ? authOptions(config) : {}) },
  };
}

function createClient(config: RedisConfig, commandTimeoutMs: number): RedisClient {
  const options = ioredisOptions(config, commandTimeoutMs); // also checks that exactly one mode is given
  if (config.clusterNodes !== undefined) return new Cluster(config.clusterNodes.map((n) => ({ host: n.host, port: n.port })), ioredisClusterOptions(commandTimeoutMs, config));
  return config.url !== undefined ? new Redis(config.url, options) : new Redis(options);
}

export class RedisLink {
  readonly redis: RedisClient;
  readonly #log: Logger | undefined;
  readonly #ping: NodeJS.Timeout | undefined;
  /** Redis Cluster only: which masters answer. */
  readonly #masters: MasterReachability | undefined;
  /** A command timed out and nothing answered since: Redis is connected but not serving. */
  #stalled = false;
  #lastReported: boolean | undefined;
  /** Redis's last refusal of our credentials (WRONGPASS, NOAUTH...) since the last ready: names the cause in health(). */
  #authFailure: string | undefined;
  #closed: Promise<void> | undefined;

  constructor(config: RedisConfig, options: RedisLinkOptions) {
    this.redis = createClient(config, options.commandTimeoutMs);
    this.#log = options.logger;
    // ioredis reports connection errors as events; without a listener Node would print them.
    this.redis.on('error', (error: Error) => {
      this.#noteAuthFailure(error);
      this.#log?.debug({ err: { message: error.message } }, 'Redis connection error');
    });
    this.redis.on('ready', () => {
      this.#authFailure = undefined;
      this.#report();
    });
    this.redis.on('close', () => this.#report());
    const every = options.healthPingIntervalMs ?? DEFAULT_HEALTH_PING_MS;
    if (this.redis instanceof Cluster) {
      const masters = new MasterReachability(this.redis, {
        keyPrefix: options.keyPrefix ?? '', everyMs: every, recoveryEveryMs: MASTER_RECOVERY_PROBE_MS, onChange: () => this.#report(),
        onAllAnswered: () => this.#answered(),
      });
      this.#masters = masters;
      this.redis.on('node error', (error: Error, nodeKey: string) => {
        this.#noteAuthFailure(error);
        this.#log?.debug({ err: { message: error.message }, node: nodeKey }, 'Redis Cluster node error');
        masters.markDown(nodeKey, error.message);
      });
      this.redis.on('ready', () => void masters.probe());
    } else if (every > 0) {
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
    if (status !== 'ready' && this.#authFailure !== undefined) {
      return { ok: false, detail: `Redis authentication failed (${this.#authFailure}): check cluster.redis.username / password` };
    }
    if (status !== 'ready') return { ok: false, detail: `Redis ${status === 'end' ? 'connection closed' : `unreachable (${status})`}` };
    if (this.#stalled) return { ok: false, detail: 'Redis does not answer (command timed out)' };
    const down = this.#masters?.down();
    if (down !== undefined && down.size > 0) {
      return { ok: false, detail: `Redis Cluster master${down.size > 1 ? 's' : ''} unreachable: ${[...down].map(([node, why]) => `${node} (${why})`).join(', ')}` };
    }
    return { ok: true };
  }

  /**
   * Runs one Redis exchange; any failure becomes EPC_ERR_STATE_UNAVAILABLE naming `what`.
   * Without a connection it fails before touching ioredis, so nothing waits.
   */
  async run<T>(what: string, exchange: (redis: RedisClient) => Promise<T>): Promise<T> {
    if (this.redis.status !== 'ready') {
      const health = this.health();
      throw new EpcError('EPC_ERR_STATE_UNAVAILABLE', `${what}: ${health.ok ? 'Redis unreachable' : health.detail}`);
    }
    try {
      const result = await exchange(this.redis);
      this.#answered();
      return result;
    } catch (error) {
      if (error instanceof EpcError) throw error;
      const message = (error as Error).message;
      if (/timed out/i.test(message) && !this.#stalled) {
        this.#stalled = true;
        this.#report();
      }
      // Redis Cluster: a master may have gone (the client stays ready): find out which now.
      if (this.#masters !== undefined && /Connection is closed|CLUSTERDOWN|ECONNREFUSED|timed out|unreachable/i.test(message)) void this.#masters.probe();
      throw new EpcError('EPC_ERR_STATE_UNAVAILABLE', `${what}: ${message}`, { cause: error });
    }
  }

  /** Idempotent: QUIT when connected (pending replies arrive first), else drop the connection. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      if (this.#ping) clearInterval(this.#ping);
      this.#masters?.close();
      if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
      this.redis.disconnect();
    })();
    return this.#closed;
  }

  /**
   * Remembers a refused AUTH. Redis's own words (e.g. "WRONGPASS invalid username-password pair")
   * never contain the password; ioredis's "Failed to refresh slots cache" (Redis Cluster) carries
   * the node's refusal as lastNodeError.
   */
  #noteAuthFailure(error: Error): void {
    const messages = [error.message, (error as Error & { lastNodeError?: Error }).lastNodeError?.message ?? ''];
    const refusal = messages.find((message) => AUTH_FAILURE.test(message));
    if (refusal === undefined) return;
    const changed = this.#authFailure === undefined;
    this.#authFailure = refusal.split('\n')[0]?.trim();
    if (changed) this.#report();
  }

  /** Redis answered: a command that timed out before is history. */
  #answered(): void {
    if (!this.#stalled) return;
    this.#stalled = false;
    this.#report();
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

  /** Redis Cluster: routed by the first key; a node that lacks the script (NOSCRIPT) gets it in full. */
  async run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}
