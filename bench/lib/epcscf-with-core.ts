/**
 * epcscf as the benches run it: its own process (compiled dist/, through bench/sip-ws's launcher
 * epcscf-process.mjs) with mw.nextHop → Kamailio as the IMS core stand-in
 * (examples/kamailio/ims-core-standin.cfg with the bench's Kamailio settings), both on loopback
 * ports of their own, in a temporary directory, stopped by PID. The sip-ws and jsonrpc benches
 * differ only in the epcscf config and the node flags; bench/scale starts one core and several
 * epcscf processes toward it with the two halves (startImsCore, startEpcscfProcess).
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

/** A tuned copy of a Kamailio example config in `dir`; returns its path. */
export function tunedCopy(source: string, dir: string): string {
  const path = join(dir, source.split('/').pop() ?? 'kamailio.cfg');
  writeFileSync(path, tuneKamailioConfig(readFileSync(source, 'utf8')));
  return path;
}

export interface EpcscfWithCoreOptions {
  /** epcscf's W2 port (its readiness probe). */
  readonly w2Port: number;
  /** The IMS core stand-in's SIP port. */
  readonly corePort: number;
  /** The epcscf.yaml to run with. */
  readonly configYaml: string;
  /** Write a V8 CPU profile of epcscf (node --cpu-prof) into this directory. */
  readonly cpuProfileDir?: string;
  /** node --expose-gc: the launcher's SIGUSR2 memory hook needs it. */
  readonly exposeGc?: boolean;
  /** mkdtemp prefix of the run directory. */
  readonly tmpPrefix: string;
}

export interface EpcscfWithCore {
  readonly epcscf: Daemon;
  readonly core: KamailioPeer;
  /** Process groups whose CPU time is sampled, by label. */
  readonly groups: Readonly<Record<string, number>>;
  /** Both logs' tails (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** The IMS core stand-in alone (tuned ims-core-standin.cfg copied into `dir`), on `corePort`. */
export function startImsCore(corePort: number, dir: string): Promise<KamailioPeer> {
  return startKamailio({
    config: tunedCopy(KAMAILIO_CONFIGS.imsCore, dir), defines: { SIP_PORT: corePort },
    sharedMemoryMb: KAMAILIO_SETTINGS.sharedMemoryMb, privateMemoryMb: KAMAILIO_SETTINGS.privateMemoryMb,
  });
}

export interface EpcscfProcessOptions {
  /** epcscf's W2 port (its readiness probe). */
  readonly w2Port: number;
  /** The epcscf.yaml to run with. */
  readonly configYaml: string;
  /** Where the config file is written (`<dir>/<configName>`). */
  readonly dir: string;
  /** File name of the config in `dir` (default epcscf.yaml; several processes need one each). */
  readonly configName?: string;
  /** Write a V8 CPU profile of epcscf (node --cpu-prof) into this directory. */
  readonly cpuProfileDir?: string;
  /** node --expose-gc: the launcher's SIGUSR2 memory hook needs it. */
  readonly exposeGc?: boolean;
}

/** One epcscf process (compiled dist/, through bench/sip-ws/epcscf-process.mjs), ready once it logs so and its W2 port accepts. */
export function startEpcscfProcess(options: EpcscfProcessOptions): Promise<Daemon> {
  const config = join(options.dir, options.configName ?? 'epcscf.yaml');
  writeFileSync(config, options.configYaml);
  const gc = options.exposeGc === true ? ['--expose-gc'] : [];
  const profile = options.cpuProfileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  // BENCH_EPCSCF_NODE_FLAGS="--perf-basic-prof" and the like, for diagnosis (never in a measured run).
  const extraFlags = (process.env['BENCH_EPCSCF_NODE_FLAGS'] ?? '').split(' ').filter((f) => f.length > 0);
  const env = { ...process.env };
  delete env['EPCSCF_FROM_SOURCE']; // run the compiled build
  return startDaemon({
    name: 'epcscf',
    command: process.execPath,
    args: [...gc, ...profile, ...extraFlags, join(REPO_ROOT, 'bench/sip-ws/epcscf-process.mjs'), '--config', config],
    cwd: REPO_ROOT, env,
    ready: [{ kind: 'log', pattern: /epcscf is ready/ }, { kind: 'probe', probe: () => tcpAccepts(options.w2Port) }],
    readyTimeoutMs: 20_000,
  });
}

export async function startEpcscfWithCore(options: EpcscfWithCoreOptions): Promise<EpcscfWithCore> {
  const dir = mkdtempSync(join(tmpdir(), options.tmpPrefix));
  let core: KamailioPeer | undefined;
  let epcscf: Daemon | undefined;
  try {
    core = await startImsCore(options.corePort, dir);
    epcscf = await startEpcscfProcess({
      w2Port: options.w2Port, configYaml: options.configYaml, dir,
      ...(options.exposeGc !== undefined ? { exposeGc: options.exposeGc } : {}),
      ...(options.cpuProfileDir !== undefined ? { cpuProfileDir: options.cpuProfileDir } : {}),
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
    epcscf: startedEpcscf,
    core: startedCore,
    groups: { epcscf: startedEpcscf.pid, 'kamailio (IMS core)': startedCore.pid },
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
export async function gcAndMemoryUsage(daemon: Daemon, timeoutMs = 3000): Promise<NodeJS.MemoryUsage | undefined> {
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
