/**
 * The gateways under test, each started as its own process on loopback, driven over the ng
 * protocol and stopped by PID:
 *  - rtpengine (Debian rtpengine-daemon) in userspace (`--table=-1`, no kernel forwarding), one
 *    interface `lo` on 127.0.0.1, as test/support/peers/rtpengine.ts starts it;
 *  - ours: the `epcscf-media-gw` command (media-gw/cli/epcscf-media-gw.mjs) with a config file.
 * The bench owns UDP ports 44000-47999; the gateway gets 44000-45999 for its media ports.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MediaInterfaces } from '../../core/pcscf/alg/media-requests.js';
import { startDaemon, type Daemon, type ExitStatus } from '../../test/support/peers/process.js';
import { ngPingAnswered } from '../../test/support/peers/rtpengine.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

export type GatewayName = 'ours' | 'rtpengine';

/** The gateway's own media ports (both sides). */
export const GATEWAY_PORTS = { min: 44000, max: 45999 } as const;

export interface GatewayUnderTest {
  readonly name: GatewayName;
  readonly description: string;
  readonly version: string;
  readonly command: readonly string[];
  /** The process whose /proc/PID/stat CPU time is measured (its threads included). */
  readonly pid: number;
  readonly ngPort: number;
  /** The `direction` interface names the ALG sends (undefined: the gateway's default). */
  readonly interfaces: MediaInterfaces | undefined;
  output(): string;
  /** SIGTERM, then SIGKILL after a grace time; resolves with how the process ended. */
  stop(): Promise<ExitStatus>;
}

export interface GatewayStartOptions {
  readonly ngPort: number;
  /** Calls the gateway must accept (ours has a maxCalls limit). */
  readonly maxCalls: number;
}

function rtpengineVersion(): string {
  // rtpengine prints its version on stderr.
  const run = spawnSync('rtpengine', ['--version'], { encoding: 'utf8' });
  if (run.error !== undefined) return 'not installed';
  return `${run.stdout}${run.stderr}`.trim().replace(/^Version:\s*/, '');
}

export async function startRtpengineGateway(options: GatewayStartOptions): Promise<GatewayUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-bench-media-'));
  const args = [
    '--config-file=none', '--table=-1', '--interface=lo/127.0.0.1',
    `--listen-ng=127.0.0.1:${options.ngPort}`, `--port-min=${GATEWAY_PORTS.min}`, `--port-max=${GATEWAY_PORTS.max}`,
    // Deleted calls go at once; warnings only (no per-call info lines on stderr during the run).
    '--delete-delay=0', '--log-level=4',
    '--foreground', '--log-stderr', `--pidfile=${join(dir, 'rtpengine.pid')}`,
  ];
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'rtpengine', command: 'rtpengine', args, cwd: dir,
      ready: { kind: 'probe', probe: () => ngPingAnswered(options.ngPort) }, readyTimeoutMs: 10_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    name: 'rtpengine',
    description: 'rtpengine userspace (--table=-1), default worker threads, interface lo/127.0.0.1',
    version: rtpengineVersion(),
    command: ['rtpengine', ...args],
    pid: daemon.pid,
    ngPort: options.ngPort,
    // The interop rigs name the one interface for both sides, as a multi-homed deployment would.
    interfaces: { wic: 'lo', ims: 'lo' },
    output: () => daemon.output(),
    async stop() {
      const status = await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
      return status;
    },
  };
}

/** How our gateway is started; `--ours-command` overrides it (the config path is appended). */
export const OURS_DEFAULT_COMMAND = [process.execPath, join(REPO_ROOT, 'media-gw/cli/epcscf-media-gw.mjs')];

/**
 * `fromSource`: run the TypeScript source through tsx (EPCSCF_FROM_SOURCE=1), so a dist/ left from
 * an older build is never what gets measured; false runs dist/ when present (after `npm run build`).
 */
export interface OurGatewayOptions extends GatewayStartOptions {
  readonly command?: readonly string[];
  /** Run the TypeScript source through tsx (default) rather than a dist/ build. */
  readonly fromSource?: boolean;
  /** Write a V8 CPU profile of the gateway (node --cpu-prof) into this directory. */
  readonly cpuProfileDir?: string;
  /** media.gateway.relayWorkers: relay worker threads (0: relays in the gateway's own thread). */
  readonly relayWorkers?: number;
  /** The gateway's media ports, WebRTC side the lower half, IMS side the upper (default GATEWAY_PORTS; several gateways get a slice each). */
  readonly ports?: { readonly min: number; readonly max: number };
}

export async function startOurGateway(options: OurGatewayOptions): Promise<GatewayUnderTest> {
  const command = options.command ?? OURS_DEFAULT_COMMAND;
  const fromSource = options.fromSource ?? true;
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-bench-media-'));
  const ports = options.ports ?? GATEWAY_PORTS;
  const middle = Math.floor((ports.min + ports.max) / 2);
  const config = {
    media: {
      gateway: {
        webrtc: { host: '127.0.0.1', ports: { min: ports.min, max: middle } },
        ims: { host: '127.0.0.1', ports: { min: middle + 1, max: ports.max } },
        maxCalls: options.maxCalls,
        ...(options.relayWorkers !== undefined ? { relayWorkers: options.relayWorkers } : {}),
      },
      ngListen: `127.0.0.1:${options.ngPort}`,
    },
    // Per-call events at info level would be CPU spent on logging, not relaying.
    log: { level: 'warn' },
  };
  const configPath = join(dir, 'media-gw.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const [executable, ...rest] = command;
  if (executable === undefined) throw new Error('empty gateway command');
  // node flags go before the script: only when the command is node itself.
  const profile = options.cpuProfileDir !== undefined && executable === process.execPath
    ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const args = [...profile, ...rest, '--config', configPath];
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'epcscf-media-gw', command: executable, args, cwd: REPO_ROOT,
      env: { ...process.env, EPCSCF_FROM_SOURCE: fromSource ? '1' : '0' },
      ready: [
        { kind: 'log', pattern: /epcscf-media-gw ng listening on udp:/ },
        { kind: 'probe', probe: () => ngPingAnswered(options.ngPort) },
      ],
      readyTimeoutMs: 20_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    name: 'ours',
    description: `epcscf-media-gw (${command.map((part) => part.replace(`${REPO_ROOT}/`, '')).join(' ')}; ${fromSource ? 'TypeScript source through tsx' : 'dist/ build when present'}), `
      + `${options.relayWorkers ? `${options.relayWorkers} relay worker threads` : 'relays in the main thread'}, log level warn`,
    version: process.version,
    command: [executable, ...args],
    pid: daemon.pid,
    ngPort: options.ngPort,
    // Ours has one socket range per side and ignores `direction`; sent anyway, as the ALG would.
    interfaces: { wic: 'lo', ims: 'lo' },
    output: () => daemon.output(),
    async stop() {
      // One SIGTERM to the process only, then wait: node writes the CPU profile on a clean exit,
      // and the CLI stops listening for SIGTERM once shutting down, so the second SIGTERM that
      // Daemon.stop() sends (to the group and to the pid) would kill it before it writes.
      if (options.cpuProfileDir !== undefined) {
        try { process.kill(daemon.pid, 'SIGTERM'); } catch { /* already gone */ }
        await Promise.race([daemon.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      }
      const status = await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
      return status;
    },
  };
}
