/**
 * One load step against one gateway (or several processes of it, calls spread round-robin): bring the number of live calls up to the step's count
 * (calls from earlier steps keep running), pace all their streams from one timer, let them
 * settle, then measure a steady window: loss and one-way latency per relayed packet (both
 * directions), the gateway processes' CPU time from /proc (utime + stime of every thread), and
 * this generator's own CPU.
 */
import { forEachLimited } from '../lib/load-point.js';
import { readUdpCounters, udpCountersDelta, type UdpCounters } from '../lib/udp-counters.js';
import type { MediaControl } from '../../core/pcscf/alg/media-control.js';
import type { LocalCertificate } from '../../media-gw/webrtc/certificate.js';
import type { GatewayUnderTest } from './gateways.js';
import { LoadCall } from './load-call.js';
import { measureWindow } from './measure-window.js';
import { MediaPacer, type PacedSender } from './pacer.js';
import type { PortRange } from './port-range.js';
import type { LatencySummary, MeasurementWindow } from './rtp-stream.js';

export interface StepResult {
  /** Calls asked for in this step. */
  readonly calls: number;
  /** Calls that were set up and streaming during the window. */
  readonly liveCalls: number;
  readonly setupFailures: number;
  readonly firstSetupError?: string;
  /** Wall time to set up the calls added by this step. */
  readonly setupSeconds: number;
  readonly windowSeconds: number;
  /** Packets the endpoints sent in the window (both directions) and how many the gateway delivered. */
  readonly packetsSent: number;
  readonly packetsRelayed: number;
  /** Delivered WIC → IMS (SRTP in, RTP out) and IMS → WIC (RTP in, SRTP out). */
  readonly packetsRelayedUplink: number;
  readonly packetsRelayedDownlink: number;
  readonly relayedPerSecond: number;
  readonly lossPercent: number;
  /** One-way WIC→IMS and IMS→WIC latency through the gateway, all packets of the window. */
  readonly latency: LatencySummary;
  readonly reordered: number;
  /** Gateway CPU over the window, in % of one core. */
  readonly gatewayCpuPercent: number;
  /** The same per gateway process (one entry with one gateway). */
  readonly gatewayCpuPercentEach: readonly number[];
  readonly gatewayCpuPercentPerCall: number;
  readonly gatewayMicrosecondsPerPacket: number;
  /**
   * The same per packet, split: user space (the gateway's own code, its runtime and libraries) and
   * kernel (the socket system calls; on loopback a send also pays the receiver's softirq work).
   */
  readonly gatewayUserMicrosecondsPerPacket: number;
  readonly gatewaySystemMicrosecondsPerPacket: number;
  readonly generatorCpuPercent: number;
  /**
   * The generator's own event-loop delay over the window (p99 and max, ms): a stall here delays
   * sends and receive timestamps alike and shows up in the latency figures without being the
   * gateway's doing.
   */
  readonly generatorLoopDelayP99Ms: number;
  readonly generatorLoopDelayMaxMs: number;
  /** Sends the pacer skipped (endpoint not keyed) and inbound datagrams the endpoints dropped. */
  readonly pacerSkipped: number;
  readonly endpointDrops: number;
  /** Machine-wide UDP counters over the window (+ grace): receive-buffer overflows, unbound ports. */
  readonly udp: UdpCounters;
  /** Meets the bar: loss < 0.1 % and p99 < 5 ms with every call live. */
  readonly meetsTarget: boolean;
}

/** One gateway process under test and the ng client that drives it. */
export interface GatewayLeg {
  readonly gateway: GatewayUnderTest;
  readonly control: MediaControl;
}

export interface LoadStepContext {
  /** Call i is set up on gateways[i mod length] (bench/scale/media.ts spreads calls over 2 processes). */
  readonly gateways: readonly GatewayLeg[];
  readonly certificate: LocalCertificate;
  readonly webrtcPorts: PortRange;
  readonly imsPorts: PortRange;
  readonly window: MeasurementWindow;
  readonly runId: string;
  /** Live calls, grown by each step. */
  readonly calls: LoadCall[];
  readonly setupParallel: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly graceMs: number;
}

export const LOSS_LIMIT_PERCENT = 0.1;
export const P99_LIMIT_MS = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** RFC 7675: consent checks every 5 s (per call, spread over the interval) keep each call alive past the gateway's 30 s timeout. */
const CONSENT_INTERVAL_MS = 5_000;

export async function runLoadStep(context: LoadStepContext, calls: number, nextIndex: () => number): Promise<StepResult> {
  const legs = context.gateways;
  if (legs.length === 0) throw new Error('runLoadStep: no gateway');
  const toAdd = Math.max(0, calls - context.calls.length);
  let setupFailures = 0;
  let firstSetupError: string | undefined;
  const setupStarted = process.hrtime.bigint();
  await forEachLimited(Array.from({ length: toAdd }, () => nextIndex()), context.setupParallel, async (index) => {
    try {
      const leg = legs[index % legs.length] as GatewayLeg;
      context.calls.push(await LoadCall.setUp({
        index, runId: context.runId, control: leg.control, interfaces: leg.gateway.interfaces,
        certificate: context.certificate, webrtcPorts: context.webrtcPorts, imsPorts: context.imsPorts,
        window: context.window, connectTimeoutMs: 10_000,
      }));
    } catch (error) {
      setupFailures++;
      firstSetupError ??= (error as Error).message.split('\n')[0];
    }
  });
  const setupSeconds = Number(process.hrtime.bigint() - setupStarted) / 1e9;

  const live = context.calls;
  const senders: PacedSender[] = [];
  for (const call of live) senders.push(call.webrtc, call.ims);
  const pacer = new MediaPacer(senders);
  // RFC 7675 §5.1: a browser randomizes its consent checks so that they do not synchronise; all
  // calls checking in the same tick would be a burst no real population of browsers sends.
  let nextConsent = 0;
  const consent = setInterval(() => {
    live[nextConsent]?.webrtc.refreshConsent();
    nextConsent = (nextConsent + 1) % Math.max(1, live.length);
  }, Math.max(1, Math.floor(CONSENT_INTERVAL_MS / Math.max(1, live.length))));
  pacer.start();
  try {
    await sleep(context.warmupSeconds * 1000);
    const streams = live.flatMap((call) => [call.uplink, call.downlink]);
    const dropsBefore = live.reduce((sum, call) => sum + call.webrtc.dropped + call.ims.dropped, 0);
    const skippedBefore = pacer.skipped;
    const udpBefore = readUdpCounters();
    const measured = await measureWindow({
      streams, window: context.window, relayPids: legs.map((leg) => leg.gateway.pid), seconds: context.seconds, graceMs: context.graceMs,
    });
    const udp = udpCountersDelta(udpBefore, readUdpCounters());
    let uplink = 0;
    for (const call of live) uplink += call.uplink.received;
    const { sent, relayed, latency, lossPercent, relayCpu } = measured;
    const windowSeconds = measured.seconds;
    const gatewayCpu = relayCpu.user + relayCpu.system;
    const cpuPercent = (gatewayCpu / windowSeconds) * 100;
    const result: StepResult = {
      calls, liveCalls: live.length, setupFailures, ...(firstSetupError !== undefined ? { firstSetupError } : {}),
      setupSeconds: round(setupSeconds, 2), windowSeconds: round(windowSeconds, 3),
      packetsSent: sent, packetsRelayed: relayed, packetsRelayedUplink: uplink, packetsRelayedDownlink: relayed - uplink,
      relayedPerSecond: Math.round(relayed / windowSeconds),
      lossPercent: round(lossPercent, 4), latency, reordered: measured.reordered,
      gatewayCpuPercent: round(cpuPercent, 1),
      gatewayCpuPercentEach: measured.relayCpuEach.map((cpu) => round(((cpu.user + cpu.system) / windowSeconds) * 100, 1)),
      gatewayCpuPercentPerCall: live.length > 0 ? round(cpuPercent / live.length, 3) : 0,
      gatewayMicrosecondsPerPacket: relayed > 0 ? round((gatewayCpu * 1e6) / relayed, 2) : 0,
      gatewayUserMicrosecondsPerPacket: relayed > 0 ? round((relayCpu.user * 1e6) / relayed, 2) : 0,
      gatewaySystemMicrosecondsPerPacket: relayed > 0 ? round((relayCpu.system * 1e6) / relayed, 2) : 0,
      generatorCpuPercent: round((measured.generatorCpuSeconds / windowSeconds) * 100, 1),
      generatorLoopDelayP99Ms: round(measured.generatorLoopDelayP99Ms, 2),
      generatorLoopDelayMaxMs: round(measured.generatorLoopDelayMaxMs, 2),
      pacerSkipped: pacer.skipped - skippedBefore,
      endpointDrops: live.reduce((sum, call) => sum + call.webrtc.dropped + call.ims.dropped, 0) - dropsBefore,
      udp,
      meetsTarget: live.length === calls && relayed > 0 && lossPercent < LOSS_LIMIT_PERCENT && latency.p99Ms < P99_LIMIT_MS,
    };
    return result;
  } finally {
    pacer.stop();
    clearInterval(consent);
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
