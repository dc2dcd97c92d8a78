/** The scale bench result: the JSON written to bench/results/scale.json, the comparison of 1 vs K processes and the printed table. */
import type { LatencySummary } from '../lib/latency.js';
import type { Scenario } from '../lib/load-point.js';

/** The labels CPU is reported under. */
export const EPCSCF = 'epcscf';
export const KAMAILIO = 'kamailio (IMS core)';
export const GENERATOR = 'generator';

export interface ScalePoint {
  /** epcscf processes behind the generator (each its own W2 and Mw port, same IMS core). */
  readonly processes: number;
  readonly scenario: Scenario;
  readonly concurrency: number;
  readonly seconds: number;
  readonly operations: number;
  readonly errors: number;
  readonly opsPerSecond: number;
  readonly latency: LatencySummary;
  readonly firstError?: string;
  /** Cores used on average over the measured window: epcscf (all processes), Kamailio, generator, the whole machine (anyone's work) and `other` (machine minus the three). */
  readonly cpuCores: Readonly<Record<string, number>>;
  /** Cores each epcscf process used (node 1, node 2...). */
  readonly epcscfCoresPerProcess: readonly number[];
  /** Share of each group's CPU time spent in the kernel. */
  readonly cpuSystemShare: Readonly<Record<string, number>>;
  /** CPU-µs per operation by group, and their sum (what one operation costs the machine). */
  readonly cpuMicrosecondsPerOperation: Readonly<Record<string, number>>;
}

export interface ScaleComparison {
  readonly scenario: Scenario;
  readonly concurrency: number;
  readonly baseProcesses: number;
  readonly processes: number;
  readonly baseOpsPerSecond: number;
  readonly opsPerSecond: number;
  /** ops/s with `processes` / ops/s with `baseProcesses`. */
  readonly ratio: number;
  /** The issue's target for two processes where the cores allow. */
  readonly target: number;
  readonly baseEpcscfMicrosecondsPerOperation: number;
  readonly epcscfMicrosecondsPerOperation: number;
  /** Cores busy on the whole machine in each point. */
  readonly baseMachineBusyCores: number;
  readonly machineBusyCores: number;
  /** Cores the measured per-operation costs (all three groups) would need to reach `target` × the base rate. */
  readonly coresNeededForTarget: number;
  /**
   * The best ratio this machine allows at the base point's per-operation costs: each point's rate
   * is at most min(processes × 1 core / epcscf µs, all cores / (epcscf + Kamailio + generator) µs)
   * (one epcscf process is one thread); the ceiling is the quotient of the two bounds.
   */
  readonly ceilingRatioOnThisMachine: number;
  /** Cores of work outside the bench (the larger of the two points): above 0.25 the ratio is not a scaling figure. */
  readonly otherWorkCores: number;
  /** What the figures say, in words. */
  readonly note: string;
}

export interface ScaleBenchResult {
  readonly bench: 'scale';
  readonly date: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly node: string;
  readonly kamailio: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly points: ScalePoint[];
  readonly comparison: ScaleComparison[];
  readonly errors: string[];
}

export const SCALING_TARGET = 1.8;
/** Other work on the machine (cores) above which a ratio says more about the scheduler than about epcscf. */
const BUSY_MACHINE_CORES = 0.25;

const round = (value: number, digits = 0): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** CPU-µs per operation of `cores` at `opsPerSecond` (0 when nothing completed). */
export const microsecondsPerOperation = (cores: number, opsPerSecond: number): number => (opsPerSecond > 0 ? round((cores * 1e6) / opsPerSecond) : 0);

export function compare(points: readonly ScalePoint[], machineCores: number): ScaleComparison[] {
  const out: ScaleComparison[] = [];
  for (const point of points) {
    const base = points
      .filter((p) => p.scenario === point.scenario && p.concurrency === point.concurrency && p.processes < point.processes)
      .sort((a, b) => a.processes - b.processes)[0];
    if (base === undefined) continue;
    const ratio = base.opsPerSecond > 0 ? round(point.opsPerSecond / base.opsPerSecond, 2) : 0;
    const target = round(SCALING_TARGET * (point.processes / base.processes) / 2, 2); // 1.8 for 1 → 2
    const e1 = base.cpuMicrosecondsPerOperation[EPCSCF] ?? 0;
    const e2 = point.cpuMicrosecondsPerOperation[EPCSCF] ?? 0;
    const perOpAll = base.cpuMicrosecondsPerOperation['total'] ?? 0;
    const coresNeeded = round((target * base.opsPerSecond * perOpAll) / 1e6, 1);
    const bound = (processes: number): number => (e1 > 0 && perOpAll > 0 ? Math.min(processes / e1, machineCores / perOpAll) : 0);
    const ceiling = bound(base.processes) > 0 ? round(bound(point.processes) / bound(base.processes), 2) : 0;
    out.push({
      scenario: point.scenario, concurrency: point.concurrency, baseProcesses: base.processes, processes: point.processes,
      baseOpsPerSecond: base.opsPerSecond, opsPerSecond: point.opsPerSecond, ratio, target,
      baseEpcscfMicrosecondsPerOperation: e1, epcscfMicrosecondsPerOperation: e2,
      baseMachineBusyCores: base.cpuCores['machine'] ?? 0, machineBusyCores: point.cpuCores['machine'] ?? 0,
      coresNeededForTarget: coresNeeded, ceilingRatioOnThisMachine: ceiling,
      otherWorkCores: Math.max(base.cpuCores['other'] ?? 0, point.cpuCores['other'] ?? 0),
      note: explain(base, point, ratio, target, coresNeeded, ceiling, machineCores),
    });
  }
  return out;
}

function explain(base: ScalePoint, point: ScalePoint, ratio: number, target: number, coresNeeded: number, ceiling: number, machineCores: number): string {
  const us = (p: ScalePoint, label: string): number => p.cpuMicrosecondsPerOperation[label] ?? 0;
  const e1 = us(base, EPCSCF);
  const e2 = us(point, EPCSCF);
  const change = e1 > 0 ? round(((e2 - e1) / e1) * 100) : 0;
  const busy1 = base.cpuCores['machine'] ?? 0;
  const otherWork = Math.max(base.cpuCores['other'] ?? 0, point.cpuCores['other'] ?? 0);
  const reached = ratio >= target;
  const parts = [
    `${point.scenario}: ${point.processes} processes / ${base.processes} = ${ratio.toFixed(2)}× (target ≥ ${target}× where the cores allow: ${reached ? 'reached' : 'not reached'}).`,
    `On ${machineCores} cores the generator (${us(base, GENERATOR)} µs/op) and Kamailio (${us(base, KAMAILIO)} µs/op) share the CPUs with epcscf (${e1} µs/op):`
      + ` with ${base.processes} epcscf process${base.processes > 1 ? 'es' : ''} the machine already had ${busy1} of ${machineCores} cores busy (epcscf ${base.cpuCores[EPCSCF] ?? 0}, work outside the bench ${base.cpuCores['other'] ?? 0}),`
      + ` and ${target}× the rate at these per-operation costs needs ~${coresNeeded} cores`
      + (coresNeeded > machineCores ? `, so ≥ ${target}× is not reachable on this machine` : ` (within the ${machineCores} cores)`)
      + `; at these costs the best ratio ${machineCores} cores allow is ${ceiling}× (one epcscf process is one thread: at most one core each).`,
    ...(otherWork > BUSY_MACHINE_CORES
      ? [`The machine ran ~${otherWork} cores of other work during these points: the scheduler shares a contended CPU per runnable thread, so more epcscf processes also take a larger share`
        + ' from that other work; this ratio is not a scaling figure (rerun with --wait-quiet on a quiet machine).']
      : []),
    `epcscf CPU per operation: ${e1} µs with ${base.processes}, ${e2} µs with ${point.processes} process${point.processes > 1 ? 'es' : ''} (${change >= 0 ? '+' : ''}${change} %):`
      + (Math.abs(change) <= 15
        ? ' splitting the clients over processes costs no extra work per operation (no shared state, each node its own Path), so the rate is bounded by the CPU left on the machine;'
          + ` on its own core each epcscf process would carry ~${e2 > 0 ? round(1e6 / e2) : 0} ops/s.`
        : ' the cost per operation moved by more than 15 %: on a machine this busy the per-operation figure also carries contention (context switches, cache), read it with the load averages.'),
  ];
  return parts.join(' ');
}

const pad = (value: string | number, width: number): string => String(value).padStart(width);

export function formatTable(result: ScaleBenchResult): string {
  const lines: string[] = [];
  lines.push('procs  scenario  conc   ops/s  errors  p50 ms  p99 ms | cores: epcscf (per process)  kamailio  generator  machine (other) | CPU µs/op: epcscf  kamailio  generator  total');
  for (const p of result.points) {
    const c = p.cpuCores;
    const u = p.cpuMicrosecondsPerOperation;
    lines.push([
      pad(p.processes, 5), ` ${p.scenario.padEnd(8)}`, pad(p.concurrency, 5), pad(p.opsPerSecond, 7), pad(p.errors, 7),
      pad(p.latency.p50Ms.toFixed(2), 7), pad(p.latency.p99Ms.toFixed(2), 7), '|',
      pad(`${(c[EPCSCF] ?? 0).toFixed(2)} (${p.epcscfCoresPerProcess.map((v) => v.toFixed(2)).join(' + ')})`, 26),
      pad((c[KAMAILIO] ?? 0).toFixed(2), 9), pad((c[GENERATOR] ?? 0).toFixed(2), 10), pad(`${(c['machine'] ?? 0).toFixed(2)} (${(c['other'] ?? 0).toFixed(2)})`, 15), '|',
      pad(u[EPCSCF] ?? 0, 17), pad(u[KAMAILIO] ?? 0, 9), pad(u[GENERATOR] ?? 0, 10), pad(u['total'] ?? 0, 6),
    ].join(' ') + (p.firstError !== undefined ? `  (first error: ${p.firstError})` : ''));
  }
  if (result.comparison.length > 0) {
    lines.push('', 'scenario  conc  procs  ops/s            ratio  target  ceiling here  epcscf µs/op     machine busy cores  cores needed for target');
    for (const c of result.comparison) {
      lines.push(`${c.scenario.padEnd(8)} ${pad(c.concurrency, 5)}  ${c.baseProcesses}→${c.processes}   ${pad(`${c.baseOpsPerSecond}→${c.opsPerSecond}`, 15)} ${pad(c.ratio.toFixed(2), 6)} ${pad(c.target, 7)} ${pad(c.ceilingRatioOnThisMachine.toFixed(2), 13)}  ${pad(`${c.baseEpcscfMicrosecondsPerOperation}→${c.epcscfMicrosecondsPerOperation}`, 14)}  ${pad(`${c.baseMachineBusyCores}→${c.machineBusyCores}`, 18)}  ${pad(c.coresNeededForTarget, 23)}`);
    }
    lines.push('');
    for (const c of result.comparison) lines.push(c.note, '');
  }
  for (const error of result.errors) lines.push(`FAILED: ${error}`);
  return lines.join('\n');
}
