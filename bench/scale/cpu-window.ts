/**
 * CPU time over one measured window, by process group label (several pids may share a label:
 * "epcscf" is the sum of every epcscf process), for this generator process, and for the whole
 * machine (/proc/stat: the other work on the shared VM shows up as "busy" that no group
 * accounts for).
 */
import { readFileSync } from 'node:fs';
import { groupCpuSplit, ownCpuSplit, type CpuSplit } from '../lib/proc-stats.js';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux x86_64

/** Busy and total (busy + idle) CPU seconds of the machine so far, all cores (/proc/stat "cpu" line). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
  // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / CLOCK_TICKS_PER_SECOND, total: (busy + idle + iowait) / CLOCK_TICKS_PER_SECOND };
}

export interface CpuWindowResult {
  readonly seconds: number;
  /** CPU seconds by label, user + system. */
  readonly cpuSeconds: Readonly<Record<string, number>>;
  /** Share of those seconds spent in the kernel, by label. */
  readonly systemShare: Readonly<Record<string, number>>;
  /** Cores the whole machine had busy on average (any process, ours or not). */
  readonly machineBusyCores: number;
}

const GENERATOR = 'generator';

export class CpuWindow {
  readonly #groups: Readonly<Record<string, readonly number[]>>;
  #before: Record<string, CpuSplit> = {};
  #machineBefore = machineCpu();
  #startedAt = process.hrtime.bigint();
  #result: CpuWindowResult | undefined;

  /** `groups`: label → process group ids whose CPU is summed under it. */
  constructor(groups: Readonly<Record<string, readonly number[]>>) {
    this.#groups = groups;
  }

  #read(): Record<string, CpuSplit> {
    const out: Record<string, CpuSplit> = {};
    for (const [label, pgids] of Object.entries(this.#groups)) {
      let user = 0;
      let system = 0;
      for (const pgid of pgids) {
        const split = groupCpuSplit(pgid);
        user += split.user;
        system += split.system;
      }
      out[label] = { user, system };
    }
    out[GENERATOR] = ownCpuSplit();
    return out;
  }

  start(): void {
    this.#before = this.#read();
    this.#machineBefore = machineCpu();
    this.#startedAt = process.hrtime.bigint();
  }

  end(): void {
    const seconds = Number(process.hrtime.bigint() - this.#startedAt) / 1e9;
    const after = this.#read();
    const machine = machineCpu();
    const cpuSeconds: Record<string, number> = {};
    const systemShare: Record<string, number> = {};
    for (const [label, split] of Object.entries(after)) {
      const before = this.#before[label] ?? { user: 0, system: 0 };
      const user = split.user - before.user;
      const system = split.system - before.system;
      cpuSeconds[label] = user + system;
      systemShare[label] = user + system > 0 ? Math.round((system / (user + system)) * 100) / 100 : 0;
    }
    const cores = seconds > 0 ? (machine.busy - this.#machineBefore.busy) / seconds : 0;
    this.#result = { seconds, cpuSeconds, systemShare, machineBusyCores: Math.round(cores * 100) / 100 };
  }

  /** The window's figures (after end()). */
  get result(): CpuWindowResult {
    if (this.#result === undefined) throw new Error('CpuWindow: end() was never called');
    return this.#result;
  }
}
