/** The media scale bench result (bench/results/scale-media.json): the same call steps through 1 and 2 media-gw processes. */
import type { GatewayResult } from '../media/report.js';

export interface MediaScaleStep {
  readonly calls: number;
  /** Loss %, p99 ms, gateway CPU µs per relayed packet (all gateway processes summed) and generator CPU %, by gateway count. */
  readonly lossPercent: Readonly<Record<string, number>>;
  readonly p99Ms: Readonly<Record<string, number>>;
  readonly microsecondsPerPacket: Readonly<Record<string, number>>;
  readonly generatorCpuPercent: Readonly<Record<string, number>>;
}

export interface MediaScaleComparison {
  readonly baseGateways: number;
  readonly gateways: number;
  readonly steps: readonly MediaScaleStep[];
  readonly baseCapacityCalls: number;
  readonly capacityCalls: number;
  /** capacity with `gateways` / capacity with `baseGateways` (null when the base met no step). */
  readonly capacityRatio: number | null;
  readonly baseMicrosecondsPerPacket: number;
  readonly microsecondsPerPacket: number;
  readonly note: string;
}

export interface MediaScaleBenchResult {
  readonly bench: 'scale-media';
  readonly date: string;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly node: string;
  readonly settings: Readonly<Record<string, unknown>>;
  /** By gateway process count ("1", "2"). */
  readonly runs: Readonly<Record<string, GatewayResult>>;
  readonly comparison: MediaScaleComparison[];
}

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function compareRuns(runs: Readonly<Record<string, GatewayResult>>, machineCores: number): MediaScaleComparison[] {
  const counts = Object.keys(runs).map(Number).sort((a, b) => a - b);
  const baseCount = counts[0];
  const base = baseCount === undefined ? undefined : runs[String(baseCount)];
  if (base === undefined || baseCount === undefined) return [];
  const out: MediaScaleComparison[] = [];
  for (const count of counts.slice(1)) {
    const run = runs[String(count)];
    if (run === undefined) continue;
    const steps: MediaScaleStep[] = [];
    for (const step of run.steps) {
      const peer = base.steps.find((s) => s.calls === step.calls);
      if (peer === undefined) continue;
      const by = <T>(a: T, b: T): Record<string, T> => ({ [String(baseCount)]: a, [String(count)]: b });
      steps.push({
        calls: step.calls,
        lossPercent: by(peer.lossPercent, step.lossPercent),
        p99Ms: by(peer.latency.p99Ms, step.latency.p99Ms),
        microsecondsPerPacket: by(peer.gatewayMicrosecondsPerPacket, step.gatewayMicrosecondsPerPacket),
        generatorCpuPercent: by(peer.generatorCpuPercent, step.generatorCpuPercent),
      });
    }
    const capacityRatio = base.capacityCalls > 0 ? round(run.capacityCalls / base.capacityCalls) : null;
    const change = base.microsecondsPerPacket > 0 ? Math.round(((run.microsecondsPerPacket - base.microsecondsPerPacket) / base.microsecondsPerPacket) * 100) : 0;
    const generatorMax = Math.max(0, ...run.steps.map((s) => s.generatorCpuPercent));
    const note = `${count} media-gw processes vs ${baseCount}: capacity ${run.capacityCalls} vs ${base.capacityCalls} calls (loss < 0.1 %, p99 < 5 ms; ratio ${capacityRatio ?? 'n/a'}), `
      + `${run.microsecondsPerPacket} vs ${base.microsecondsPerPacket} µs of gateway CPU per relayed packet (${change >= 0 ? '+' : ''}${change} %). `
      + `The load generator spends about as much CPU per packet as a gateway and shares the ${machineCores} cores with them (up to ${generatorMax} % of a core here), `
      + 'so a second gateway process moves the limit only as far as the generator and the rest of the machine leave room. '
      + (Math.abs(change) <= 15
        ? 'The CPU per packet is unchanged: the relay work splits over processes without extra cost (each call lives on one gateway, nothing is shared between them).'
        : 'The CPU per packet moved by more than 15 %: each process has fixed costs (timers, GC, its event loop) that weigh at low packet rates, and on a busy machine contention shows too; read it with the load averages.');
    out.push({
      baseGateways: baseCount, gateways: count, steps, baseCapacityCalls: base.capacityCalls, capacityCalls: run.capacityCalls, capacityRatio,
      baseMicrosecondsPerPacket: base.microsecondsPerPacket, microsecondsPerPacket: run.microsecondsPerPacket, note,
    });
  }
  return out;
}

const pad = (value: string | number, width: number): string => String(value).padStart(width);

export function formatMediaScaleTable(result: MediaScaleBenchResult): string {
  const lines: string[] = [];
  lines.push('gws  calls  live  relayed pps   loss %  p50 ms  p99 ms  gw CPU % (each)        µs/pkt (user+kernel)  gen CPU %  ok');
  for (const [count, run] of Object.entries(result.runs)) {
    if (run.error !== undefined) lines.push(`${pad(count, 3)}  FAILED: ${run.error}`);
    for (const s of run.steps) {
      lines.push([
        pad(count, 3), pad(s.calls, 6), pad(s.liveCalls, 5), pad(s.relayedPerSecond, 12), pad(s.lossPercent.toFixed(3), 8),
        pad(s.latency.p50Ms.toFixed(2), 7), pad(s.latency.p99Ms.toFixed(2), 7),
        pad(`${s.gatewayCpuPercent.toFixed(1)} (${s.gatewayCpuPercentEach.map((v) => v.toFixed(1)).join(' + ')})`, 22),
        pad(s.gatewayMicrosecondsPerPacket.toFixed(1), 7), pad(`(${s.gatewayUserMicrosecondsPerPacket.toFixed(1)}+${s.gatewaySystemMicrosecondsPerPacket.toFixed(1)})`, 14),
        pad(s.generatorCpuPercent.toFixed(1), 10), s.meetsTarget ? '  yes' : '  no',
      ].join(' ') + (s.setupFailures > 0 ? `  (${s.setupFailures} setups failed: ${s.firstSetupError ?? ''})` : ''));
    }
    lines.push(`${count} gateway process${count === '1' ? '' : 'es'}: capacity ${run.capacityCalls} calls, ${run.microsecondsPerPacket} µs CPU per relayed packet, ~${run.callsPerCoreEstimate} calls per core`);
  }
  for (const c of result.comparison) lines.push('', c.note);
  return lines.join('\n');
}
