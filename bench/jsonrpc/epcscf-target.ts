/**
 * The system under test: epcscf in its own process (compiled dist/, log level warn) with the
 * sip-ws and jsonrpc-ws plugins, media mode off, mw.nextHop → Kamailio as the IMS core stand-in
 * (examples/kamailio/ims-core-standin.cfg over UDP), with the same Kamailio settings and the
 * same epcscf launcher as bench/sip-ws (bench/lib/epcscf-with-core.ts). Both started on
 * loopback ports of their own, stopped by PID.
 */
import { benchEpcscfConfigYaml } from '../lib/epcscf-config.js';
import { startEpcscfWithCore } from '../lib/epcscf-with-core.js';

export { RAISED_FLOOD } from '../lib/epcscf-config.js';

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
  return benchEpcscfConfigYaml({
    w2Port: options.w2Port, mwPort: options.mwPort, corePort: options.corePort,
    plugins: [{ name: 'sip-ws' }, { name: 'jsonrpc-ws', options: { resumeGraceSeconds: options.resumeGraceSeconds } }],
  });
}

export async function startJsonRpcTarget(options: JsonRpcTargetOptions): Promise<RunningJsonRpcTarget> {
  const target = await startEpcscfWithCore({
    w2Port: options.w2Port, corePort: options.corePort, tmpPrefix: 'epcscf-bench-jsonrpc-', configYaml: epcscfConfigYaml(options),
    ...(options.cpuProfileDir !== undefined ? { cpuProfileDir: options.cpuProfileDir } : {}),
  });
  return { url: `ws://127.0.0.1:${options.w2Port}/jsonrpc`, groups: target.groups, output: target.output, stop: target.stop };
}
