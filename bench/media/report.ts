/** The media bench result: the JSON written to bench/results/media.json and the printed table. */
import type { GatewayName } from './gateways.js';
import type { StepResult } from './load-step.js';

export interface GatewayResult {
  readonly description: string;
  readonly version: string;
  readonly command: readonly string[];
  readonly steps: StepResult[];
  /** The largest step with loss < 0.1 %, p99 < 5 ms and every call live (0: none). */
  capacityCalls: number;
  /** Median µs of gateway CPU per relayed packet over the steps that met the target (all steps if none did). */
  microsecondsPerPacket: number;
  /**
   * Calls one core could relay at the CPU cost measured (100 % / CPU % per call at the largest
   * step that met the target): the gateway's CPU-bound capacity, free of the generator, which
   * shares the same 2 cores and saturates first at large steps.
   */
  callsPerCoreEstimate: number;
  error?: string;
}

export interface MediaComparison {
  /** rtpengine µs per packet / ours: ≥ 1 means ours spends no more CPU per packet. */
  readonly cpuEfficiencyRatio: number;
  /** ours capacity / rtpengine capacity (calls): ≥ 1 meets the target. */
  readonly capacityRatio: number | null;
  /** ours / rtpengine calls per core (CPU-bound estimate). */
  readonly callsPerCoreRatio: number | null;
  readonly oursMicrosecondsPerPacket: number;
  readonly rtpengineMicrosecondsPerPacket: number;
  readonly oursCapacityCalls: number;
  readonly rtpengineCapacityCalls: number;
}

export interface MediaBenchResult {
  readonly bench: 'media';
  readonly date: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly node: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly gateways: Partial<Record<GatewayName, GatewayResult>>;
  readonly comparison: MediaComparison | null;
}

export function summarise(result: GatewayResult): void {
  const passing = result.steps.filter((s) => s.meetsTarget);
  result.capacityCalls = passing.reduce((max, s) => Math.max(max, s.calls), 0);
  const figures = (passing.length > 0 ? passing : result.steps).map((s) => s.gatewayMicrosecondsPerPacket).filter((v) => v > 0).sort((a, b) => a - b);
  result.microsecondsPerPacket = figures.length === 0 ? 0 : (figures[Math.floor((figures.length - 1) / 2)] as number);
  const largest = (passing.length > 0 ? passing : result.steps).reduce<StepResult | undefined>((best, s) => (best === undefined || s.calls > best.calls ? s : best), undefined);
  result.callsPerCoreEstimate = largest !== undefined && largest.gatewayCpuPercentPerCall > 0 ? Math.round(100 / largest.gatewayCpuPercentPerCall) : 0;
}

export function compare(gateways: MediaBenchResult['gateways']): MediaComparison | null {
  const ours = gateways.ours;
  const rtpengine = gateways.rtpengine;
  if (ours === undefined || rtpengine === undefined || ours.microsecondsPerPacket === 0 || rtpengine.microsecondsPerPacket === 0) return null;
  return {
    cpuEfficiencyRatio: Math.round((rtpengine.microsecondsPerPacket / ours.microsecondsPerPacket) * 100) / 100,
    capacityRatio: rtpengine.capacityCalls > 0 ? Math.round((ours.capacityCalls / rtpengine.capacityCalls) * 100) / 100 : null,
    callsPerCoreRatio: rtpengine.callsPerCoreEstimate > 0 ? Math.round((ours.callsPerCoreEstimate / rtpengine.callsPerCoreEstimate) * 100) / 100 : null,
    oursMicrosecondsPerPacket: ours.microsecondsPerPacket,
    rtpengineMicrosecondsPerPacket: rtpengine.microsecondsPerPacket,
    oursCapacityCalls: ours.capacityCalls,
    rtpengineCapacityCalls: rtpengine.capacityCalls,
  };
}

const pad = (value: string | number, width: number): string => String(value).padStart(width);

export function formatTable(result: MediaBenchResult): string {
  const lines: string[] = [];
  lines.push('gateway    calls  live  relayed pps   loss %  p50 ms  p99 ms  max ms  gw CPU %  CPU %/call  µs/pkt  gen CPU %  ok');
  for (const name of ['ours', 'rtpengine'] as const) {
    const gateway = result.gateways[name];
    if (gateway === undefined) continue;
    if (gateway.error !== undefined) lines.push(`${name.padEnd(9)} FAILED: ${gateway.error}`);
    for (const s of gateway.steps) {
      lines.push([
        name.padEnd(9), pad(s.calls, 6), pad(s.liveCalls, 5), pad(s.relayedPerSecond, 12), pad(s.lossPercent.toFixed(3), 8),
        pad(s.latency.p50Ms.toFixed(2), 7), pad(s.latency.p99Ms.toFixed(2), 7), pad(s.latency.maxMs.toFixed(1), 7),
        pad(s.gatewayCpuPercent.toFixed(1), 9), pad(s.gatewayCpuPercentPerCall.toFixed(3), 11), pad(s.gatewayMicrosecondsPerPacket.toFixed(1), 7),
        pad(s.generatorCpuPercent.toFixed(1), 10), s.meetsTarget ? '  yes' : '  no',
      ].join(' ') + (s.setupFailures > 0 ? `  (${s.setupFailures} setups failed: ${s.firstSetupError ?? ''})` : ''));
    }
    lines.push(`${name}: capacity ${gateway.capacityCalls} calls (loss < 0.1 %, p99 < 5 ms), ${gateway.microsecondsPerPacket} µs CPU per relayed packet, `
      + `~${gateway.callsPerCoreEstimate} calls per core at that cost`);
  }
  const c = result.comparison;
  if (c !== null) {
    lines.push('', `ours / rtpengine: CPU per packet ${c.oursMicrosecondsPerPacket} vs ${c.rtpengineMicrosecondsPerPacket} µs `
      + `(efficiency ratio rtpengine/ours ${c.cpuEfficiencyRatio}); capacity ${c.oursCapacityCalls} vs ${c.rtpengineCapacityCalls} calls `
      + `(ratio ${c.capacityRatio ?? 'n/a'}); calls per core ratio ${c.callsPerCoreRatio ?? 'n/a'}`);
  }
  return lines.join('\n');
}
