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

/** Both gateways at one call count. */
export interface StepComparison {
  readonly calls: number;
  readonly oursMicrosecondsPerPacket: number;
  readonly rtpengineMicrosecondsPerPacket: number;
  /** rtpengine µs / ours µs: ≥ 1 means ours spends no more CPU per relayed packet. */
  readonly efficiencyRatio: number;
}

export interface MediaComparison {
  readonly steps: readonly StepComparison[];
  /** Median of the per-step efficiency ratios (same call counts, same run). */
  readonly cpuEfficiencyRatio: number;
  /** ours capacity / rtpengine capacity (calls meeting the target): ≥ 1 meets the target. */
  readonly capacityRatio: number | null;
  /** ours / rtpengine calls per core (CPU-bound estimate). */
  readonly callsPerCoreRatio: number | null;
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
  if (ours === undefined || rtpengine === undefined) return null;
  const steps: StepComparison[] = [];
  for (const step of ours.steps) {
    const peer = rtpengine.steps.find((s) => s.calls === step.calls);
    if (peer === undefined || step.gatewayMicrosecondsPerPacket === 0 || peer.gatewayMicrosecondsPerPacket === 0) continue;
    steps.push({
      calls: step.calls, oursMicrosecondsPerPacket: step.gatewayMicrosecondsPerPacket,
      rtpengineMicrosecondsPerPacket: peer.gatewayMicrosecondsPerPacket,
      efficiencyRatio: round2(peer.gatewayMicrosecondsPerPacket / step.gatewayMicrosecondsPerPacket),
    });
  }
  if (steps.length === 0) return null;
  const ratios = steps.map((s) => s.efficiencyRatio).sort((a, b) => a - b);
  const middle = ratios.length / 2;
  const median = ratios.length % 2 === 1 ? (ratios[Math.floor(middle)] as number) : ((ratios[middle - 1] as number) + (ratios[middle] as number)) / 2;
  return {
    steps,
    cpuEfficiencyRatio: round2(median),
    capacityRatio: rtpengine.capacityCalls > 0 ? round2(ours.capacityCalls / rtpengine.capacityCalls) : null,
    callsPerCoreRatio: rtpengine.callsPerCoreEstimate > 0 ? round2(ours.callsPerCoreEstimate / rtpengine.callsPerCoreEstimate) : null,
    oursCapacityCalls: ours.capacityCalls,
    rtpengineCapacityCalls: rtpengine.capacityCalls,
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

const pad = (value: string | number, width: number): string => String(value).padStart(width);

export function formatTable(result: MediaBenchResult): string {
  const lines: string[] = [];
  lines.push('gateway    calls  live  relayed pps   loss %  p50 ms  p99 ms  max ms  gw CPU %  CPU %/call  µs/pkt (user+kernel)  gen CPU %  ok');
  for (const name of ['ours', 'rtpengine'] as const) {
    const gateway = result.gateways[name];
    if (gateway === undefined) continue;
    if (gateway.error !== undefined) lines.push(`${name.padEnd(9)} FAILED: ${gateway.error}`);
    for (const s of gateway.steps) {
      lines.push([
        name.padEnd(9), pad(s.calls, 6), pad(s.liveCalls, 5), pad(s.relayedPerSecond, 12), pad(s.lossPercent.toFixed(3), 8),
        pad(s.latency.p50Ms.toFixed(2), 7), pad(s.latency.p99Ms.toFixed(2), 7), pad(s.latency.maxMs.toFixed(1), 7),
        pad(s.gatewayCpuPercent.toFixed(1), 9), pad(s.gatewayCpuPercentPerCall.toFixed(3), 11), pad(s.gatewayMicrosecondsPerPacket.toFixed(1), 7),
        pad(`(${s.gatewayUserMicrosecondsPerPacket.toFixed(1)}+${s.gatewaySystemMicrosecondsPerPacket.toFixed(1)})`, 14),
        pad(s.generatorCpuPercent.toFixed(1), 10), s.meetsTarget ? '  yes' : '  no',
      ].join(' ') + (s.setupFailures > 0 ? `  (${s.setupFailures} setups failed: ${s.firstSetupError ?? ''})` : ''));
    }
    lines.push(`${name}: capacity ${gateway.capacityCalls} calls (loss < 0.1 %, p99 < 5 ms), ${gateway.microsecondsPerPacket} µs CPU per relayed packet, `
      + `~${gateway.callsPerCoreEstimate} calls per core at that cost`);
  }
  const c = result.comparison;
  if (c !== null) {
    lines.push('', 'calls  ours µs/pkt  rtpengine µs/pkt  rtpengine/ours');
    for (const step of c.steps) {
      lines.push(`${pad(step.calls, 5)} ${pad(step.oursMicrosecondsPerPacket.toFixed(1), 12)} ${pad(step.rtpengineMicrosecondsPerPacket.toFixed(1), 17)} ${pad(step.efficiencyRatio.toFixed(2), 15)}`);
    }
    lines.push(`CPU efficiency rtpengine/ours (median over steps) ${c.cpuEfficiencyRatio}; capacity ${c.oursCapacityCalls} vs ${c.rtpengineCapacityCalls} calls `
      + `(ratio ${c.capacityRatio ?? 'n/a'}); calls per core ratio ${c.callsPerCoreRatio ?? 'n/a'}`);
  }
  return lines.join('\n');
}
