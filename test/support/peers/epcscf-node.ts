/**
 * An epcscf node as its own process (the `epcscf` command, core/cli/epcscf.mjs, from source), for
 * tests that must kill one for real (issue #15: SIGKILL a cluster node mid-call). Its config is
 * written to a fresh temp dir; ready once its W2 port accepts. Stop it with `stop()` (SIGTERM,
 * the node releases its flows) or `kill()` (SIGKILL: nothing released, a survivor must).
 *
 *   const node = await startEpcscfNode({ nodeId: 'node-a', nextHop: core.uri('udp'), cluster: { ... } });
 *   t.teardown(() => node.stop());
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatePort, releasePort } from './ports.js';
import { startDaemon, type Daemon, type ExitStatus } from './process.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

export interface EpcscfNodeOptions {
  readonly nodeId: string;
  /** mw.nextHop: the IMS core entry. */
  readonly nextHop: string;
  /** The Mw UDP port (allocated by the caller when other nodes must know it before start); default: allocated here. */
  readonly mwPort?: number;
  /** The `cluster` section besides nodeId (mwUri, flowSecret, redis, heartbeatSeconds). */
  readonly cluster: Record<string, unknown>;
  /** Plugins (default sip-ws). */
  readonly plugins?: readonly { readonly name: string; readonly options?: Record<string, unknown> }[];
  readonly readyTimeoutMs?: number;
}

export interface EpcscfNode {
  readonly nodeId: string;
  readonly pid: number;
  readonly w2Port: number;
  readonly mwPort: number;
  /** ws://127.0.0.1:port (plugins add their paths: `${baseUrl}/sip`). */
  readonly baseUrl: string;
  readonly exited: Promise<ExitStatus>;
  output(): string;
  /** SIGKILL: the node dies without releasing anything. Resolves once it is gone. */
  kill(): Promise<ExitStatus>;
  /** SIGTERM (graceful), then frees the ports and the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export async function startEpcscfNode(options: EpcscfNodeOptions): Promise<EpcscfNode> {
  const w2Port = await allocatePort();
  const mwPort = options.mwPort ?? await allocatePort();
  const dir = mkdtempSync(join(tmpdir(), `epcscf-${options.nodeId}-`));
  const file = join(dir, 'epcscf.json');
  writeFileSync(file, JSON.stringify({
    w2: { listen: `127.0.0.1:${w2Port}`, pingIntervalSeconds: 0 },
    plugins: options.plugins ?? [{ name: 'sip-ws' }],
    mw: { listen: [`udp:127.0.0.1:${mwPort}`], nextHop: options.nextHop, domain: 'ims.test', visitedNetworkId: 'epcscf.test', nextHopProbe: { intervalSeconds: 0 } },
    media: { mode: 'off' },
    cluster: { nodeId: options.nodeId, ...options.cluster },
    log: { level: process.env['EPCSCF_TEST_LOG'] ?? 'warn' },
  }));
  const free = (): void => {
    rmSync(dir, { recursive: true, force: true });
    releasePort(w2Port);
    if (options.mwPort === undefined) releasePort(mwPort);
  };
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: `epcscf ${options.nodeId}`, command: process.execPath, args: [join(REPO_ROOT, 'core/cli/epcscf.mjs'), '--config', file],
      cwd: REPO_ROOT, env: { ...process.env, EPCSCF_FROM_SOURCE: '1' },
      ready: { kind: 'port', protocol: 'tcp', port: w2Port }, readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    });
  } catch (error) {
    free();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    nodeId: options.nodeId, pid: daemon.pid, w2Port, mwPort, baseUrl: `ws://127.0.0.1:${w2Port}`, exited: daemon.exited,
    output: () => daemon.output(),
    kill() {
      try { process.kill(daemon.pid, 'SIGKILL'); } catch { /* already gone */ }
      return daemon.exited;
    },
    stop() {
      stopped ??= daemon.stop(5_000).then(free, free);
      return stopped;
    },
  };
}
