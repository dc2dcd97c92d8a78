/** The sip-ws bench result: the JSON written to bench/results/sip-ws.json and the printed table. */
import type { LoadPointResult, Scenario } from '../lib/load-point.js';
import { describeIdleMemory } from '../lib/idle-memory.js';
import type { IdleConnectionsResult } from './memory.js';

export type TargetName = 'epcscf' | 'kamailio';

export interface MeasuredPoint extends LoadPointResult {
  /** CPU cores used on average during the point (warm-up included), by process group. */
  readonly cpuCores: Readonly<Record<string, number>>;
  /** Of that CPU time, the share spent in the kernel (system calls; on loopback also the delivery to the receiver). */
  readonly cpuSystemShare?: Readonly<Record<string, number>>;
}

export interface TargetResult {
  readonly description: string;
  readonly points: MeasuredPoint[];
  memory?: IdleConnectionsResult | { readonly error: string };
  error?: string;
}

export interface Comparison {
  readonly scenario: Scenario;
  readonly concurrency: number;
  readonly epcscfOpsPerSecond: number;
  readonly kamailioOpsPerSecond: number;
  /** epcscf / Kamailio; ≥ 1 meets the issue's target. */
  readonly ratio: number;
}

/**
 * The CPU budget of one operation at one load point (the issue's question: can the epcscf path,
 * which also runs Kamailio as its registrar, match Kamailio's own WS front end on the same 2
 * cores?). CPU-µs per operation = cores used / operations per second, for each process.
 */
export interface CpuBudget {
  readonly scenario: Scenario;
  readonly concurrency: number;
  /** epcscf path: CPU-µs per operation of each process. */
  readonly epcscfPathUsPerOp: { readonly generator: number; readonly epcscf: number; readonly kamailioImsCore: number };
  /** Kamailio WS path: CPU-µs per operation of each process. */
  readonly kamailioPathUsPerOp: { readonly generator: number; readonly kamailioWsFrontEnd: number };
  /** 2 cores / (generator + epcscf + Kamailio IMS core): the epcscf path's CPU-bound rate at the measured costs. */
  readonly epcscfPathCpuBoundOpsPerSecond: number;
  /** 2 cores / (generator + Kamailio IMS core): the epcscf path's rate if epcscf cost nothing. */
  readonly epcscfPathCeilingOpsPerSecond: number;
  /** The same with the cheaper of the two generator costs (the generator is cheaper per operation at higher rates). */
  readonly epcscfPathCeilingCheapestGeneratorOpsPerSecond: number;
  /** 2 cores / (generator + Kamailio WS front end): the baseline's CPU-bound rate. */
  readonly kamailioPathCpuBoundOpsPerSecond: number;
  /** What epcscf may cost per operation for the epcscf path to reach the measured Kamailio rate on 2 cores (≤ 0: out of reach). */
  readonly epcscfBudgetUsPerOpToMatchKamailio: number;
}

export interface SipWsBenchResult {
  readonly bench: 'sip-ws';
  readonly date: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly node: string;
  readonly kamailio: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly targets: Partial<Record<TargetName, TargetResult>>;
  readonly comparison: Comparison[];
  readonly cpuBudget: CpuBudget[];
  readonly kbPerRegisteredConnection: { readonly epcscf?: number; readonly kamailio?: number };
  readonly targetsMet: { readonly throughputAtLeastKamailio: boolean | null; readonly memoryAtMost20KbPerConnection: boolean | null };
}

export function compare(targets: SipWsBenchResult['targets']): Comparison[] {
  const out: Comparison[] = [];
  for (const point of targets.epcscf?.points ?? []) {
    const peer = targets.kamailio?.points.find((p) => p.scenario === point.scenario && p.concurrency === point.concurrency);
    if (peer === undefined) continue;
    out.push({
      scenario: point.scenario, concurrency: point.concurrency,
      epcscfOpsPerSecond: point.opsPerSecond, kamailioOpsPerSecond: peer.opsPerSecond,
      ratio: peer.opsPerSecond > 0 ? Math.round((point.opsPerSecond / peer.opsPerSecond) * 100) / 100 : 0,
    });
  }
  return out;
}

const CORES = 2;
const usPerOp = (cores: number | undefined, opsPerSecond: number): number =>
  opsPerSecond > 0 && cores !== undefined ? Math.round((cores * 1e6) / opsPerSecond) : 0;
const rateFor = (usPerOperation: number): number => (usPerOperation > 0 ? Math.round((CORES * 1e6) / usPerOperation) : 0);

export function cpuBudgets(targets: SipWsBenchResult['targets']): CpuBudget[] {
  const out: CpuBudget[] = [];
  for (const point of targets.epcscf?.points ?? []) {
    const peer = targets.kamailio?.points.find((p) => p.scenario === point.scenario && p.concurrency === point.concurrency);
    if (peer === undefined || point.opsPerSecond === 0 || peer.opsPerSecond === 0) continue;
    const epcscfPath = {
      generator: usPerOp(point.cpuCores['generator'], point.opsPerSecond),
      epcscf: usPerOp(point.cpuCores['epcscf'], point.opsPerSecond),
      kamailioImsCore: usPerOp(point.cpuCores['kamailio (IMS core)'], point.opsPerSecond),
    };
    const kamailioPath = {
      generator: usPerOp(peer.cpuCores['generator'], peer.opsPerSecond),
      kamailioWsFrontEnd: usPerOp(peer.cpuCores['kamailio (WS front end)'], peer.opsPerSecond),
    };
    out.push({
      scenario: point.scenario, concurrency: point.concurrency,
      epcscfPathUsPerOp: epcscfPath, kamailioPathUsPerOp: kamailioPath,
      epcscfPathCpuBoundOpsPerSecond: rateFor(epcscfPath.generator + epcscfPath.epcscf + epcscfPath.kamailioImsCore),
      epcscfPathCeilingOpsPerSecond: rateFor(epcscfPath.generator + epcscfPath.kamailioImsCore),
      epcscfPathCeilingCheapestGeneratorOpsPerSecond: rateFor(Math.min(epcscfPath.generator, kamailioPath.generator) + epcscfPath.kamailioImsCore),
      kamailioPathCpuBoundOpsPerSecond: rateFor(kamailioPath.generator + kamailioPath.kamailioWsFrontEnd),
      epcscfBudgetUsPerOpToMatchKamailio: Math.round((CORES * 1e6) / peer.opsPerSecond - epcscfPath.generator - epcscfPath.kamailioImsCore),
    });
  }
  return out;
}

const pad = (value: string | number, width: number): string => String(value).padStart(width);

export function formatTable(result: SipWsBenchResult): string {
  const lines: string[] = [];
  lines.push('target    scenario  conc   ops/s  errors  p50 ms  p99 ms  CPU cores (by process)');
  for (const name of ['epcscf', 'kamailio'] as const) {
    const target = result.targets[name];
    if (target === undefined) continue;
    if (target.error !== undefined) lines.push(`${name.padEnd(9)} FAILED: ${target.error}`);
    for (const p of target.points) {
      const cpu = Object.entries(p.cpuCores).map(([k, v]) => `${k} ${v.toFixed(2)}${p.cpuSystemShare?.[k] !== undefined ? ` (sys ${Math.round((p.cpuSystemShare[k] ?? 0) * 100)}%)` : ''}`).join(', ');
      lines.push(`${name.padEnd(9)} ${p.scenario.padEnd(8)} ${pad(p.concurrency, 5)} ${pad(p.opsPerSecond, 7)} ${pad(p.errors, 7)} ${pad(p.latency.p50Ms.toFixed(2), 7)} ${pad(p.latency.p99Ms.toFixed(2), 7)}  ${cpu}`);
    }
  }
  if (result.comparison.length > 0) {
    lines.push('', 'scenario  conc  epcscf/kamailio');
    for (const c of result.comparison) lines.push(`${c.scenario.padEnd(8)} ${pad(c.concurrency, 5)}  ${c.ratio.toFixed(2)}  (${c.epcscfOpsPerSecond} vs ${c.kamailioOpsPerSecond} ops/s)`);
  }
  if (result.cpuBudget.length > 0) {
    lines.push('', 'CPU budget on 2 cores (CPU-µs per operation; rates = 2 cores / summed µs)');
    lines.push('scenario  conc  epcscf path: gen + epcscf + kam-IMS  →  CPU-bound / if epcscf were free (cheapest generator) | kamailio path: gen + kam-WS → CPU-bound | epcscf may cost to match');
    for (const b of result.cpuBudget) {
      const e = b.epcscfPathUsPerOp;
      const k = b.kamailioPathUsPerOp;
      lines.push(`${b.scenario.padEnd(8)} ${pad(b.concurrency, 5)}  ${pad(e.generator, 4)} + ${pad(e.epcscf, 4)} + ${pad(e.kamailioImsCore, 4)}  →  ${pad(b.epcscfPathCpuBoundOpsPerSecond, 6)} / ${pad(b.epcscfPathCeilingOpsPerSecond, 6)} (${b.epcscfPathCeilingCheapestGeneratorOpsPerSecond}) ops/s | ${pad(k.generator, 4)} + ${pad(k.kamailioWsFrontEnd, 4)} → ${pad(b.kamailioPathCpuBoundOpsPerSecond, 6)} ops/s | ${b.epcscfBudgetUsPerOpToMatchKamailio} µs`);
    }
  }
  lines.push('');
  for (const name of ['epcscf', 'kamailio'] as const) {
    const memory = result.targets[name]?.memory;
    if (memory === undefined) continue;
    if ('error' in memory) { lines.push(`${name}: memory run FAILED: ${memory.error}`); continue; }
    lines.push(`${name}: ${memory.connections} idle registered WebSockets, ${describeIdleMemory(memory)} (${memory.justRegistered.residentKbPerSession} KiB cold right after registering; first ${memory.warm.sessionsAdded} registered in ${memory.registerSeconds.toFixed(1)} s)`);
  }
  lines.push('', `targets: epcscf ≥ Kamailio rate: ${String(result.targetsMet.throughputAtLeastKamailio)}; ≤ 20 KB per registered connection: ${String(result.targetsMet.memoryAtMost20KbPerConnection)}`);
  return lines.join('\n');
}
