/**
 * What the soak concludes from its samples: RSS growth slope per process (least squares over the
 * load phase after its warm-up, MB per hour), and what each process holds after the load stopped
 * and the settle time passed, against what it held before the load (the leak figures: zero
 * expected for sockets and UDP ports).
 */
import type { ProcessHoldings } from './proc-sockets.js';

export interface Sample {
  /** Seconds since the load started (negative: the baseline before it). */
  readonly t: number;
  readonly phase: 'baseline' | 'load' | 'settled';
  readonly processes: Readonly<Record<string, ProcessHoldings | null>>;
  readonly operations: Readonly<Record<string, { completed: number; errors: number; p50Ms: number; p99Ms: number }>>;
  readonly mediaOneWayMs?: { readonly count: number; readonly p50Ms: number; readonly p99Ms: number };
}

export interface Leak {
  readonly fds: number;
  readonly tcpSockets: number;
  readonly udpSockets: number;
  readonly otherSockets: number;
  /** UDP ports bound after the settle time that were not bound before the load. */
  readonly udpPortsNew: readonly number[];
  readonly rssKbGrowth: number;
}

/** Least-squares slope of y over x; 0 with fewer than 2 points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0; let sy = 0; let sxx = 0; let sxy = 0;
  for (const { x, y } of points) { sx += x; sy += y; sxx += x * x; sxy += x * y; }
  const denominator = n * sxx - sx * sx;
  return denominator === 0 ? 0 : (n * sxy - sx * sy) / denominator;
}

/** MB/h of RSS for `label` over the load samples with t ≥ fromSeconds. */
export function rssSlopeMbPerHour(samples: readonly Sample[], label: string, fromSeconds: number): number {
  const points = samples
    .filter((s) => s.phase === 'load' && s.t >= fromSeconds && s.processes[label] != null)
    .map((s) => ({ x: s.t / 3600, y: (s.processes[label]?.rssKb ?? 0) / 1024 }));
  return Math.round(slope(points) * 10) / 10;
}

export function leakOf(before: ProcessHoldings, after: ProcessHoldings): Leak {
  const had = new Set(before.udpPorts);
  return {
    fds: after.fds - before.fds,
    tcpSockets: after.tcpSockets - before.tcpSockets,
    udpSockets: after.udpSockets - before.udpSockets,
    otherSockets: after.otherSockets - before.otherSockets,
    udpPortsNew: after.udpPorts.filter((port) => !had.has(port)),
    rssKbGrowth: after.rssKb - before.rssKb,
  };
}

/** Sockets (TCP + UDP + other) and UDP ports a process holds beyond its baseline; negative counts as 0. */
export function leakedCounts(leak: Leak): { sockets: number; udpPorts: number } {
  return {
    sockets: Math.max(0, leak.tcpSockets) + Math.max(0, leak.udpSockets) + Math.max(0, leak.otherSockets),
    udpPorts: leak.udpPortsNew.length,
  };
}
