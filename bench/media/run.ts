// bench/media (issue #4): concurrent bidirectional audio calls (50 pps each way, 160-byte PCMU
// payloads) relayed SRTP ⇄ RTP by our media-gw and, on the same machine in the same run, by
// rtpengine in userspace. Each call is set up with the IMS-ALG's own ng requests (offerFromWic,
// answerFromIms over NgMediaControl); the browser side is a lean load client (ICE controlling +
// werift DTLS client for the keys, our SRTP PacketCipher per packet), the IMS side plain RTP.
// Per step: relayed pps, loss, one-way latency p50/p99, gateway CPU (from /proc) and µs per packet;
// capacity = the largest step with loss < 0.1 % and p99 < 5 ms.
//
// Usage: npx tsx bench/media/run.ts [--calls 50,100,200] [--seconds 10] [--warmup 2]
//          [--gateway ours|rtpengine|both] [--setup-parallel 8] [--ours-command "node path/cli.mjs"] [--ours-dist]
//          [--relay-workers N]  (our gateway's relay worker threads; default 0: relays in its main thread, which measured
//          better here than 2 workers: the load client needs the other core)
//          [--cpu-profile DIR]  (V8 CPU profile of our gateway; read with node --import tsx bench/lib/cpu-profile-top.ts FILE)
//          [--wait-quiet] [--out FILE] [--no-write] [--smoke]
// --smoke: 2 calls for 2 s, nothing written; exits 1 when a gateway relayed no packet.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { NgMediaControl } from '../../core/pcscf/alg/media-control.js';
import { sharedCertificate } from '../../media-gw/webrtc/certificate.js';
import { allocatePorts, releasePort } from '../../test/support/peers/ports.js';
import { flag, option, waitForQuietMachine } from '../lib/bench-runner.js';
import {
  OURS_DEFAULT_COMMAND, REPO_ROOT, startOurGateway, startRtpengineGateway, type GatewayName, type GatewayUnderTest,
} from './gateways.js';
import type { LoadCall } from './load-call.js';
import { LOSS_LIMIT_PERCENT, P99_LIMIT_MS, runLoadStep } from './load-step.js';
import { PortRange } from './port-range.js';
import { compare, formatTable, summarise, type GatewayResult, type MediaBenchResult } from './report.js';
import { MeasurementWindow, PCMU_PAYLOAD_LENGTH } from './rtp-stream.js';

const SMOKE = flag('smoke');
const CALLS = SMOKE ? [2] : (option('calls') ?? '50,100,200').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0).sort((a, b) => a - b);
const SECONDS = SMOKE ? 2 : Number(option('seconds') ?? 10);
const WARMUP_SECONDS = SMOKE ? 0.5 : Number(option('warmup') ?? 2);
const GRACE_MS = 500;
const SETUP_PARALLEL = Number(option('setup-parallel') ?? 8);
const GATEWAY_CHOICE = option('gateway') ?? 'both';
const GATEWAYS: GatewayName[] = GATEWAY_CHOICE === 'both' ? ['ours', 'rtpengine'] : [GATEWAY_CHOICE as GatewayName];
const RELAY_WORKERS = Number(option('relay-workers') ?? 0);
const OURS_COMMAND = option('ours-command')?.split(' ').filter((part) => part !== '') ?? OURS_DEFAULT_COMMAND;
const OUT = option('out') ?? join(REPO_ROOT, 'bench/results/media.json');
const WRITE = !flag('no-write') && (!SMOKE || option('out') !== undefined);
/** Load endpoints: WebRTC clients 46000-46999, IMS endpoints 47000-47999 (the gateway has 44000-45999). */
const WEBRTC_CLIENT_PORTS = { min: 46000, max: 46999 } as const;
const IMS_ENDPOINT_PORTS = { min: 47000, max: 47999 } as const;

if (GATEWAYS.some((g) => g !== 'ours' && g !== 'rtpengine')) throw new Error(`--gateway must be ours, rtpengine or both (got ${GATEWAY_CHOICE})`);
if (!Number.isInteger(RELAY_WORKERS) || RELAY_WORKERS < 0) throw new Error(`--relay-workers must be an integer ≥ 0 (got ${option('relay-workers')})`);
if (CALLS.length === 0) throw new Error('--calls needs a comma-separated list of positive integers');
const maxCalls = CALLS[CALLS.length - 1] as number;
if (maxCalls > WEBRTC_CLIENT_PORTS.max - WEBRTC_CLIENT_PORTS.min + 1) throw new Error(`at most 1000 calls (the load endpoints' port range), asked ${maxCalls}`);

const write = (line: string): void => { process.stdout.write(`${line}\n`); };

function startGateway(name: GatewayName, ngPort: number): Promise<GatewayUnderTest> {
  const options = { ngPort, maxCalls: maxCalls + 10 };
  const cpuProfileDir = option('cpu-profile');
  return name === 'rtpengine' ? startRtpengineGateway(options) : startOurGateway({
    ...options, command: OURS_COMMAND, fromSource: !flag('ours-dist'), relayWorkers: RELAY_WORKERS,
    ...(cpuProfileDir !== undefined ? { cpuProfileDir } : {}),
  });
}

async function benchGateway(name: GatewayName, ngPort: number): Promise<GatewayResult> {
  const result: GatewayResult = {
    description: '', version: '', command: [], steps: [], capacityCalls: 0, microsecondsPerPacket: 0, callsPerCoreEstimate: 0,
  };
  let gateway: GatewayUnderTest | undefined;
  let control: NgMediaControl | undefined;
  const calls: LoadCall[] = [];
  try {
    gateway = await startGateway(name, ngPort);
    Object.assign(result, { description: gateway.description, version: gateway.version, command: gateway.command });
    write(`${name}: ${gateway.description} (pid ${gateway.pid}, ng 127.0.0.1:${ngPort}): ${gateway.command.join(" ")}`);
    control = new NgMediaControl({ address: '127.0.0.1', port: ngPort, timeoutMs: 2000, retries: 2 });
    await control.ping();
    const context = {
      gateways: [{ gateway, control }], certificate: await sharedCertificate(),
      webrtcPorts: new PortRange(WEBRTC_CLIENT_PORTS.min, WEBRTC_CLIENT_PORTS.max),
      imsPorts: new PortRange(IMS_ENDPOINT_PORTS.min, IMS_ENDPOINT_PORTS.max),
      window: new MeasurementWindow(), runId: `${process.pid.toString(36)}${Date.now().toString(36)}`, calls,
      setupParallel: SETUP_PARALLEL, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS, graceMs: GRACE_MS,
    };
    let index = 0;
    for (const step of CALLS) {
      const s = await runLoadStep(context, step, () => index++);
      result.steps.push(s);
      write(`${name} ${step} calls: ${s.liveCalls} live (set up in ${s.setupSeconds} s${s.setupFailures > 0 ? `, ${s.setupFailures} failed: ${s.firstSetupError ?? ''}` : ''}), `
        + `${s.relayedPerSecond} pps relayed, loss ${s.lossPercent} %, p50 ${s.latency.p50Ms} ms, p99 ${s.latency.p99Ms} ms, `
        + `gateway CPU ${s.gatewayCpuPercent} % (${s.gatewayMicrosecondsPerPacket} µs/packet: user ${s.gatewayUserMicrosecondsPerPacket}, kernel ${s.gatewaySystemMicrosecondsPerPacket}), generator ${s.generatorCpuPercent} % (loop delay p99 ${s.generatorLoopDelayP99Ms} ms, max ${s.generatorLoopDelayMaxMs} ms); `
        + `lost ${s.packetsSent - s.packetsRelayed} (uplink ${s.packetsRelayedUplink}, downlink ${s.packetsRelayedDownlink} delivered), reordered ${s.reordered}, `
        + `endpoint drops ${s.endpointDrops}, pacer skips ${s.pacerSkipped}, UDP RcvbufErrors ${s.udp.rcvbufErrors}, NoPorts ${s.udp.noPorts}`);
      if (s.liveCalls === 0) break; // nothing connects: larger steps would only fail slower
    }
  } catch (error) {
    result.error = (error as Error).message.split('\n')[0] ?? String(error);
    write(`${name} FAILED: ${(error as Error).message}`);
    if (gateway !== undefined) write(`--- ${name} output (tail) ---\n${gateway.output().slice(-3000)}`);
  } finally {
    for (const call of calls) await call.close();
    await control?.close();
    const status = await gateway?.stop();
    if (status !== undefined && status.code !== 0 && status.signal !== 'SIGTERM') {
      write(`${name}: the gateway did not exit cleanly (${status.signal ?? `exit code ${String(status.code)}`})\n${gateway?.output().slice(-2000) ?? ''}`);
    }
  }
  summarise(result);
  return result;
}

async function main(): Promise<number> {
  const loadAtStart = flag('wait-quiet') ? await waitForQuietMachine(180) : loadavg()[0] as number;
  const [ngPort = 0] = await allocatePorts(1);
  const gateways: MediaBenchResult['gateways'] = {};
  try {
    for (const name of GATEWAYS) gateways[name] = await benchGateway(name, ngPort);
  } finally {
    releasePort(ngPort);
  }
  const result: MediaBenchResult = {
    bench: 'media',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    node: process.version,
    settings: {
      calls: CALLS, relayWorkers: RELAY_WORKERS, secondsPerStep: SECONDS, warmupSeconds: WARMUP_SECONDS, graceMs: GRACE_MS, setupParallel: SETUP_PARALLEL,
      smoke: SMOKE,
      loadAverageAtStart: Math.round(loadAtStart * 100) / 100, loadAverageAtEnd: Math.round((loadavg()[0] as number) * 100) / 100,
      media: `PCMU, ${PCMU_PAYLOAD_LENGTH}-byte payloads, 20 ms (50 pps) each way per call; WIC side SRTP AES_CM_128_HMAC_SHA1_80 over DTLS-SRTP with ICE and rtcp-mux, IMS side plain RTP/AVP`,
      target: `loss < ${LOSS_LIMIT_PERCENT} % and p99 one-way latency < ${P99_LIMIT_MS} ms`,
      signalling: 'per call: ng offer (offerFromWic) then ng answer (answerFromIms) from core/pcscf/alg/media-requests.ts through NgMediaControl; ng delete at the end',
      generator: 'one Node process (this one): per call one WebRTC endpoint (ICE controlling, werift DTLS client via media-gw DtlsEndpoint, media-gw SrtpSession per packet) and one plain RTP endpoint; all streams paced by one 1 ms timer with phases spread over the 20 ms interval; shares the 2 cores with the gateway',
      latency: 'one-way, send time stamped in the payload and read on arrival (same process clock): gateway plus both loopback hops plus generator event-loop delay, so an upper bound of the added latency',
      cpu: 'utime + stime of the gateway process group (/proc/PID/stat, all threads) over the measured window; µs per packet = CPU time / packets delivered in both directions',
      ports: { gateway: '44000-45999', webrtcClients: `${WEBRTC_CLIENT_PORTS.min}-${WEBRTC_CLIENT_PORTS.max}`, imsEndpoints: `${IMS_ENDPOINT_PORTS.min}-${IMS_ENDPOINT_PORTS.max}` },
    },
    gateways,
    comparison: compare(gateways),
  };
  write(`\n${formatTable(result)}`);
  if (WRITE) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    write(`\nwrote ${OUT}`);
  }
  if (SMOKE) {
    const silent = GATEWAYS.filter((name) => (gateways[name]?.steps ?? []).every((s) => s.packetsRelayedUplink === 0 || s.packetsRelayedDownlink === 0));
    if (silent.length > 0) {
      write(`smoke: FAILED, no packet relayed in one direction or both by ${silent.join(', ')}`);
      return 1;
    }
    write('smoke: ok, packets relayed both ways');
  }
  return 0;
}

process.exitCode = await main();
