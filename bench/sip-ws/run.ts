// bench/sip-ws (issue #3): REGISTER-with-digest round trips/s and calls/s over SIP-over-WebSocket
// at concurrency 10/50/200 through epcscf into Kamailio (the IMS core stand-in), beside the same
// load sent to Kamailio's own WebSocket front end (same generator, same machine, one run), and
// memory per registered connection with 10,000 idle registered WebSockets.
//
// Usage: npm run bench:sip-ws [-- --seconds 8 --warmup 1 --concurrency 10,50,200 --connections 10000
//          --register-parallel 200 --mw udp|tcp --scenarios register,call --targets epcscf,kamailio --wait-quiet --no-build --cpu-profile DIR --out FILE --no-write]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { allocatePorts } from '../../test/support/peers/ports.js';
import { runLoadPoint, type Scenario } from '../lib/load-point.js';
import { groupCpuSplit, ownCpuSplit, type CpuSplit } from '../lib/proc-stats.js';
import { measureIdleConnections } from './memory.js';
import { compare, cpuBudgets, formatTable, type MeasuredPoint, type SipWsBenchResult, type TargetName, type TargetResult } from './report.js';
import { KAMAILIO_SETTINGS, REPO_ROOT } from '../lib/epcscf-with-core.js';
import { startEpcscfTarget, startKamailioWsTarget, type RunningTarget } from './targets.js';
import { buildDist, flag, kamailioVersion, openFilesLimit, option, sleep, waitForQuietMachine } from '../lib/bench-runner.js';

const SECONDS = Number(option('seconds') ?? 8);
const WARMUP_SECONDS = Number(option('warmup') ?? 1);
const CONCURRENCY = (option('concurrency') ?? '10,50,200').split(',').map(Number);
const CONNECTIONS = Number(option('connections') ?? 10_000);
const TARGETS = (option('targets') ?? 'epcscf,kamailio').split(',') as TargetName[];
const CPU_PROFILE_DIR = option('cpu-profile');
const MW_TRANSPORT = option('mw') === 'tcp' ? 'tcp' : 'udp';
const OUT = option('out') ?? join(REPO_ROOT, 'bench/results/sip-ws.json');
const SCENARIOS = (option('scenarios') ?? 'register,call').split(',').filter((s): s is Scenario => s === 'register' || s === 'call');
const DOMAIN = 'ims.test';
const PASSWORD = 'secret'; // both Kamailio configs: every user but alice has "secret"
// The sip-ws defaults (50 msg/s, burst 200 per client) would cut a closed-loop bench client off.
const FLOOD = { floodRatePerSecond: 1_000_000, floodBurst: 1_000_000 };
// Longer than every transaction timer that outlives a REGISTER (Timer K = T4 = 5 s on UDP Mw).
const IDLE_SECONDS = 15;
const REGISTER_PARALLEL = Number(option('register-parallel') ?? 200);

async function runPoints(name: TargetName, target: RunningTarget, result: TargetResult): Promise<void> {
  for (const scenario of SCENARIOS) {
    for (const concurrency of CONCURRENCY) {
      const cpuBefore = Object.fromEntries(Object.entries(target.groups).map(([label, pgid]) => [label, groupCpuSplit(pgid)]));
      const generatorBefore = ownCpuSplit();
      const wallBefore = process.hrtime.bigint();
      const point = await runLoadPoint({
        url: target.url, scenario, concurrency, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS,
        userPrefix: `${scenario[0]}${concurrency}x`, domain: DOMAIN, password: PASSWORD, timeoutMs: 5000,
      });
      const wall = Number(process.hrtime.bigint() - wallBefore) / 1e9;
      const cpuCores: Record<string, number> = {};
      const systemShare: Record<string, number> = {};
      const record = (label: string, before: CpuSplit | undefined, after: CpuSplit): void => {
        const user = after.user - (before?.user ?? 0);
        const system = after.system - (before?.system ?? 0);
        cpuCores[label] = Math.round(((user + system) / wall) * 100) / 100;
        systemShare[label] = user + system > 0 ? Math.round((system / (user + system)) * 100) / 100 : 0;
      };
      for (const [label, pgid] of Object.entries(target.groups)) record(label, cpuBefore[label], groupCpuSplit(pgid));
      record('generator', generatorBefore, ownCpuSplit());
      const measured: MeasuredPoint = { ...point, cpuCores, cpuSystemShare: systemShare };
      result.points.push(measured);
      process.stdout.write(`${name} ${scenario} c=${concurrency}: ${point.opsPerSecond} ops/s, p50 ${point.latency.p50Ms} ms, p99 ${point.latency.p99Ms} ms, errors ${point.errors}${point.firstError ? ` (${point.firstError})` : ''}\n`);
      await sleep(500); // let closed connections and their cleanup settle
    }
  }
}

function startTarget(name: TargetName, ports: number[], profile: boolean): Promise<RunningTarget> {
  return name === 'epcscf'
    ? startEpcscfTarget({
      w2Port: ports[0] as number, mwPort: ports[1] as number, corePort: ports[2] as number, ...FLOOD, mwTransport: MW_TRANSPORT,
      ...(profile && CPU_PROFILE_DIR !== undefined ? { cpuProfileDir: CPU_PROFILE_DIR } : {}),
    })
    : startKamailioWsTarget({ wsPort: ports[3] as number, sipPort: ports[4] as number });
}

async function benchTarget(name: TargetName, ports: number[]): Promise<TargetResult> {
  const description = name === 'epcscf'
    ? `epcscf (dist build, own process, log warn) with mw.nextHop = Kamailio ims-core-standin.cfg over ${MW_TRANSPORT.toUpperCase()}`
    : "Kamailio's own WebSocket front end (ws-registrar.cfg)";
  const result: TargetResult = { description, points: [] };
  let target: RunningTarget | undefined;
  try {
    target = await startTarget(name, ports, true);
    await runPoints(name, target, result);
  } catch (error) {
    result.error = (error as Error).message.split('\n')[0] ?? String(error);
    process.stdout.write(`${name} FAILED: ${(error as Error).message}\n`);
  } finally {
    await target?.stop();
  }
  if (CONNECTIONS <= 0) return result;
  // Memory on a fresh instance (same ports, same settings).
  process.stdout.write(`${name}: opening and registering ${CONNECTIONS} idle WebSockets on a fresh instance...\n`);
  let fresh: RunningTarget | undefined;
  try {
    fresh = await startTarget(name, ports, false);
    result.memory = await measureIdleConnections({
      target: fresh, measure: name === 'epcscf' ? 'process' : 'group', count: CONNECTIONS, parallel: REGISTER_PARALLEL,
      idleSeconds: IDLE_SECONDS,
      warmupConnections: 200, userPrefix: 'idle', domain: DOMAIN, password: PASSWORD,
    });
  } catch (error) {
    result.memory = { error: (error as Error).message.split('\n')[0] ?? String(error) };
    process.stdout.write(`${name} memory run failed: ${(error as Error).message}\n${fresh?.output().slice(-3000) ?? ''}\n`);
  } finally {
    await fresh?.stop();
  }
  return result;
}

async function main(): Promise<void> {
  if (!flag('no-build') && TARGETS.includes('epcscf')) buildDist(REPO_ROOT);
  const loadAtStart = flag('wait-quiet') ? await waitForQuietMachine(180) : loadavg()[0] as number;
  const ports = await allocatePorts(5);
  const targets: SipWsBenchResult['targets'] = {};
  for (const name of TARGETS) targets[name] = await benchTarget(name, ports);
  const comparison = compare(targets);
  const memory = (name: TargetName): number | undefined => {
    const m = targets[name]?.memory;
    return m !== undefined && !('error' in m) ? m.warm.residentKbPerSession : undefined; // the warm figure (bench/lib/idle-memory.ts)
  };
  const epcscfKb = memory('epcscf');
  const kamailioKb = memory('kamailio');
  const result: SipWsBenchResult = {
    bench: 'sip-ws',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    node: process.version,
    kamailio: kamailioVersion(),
    settings: {
      secondsPerPoint: SECONDS, warmupSeconds: WARMUP_SECONDS, concurrency: CONCURRENCY, idleConnections: CONNECTIONS,
      idleSeconds: IDLE_SECONDS, registerParallel: REGISTER_PARALLEL, openFilesLimit: openFilesLimit(),
      loadAverageAtStart: Math.round(loadAtStart * 100) / 100, loadAverageAtEnd: Math.round((loadavg()[0] as number) * 100) / 100,
      operations: {
        register: 'REGISTER → 401 → REGISTER with digest (MD5, qop=auth, fresh challenge every time) → 200; N clients, one WebSocket each',
        call: 'INVITE (SDP) → 100 → 200 (callee auto-answers, SDP) → ACK, BYE → 200; N caller/callee pairs (2N WebSockets, all registered)',
      },
      generator: 'one Node process (this one), raw ws clients speaking RFC 7118 SIP (bench/lib), closed loop; shares the 2 cores with the targets',
      epcscf: { build: 'dist/ (tsc)', logLevel: 'warn', mw: MW_TRANSPORT, media: 'off (signalling only, as the Kamailio baseline)', w2PingIntervalSeconds: 25, sipWs: FLOOD },
      kamailio: { ...KAMAILIO_SETTINGS, note: 'examples/kamailio configs copied with these globals rewritten; same settings for the IMS core stand-in and the WS front end' },
    },
    targets,
    comparison,
    cpuBudget: cpuBudgets(targets),
    kbPerRegisteredConnection: { ...(epcscfKb !== undefined ? { epcscf: epcscfKb } : {}), ...(kamailioKb !== undefined ? { kamailio: kamailioKb } : {}) },
    targetsMet: {
      throughputAtLeastKamailio: comparison.length === 0 ? null : comparison.every((c) => c.ratio >= 1),
      // "≤ 20 KB per registered connection": KB read as KiB (1024 bytes).
      memoryAtMost20KbPerConnection: epcscfKb === undefined ? null : epcscfKb <= 20,
    },
  };
  process.stdout.write(`\n${formatTable(result)}\n`);
  if (!flag('no-write')) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\nwrote ${OUT}\n`);
  }
}

await main();
