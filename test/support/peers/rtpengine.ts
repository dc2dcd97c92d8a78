/**
 * Debian's rtpengine (rtpengine-daemon) as a real peer in tests: userspace forwarding only
 * (`--table=-1`, no kernel module), one logical interface `lo` on 127.0.0.1, the ng control
 * protocol on a loopback UDP port, in the foreground with logs on stderr. Ready once it
 * answers an ng `ping` with `pong`.
 *
 * Media ports: rtpengine takes a range, not single ports. The range is a random block in
 * 32000-32767, above the test port allocator's range (20000-32000) and below Linux's
 * ephemeral range (32768+), so it collides with neither; two rtpengines whose blocks overlap
 * are still safe, because rtpengine skips a port it cannot bind.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon, type ExitStatus } from './process.js';

export interface RtpengineOptions {
  /** ng control port on 127.0.0.1 (take one from allocatePort). */
  readonly ngPort: number;
  /** Media ports in the block. Default 40 (two per stream side, plus headroom). */
  readonly mediaPorts?: number;
  /** Seconds a deleted call lingers (rtpengine's default is 30). Default 0: gone at once. */
  readonly deleteDelay?: number;
  /** Extra command-line arguments. */
  readonly extraArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
}

export interface RtpenginePeer extends Daemon {
  readonly ngPort: number;
  /** First and last media port of this instance's block. */
  readonly portMin: number;
  readonly portMax: number;
}

const MEDIA_BLOCK_START = 32000;
const MEDIA_BLOCK_END = 32767;

/** Sends a raw bencoded ng ping; true when `pong` comes back in time. */
export function ngPingAnswered(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const cookie = `probe${process.pid}${Date.now()}`;
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      try { socket.close(); } catch { /* closed */ }
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('message', (data) => finish(data.toString('latin1') === `${cookie} d6:result4:ponge`));
    socket.send(Buffer.from(`${cookie} d7:command4:pinge`, 'latin1'), port, host);
  });
}

export async function startRtpengine(options: RtpengineOptions): Promise<RtpenginePeer> {
  const size = options.mediaPorts ?? 40;
  const portMin = MEDIA_BLOCK_START + Math.floor(Math.random() * (MEDIA_BLOCK_END - MEDIA_BLOCK_START - size));
  const portMax = portMin + size - 1;
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-rtpengine-'));
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'rtpengine',
      command: 'rtpengine',
      args: [
        '--config-file=none', '--table=-1', '--interface=lo/127.0.0.1',
        `--listen-ng=127.0.0.1:${options.ngPort}`, `--port-min=${portMin}`, `--port-max=${portMax}`,
        `--delete-delay=${options.deleteDelay ?? 0}`, '--num-threads=1',
        '--foreground', '--log-stderr', `--pidfile=${join(dir, 'rtpengine.pid')}`,
        ...(options.extraArgs ?? []),
      ],
      cwd: dir,
      ready: { kind: 'probe', probe: () => ngPingAnswered(options.ngPort) },
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...daemon,
    ngPort: options.ngPort,
    portMin,
    portMax,
    async stop(graceMs?: number): Promise<ExitStatus> {
      const status = await daemon.stop(graceMs);
      rmSync(dir, { recursive: true, force: true });
      return status;
    },
  };
}
