/**
 * A real multi-master Redis Cluster (Debian redis-server 7.0) as a test peer: N masters on
 * loopback (default 3, no replicas), each its own process on a port from allocatePort with its
 * cluster bus on another (`--cluster-port`), no persistence, formed with
 * `redis-cli --cluster create` (slots split evenly) and ready once every node says
 * cluster_state:ok. A node's `kill()` is SIGKILL (its slots are unreachable: no replica takes
 * over); `restart()` starts it again on the same ports with the same nodes.conf, so it rejoins
 * with its node id and slots (empty: nothing was persisted). Stopped by PID.
 *
 *   const cluster = await startRedisCluster();  t.teardown(() => cluster.stop());
 *   config: { cluster: { redis: { clusterNodes: cluster.seeds } } }
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatePorts, releasePort } from './ports.js';
import { runCommand, startDaemon, type Daemon, type ExitStatus } from './process.js';
import { redisAnswersPing } from './redis.js';

export interface RedisClusterNode {
  readonly port: number;
  /** The PID of the running redis-server (changes with restart()). */
  readonly pid: number;
  /** SIGKILL, resolved once the process is gone (the ports stay allocated). */
  kill(): Promise<ExitStatus>;
  /** The node again on the same ports and nodes.conf (after kill()); resolves once the cluster is ok again. */
  restart(): Promise<void>;
  /** The slot ranges this node owns, [start, end] inclusive (its own CLUSTER NODES line). */
  slotRanges(): Promise<[number, number][]>;
  /** Ports of the nodes this node has flagged `fail` (Redis declared them failed after cluster-node-timeout). */
  failedPeers(): Promise<number[]>;
  /** This node's CLUSTER INFO cluster_state: ok, fail, or undefined when it does not answer. */
  clusterState(): Promise<string | undefined>;
}

export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** Seed addresses for cluster.redis.clusterNodes. */
  readonly seeds: readonly { readonly host: string; readonly port: number }[];
  /** Stops every node (SIGTERM, SIGKILL after a grace) and frees the ports. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Number of masters (default 3; Redis Cluster needs at least 3 for `--cluster create`). */
  readonly masters?: number;
  /** cluster-node-timeout: how long a silent master takes to be declared failed (default 15000, Redis's own). */
  readonly nodeTimeoutMs?: number;
  /**
   * cluster-require-full-coverage (Redis's default yes: once a master is declared failed, every
   * node refuses every command with CLUSTERDOWN; no: the other masters keep serving their slots).
   */
  readonly requireFullCoverage?: boolean;
  /** `--requirepass` and `--masterauth` on every node: clients (and replicas) must AUTH with it. */
  readonly password?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const HOST = '127.0.0.1';

/** redis-cli's AUTH arguments for a cluster started with `password`. */
const authArgs = (password: string | undefined): string[] => (password !== undefined ? ['-a', password, '--no-auth-warning'] : []);

async function cli(port: number, password: string | undefined, ...args: string[]): Promise<string> {
  return (await runCommand('redis-cli', ['-h', HOST, '-p', String(port), ...authArgs(password), ...args], { timeoutMs: 10_000 })).stdout;
}

async function waitClusterOk(ports: readonly number[], timeoutMs: number, password?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(ports.map((port) => cli(port, password, 'CLUSTER', 'INFO').catch(() => '')));
    if (states.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error(`redis cluster: cluster_state not ok within ${timeoutMs} ms (${states.map((s) => /cluster_state:\w+/.exec(s)?.[0] ?? 'no answer').join(', ')})`);
    await sleep(100);
  }
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const count = options.masters ?? 3;
  const ports = await allocatePorts(count * 2);
  const clientPorts = ports.slice(0, count);
  const busPorts = ports.slice(count);
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-redis-cluster-'));
  const daemons: (Daemon | undefined)[] = [];
  const launch = (i: number): Promise<Daemon> => {
    const port = clientPorts[i] as number;
    return startDaemon({
      name: `redis-cluster-${port}`,
      command: 'redis-server',
      args: [
        '--bind', HOST, '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir,
        '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning',
        '--cluster-enabled', 'yes', '--cluster-port', String(busPorts[i]), '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 15_000),
        '--cluster-require-full-coverage', options.requireFullCoverage === false ? 'no' : 'yes',
        ...(options.password !== undefined ? ['--requirepass', options.password, '--masterauth', options.password] : []),
      ],
      cwd: dir,
      ready: { kind: 'probe', probe: () => redisAnswersPing(port, HOST, 300, options.password) },
      readyTimeoutMs: 10_000,
    });
  };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(daemons.map(async (daemon) => {
        if (daemon === undefined) return;
        try { process.kill(daemon.pid, 'SIGCONT'); } catch { /* already gone */ }
        await daemon.stop(1_000);
      }));
      rmSync(dir, { recursive: true, force: true });
      for (const port of ports) releasePort(port);
    })();
    return stopped;
  };
  try {
    for (let i = 0; i < count; i++) daemons[i] = await launch(i);
    const created = await runCommand('redis-cli', [...authArgs(options.password), '--cluster', 'create', ...clientPorts.map((p) => `${HOST}:${p}`), '--cluster-yes'], { timeoutMs: 20_000 });
    if (!created.stdout.includes('All 16384 slots covered')) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
    await waitClusterOk(clientPorts, 10_000, options.password);
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = clientPorts.map((port, i): RedisClusterNode => ({
    port,
    get pid() { return (daemons[i] as Daemon).pid; },
    kill() {
      const daemon = daemons[i] as Daemon;
      try { process.kill(daemon.pid, 'SIGKILL'); } catch { /* already gone */ }
      return daemon.exited;
    },
    async restart() {
      await (daemons[i] as Daemon).stop(0);
      daemons[i] = await launch(i);
      await waitClusterOk(clientPorts, 10_000, options.password);
    },
    async slotRanges() {
      const mine = (await cli(port, options.password, 'CLUSTER', 'NODES')).split('\n').find((line) => line.includes('myself'));
      // <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot> <slot-slot> ...
      return (mine ?? '').trim().split(' ').slice(8).filter((range) => /^\d+(-\d+)?$/.test(range)).map((range): [number, number] => {
        const [start, end = start] = range.split('-').map(Number) as [number, number?];
        return [start, end];
      });
    },
    async failedPeers() {
      return (await cli(port, options.password, 'CLUSTER', 'NODES').catch(() => '')).split('\n').map((line) => line.split(' '))
        .filter((fields) => (fields[2] ?? '').split(',').includes('fail'))
        .map((fields) => Number(/:(\d+)@/.exec(fields[1] ?? '')?.[1]));
    },
    async clusterState() {
      return /cluster_state:(\w+)/.exec(await cli(port, options.password, 'CLUSTER', 'INFO').catch(() => ''))?.[1];
    },
  }));
  return { nodes, seeds: clientPorts.map((port) => ({ host: HOST, port })), stop };
}
