/**
 * The two systems under test, each started on its own loopback ports and stopped by PID:
 *   epcscf:   `epcscf` in its own process (compiled dist/, log level warn) with mw.nextHop →
 *             Kamailio as the IMS core stand-in (examples/kamailio/ims-core-standin.cfg, UDP).
 *   kamailio: Kamailio's own WebSocket front end (examples/kamailio/ws-registrar.cfg).
 * Both Kamailio configs are used as shipped except for the process/limit settings of
 * bench/lib/epcscf-with-core.ts (KAMAILIO_SETTINGS), which are rewritten into a copy (the
 * examples are tuned for tests: 2 workers, per-request logging).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KAMAILIO_CONFIGS, startKamailio, type KamailioPeer } from '../../test/support/peers/kamailio.js';
import { tcpAccepts } from '../../test/support/peers/process.js';
import { benchEpcscfConfigYaml } from '../lib/epcscf-config.js';
import { gcAndMemoryUsage, KAMAILIO_SETTINGS, startEpcscfWithCore, tunedCopy } from '../lib/epcscf-with-core.js';

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
  const target = await startEpcscfWithCore({
    w2Port: options.w2Port, corePort: options.corePort, tmpPrefix: 'epcscf-bench-', exposeGc: true,
    ...(options.cpuProfileDir !== undefined ? { cpuProfileDir: options.cpuProfileDir } : {}),
    // Signalling only, as the Kamailio baseline: the bench's plain RTP/AVP offers are not
    // WebRTC offers, and the IMS-ALG of the in-process media gateway (the default) refuses them with 488.
    configYaml: benchEpcscfConfigYaml({
      w2Port: options.w2Port, mwPort: options.mwPort, corePort: options.corePort, mwTransport: options.mwTransport ?? 'udp',
      plugins: [{ name: 'sip-ws', options: { floodRatePerSecond: options.floodRatePerSecond, floodBurst: options.floodBurst } }],
    }),
  });
  return {
    url: `ws://127.0.0.1:${options.w2Port}/sip`,
    measuredPid: target.epcscf.pid,
    groups: target.groups,
    gcAndMemory: () => gcAndMemoryUsage(target.epcscf),
    output: target.output,
    stop: target.stop,
  };
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
