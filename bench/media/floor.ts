// bench/media/floor.ts (issue #4): the CPU floor of relaying RTP with Node's dgram on this machine,
// for reading bench/media's figures. The same load shape as bench/media (calls of two 50 pps
// streams with 172-byte packets, one way each, paced by one timer, loss and one-way latency per
// packet), through bench/media/floor-relay.ts: a relay with two sockets per call that only
// latches, connects and forwards (no SRTP, no rewrite). Its µs per packet, split into user space
// and kernel, is what no Node relay can go below; bench/media's figures for our gateway and
// rtpengine (bench/results/media.json, when present) are printed beside it.
//
// Usage: npx tsx bench/media/floor.ts [--calls 300,400,500] [--seconds 10] [--warmup 2]
//          [--out FILE] [--no-write]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { startDaemon } from '../../test/support/peers/process.js';
import { flag, option, sleep } from '../lib/bench-runner.js';
import { GATEWAY_PORTS, REPO_ROOT } from './gateways.js';
import { ImsLoadEndpoint } from './ims-endpoint.js';
import { LOSS_LIMIT_PERCENT, P99_LIMIT_MS } from './load-step.js';
import { measureWindow } from './measure-window.js';
import { MediaPacer } from './pacer.js';
import { PortRange } from './port-range.js';
import type { MediaBenchResult } from './report.js';
import { MeasurementWindow, PCMU_PAYLOAD_LENGTH, RtpStream, type LatencySummary } from './rtp-stream.js';

const CALLS = (option('calls') ?? '300,400,500').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0).sort((a, b) => a - b);
const SECONDS = Number(option('seconds') ?? 10);
const WARMUP_SECONDS = Number(option('warmup') ?? 2);
const GRACE_MS = 500;
const OUT = option('out') ?? join(REPO_ROOT, 'bench/results/media-floor.json');
const WRITE = !flag('no-write');
const MAX_CALLS = CALLS[CALLS.length - 1] ?? 0;
if (MAX_CALLS === 0 || MAX_CALLS > 1000) throw new Error('--calls: comma-separated call counts, at most 1000');

interface FloorStep {
  readonly calls: number;
  readonly relayedPerSecond: number;
  readonly lossPercent: number;
  readonly latency: LatencySummary;
  readonly relayCpuPercent: number;
  readonly microsecondsPerPacket: number;
  readonly userMicrosecondsPerPacket: number;
  readonly systemMicrosecondsPerPacket: number;
  readonly generatorCpuPercent: number;
  readonly generatorLoopDelayP99Ms: number;
  readonly meetsTarget: boolean;
}

const write = (line: string): void => { process.stdout.write(`${line}\n`); };
const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** One call: a WIC-side and an IMS-side plain RTP endpoint, each sending to its relay socket. */
interface FloorCall {
  readonly streams: readonly RtpStream[];
  readonly endpoints: readonly ImsLoadEndpoint[];
}

async function addCall(index: number, window: MeasurementWindow, wicPorts: PortRange, imsPorts: PortRange): Promise<FloorCall> {
  const uplink = new RtpStream(0x10000000 + index, window);
  const downlink = new RtpStream(0x20000000 + index, window);
  const wic = new ImsLoadEndpoint(await wicPorts.bind(), uplink, downlink);
  const ims = new ImsLoadEndpoint(await imsPorts.bind(), downlink, uplink);
  await wic.setGateway('127.0.0.1', GATEWAY_PORTS.min + 2 * index);
  await ims.setGateway('127.0.0.1', GATEWAY_PORTS.min + 2 * index + 1);
  return { streams: [uplink, downlink], endpoints: [wic, ims] };
}

async function measureStep(relayPid: number, calls: readonly FloorCall[], window: MeasurementWindow): Promise<FloorStep> {
  const pacer = new MediaPacer(calls.flatMap((call) => call.endpoints));
  pacer.start();
  try {
    await sleep(WARMUP_SECONDS * 1000);
    const m = await measureWindow({
      streams: calls.flatMap((call) => call.streams), window, relayPids: [relayPid], seconds: SECONDS, graceMs: GRACE_MS,
    });
    const perPacket = (cpu: number): number => (m.relayed > 0 ? round((cpu * 1e6) / m.relayed, 2) : 0);
    return {
      calls: calls.length, relayedPerSecond: Math.round(m.relayed / m.seconds), lossPercent: round(m.lossPercent, 4), latency: m.latency,
      relayCpuPercent: round(((m.relayCpu.user + m.relayCpu.system) / m.seconds) * 100, 1),
      microsecondsPerPacket: perPacket(m.relayCpu.user + m.relayCpu.system),
      userMicrosecondsPerPacket: perPacket(m.relayCpu.user), systemMicrosecondsPerPacket: perPacket(m.relayCpu.system),
      generatorCpuPercent: round((m.generatorCpuSeconds / m.seconds) * 100, 1),
      generatorLoopDelayP99Ms: round(m.generatorLoopDelayP99Ms, 2),
      meetsTarget: m.relayed > 0 && m.lossPercent < LOSS_LIMIT_PERCENT && m.latency.p99Ms < P99_LIMIT_MS,
    };
  } finally {
    pacer.stop();
  }
}

/** bench/media's latest figures for the same call counts, when its results file is there. */
function mediaFigures(): MediaBenchResult | undefined {
  try {
    return JSON.parse(readFileSync(join(REPO_ROOT, 'bench/results/media.json'), 'utf8')) as MediaBenchResult;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const relay = await startDaemon({
    name: 'floor-relay', command: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, 'bench/media/floor-relay.ts'), String(GATEWAY_PORTS.min), String(MAX_CALLS)],
    cwd: REPO_ROOT, ready: { kind: 'log', pattern: /floor-relay ready/ }, readyTimeoutMs: 20_000,
  });
  const window = new MeasurementWindow();
  const wicPorts = new PortRange(46000, 46999);
  const imsPorts = new PortRange(47000, 47999);
  const calls: FloorCall[] = [];
  const steps: FloorStep[] = [];
  try {
    for (const target of CALLS) {
      while (calls.length < target) calls.push(await addCall(calls.length, window, wicPorts, imsPorts));
      const step = await measureStep(relay.pid, calls, window);
      steps.push(step);
      write(`floor ${step.calls} calls: ${step.relayedPerSecond} pps, loss ${step.lossPercent} %, p50 ${step.latency.p50Ms} ms, p99 ${step.latency.p99Ms} ms, `
        + `relay CPU ${step.relayCpuPercent} % = ${step.microsecondsPerPacket} µs/packet (user ${step.userMicrosecondsPerPacket}, kernel ${step.systemMicrosecondsPerPacket}), `
        + `generator ${step.generatorCpuPercent} %`);
    }
  } finally {
    for (const call of calls) for (const endpoint of call.endpoints) endpoint.close();
    await relay.stop();
  }
  const media = mediaFigures();
  const beside = (name: 'ours' | 'rtpengine', calls: number): string => {
    const step = media?.gateways[name]?.steps.find((s) => s.calls === calls);
    return step === undefined ? '—' : step.gatewayMicrosecondsPerPacket.toFixed(1);
  };
  write('\ncalls  floor µs/pkt (user+kernel)  ours µs/pkt  rtpengine µs/pkt   (ours, rtpengine: bench/results/media.json)');
  for (const step of steps) {
    write(`${String(step.calls).padStart(5)}  ${step.microsecondsPerPacket.toFixed(1).padStart(6)} (${step.userMicrosecondsPerPacket.toFixed(1)}+${step.systemMicrosecondsPerPacket.toFixed(1)})`
      + `${beside('ours', step.calls).padStart(21)}${beside('rtpengine', step.calls).padStart(18)}`);
  }
  if (!WRITE) return;
  const result = {
    bench: 'media-floor',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    node: process.version,
    settings: {
      calls: CALLS, secondsPerStep: SECONDS, warmupSeconds: WARMUP_SECONDS, loadAverageAtEnd: round(loadavg()[0] as number, 2),
      media: `plain RTP both ways, 12-byte header + ${PCMU_PAYLOAD_LENGTH}-byte payload, 50 pps each way per call`,
      relay: 'bench/media/floor-relay.ts: two sockets per call, latch + connect + forward unchanged; no SRTP, no rewrite',
      cpu: 'utime and stime of the relay process over the window; µs per packet = CPU time / packets delivered in both directions',
    },
    steps,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  write(`\nwrote ${OUT}`);
}

await main();
