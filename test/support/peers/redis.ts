/**
 * Debian's redis-server as a real peer in tests: loopback only, on a port from allocatePort, no
 * persistence (no RDB, no AOF: a restart starts empty, as a lost Redis would; `persistent: true`
 * keeps an AOF instead), in the foreground.
 * Ready once it answers PING. For outage tests: `pause()`/`resume()` (SIGSTOP/SIGCONT: connected
 * but silent, like a stuck Redis) and `kill()` + `restart()` (SIGKILL, then a new process on the
 * same port: connections drop and come back). `cluster: true` starts a one-node Redis Cluster
 * holding every slot: it refuses a multi-key command or script whose keys span hash slots
 * (CROSSSLOT), which proves a key layout works on Redis Cluster.
 *
 *   const redis = await startRedis();  t.teardown(() => redis.stop());
 *   config: { cluster: { redis: { url: redis.url } } }
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatePort, releasePort } from './ports.js';
import { runCommand, startDaemon, type Daemon, type ExitStatus } from './process.js';

export interface RedisPeer {
  readonly port: number;
  /** redis://127.0.0.1:port */
  readonly url: string;
  /** The PID of the running redis-server (changes with restart()). */
  readonly pid: number;
  /** SIGSTOP: the socket stays open but nothing answers. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** SIGKILL, resolved once the process is gone (the port stays allocated). */
  kill(): Promise<ExitStatus>;
  /** A new redis-server on the same port (after kill()), empty. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM, SIGKILL after a grace) and frees the port. Idempotent. */
  stop(): Promise<void>;
}

/** Sends an inline PING (after AUTH when `password` is given); true when +PONG comes back in time. */
export function redisAnswersPing(port: number, host = '127.0.0.1', timeoutMs = 300, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let reply = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const auth = password !== undefined ? `AUTH ${password}\r\n` : '';
    socket.once('connect', () => socket.write(`${auth}PING\r\n`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const lines = reply.split('\r\n');
      if (lines.length > (auth ? 2 : 1)) done(lines[auth ? 1 : 0] === '+PONG');
    });
    socket.once('error', () => done(false));
  });
}

export interface RedisPeerOptions {
  /** A one-node Redis Cluster (every slot on this node) instead of a standalone Redis. */
  readonly cluster?: boolean;
  /** `--requirepass`: every client must AUTH with it (the default user's password). */
  readonly password?: string;
  /**
   * Keep the data across kill() + restart() (AOF, fsync on every write), as a Redis restarted
   * from its own disk or a promoted replica would: an outage that loses no state. Keys' expiries
   * are absolute times, so what expired during the outage is gone after it.
   */
  readonly persistent?: boolean;
  readonly readyTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Gives the one cluster node every slot and waits until the cluster says ok. */
async function formCluster(port: number, password?: string): Promise<void> {
  const auth = password !== undefined ? ['-a', password, '--no-auth-warning'] : [];
  const cli = (...args: string[]) => runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args], { timeoutMs: 5_000 });
  const added = await cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  if (!added.stdout.includes('OK')) throw new Error(`redis-server cluster: ADDSLOTSRANGE failed: ${added.stdout} ${added.stderr}`);
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; await sleep(50)) {
    if ((await cli('CLUSTER', 'INFO')).stdout.includes('cluster_state:ok')) return;
  }
  throw new Error('redis-server cluster: cluster_state not ok within 5 s');
}

export async function startRedis(options: RedisPeerOptions = {}): Promise<RedisPeer> {
  const port = await allocatePort();
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-redis-'));
  const launch = (): Promise<Daemon> => startDaemon({
    name: 'redis-server',
    command: 'redis-server',
    args: [
      '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--dir', dir,
      ...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning',
      ...(options.password !== undefined ? ['--requirepass', options.password] : []),
      ...(options.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${Date.now()}.conf`)] : ['--databases', '1']),
    ],
    cwd: dir,
    ready: { kind: 'probe', probe: () => redisAnswersPing(port, '127.0.0.1', 300, options.password) },
    readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
  });
  let daemon: Daemon;
  try {
    daemon = await launch();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    releasePort(port);
    throw error;
  }
  const signal = (name: NodeJS.Signals): void => {
    try { process.kill(daemon.pid, name); } catch { /* already gone */ }
  };
  let stopped: Promise<void> | undefined;
  const peer: RedisPeer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() { return daemon.pid; },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    kill() {
      signal('SIGKILL');
      return daemon.exited;
    },
    async restart() {
      await daemon.stop(0);
      daemon = await launch();
      if (options.cluster) await formCluster(port, options.password);
    },
    stop() {
      stopped ??= (async () => {
        signal('SIGCONT');
        await daemon.stop(1_000);
        rmSync(dir, { recursive: true, force: true });
        releasePort(port);
      })();
      return stopped;
    },
  };
  if (options.cluster) await formCluster(port, options.password).catch(async (error: unknown) => { await peer.stop(); throw error; });
  return peer;
}
