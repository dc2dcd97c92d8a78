// bench/scale media (issue #15 "Proof"): the same concurrent WebRTC ⇄ RTP audio calls as
// bench/media (same load client, same steps, same loss/latency/CPU figures), relayed by 1 and
// then 2 epcscf-media-gw processes, calls spread round-robin over them (each call lives on one
// gateway, as the IMS-ALG of different epcscf nodes would place them). Loss, capacity (loss < 0.1 %,
// p99 < 5 ms) and gateway CPU per relayed packet (all gateway processes summed) for 1 vs 2.
//
// Usage: npx tsx bench/scale/media.ts [--gateways 1,2] [--calls 100,200,300,400,500] [--seconds 10] [--warmup 2]
//            [--setup-parallel 8] [--ours-dist] [--wait-quiet] [--out FILE] [--no-write]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { NgMediaControl } from '../../core/pcscf/alg/media-control.js';
import { sharedCertificate } from '../../media-gw/webrtc/certificate.js';
import { allocatePorts, releasePort } from '../../test/support/peers/ports.js';
import { flag, option, waitForQuietMachine } from '../lib/bench-runner.js';
import { GATEWAY_PORTS, OURS_DEFAULT_COMMAND, REPO_ROOT, startOurGateway, type GatewayUnderTest } from '../media/gateways.js';
import type { LoadCall } from '../media/load-call.js';
import { LOSS_LIMIT_PERCENT, P99_LIMIT_MS, runLoadStep, type GatewayLeg } from '../media/load-step.js';
import { PortRange } from '../media/port-range.js';
import { summarise, type GatewayResult } from '../media/report.js';
import { MeasurementWindow, PCMU_PAYLOAD_LENGTH } from '../media/rtp-stream.js';
import { compareRuns, formatMediaScaleTable, type MediaScaleBenchResult } from './media-report.js';

const GATEWAY_COUNTS = (option('gateways') ?? '1,2').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const CALLS = (option('calls') ?? '100,200,300,400,500').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0).sort((a, b) => a - b);
const SECONDS = Number(option('seconds') ?? 10);
const WARMUP_SECONDS = Number(option('warmup') ?? 2);
const GRACE_MS = 500;
const SETUP_PARALLEL = Number(option('setup-parallel') ?? 8);
const OUT = option('out') ?? join(REPO_ROOT, 'bench/results/scale-media.json');
/** The load endpoints' ranges, as bench/media (the gateways share 44000-45999, a slice each). */
const WEBRTC_CLIENT_PORTS = { min: 46000, max: 46999 } as const;
const IMS_ENDPOINT_PORTS = { min: 47000, max: 47999 } as const;
const MACHINE_CORES = cpus().length;

if (GATEWAY_COUNTS.length === 0) throw new Error('--gateways needs a comma-separated list of positive integers');
if (CALLS.length === 0) throw new Error('--calls needs a comma-separated list of positive integers');
const maxCalls = CALLS[CALLS.length - 1] as number;
if (maxCalls > WEBRTC_CLIENT_PORTS.max - WEBRTC_CLIENT_PORTS.min + 1) throw new Error(`at most 1000 calls (the load endpoints' port range), asked ${maxCalls}`);

const write = (line: string): void => { process.stdout.write(`${line}\n`); };

/** Gateway i of n gets the i-th slice of the bench's gateway port range. */
function portSlice(index: number, count: number): { min: number; max: number } {
  const size = Math.floor((GATEWAY_PORTS.max - GATEWAY_PORTS.min + 1) / count);
  return { min: GATEWAY_PORTS.min + index * size, max: GATEWAY_PORTS.min + (index + 1) * size - 1 };
}

async function benchGateways(count: number, ngPorts: readonly number[]): Promise<GatewayResult> {
  const result: GatewayResult = { description: '', version: '', command: [], steps: [], capacityCalls: 0, microsecondsPerPacket: 0, callsPerCoreEstimate: 0 };
  const gateways: GatewayUnderTest[] = [];
  const legs: GatewayLeg[] = [];
  const calls: LoadCall[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const gateway = await startOurGateway({
        ngPort: ngPorts[i] as number, maxCalls: maxCalls + 10, ports: portSlice(i, count),
        command: OURS_DEFAULT_COMMAND, fromSource: !flag('ours-dist'), relayWorkers: 0,
      });
      gateways.push(gateway);
      const control = new NgMediaControl({ address: '127.0.0.1', port: gateway.ngPort, timeoutMs: 2000, retries: 2 });
      legs.push({ gateway, control });
      await control.ping();
      write(`gateway ${i + 1}/${count}: pid ${gateway.pid}, ng 127.0.0.1:${gateway.ngPort}, media ports ${portSlice(i, count).min}-${portSlice(i, count).max}`);
    }
    Object.assign(result, {
      description: `${count} × ${gateways[0]?.description ?? ''}; calls round-robin over them`, version: process.version, command: gateways[0]?.command ?? [],
    });
    const context = {
      gateways: legs, certificate: await sharedCertificate(),
      webrtcPorts: new PortRange(WEBRTC_CLIENT_PORTS.min, WEBRTC_CLIENT_PORTS.max),
      imsPorts: new PortRange(IMS_ENDPOINT_PORTS.min, IMS_ENDPOINT_PORTS.max),
      window: new MeasurementWindow(), runId: `${process.pid.toString(36)}${Date.now().toString(36)}g${count}`, calls,
      setupParallel: SETUP_PARALLEL, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS, graceMs: GRACE_MS,
    };
    let index = 0;
    for (const step of CALLS) {
      const s = await runLoadStep(context, step, () => index++);
      result.steps.push(s);
      write(`${count} gw ${step} calls: ${s.liveCalls} live${s.setupFailures > 0 ? ` (${s.setupFailures} failed: ${s.firstSetupError ?? ''})` : ''}, ${s.relayedPerSecond} pps, loss ${s.lossPercent} %, `
        + `p50 ${s.latency.p50Ms} ms, p99 ${s.latency.p99Ms} ms, gateway CPU ${s.gatewayCpuPercent} % (${s.gatewayCpuPercentEach.join(' + ')}; ${s.gatewayMicrosecondsPerPacket} µs/packet), generator ${s.generatorCpuPercent} %`);
      if (s.liveCalls === 0) break;
    }
  } catch (error) {
    result.error = (error as Error).message.split('\n')[0] ?? String(error);
    write(`${count} gateways FAILED: ${(error as Error).message}`);
    for (const gateway of gateways) write(`--- gateway pid ${gateway.pid} (tail) ---\n${gateway.output().slice(-2000)}`);
  } finally {
    for (const call of calls) await call.close();
    for (const leg of legs) await leg.control.close();
    for (const gateway of gateways) await gateway.stop();
  }
  summarise(result);
  return result;
}

async function main(): Promise<number> {
  const loadAtStart = flag('wait-quiet') ? await waitForQuietMachine(180) : loadavg()[0] as number;
  const ngPorts = await allocatePorts(Math.max(...GATEWAY_COUNTS));
  const runs: Record<string, GatewayResult> = {};
  try {
    for (const count of GATEWAY_COUNTS) runs[String(count)] = await benchGateways(count, ngPorts);
  } finally {
    for (const port of ngPorts) releasePort(port);
  }
  const result: MediaScaleBenchResult = {
    bench: 'scale-media',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: MACHINE_CORES, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    node: process.version,
    settings: {
      gateways: GATEWAY_COUNTS, calls: CALLS, secondsPerStep: SECONDS, warmupSeconds: WARMUP_SECONDS, graceMs: GRACE_MS, setupParallel: SETUP_PARALLEL,
      loadAverageAtStart: Math.round(loadAtStart * 100) / 100, loadAverageAtEnd: Math.round((loadavg()[0] as number) * 100) / 100,
      media: `PCMU, ${PCMU_PAYLOAD_LENGTH}-byte payloads, 20 ms (50 pps) each way per call; WIC side SRTP over DTLS-SRTP with ICE, IMS side plain RTP/AVP (as bench/media)`,
      spread: 'call i on gateway i mod N; each gateway its own process, ng port and slice of 44000-45999; relays in the main thread (relayWorkers 0)',
      target: `capacity: the largest step with loss < ${LOSS_LIMIT_PERCENT} %, p99 one-way latency < ${P99_LIMIT_MS} ms and every call live`,
      cpu: 'utime + stime of every gateway process group over the measured window, summed; µs per packet = that CPU / packets delivered in both directions',
      caveat: `the load generator (one Node process) costs about as much CPU per packet as the gateway and shares the ${MACHINE_CORES} cores with it`,
    },
    runs,
    comparison: compareRuns(runs, MACHINE_CORES),
  };
  write(`\n${formatMediaScaleTable(result)}`);
  if (!flag('no-write')) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    write(`\nwrote ${OUT}`);
  }
  const silent = Object.entries(runs).filter(([, run]) => run.error !== undefined || run.steps.every((s) => s.packetsRelayedUplink === 0 || s.packetsRelayedDownlink === 0));
  return silent.length > 0 ? 1 : 0;
}

process.exitCode = await main();
