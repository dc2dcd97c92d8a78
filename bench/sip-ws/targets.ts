/**
 * The two systems under test, each started on its own loopback ports and stopped by PID:
 *   epcscf:   `epcscf` in its own process (compiled dist/, log level warn) with mw.nextHop →
 *             Kamailio as the IMS core stand-in (examples/kamailio/ims-core-standin.cfg, UDP).
 *   kamailio: Kamailio's own WebSocket front end (examples/kamailio/ws-registrar.cfg).
 * Both Kamailio configs are used as shipped except for the process/limit settings below, which
 * are rewritten into a copy (the examples are tuned for tests: 2 workers, per-request logging).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KAMAILIO_CONFIGS, startKamailio, type KamailioPeer } from '../../test/support/peers/kamailio.js';
import { startDaemon, tcpAccepts, type Daemon } from '../../test/support/peers/process.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** Kamailio settings for the bench (written into copies of the example configs). */
export const KAMAILIO_SETTINGS = {
  /** UDP worker processes (`children`). */
  children: 4,
  /** TCP/WS worker processes (`tcp_children`). */
  tcpChildren: 4,
  /** Room for 10,000 idle WebSockets plus the load points (default 2048). */
  tcpMaxConnections: 20_000,
  /** 0 = warnings only: the examples log every request at debug=2. */
  debug: 0,
  /** tm keeps each transaction ~5 s after it ends (wait timer): at ~2,000 calls/s that is 100s of MB;
   * each WebSocket holds a read buffer in shm (~70 KiB measured): 10,000 of them need ~700 MB. */
  sharedMemoryMb: 2048,
  privateMemoryMb: 16,
} as const;

/** Rewrites the process/limit globals of a Kamailio config (the examples set each once). */
export function tuneKamailioConfig(text: string): string {
  const s = KAMAILIO_SETTINGS;
  let out = text
    // BENCH_KAMAILIO_DEBUG=3 for diagnosing a target (never in a measured run).
    .replace(/^debug=\d+$/m, `debug=${process.env['BENCH_KAMAILIO_DEBUG'] ?? s.debug}`)
    .replace(/^children=\d+$/m, `children=${s.children}`)
    .replace(/^tcp_children=\d+$/m, `tcp_children=${s.tcpChildren}`);
  // A WS connection lives as long as the client keeps it (the registrar sets a lifetime too).
  out = out.replace(/^(tcp_children=\d+)$/m, `$1\ntcp_max_connections=${s.tcpMaxConnections}`);
  return out;
}

function tunedCopy(source: string, dir: string): string {
  const path = join(dir, source.split('/').pop() ?? 'kamailio.cfg');
  writeFileSync(path, tuneKamailioConfig(readFileSync(source, 'utf8')));
  return path;
}

export interface RunningTarget {
  /** ws://... the generator connects to. */
  readonly url: string;
  /** The process whose memory is measured (epcscf's node process; Kamailio's main pid = pgid). */
  readonly measuredPid: number;
  /** Process groups whose CPU time is sampled, by label. */
  readonly groups: Readonly<Record<string, number>>;
  /** epcscf only: full GC in the measured process, then its memoryUsage(). */
  readonly gcAndMemory?: () => Promise<NodeJS.MemoryUsage | undefined>;
  /** The tail of the target's own log (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface EpcscfTargetOptions {
  readonly w2Port: number;
  readonly mwPort: number;
  readonly corePort: number;
  /** Write a V8 CPU profile of epcscf (node --cpu-prof) into this directory. */
  readonly cpuProfileDir?: string;
  /** sip-ws flood limits: the defaults (50 msg/s per client) would cut a benchmark client off. */
  readonly floodRatePerSecond: number;
  readonly floodBurst: number;
  /** Mw transport toward the IMS core stand-in (default udp, as the issue asks). */
  readonly mwTransport?: 'udp' | 'tcp';
}

export async function startEpcscfTarget(options: EpcscfTargetOptions): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-bench-'));
  let core: KamailioPeer | undefined;
  let epcscf: Daemon | undefined;
  try {
    core = await startKamailio({
      config: tunedCopy(KAMAILIO_CONFIGS.imsCore, dir), defines: { SIP_PORT: options.corePort },
      sharedMemoryMb: KAMAILIO_SETTINGS.sharedMemoryMb, privateMemoryMb: KAMAILIO_SETTINGS.privateMemoryMb,
    });
    const config = join(dir, 'epcscf.yaml');
    writeFileSync(config, [
      'w2:',
      `  listen: 127.0.0.1:${options.w2Port}`,
      '  allowedOrigins: []',
      'plugins:',
      '  - name: sip-ws',
      `    options: { floodRatePerSecond: ${options.floodRatePerSecond}, floodBurst: ${options.floodBurst} }`,
      'mw:',
      `  listen: [${options.mwTransport ?? 'udp'}:127.0.0.1:${options.mwPort}]`,
      `  nextHop: sip:127.0.0.1:${options.corePort};transport=${options.mwTransport ?? 'udp'}`,
      '  domain: ims.test',
      '  visitedNetworkId: epcscf.test',
      // Signalling only, as the Kamailio baseline: the bench's plain RTP/AVP offers are not
      // WebRTC offers, and the IMS-ALG of the in-process media gateway (the default) refuses them with 488.
      'media:',
      '  mode: off',
      'log:',
      '  level: warn',
      '',
    ].join('\n'));
    const profile = options.cpuProfileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
    // BENCH_EPCSCF_NODE_FLAGS="--perf-basic-prof" and the like, for diagnosis (never in a measured run).
    const extraFlags = (process.env['BENCH_EPCSCF_NODE_FLAGS'] ?? '').split(' ').filter((f) => f.length > 0);
    const env = { ...process.env };
    delete env['EPCSCF_FROM_SOURCE']; // run the compiled build
    epcscf = await startDaemon({
      name: 'epcscf',
      command: process.execPath,
      args: ['--expose-gc', ...profile, ...extraFlags, join(REPO_ROOT, 'bench/sip-ws/epcscf-process.mjs'), '--config', config],
      cwd: REPO_ROOT, env,
      ready: [{ kind: 'log', pattern: /epcscf is ready/ }, { kind: 'probe', probe: () => tcpAccepts(options.w2Port) }],
      readyTimeoutMs: 20_000,
    });
  } catch (error) {
    await epcscf?.stop();
    await core?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const startedCore = core;
  const startedEpcscf = epcscf;
  return {
    url: `ws://127.0.0.1:${options.w2Port}/sip`,
    measuredPid: startedEpcscf.pid,
    groups: { epcscf: startedEpcscf.pid, 'kamailio (IMS core)': startedCore.pid },
    gcAndMemory: () => gcAndMemoryUsage(startedEpcscf),
    output: () => `--- epcscf ---\n${startedEpcscf.output()}\n--- kamailio (IMS core) ---\n${startedCore.output()}`,
    async stop() {
      // SIGTERM first with a long grace: epcscf writes its CPU profile on a clean exit.
      await startedEpcscf.stop(15_000);
      await startedCore.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asks the bench epcscf process for a full GC and its memoryUsage(); undefined without a reply. */
async function gcAndMemoryUsage(daemon: Daemon, timeoutMs = 3000): Promise<NodeJS.MemoryUsage | undefined> {
  const replies = (): string[] => daemon.output().match(/bench-memory \{.*\}\n/g) ?? [];
  const seen = replies().length;
  process.kill(daemon.pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const all = replies();
    const last = all[all.length - 1];
    if (all.length > seen && last !== undefined) return JSON.parse(last.slice('bench-memory '.length)) as NodeJS.MemoryUsage;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

export interface KamailioTargetOptions {
  readonly wsPort: number;
  readonly sipPort: number;
}

export async function startKamailioWsTarget(options: KamailioTargetOptions): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-bench-'));
  let kamailio: KamailioPeer;
  try {
    kamailio = await startKamailio({
      config: tunedCopy(KAMAILIO_CONFIGS.wsRegistrar, dir), defines: { SIP_PORT: options.sipPort, WS_PORT: options.wsPort },
      alsoReady: [{ kind: 'probe', probe: () => tcpAccepts(options.wsPort) }],
      sharedMemoryMb: KAMAILIO_SETTINGS.sharedMemoryMb, privateMemoryMb: KAMAILIO_SETTINGS.privateMemoryMb,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `ws://127.0.0.1:${options.wsPort}`,
    measuredPid: kamailio.pid,
    groups: { 'kamailio (WS front end)': kamailio.pid },
    output: () => kamailio.output(),
    async stop() {
      await kamailio.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
