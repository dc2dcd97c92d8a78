/**
 * One Redis Sentinel (Debian redis-server in `--sentinel` mode) watching one primary, as a test
 * peer: loopback, a port from allocatePort, its config file in a temporary directory (Sentinel
 * rewrites it), `auth-pass` for a primary started with a password and its own `requirepass`
 * when `password` is given. Ready once it answers PING. Stopped by PID.
 *
 *   const primary = await startRedis({ password: 'pw' });
 *   const sentinel = await startRedisSentinel({ masterName: 'state', masterPort: primary.port, masterPassword: 'pw' });
 *   config: { cluster: { redis: { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: 'state', password: 'pw' } } }
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatePort, releasePort } from './ports.js';
import { startDaemon, type Daemon } from './process.js';
import { redisAnswersPing } from './redis.js';

export interface RedisSentinelOptions {
  /** The Sentinel master name (cluster.redis.name). */
  readonly masterName: string;
  readonly masterPort: number;
  /** The primary's requirepass (Sentinel's `auth-pass`). */
  readonly masterPassword?: string;
  /** The Sentinel's own requirepass (cluster.redis.sentinelPassword). */
  readonly password?: string;
}

export interface RedisSentinel {
  readonly port: number;
  readonly pid: number;
  /** SIGTERM (SIGKILL after a grace), frees the port. Idempotent. */
  stop(): Promise<void>;
}

export async function startRedisSentinel(options: RedisSentinelOptions): Promise<RedisSentinel> {
  const port = await allocatePort();
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', 'daemonize no', `dir ${dir}`,
    `sentinel monitor ${options.masterName} 127.0.0.1 ${options.masterPort} 1`,
    ...(options.masterPassword !== undefined ? [`sentinel auth-pass ${options.masterName} ${options.masterPassword}`] : []),
    ...(options.password !== undefined ? [`requirepass ${options.password}`] : []),
    '',
  ].join('\n'));
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'redis-sentinel',
      command: 'redis-server',
      args: [conf, '--sentinel', '--loglevel', 'warning'],
      cwd: dir,
      ready: { kind: 'probe', probe: () => redisAnswersPing(port, '127.0.0.1', 300, options.password) },
      readyTimeoutMs: 10_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    releasePort(port);
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    port,
    pid: daemon.pid,
    stop() {
      stopped ??= (async () => {
        await daemon.stop(1_000);
        rmSync(dir, { recursive: true, force: true });
        releasePort(port);
      })();
      return stopped;
    },
  };
}
