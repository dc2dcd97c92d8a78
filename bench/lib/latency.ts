/** Latency samples of one load point and their summary (percentiles by nearest rank). */

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export class LatencyRecorder {
  readonly #samples: number[] = [];

  /** Milliseconds since `startNs` (a process.hrtime.bigint() reading). */
  recordSince(startNs: bigint): void {
    this.#samples.push(Number(process.hrtime.bigint() - startNs) / 1e6);
  }

  get count(): number {
    return this.#samples.length;
  }

  summary(): LatencySummary {
    const sorted = Float64Array.from(this.#samples).sort();
    const at = (q: number): number => {
      if (sorted.length === 0) return 0;
      const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
      return round(sorted[index] ?? 0);
    };
    let sum = 0;
    for (const s of sorted) sum += s;
    return {
      count: sorted.length, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99),
      maxMs: round(sorted[sorted.length - 1] ?? 0), meanMs: round(sorted.length > 0 ? sum / sorted.length : 0),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
