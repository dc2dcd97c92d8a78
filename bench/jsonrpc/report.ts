/**
 * The jsonrpc bench result: the JSON written to bench/results/jsonrpc.json (the shape of
 * sip-ws.json where it applies), the `besideSipWs` block quoting bench/results/sip-ws.json at
 * the same concurrency, and the printed table.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { LatencySummary } from '../lib/latency.js';
import type { JsonRpcPointResult, JsonRpcScenario } from './load-point.js';
import type { MwCensus } from './mw-census.js';

export interface MeasuredJsonRpcPoint extends JsonRpcPointResult {
  /** CPU cores used on average during the point (warm-up and client set-up included), by process group. */
  readonly cpuCores: Readonly<Record<string, number>>;
  /** epcscf CPU milliseconds per operation: its CPU time inside the measured window / operations completed there. */
  readonly epcscfCpuMsPerOperation: number;
}

export interface JsonRpcTargetResult {
  readonly description: string;
  readonly points: MeasuredJsonRpcPoint[];
  error?: string;
}

/** One row beside bench/sip-ws: same scenario, same concurrency. */
export interface BesideSipWsRow {
  readonly scenario: JsonRpcScenario;
  readonly concurrency: number;
  readonly jsonrpcOpsPerSecond: number;
  readonly sipWsOpsPerSecond: number;
  /** jsonrpc / sip-ws operations per second. */
  readonly ratio: number;
  readonly jsonrpcLatencyMs: { readonly p50: number; readonly p99: number };
  readonly sipWsLatencyMs: { readonly p50: number; readonly p99: number };
  /** register only: the session.register part alone (REGISTER → 401 → REGISTER → 200), the same SIP as one sip-ws operation. */
  readonly jsonrpcRegisterOnlyLatencyMs?: { readonly p50: number; readonly p99: number };
  /** sip-ws: estimated from its per-point average CPU cores (see `note`). */
  readonly epcscfCpuMsPerOperation: { readonly jsonrpc: number; readonly sipWs: number | null };
  /** Mw transactions per second (ops/s × transactions per operation from the census). */
  readonly mwTransactionsPerSecond: { readonly jsonrpc: number | null; readonly sipWs: number | null };
}

export interface BesideSipWs {
  readonly source: string;
  readonly sipWsDate: string;
  readonly sipWsLoadAverage: { readonly atStart: number | null; readonly atEnd: number | null };
  readonly note: string;
  readonly rows: BesideSipWsRow[];
}

export interface JsonRpcBenchResult {
  readonly bench: 'jsonrpc';
  readonly date: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly node: string;
  readonly kamailio: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly targets: { readonly epcscf: JsonRpcTargetResult };
  readonly mwPerOperation: MwCensus | { readonly error: string } | null;
  readonly besideSipWs: BesideSipWs | { readonly error: string };
}

interface SipWsPoint {
  readonly scenario: string;
  readonly concurrency: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly latency: LatencySummary;
  readonly cpuCores?: Readonly<Record<string, number>>;
}

interface SipWsFile {
  readonly date?: string;
  readonly settings?: { readonly loadAverageAtStart?: number; readonly loadAverageAtEnd?: number; readonly warmupSeconds?: number };
  readonly targets?: { readonly epcscf?: { readonly points?: readonly SipWsPoint[] } };
}

const round = (value: number, places = 2): number => Math.round(value * 10 ** places) / 10 ** places;

function transactionsPerOperation(census: JsonRpcBenchResult['mwPerOperation'], side: 'jsonrpc' | 'sipWs', scenario: JsonRpcScenario): number | undefined {
  if (census === null || 'error' in census) return undefined;
  return census[side][scenario].mwTransactions;
}

/** Quotes the latest bench/results/sip-ws.json epcscf points beside ours (same scenario and concurrency). */
export function besideSipWs(path: string, points: readonly MeasuredJsonRpcPoint[], census: JsonRpcBenchResult['mwPerOperation']): BesideSipWs | { readonly error: string } {
  if (!existsSync(path)) return { error: `${path} not found: run npm run bench:sip-ws first` };
  let file: SipWsFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as SipWsFile;
  } catch (error) {
    return { error: `${path}: ${(error as Error).message}` };
  }
  const theirs = file.targets?.epcscf?.points ?? [];
  const rows: BesideSipWsRow[] = [];
  for (const point of points) {
    const peer = theirs.find((p) => p.scenario === point.scenario && p.concurrency === point.concurrency);
    if (peer === undefined) continue;
    const peerCores = peer.cpuCores?.['epcscf'];
    // sip-ws records CPU cores averaged over the whole point (client set-up + warm-up + window),
    // not per window: take that average over warm-up + window (an estimate; set-up is not timed).
    const peerWall = (file.settings?.warmupSeconds ?? 1) + peer.seconds;
    const peerCpuMs = peerCores !== undefined && peer.opsPerSecond > 0
      ? round((peerCores * peerWall * 1000) / (peer.opsPerSecond * peer.seconds)) : null;
    const ours = transactionsPerOperation(census, 'jsonrpc', point.scenario);
    const theirsPerOp = transactionsPerOperation(census, 'sipWs', point.scenario);
    rows.push({
      scenario: point.scenario, concurrency: point.concurrency,
      jsonrpcOpsPerSecond: point.opsPerSecond, sipWsOpsPerSecond: peer.opsPerSecond,
      ratio: peer.opsPerSecond > 0 ? round(point.opsPerSecond / peer.opsPerSecond) : 0,
      jsonrpcLatencyMs: { p50: point.latency.p50Ms, p99: point.latency.p99Ms },
      sipWsLatencyMs: { p50: peer.latency.p50Ms, p99: peer.latency.p99Ms },
      ...(point.registerLatency !== undefined ? { jsonrpcRegisterOnlyLatencyMs: { p50: point.registerLatency.p50Ms, p99: point.registerLatency.p99Ms } } : {}),
      epcscfCpuMsPerOperation: { jsonrpc: point.epcscfCpuMsPerOperation, sipWs: peerCpuMs },
      mwTransactionsPerSecond: {
        jsonrpc: ours === undefined ? null : Math.round(point.opsPerSecond * ours),
        sipWs: theirsPerOp === undefined ? null : Math.round(peer.opsPerSecond * theirsPerOp),
      },
    });
  }
  return {
    source: 'bench/results/sip-ws.json (target epcscf)',
    sipWsDate: file.date ?? 'unknown',
    sipWsLoadAverage: { atStart: file.settings?.loadAverageAtStart ?? null, atEnd: file.settings?.loadAverageAtEnd ?? null },
    note: 'quoted from the last sip-ws run, not measured in this run (the machine load differed: compare CPU ms per operation more than rates); sip-ws CPU ms per operation is estimated from its average epcscf cores over warm-up + window',
    rows,
  };
}

const pad = (value: string | number, width: number): string => String(value).padStart(width);

export function formatTable(result: JsonRpcBenchResult): string {
  const lines: string[] = [];
  const target = result.targets.epcscf;
  lines.push('scenario  conc   ops/s  errors  p50 ms  p90 ms  p99 ms  msgs/op  epcscf CPU ms/op  CPU cores (by process)');
  if (target.error !== undefined) lines.push(`FAILED: ${target.error}`);
  for (const p of target.points) {
    const cpu = Object.entries(p.cpuCores).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
    lines.push(`${p.scenario.padEnd(8)} ${pad(p.concurrency, 5)} ${pad(p.opsPerSecond, 7)} ${pad(p.errors, 7)} ${pad(p.latency.p50Ms.toFixed(2), 7)} ${pad(p.latency.p90Ms.toFixed(2), 7)} ${pad(p.latency.p99Ms.toFixed(2), 7)} ${pad(p.messagesPerOperation, 8)} ${pad(p.epcscfCpuMsPerOperation.toFixed(2), 17)}  ${cpu}`);
    if (p.registerLatency !== undefined) lines.push(`${''.padEnd(15)}(session.register part: p50 ${p.registerLatency.p50Ms.toFixed(2)} ms, p99 ${p.registerLatency.p99Ms.toFixed(2)} ms)`);
    if (p.firstError !== undefined) lines.push(`${''.padEnd(15)}first error: ${p.firstError}`);
  }
  const census = result.mwPerOperation;
  if (census !== null) {
    lines.push('');
    if ('error' in census) lines.push(`Mw census FAILED: ${census.error}`);
    else {
      for (const side of ['jsonrpc', 'sipWs'] as const) {
        for (const scenario of ['register', 'call'] as const) {
          const c = census[side][scenario];
          lines.push(`Mw per ${side} ${scenario}: ${c.mwTransactions} transactions, ${c.mwMessages} messages; requests out ${JSON.stringify(c.mwRequestsOut)}, in ${JSON.stringify(c.mwRequestsIn)}; responses ${JSON.stringify(c.mwResponses)}; Kamailio saw ${JSON.stringify(c.kamailioRequests)}`);
        }
      }
    }
  }
  lines.push('');
  const beside = result.besideSipWs;
  if ('error' in beside) lines.push(`beside sip-ws: ${beside.error}`);
  else {
    lines.push(`beside sip-ws (${beside.source}, ${beside.sipWsDate}, load ${String(beside.sipWsLoadAverage.atStart)} → ${String(beside.sipWsLoadAverage.atEnd)}):`);
    lines.push('scenario  conc  jsonrpc ops/s  sip-ws ops/s  ratio  CPU ms/op jsonrpc / sip-ws  Mw transactions/s jsonrpc / sip-ws');
    for (const r of beside.rows) {
      lines.push(`${r.scenario.padEnd(8)} ${pad(r.concurrency, 5)} ${pad(r.jsonrpcOpsPerSecond, 14)} ${pad(r.sipWsOpsPerSecond, 13)} ${pad(r.ratio.toFixed(2), 6)} ${pad(`${r.epcscfCpuMsPerOperation.jsonrpc.toFixed(2)} / ${r.epcscfCpuMsPerOperation.sipWs?.toFixed(2) ?? '-'}`, 27)} ${pad(`${String(r.mwTransactionsPerSecond.jsonrpc ?? '-')} / ${String(r.mwTransactionsPerSecond.sipWs ?? '-')}`, 34)}`);
    }
  }
  return lines.join('\n');
}
