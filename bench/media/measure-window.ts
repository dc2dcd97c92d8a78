/**
 * The measured window of one media load step (bench/media/load-step.ts, bench/media/floor.ts):
 * open every stream's window, let it run, close it, wait the grace time for packets in flight,
 * and read loss, one-way latency, the relay processes' CPU (user and kernel, /proc) and this
 * generator's own CPU and event-loop delay over it. The caller paces the streams meanwhile.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { groupCpuSplit, ownCpuSeconds, type CpuSplit } from '../lib/proc-stats.js';
import { LatencySamples, PACKET_INTERVAL_MS, type LatencySummary, type MeasurementWindow, type RtpStream } from './rtp-stream.js';

export interface WindowOptions {
  readonly streams: readonly RtpStream[];
  readonly window: MeasurementWindow;
  /** The relays' process groups (one per gateway process): their CPU time is read from /proc and summed. */
  readonly relayPids: readonly number[];
  readonly seconds: number;
  readonly graceMs: number;
}

export interface WindowMeasurement {
  readonly seconds: number;
  /** Packets sent inside the window (all streams) and how many of them arrived. */
  readonly sent: number;
  readonly relayed: number;
  readonly reordered: number;
  readonly lossPercent: number;
  readonly latency: LatencySummary;
  /** The relays' CPU seconds over the window, summed. */
  readonly relayCpu: CpuSplit;
  /** The same per relay process, in the order of `relayPids`. */
  readonly relayCpuEach: readonly CpuSplit[];
  readonly generatorCpuSeconds: number;
  readonly generatorLoopDelayP99Ms: number;
  readonly generatorLoopDelayMaxMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureWindow(options: WindowOptions): Promise<WindowMeasurement> {
  const { streams, window } = options;
  window.samples = new LatencySamples(Math.ceil(streams.length * (options.seconds * 1000 / PACKET_INTERVAL_MS) * 1.05));
  for (const stream of streams) stream.openWindow();
  const cpuBefore = options.relayPids.map((pid) => groupCpuSplit(pid));
  const generatorBefore = ownCpuSeconds();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const started = process.hrtime.bigint();
  await sleep(options.seconds * 1000);
  for (const stream of streams) stream.closeWindow();
  loopDelay.disable();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuAfter = options.relayPids.map((pid) => groupCpuSplit(pid));
  const generatorCpuSeconds = ownCpuSeconds() - generatorBefore;
  // Packets of the window still in flight are counted when they land within the grace time.
  await sleep(options.graceMs);
  const relayCpuEach = cpuAfter.map((after, i) => ({ user: after.user - (cpuBefore[i]?.user ?? 0), system: after.system - (cpuBefore[i]?.system ?? 0) }));
  let sent = 0;
  let relayed = 0;
  let reordered = 0;
  for (const stream of streams) {
    sent += stream.expected;
    relayed += stream.received;
    reordered += stream.reordered;
  }
  return {
    seconds, sent, relayed, reordered,
    lossPercent: sent > 0 ? ((sent - relayed) / sent) * 100 : 100,
    latency: window.samples.summary(),
    relayCpu: relayCpuEach.reduce((sum, each) => ({ user: sum.user + each.user, system: sum.system + each.system }), { user: 0, system: 0 }),
    relayCpuEach,
    generatorCpuSeconds,
    generatorLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    generatorLoopDelayMaxMs: loopDelay.max / 1e6,
  };
}
