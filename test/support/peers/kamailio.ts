/**
 * Kamailio as a real peer in tests (the IMS core stand-in, examples/kamailio/). Runs in the
 * foreground (-DD -E) with its runtime files in a fresh temp dir, and is ready once it
 * answers a SIP OPTIONS on UDP (the config replies 200 to OPTIONS addressed to itself).
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon, type Daemon, type Readiness } from './process.js';

/** The configs shipped in examples/kamailio/. */
export const KAMAILIO_CONFIGS = {
  imsCore: resolve(fileURLToPath(new URL('../../../examples/kamailio/ims-core-standin.cfg', import.meta.url))),
  wsRegistrar: resolve(fileURLToPath(new URL('../../../examples/kamailio/ws-registrar.cfg', import.meta.url))),
} as const;

export interface KamailioOptions {
  /** Path to the .cfg file. */
  readonly config: string;
  /**
   * Preprocessor defines passed as `-A NAME=value` (e.g. SIP_PORT). A string value is passed
   * as written; quote it yourself when the config needs a string literal (`'"ims.test"'`).
   */
  readonly defines?: Readonly<Record<string, string | number>>;
  /** UDP port probed with OPTIONS for readiness; defaults to defines.SIP_PORT. */
  readonly probePort?: number;
  /** Extra readiness checks (e.g. a TCP WS port). */
  readonly alsoReady?: readonly Readiness[];
  readonly readyTimeoutMs?: number;
  /** Shared memory / private memory in MB (defaults 64 / 8). */
  readonly sharedMemoryMb?: number;
  readonly privateMemoryMb?: number;
}

export interface KamailioPeer extends Daemon {
  /** Runtime dir (-Y) holding the pid file; removed on stop. */
  readonly dir: string;
}

/** Sends OPTIONS to host:port over UDP; true when any SIP response comes back in time. */
export function sipOptionsAnswered(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const socket = createSocket('udp4');
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      try { socket.close(); } catch { /* closed */ }
      resolveProbe(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('message', (data) => finish(data.subarray(0, 8).toString('latin1') === 'SIP/2.0 '));
    socket.bind(0, host, () => {
      const local = socket.address();
      const branch = `z9hG4bK-probe-${process.pid}-${Date.now()}`;
      const text = [
        `OPTIONS sip:${host}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${host}:${local.port};branch=${branch};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@${host}>;tag=probe${process.pid}`,
        `To: <sip:${host}:${port}>`,
        `Call-ID: probe-${branch}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '', '',
      ].join('\r\n');
      socket.send(text, port, host);
    });
  });
}

/** Starts kamailio with `config`; stop it with `peer.stop()` (t.teardown). */
export async function startKamailio(options: KamailioOptions): Promise<KamailioPeer> {
  const defines = Object.entries(options.defines ?? {}).flatMap(([name, value]) => ['-A', `${name}=${value}`]);
  const probePort = options.probePort ?? Number(options.defines?.['SIP_PORT'] ?? NaN);
  if (!Number.isInteger(probePort)) {
    throw new Error('startKamailio: give defines.SIP_PORT or probePort (the UDP port probed with OPTIONS)');
  }
  const ready: Readiness[] = [{ kind: 'probe', probe: () => sipOptionsAnswered(probePort) }, ...(options.alsoReady ?? [])];
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-kamailio-'));
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'kamailio',
      command: 'kamailio',
      args: ['-f', options.config, '-DD', '-E', '-Y', dir, '-P', join(dir, 'kamailio.pid'),
        '-m', String(options.sharedMemoryMb ?? 64), '-M', String(options.privateMemoryMb ?? 8), ...defines],
      ready,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    name: daemon.name, pid: daemon.pid, exited: daemon.exited, output: daemon.output,
    dir,
    async stop(graceMs?: number) {
      const status = await daemon.stop(graceMs);
      rmSync(dir, { recursive: true, force: true });
      return status;
    },
  };
}
