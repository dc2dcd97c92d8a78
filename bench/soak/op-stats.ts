/**
 * Per-operation figures of the soak: a latency recorder for the whole run and one for the current
 * 10 s sample window (replaced at each sample), completed and failed counts, and the first few
 * distinct error messages (what failed, not a log of every failure).
 */
import { LatencyRecorder, type LatencySummary } from '../lib/latency.js';

const KEPT_ERRORS = 5;

export interface OpTotals {
  readonly completed: number;
  readonly errors: number;
  readonly latency: LatencySummary;
  readonly firstErrors: readonly string[];
}

export interface OpWindow {
  readonly completed: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

class OneOp {
  total = new LatencyRecorder();
  window = new LatencyRecorder();
  errors = 0;
  windowErrors = 0;
  readonly firstErrors: string[] = [];
}

export class OpStats {
  readonly #ops = new Map<string, OneOp>();

  #op(name: string): OneOp {
    let op = this.#ops.get(name);
    if (op === undefined) {
      op = new OneOp();
      this.#ops.set(name, op);
    }
    return op;
  }

  /** Runs `work` as one `name` operation: its latency on success, an error otherwise (never throws). */
  async time(name: string, work: () => Promise<void>): Promise<boolean> {
    const op = this.#op(name);
    const start = process.hrtime.bigint();
    try {
      await work();
      op.total.recordSince(start);
      op.window.recordSince(start);
      return true;
    } catch (error) {
      this.fail(name, error);
      return false;
    }
  }

  fail(name: string, error: unknown): void {
    const op = this.#op(name);
    op.errors++;
    op.windowErrors++;
    const message = error instanceof Error ? error.message : String(error);
    if (op.firstErrors.length < KEPT_ERRORS && !op.firstErrors.includes(message)) op.firstErrors.push(message);
  }

  /** The current window's figures by operation, and a fresh window. */
  takeWindow(): Record<string, OpWindow> {
    const out: Record<string, OpWindow> = {};
    for (const [name, op] of this.#ops) {
      const summary = op.window.summary();
      out[name] = { completed: summary.count, errors: op.windowErrors, p50Ms: summary.p50Ms, p99Ms: summary.p99Ms };
      op.window = new LatencyRecorder();
      op.windowErrors = 0;
    }
    return out;
  }

  totals(): Record<string, OpTotals> {
    const out: Record<string, OpTotals> = {};
    for (const [name, op] of this.#ops) {
      const latency = op.total.summary();
      out[name] = { completed: latency.count, errors: op.errors, latency, firstErrors: [...op.firstErrors] };
    }
    return out;
  }

  get errorCount(): number {
    let sum = 0;
    for (const op of this.#ops.values()) sum += op.errors;
    return sum;
  }
}
