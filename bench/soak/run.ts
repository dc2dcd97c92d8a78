// bench/soak (issue #15: "30 minutes of mixed registrations, calls with media, messages and abrupt
// disconnects across 2 nodes + Redis + 2 media gateways; RSS growth, errors, leaked sockets and
// ports (zero), p99 latencies"). The system is bench/soak/system.ts, the load
// signalling-load.ts + media-load.ts. Every 10 s: RSS, fds and sockets (TCP, UDP, other) and
// bound UDP ports of each epcscf node, media-gw and redis-server process (/proc), and p50/p99 and
// errors per operation over those 10 s. After the load: every client closed, a settle time, then
// what each process holds against its baseline (taken after a short warm-up round and the same
// settle): leaked sockets and ports; RSS slope per process over the load phase after its first
// fifth (MB/h).
//
// Usage: npm run bench:soak [-- --minutes 30 --settle 45 --sip-users 20 --refresh 2 --sip-call-pairs 4
//          --rpc-call-pairs 3 --call-pause 0.5 --churn 2 --media-calls 4 --media-hold 20 --sample 10
//          --no-build --out FILE --no-write]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { runCommand } from '../../test/support/peers/process.js';
import { buildDist, flag, kamailioVersion, option, sleep, sourceState } from '../lib/bench-runner.js';
import { gcAndMemoryUsage } from '../lib/epcscf-with-core.js';
import { REPO_ROOT } from '../lib/epcscf-with-core.js';
import { MediaLoad } from './media-load.js';
import { OpStats } from './op-stats.js';
import { processHoldings, socketTable, type ProcessHoldings } from './proc-sockets.js';
import { leakedCounts, leakOf, rssSlopeMbPerHour, type Leak, type Sample } from './report.js';
import { SignallingLoad, type SignallingMix } from './signalling-load.js';
import { startSoakSystem, type SoakSystem } from './system.js';

const num = (name: string, fallback: number): number => {
  const value = Number(option(name) ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0 (got ${option(name)})`);
  return value;
};
const MINUTES = num('minutes', 30);
const SETTLE_SECONDS = num('settle', 45);
const SAMPLE_SECONDS = Math.max(1, num('sample', 10));
const MEDIA_CALLS = num('media-calls', 4);
const MEDIA_HOLD_SECONDS = num('media-hold', 20);
const MIX: SignallingMix = {
  sipUsers: num('sip-users', 20), refreshSeconds: num('refresh', 2), sipCallPairs: num('sip-call-pairs', 4),
  rpcCallPairs: num('rpc-call-pairs', 3), callPauseSeconds: num('call-pause', 0.5), churnPerSecond: num('churn', 2),
};
const OUT = option('out') ?? join(REPO_ROOT, 'bench/results/soak.json');

const write = (line: string): void => { process.stdout.write(`${line}\n`); };

function sampleProcesses(system: SoakSystem): Record<string, ProcessHoldings | null> {
  const table = socketTable();
  const out: Record<string, ProcessHoldings | null> = {};
  for (const [label, pid] of Object.entries(system.processes)) out[label] = processHoldings(pid, table) ?? null;
  return out;
}

function formatHoldings(processes: Readonly<Record<string, ProcessHoldings | null>>): string {
  return Object.entries(processes).map(([label, h]) => (h === null ? `${label} GONE`
    : `${label} ${(h.rssKb / 1024).toFixed(0)}MB fd${h.fds} tcp${h.tcpSockets} udp${h.udpSockets}`)).join(' | ');
}

/**
 * The cluster's Redis keys, by kind (`prefix:{…}:kind`: hash tag and ids left out): registrations keep
 * their keys until they expire; flows, dialogs and media legs of closed clients should be gone.
 */
async function redisKeys(system: SoakSystem): Promise<{ total: number; byKind: Record<string, number>; examples: Record<string, string[]> } | null> {
  const reply = await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(system.redis.port), '--scan'], { timeoutMs: 10_000 }).catch(() => undefined);
  if (reply === undefined || reply.code !== 0) return null;
  const byKind: Record<string, number> = {};
  const examples: Record<string, string[]> = {};
  const keys = reply.stdout.split('\n').filter((line) => line.length > 0);
  for (const key of keys) {
    // prefix{f:flow}:dlgs → prefix{f:…}:dlgs (redis-keys.ts layout: the hash tag's kind letter kept, ids left out)
    // prefix ns:<namespace>:<key> → prefix ns:<namespace>:… (a plugin's TtlStore entry: no hash tag)
    const entry = /^(.*?ns:[^:]+:)/.exec(key);
    const kind = !key.includes('{') && entry !== null ? `${entry[1] ?? ''}…`
      : key.replace(/\{([a-z]+:)?[^}]*\}/gi, '{$1…}').split('}')[0] + '}' + (key.slice(key.indexOf('}') + 1).split(':').slice(0, 2).join(':'));
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    const some = (examples[kind] ??= []);
    if (some.length < 3) some.push(key);
  }
  return { total: keys.length, byKind, examples };
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

/**
 * Heap used by each epcscf node after a full GC (the bench launcher's SIGUSR2 hook), MB: unlike
 * RSS, which V8 and the allocator keep once grown, this is what the node still holds.
 */
async function heapAfterGc(system: SoakSystem): Promise<Record<string, number>> {
  const heap: Record<string, number> = {};
  for (const node of system.nodes) {
    const usage = await gcAndMemoryUsage(node.daemon);
    if (usage !== undefined) heap[`epcscf ${node.nodeId}`] = round1(usage.heapUsed / 2 ** 20);
  }
  return heap;
}

/** Error-level (pino 50+) lines in each epcscf node's output tail. */
function errorLogLines(system: SoakSystem): Record<string, number> {
  return Object.fromEntries(system.nodes.map((node) => [node.nodeId, (node.daemon.output().match(/"level":[56]0|\bERROR\b/g) ?? []).length]));
}

/** One short round of every kind of operation, so lazily created sockets exist before the baseline. */
async function warmUp(system: SoakSystem): Promise<void> {
  const stats = new OpStats();
  const signalling = new SignallingLoad(system.nodes.map((n) => n.baseUrl), stats);
  signalling.start({ sipUsers: 2, refreshSeconds: 1, sipCallPairs: 1, rpcCallPairs: 1, callPauseSeconds: 0.5, churnPerSecond: 4 });
  const media = new MediaLoad(system.gateways, stats);
  if (MEDIA_CALLS > 0) await media.start(2, 2);
  await sleep(4000);
  await Promise.all([signalling.stop(), media.stop()]);
  if (stats.errorCount > 0) write(`warm-up errors: ${JSON.stringify(Object.fromEntries(Object.entries(stats.totals()).filter(([, t]) => t.errors > 0).map(([k, t]) => [k, t.firstErrors])))}`);
}

async function main(): Promise<number> {
  if (!flag('no-build')) buildDist(REPO_ROOT);
  const loadAtStart = loadavg()[0] as number;
  const system = await startSoakSystem();
  write(`redis ${system.redis.url} pid ${system.redis.pid}; kamailio udp:127.0.0.1:${system.core.port} pid ${system.core.peer.pid}`);
  for (const node of system.nodes) write(`${node.nodeId} pid ${node.daemon.pid} ${node.baseUrl} Mw udp:127.0.0.1:${node.mwPort}`);
  for (const [i, gw] of system.gateways.entries()) write(`media-gw ${i + 1} pid ${gw.pid} ng 127.0.0.1:${gw.ngPort}`);
  const samples: Sample[] = [];
  const exits: string[] = [];
  for (const [label, daemon] of [...system.nodes.map((n) => [n.nodeId, n.daemon] as const)]) {
    void daemon.exited.then((status) => exits.push(`${label} exited (${status.signal ?? status.code})`));
  }
  let result: Record<string, unknown> | undefined;
  const stats = new OpStats();
  try {
    write('warm-up round...');
    await warmUp(system);
    write(`settling ${SETTLE_SECONDS} s before the baseline...`);
    await sleep(SETTLE_SECONDS * 1000);
    const baseline = sampleProcesses(system);
    const heapBaseline = await heapAfterGc(system);
    const redisKeysBaseline = await redisKeys(system);
    samples.push({ t: 0, phase: 'baseline', processes: baseline, operations: {} });
    write(`baseline: ${formatHoldings(baseline)}`);

    const signalling = new SignallingLoad(system.nodes.map((n) => n.baseUrl), stats);
    const media = new MediaLoad(system.gateways, stats);
    const loadStart = Date.now();
    signalling.start(MIX);
    if (MEDIA_CALLS > 0) await media.start(MEDIA_CALLS, MEDIA_HOLD_SECONDS);
    write(`load for ${MINUTES} min: ${JSON.stringify(MIX)}, media calls ${MEDIA_CALLS} held ${MEDIA_HOLD_SECONDS} s`);
    const loadEnd = loadStart + MINUTES * 60_000;
    for (let next = loadStart + SAMPLE_SECONDS * 1000; next <= loadEnd; next += SAMPLE_SECONDS * 1000) {
      await sleep(Math.max(0, next - Date.now()));
      const processes = sampleProcesses(system);
      const operations = stats.takeWindow();
      const mediaOneWay = media.takeWindow();
      const t = Math.round((Date.now() - loadStart) / 1000);
      samples.push({ t, phase: 'load', processes, operations, mediaOneWayMs: { count: mediaOneWay.count, p50Ms: mediaOneWay.p50Ms, p99Ms: mediaOneWay.p99Ms } });
      const ops = Object.values(operations).reduce((sum, o) => sum + o.completed, 0);
      const errs = Object.values(operations).reduce((sum, o) => sum + o.errors, 0);
      write(`t=${t}s ops ${ops} errors ${errs} | ${formatHoldings(processes)}`);
    }
    write('stopping the load (every client socket destroyed)...');
    await Promise.all([signalling.stop(), media.stop()]);
    const loadSeconds = (Date.now() - loadStart) / 1000;
    write(`settling ${SETTLE_SECONDS} s...`);
    await sleep(SETTLE_SECONDS * 1000);
    const settled = sampleProcesses(system);
    const heapSettled = await heapAfterGc(system);
    const heapGrowthMb = Object.fromEntries(Object.entries(heapSettled).map(([label, mb]) => [label, round1(mb - (heapBaseline[label] ?? mb))]));
    const redisKeysSettled = await redisKeys(system);
    samples.push({ t: Math.round((Date.now() - loadStart) / 1000), phase: 'settled', processes: settled, operations: {} });

    const leaks: Record<string, Leak | 'process gone'> = {};
    let leakedSockets = 0;
    let leakedPorts = 0;
    const rssSlope: Record<string, number> = {};
    const slopeFrom = loadSeconds / 5;
    for (const label of Object.keys(system.processes)) {
      const before = baseline[label];
      const after = settled[label];
      if (before == null || after == null) { leaks[label] = 'process gone'; continue; }
      const leak = leakOf(before, after);
      leaks[label] = leak;
      const counts = leakedCounts(leak);
      leakedSockets += counts.sockets;
      leakedPorts += counts.udpPorts;
      rssSlope[label] = rssSlopeMbPerHour(samples, label, slopeFrom);
    }
    const totals = stats.totals();
    const mediaTotals = media.totals();
    result = {
      bench: 'soak',
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
      node: process.version,
      kamailio: kamailioVersion(),
      settings: {
        minutes: MINUTES, loadSeconds: Math.round(loadSeconds), settleSeconds: SETTLE_SECONDS, sampleSeconds: SAMPLE_SECONDS, mix: MIX,
        mediaCalls: MEDIA_CALLS, mediaHoldSeconds: MEDIA_HOLD_SECONDS, source: sourceState(REPO_ROOT),
        loadAverageAtStart: Math.round(loadAtStart * 100) / 100, loadAverageAtEnd: Math.round((loadavg()[0] as number) * 100) / 100,
        topology: '2 epcscf nodes (dist/, sip-ws + jsonrpc-ws, cluster.redis on one local redis-server, shared flowSecret, cluster.mwUri = node 1 Mw, media off) → Kamailio ims-core-standin over UDP; 2 epcscf-media-gw processes (dist/), media calls driven over ng straight at them (ALG requests), call i on gateway i mod 2',
        media: 'WIC side: WebRTC endpoint (ICE, DTLS-SRTP, bench/media LoadCall) ⇄ gateway ⇄ IMS side plain RTP/AVP; PCMU 50 pps each way; not through the SIP calls (their plain SDP is refused by the ALG in front of a gateway)',
        abruptDisconnects: 'churn lane: fresh sip-ws / jsonrpc-ws clients register then ws.terminate() (no close frame, no de-REGISTER); every 4th round a fresh sip-ws call cut 5-80 ms in by destroying both sockets',
        leaks: 'after the load: every client socket destroyed, settle time, then sockets (TCP/UDP/other) and bound UDP ports of each process against its baseline (after a warm-up round and the same settle)',
        rssSlope: `least squares over the load samples with t ≥ ${Math.round(slopeFrom)} s (the first fifth is warm-up), MB/h`,
      },
      summary: {
        errors: stats.errorCount, processExits: [...exits], epcscfErrorLogLines: errorLogLines(system),
        redisKeys: { baseline: redisKeysBaseline, settled: redisKeysSettled }, leakedSockets, leakedUdpPorts: leakedPorts, rssSlopeMbPerHour: rssSlope,
        heapAfterGcMb: { baseline: heapBaseline, settled: heapSettled, growth: heapGrowthMb },
        operations: Object.fromEntries(Object.entries(totals).map(([k, t]) => [k, { completed: t.completed, errors: t.errors, p50Ms: t.latency.p50Ms, p99Ms: t.latency.p99Ms, maxMs: t.latency.maxMs }])),
        media: mediaTotals,
      },
      leaks,
      operations: totals,
      samples,
    };
    write('\noperation                                       completed  errors   p50 ms   p99 ms');
    for (const [name, t] of Object.entries(totals)) {
      write(`${name.padEnd(46)} ${String(t.completed).padStart(9)} ${String(t.errors).padStart(7)} ${t.latency.p50Ms.toFixed(1).padStart(8)} ${t.latency.p99Ms.toFixed(1).padStart(8)}${t.firstErrors.length > 0 ? `  first: ${t.firstErrors[0] ?? ''}` : ''}`);
    }
    write(`media: ${mediaTotals.callsCompleted} calls, ${mediaTotals.packetsReceived}/${mediaTotals.packetsExpected} packets, loss ${mediaTotals.lossPercent} %`);
    write('\nprocess              RSS slope MB/h  leaked: sockets tcp/udp/other  new UDP ports  fds  RSS growth MB');
    for (const [label, leak] of Object.entries(leaks)) {
      if (leak === 'process gone') { write(`${label.padEnd(20)} process gone`); continue; }
      write(`${label.padEnd(20)} ${String(rssSlope[label]).padStart(14)}  ${`${leak.tcpSockets}/${leak.udpSockets}/${leak.otherSockets}`.padStart(29)}  ${String(leak.udpPortsNew.length).padStart(13)}  ${String(leak.fds).padStart(3)}  ${(leak.rssKbGrowth / 1024).toFixed(1).padStart(13)}`);
    }
    write(`epcscf heap used after a full GC, MB: baseline ${JSON.stringify(heapBaseline)}, settled ${JSON.stringify(heapSettled)}, growth ${JSON.stringify(heapGrowthMb)}`);
    write(`redis keys: ${redisKeysBaseline?.total ?? '?'} at the baseline, ${redisKeysSettled?.total ?? '?'} after the settle time ${JSON.stringify(redisKeysSettled?.byKind ?? {})}; epcscf error log lines (output tail): ${JSON.stringify(errorLogLines(system))}`);
    write(`\nleaked sockets ${leakedSockets}, leaked UDP ports ${leakedPorts} (zero expected); errors ${stats.errorCount}; process exits: ${exits.length === 0 ? 'none' : exits.join(', ')}`);
  } finally {
    await system.stop();
  }
  if (result !== undefined && !flag('no-write')) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    write(`wrote ${OUT}`);
  }
  const summary = result?.['summary'] as { leakedSockets: number; leakedUdpPorts: number; processExits: string[] } | undefined;
  return summary !== undefined && summary.leakedSockets === 0 && summary.leakedUdpPorts === 0 && summary.processExits.length === 0 ? 0 : 1;
}

process.exitCode = await main();
