/**
 * The system under test: epcscf in its own process (compiled dist/, log level warn) with the
 * sip-ws and jsonrpc-ws plugins, media mode off, mw.nextHop → Kamailio as the IMS core stand-in
 * (examples/kamailio/ims-core-standin.cfg over UDP), with the same Kamailio settings and the
 * same epcscf launcher as bench/sip-ws. Both started on loopback ports of their own, stopped by PID.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KAMAILIO_CONFIGS, startKamailio, type KamailioPeer } from '../../test/support/peers/kamailio.js';
import { startDaemon, tcpAccepts, type Daemon } from '../../test/support/peers/process.js';
import { KAMAILIO_SETTINGS, REPO_ROOT, tuneKamailioConfig } from '../sip-ws/targets.js';

/** Flood limits raised on both plugins: the defaults (jsonrpc-ws 20 req/s per client) would cut a closed-loop client off. */
export const RAISED_FLOOD = { floodRatePerSecond: 1_000_000, floodBurst: 1_000_000 } as const;

export interface JsonRpcTargetOptions {
  readonly w2Port: number;
  readonly mwPort: number;
  readonly corePort: number;
  /** jsonrpc-ws resumeGraceSeconds (the plugin's default is 120). */
  readonly resumeGraceSeconds: number;
  /** Write a V8 CPU profile of epcscf (node --cpu-prof) into this directory. */
  readonly cpuProfileDir?: string;
}

export interface RunningJsonRpcTarget {
  /** ws://.../jsonrpc */
  readonly url: string;
  /** Process groups whose CPU time is sampled, by label. */
  readonly groups: Readonly<Record<string, number>>;
  output(): string;
  stop(): Promise<void>;
}

export function epcscfConfigYaml(options: JsonRpcTargetOptions): string {
  const flood = `floodRatePerSecond: ${RAISED_FLOOD.floodRatePerSecond}, floodBurst: ${RAISED_FLOOD.floodBurst}`;
  return [
    'w2:',
    `  listen: 127.0.0.1:${options.w2Port}`,
    '  allowedOrigins: []',
    'plugins:',
    '  - name: sip-ws',
    `    options: { ${flood} }`,
    '  - name: jsonrpc-ws',
    `    options: { ${flood}, resumeGraceSeconds: ${options.resumeGraceSeconds} }`,
    'mw:',
    `  listen: [udp:127.0.0.1:${options.mwPort}]`,
    `  nextHop: sip:127.0.0.1:${options.corePort};transport=udp`,
    '  domain: ims.test',
    '  visitedNetworkId: epcscf.test',
    'media:',
    '  mode: off',
    'log:',
    '  level: warn',
    '',
  ].join('\n');
}

export async function startJsonRpcTarget(options: JsonRpcTargetOptions): Promise<RunningJsonRpcTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-bench-jsonrpc-'));
  let core: KamailioPeer | undefined;
  let epcscf: Daemon | undefined;
  try {
    const coreConfig = join(dir, 'ims-core-standin.cfg');
    writeFileSync(coreConfig, tuneKamailioConfig(readFileSync(KAMAILIO_CONFIGS.imsCore, 'utf8')));
    core = await startKamailio({
      config: coreConfig, defines: { SIP_PORT: options.corePort },
      sharedMemoryMb: KAMAILIO_SETTINGS.sharedMemoryMb, privateMemoryMb: KAMAILIO_SETTINGS.privateMemoryMb,
    });
    const config = join(dir, 'epcscf.yaml');
    writeFileSync(config, epcscfConfigYaml(options));
    const profile = options.cpuProfileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
    const env = { ...process.env };
    delete env['EPCSCF_FROM_SOURCE']; // run the compiled build
    epcscf = await startDaemon({
      name: 'epcscf',
      command: process.execPath,
      // bench/sip-ws's launcher: the epcscf CLI plus a SIGUSR2 memory hook this bench never uses.
      args: [...profile, join(REPO_ROOT, 'bench/sip-ws/epcscf-process.mjs'), '--config', config],
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
    url: `ws://127.0.0.1:${options.w2Port}/jsonrpc`,
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
