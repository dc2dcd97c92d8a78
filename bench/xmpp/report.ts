/**
 * The xmpp bench result (bench/results/xmpp.json, the shape of the other results where it
 * applies) and the printed markdown table: xmpp-ws beside sip-ws and jsonrpc-ws, measured
 * against the same epcscf process in the same run.
 */
import type { IdleConnectionsResult } from '../lib/idle-memory.js';
import type { PointFigures } from '../lib/load-point.js';

export type Protocol = 'xmpp-ws' | 'jsonrpc-ws' | 'sip-ws';

/** What a row compares: a registration (xmpp login / jsonrpc register / sip-ws REGISTER), a message, a call. */
export type OperationKind = 'registration' | 'message' | 'call';

export interface MeasuredPoint extends PointFigures {
  readonly protocol: Protocol;
  readonly kind: OperationKind;
  /** The protocol's own name for the operation (login, register, message, call). */
  readonly scenario: string;
  readonly concurrency: number;
  /** CPU cores used on average during the point (set-up included), by process group. */
  readonly cpuCores: Readonly<Record<string, number>>;
  /** epcscf CPU ms per operation inside the measured window; null where the point has no window hook (sip-ws). */
  readonly epcscfCpuMsPerOperation: number | null;
}

export interface MemoryResult extends IdleConnectionsResult {
  readonly protocol: Protocol;
}

export interface XmppBenchResult {
  readonly bench: 'xmpp';
  readonly date: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly node: string;
  readonly kamailio: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly points: MeasuredPoint[];
  readonly memory: (MemoryResult | { readonly protocol: Protocol; readonly error: string })[];
  error?: string;
}

const KIND_LABEL: Record<OperationKind, string> = {
  registration: 'login / register',
  message: 'chat message',
  call: 'call',
};

const thousands = (n: number): string => n.toLocaleString('en-US');
const ms = (n: number): string => (n >= 100 ? String(Math.round(n)) : n.toFixed(1));

function cell(point: MeasuredPoint | undefined): string {
  if (point === undefined) return '—';
  const errors = point.errors > 0 ? `, ${point.errors} errors` : '';
  return `${thousands(point.opsPerSecond)} (${ms(point.latency.p50Ms)} / ${ms(point.latency.p99Ms)})${errors}`;
}

const cpu = (point: MeasuredPoint | undefined): string => point?.epcscfCpuMsPerOperation === null || point === undefined ? '—' : point.epcscfCpuMsPerOperation.toFixed(2);

export function formatTable(result: XmppBenchResult): string {
  const lines = [
    '| operation | concurrency | xmpp-ws ops/s (p50 / p99 ms) | CPU ms/op | jsonrpc-ws ops/s (p50 / p99 ms) | CPU ms/op | sip-ws ops/s (p50 / p99 ms) |',
    '|---|---|---|---|---|---|---|',
  ];
  const keys = [...new Set(result.points.map((p) => `${p.kind} ${p.concurrency}`))];
  for (const key of keys) {
    const [kind, concurrency] = key.split(' ') as [OperationKind, string];
    const of = (protocol: Protocol): MeasuredPoint | undefined => result.points.find((p) => p.protocol === protocol && `${p.kind} ${p.concurrency}` === key);
    lines.push(`| ${KIND_LABEL[kind]} | ${concurrency} | ${cell(of('xmpp-ws'))} | ${cpu(of('xmpp-ws'))} | ${cell(of('jsonrpc-ws'))} | ${cpu(of('jsonrpc-ws'))} | ${cell(of('sip-ws'))} |`);
  }
  const memory = result.memory.filter((m): m is MemoryResult => 'warm' in m);
  if (memory.length > 0) {
    const mb = (m: MemoryResult, step: string): number => Math.round((m.reads[step]?.residentKb ?? 0) / 1024);
    lines.push('', '| idle logged-in sessions | sessions | VmRSS per session, warm (N/2 added after a burst of N/2) | VmRSS per session, cold (N over a fresh process) | V8 heap in use per session (N over fresh) | VmRSS per session after logout (N/2 out, N/2 in again) |',
      '|---|---|---|---|---|---|');
    for (const m of memory) {
      lines.push(`| ${m.protocol} | ${thousands(m.connections)} (${m.registeredAtEnd} still registered) | ${m.warm.residentKbPerSession} KiB (${mb(m, 'half')} → ${mb(m, 'full')} MB) | ${m.cold.residentKbPerSession} KiB (${mb(m, 'fresh')} → ${mb(m, 'full')} MB) | ${m.cold.heapKbPerSession ?? '—'} KiB (warm ${m.warm.heapKbPerSession ?? '—'}) | ${m.afterLogout.residentKbPerSession} KiB |`);
    }
  }
  return lines.join('\n');
}
