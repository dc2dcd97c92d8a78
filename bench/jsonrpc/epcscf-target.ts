/**
 * The system under test: epcscf in its own process (compiled dist/, log level warn) with the
 * sip-ws and jsonrpc-ws plugins, media mode off, mw.nextHop → Kamailio as the IMS core stand-in
 * (examples/kamailio/ims-core-standin.cfg over UDP), with the same Kamailio settings and the
 * same epcscf launcher as bench/sip-ws (bench/lib/epcscf-with-core.ts). Both started on
 * loopback ports of their own, stopped by PID.
 */
import { startEpcscfWithCore } from '../lib/epcscf-with-core.js';

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
    // Every bench client connects from 127.0.0.1: the per-IP and per-node caps (w2.limits) would
    // refuse the 10,000 connections, their registrations and calls that a production node spreads over many IPs.
    '  limits: { maxConnections: 100000, maxConnectionsPerIp: 100000, maxCallsPerIp: 1000000, maxRegistrationsPerIp: 1000000 }',
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
  const target = await startEpcscfWithCore({
    w2Port: options.w2Port, corePort: options.corePort, tmpPrefix: 'epcscf-bench-jsonrpc-', configYaml: epcscfConfigYaml(options),
    ...(options.cpuProfileDir !== undefined ? { cpuProfileDir: options.cpuProfileDir } : {}),
  });
  return { url: `ws://127.0.0.1:${options.w2Port}/jsonrpc`, groups: target.groups, output: target.output, stop: target.stop };
}
