/** The sip-ws bench result: the JSON written to bench/results/sip-ws.json and the printed table. */
import type { LoadPointResult, Scenario } from '../lib/load-point.js';
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

export interface SipWsBenchResult {
  readonly bench: 'sip-ws';
  readonly date: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly node: string;
  readonly kamailio: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly targets: Partial<Record<TargetName, TargetResult>>;
  readonly comparison: Comparison[];
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

function heapLine(memory: IdleConnectionsResult): string {
  if (memory.heapUsedBeforeKb === undefined || memory.heapUsedAfterKb === undefined) return '';
  const perConnection = (memory.heapUsedAfterKb - memory.heapUsedBeforeKb) / memory.connections;
  return `; V8 heap in use ${memory.heapUsedBeforeKb} → ${memory.heapUsedAfterKb} KiB = ${perConnection.toFixed(2)} KiB per connection`;
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
  lines.push('');
  for (const name of ['epcscf', 'kamailio'] as const) {
    const memory = result.targets[name]?.memory;
    if (memory === undefined) continue;
    if ('error' in memory) { lines.push(`${name}: memory run FAILED: ${memory.error}`); continue; }
    lines.push(`${name}: ${memory.registeredAtEnd}/${memory.connections} idle registered WebSockets, ${memory.metric} ${memory.beforeKb} → ${memory.afterKb} KiB = ${memory.kbPerConnection} KiB per connection after ${memory.idleSeconds} s idle (${memory.kbPerConnectionJustRegistered} KiB right after registering; registered in ${memory.registerSeconds.toFixed(1)} s)${heapLine(memory)}`);
  }
  lines.push('', `targets: epcscf ≥ Kamailio rate: ${String(result.targetsMet.throughputAtLeastKamailio)}; ≤ 20 KB per registered connection: ${String(result.targetsMet.memoryAtMost20KbPerConnection)}`);
  return lines.join('\n');
}
