/**
 * The system under test: epcscf in its own process (compiled dist/, log level warn, media off)
 * with the three W2 plugins sip-ws, jsonrpc-ws and xmpp-ws on one W2 port, so the three
 * protocols are measured against the same process in one run; mw.nextHop → Kamailio as the IMS
 * core stand-in over UDP (bench/lib/epcscf-with-core.ts, the settings of the other benches).
 * `--expose-gc` for the memory hook of the launcher (a full GC before memory is read).
 */
import { benchEpcscfConfigYaml, type BenchPlugin } from '../lib/epcscf-config.js';
import { gcAndMemoryUsage, startEpcscfWithCore } from '../lib/epcscf-with-core.js';

/** jsonrpc-ws resumeGraceSeconds: its default, as bench/jsonrpc. */
export const RESUME_GRACE_SECONDS = 120;

export const TARGET_PLUGINS: readonly BenchPlugin[] = [
  { name: 'sip-ws' },
  { name: 'jsonrpc-ws', options: { resumeGraceSeconds: RESUME_GRACE_SECONDS } },
  { name: 'xmpp-ws' },
];

export interface ThreePluginTarget {
  /** ws://host:port/<path> of each plugin. */
  readonly urls: { readonly sipWs: string; readonly jsonrpc: string; readonly xmpp: string };
  readonly measuredPid: number;
  /** Process groups whose CPU time is sampled, by label. */
  readonly groups: Readonly<Record<string, number>>;
  gcAndMemory(): Promise<NodeJS.MemoryUsage | undefined>;
  output(): string;
  stop(): Promise<void>;
}

export interface TargetPorts {
  readonly w2Port: number;
  readonly mwPort: number;
  readonly corePort: number;
}

/** `cpuProfileDir`: write a V8 CPU profile of epcscf (node --cpu-prof) there. */
export async function startThreePluginTarget(ports: TargetPorts, cpuProfileDir?: string): Promise<ThreePluginTarget> {
  const target = await startEpcscfWithCore({
    w2Port: ports.w2Port, corePort: ports.corePort, tmpPrefix: 'epcscf-bench-xmpp-', exposeGc: true,
    ...(cpuProfileDir !== undefined ? { cpuProfileDir } : {}),
    configYaml: benchEpcscfConfigYaml({ w2Port: ports.w2Port, mwPort: ports.mwPort, corePort: ports.corePort, plugins: TARGET_PLUGINS }),
  });
  const base = `ws://127.0.0.1:${ports.w2Port}`;
  return {
    urls: { sipWs: `${base}/sip`, jsonrpc: `${base}/jsonrpc`, xmpp: `${base}/xmpp` },
    measuredPid: target.epcscf.pid,
    groups: target.groups,
    gcAndMemory: () => gcAndMemoryUsage(target.epcscf),
    output: target.output,
    stop: target.stop,
  };
}
