// bench/scale (issue #15 "Proof"): registrations/s and calls/s through 1 and 2 epcscf processes
// in front of the same Kamailio IMS core, with the same generator and the same concurrency: the
// scaling ratio and the CPU per operation that explains it. With K processes the generator
// splits its clients over the K W2 URLs (client i on node i mod K; a caller and its callee on
// different nodes). CPU is sampled over the measured window only (process groups from /proc).
//
// Usage: npm run bench:scale [-- --processes 1,2 --seconds 10 --warmup 2 --concurrency 100
//          --scenarios register,call --mw udp|tcp --wait-quiet --no-build --out FILE --no-write]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { allocatePorts } from '../../test/support/peers/ports.js';
import { buildDist, flag, kamailioVersion, openFilesLimit, option, sleep, sourceState, waitForQuietMachine } from '../lib/bench-runner.js';
import { KAMAILIO_SETTINGS, REPO_ROOT } from '../lib/epcscf-with-core.js';
import { runLoadPoint, type Scenario } from '../lib/load-point.js';
import { CpuWindow } from './cpu-window.js';
import { startCore, startNodes, stopNodes, type EpcscfNode, type ImsCore } from './nodes.js';
import {
  compare, EPCSCF, formatTable, GENERATOR, KAMAILIO, microsecondsPerOperation, type ScaleBenchResult, type ScalePoint,
} from './report.js';

const PROCESSES = (option('processes') ?? '1,2').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const SECONDS = Number(option('seconds') ?? 10);
const WARMUP_SECONDS = Number(option('warmup') ?? 2);
const CONCURRENCY = Number(option('concurrency') ?? 100);
const SCENARIOS = (option('scenarios') ?? 'register,call').split(',').filter((s): s is Scenario => s === 'register' || s === 'call');
const MW_TRANSPORT = option('mw') === 'tcp' ? 'tcp' : 'udp';
const OUT = option('out') ?? join(REPO_ROOT, 'bench/results/scale.json');
const DOMAIN = 'ims.test';
const PASSWORD = 'secret'; // ims-core-standin.cfg: every user but alice
const MACHINE_CORES = cpus().length;

if (PROCESSES.length === 0) throw new Error('--processes needs a comma-separated list of positive integers');
if (!Number.isInteger(CONCURRENCY) || CONCURRENCY < 1) throw new Error(`--concurrency must be one positive integer (got ${option('concurrency')})`);

const write = (line: string): void => { process.stdout.write(`${line}\n`); };
const round2 = (value: number): number => Math.round(value * 100) / 100;

async function measurePoint(core: ImsCore, nodes: readonly EpcscfNode[], scenario: Scenario): Promise<ScalePoint> {
  const perNode = Object.fromEntries(nodes.map((node) => [node.nodeId, [node.daemon.pid]]));
  const window = new CpuWindow({ [EPCSCF]: nodes.map((node) => node.daemon.pid), [KAMAILIO]: [core.peer.pid], ...perNode });
  const point = await runLoadPoint({
    url: nodes[0]?.url ?? '', urls: nodes.map((node) => node.url), scenario, concurrency: CONCURRENCY,
    seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, userPrefix: `k${nodes.length}${scenario[0]}`,
    domain: DOMAIN, password: PASSWORD, timeoutMs: 5000,
    onWindow: { start: () => window.start(), end: () => window.end() },
  });
  const cpu = window.result;
  const cores = (label: string): number => round2((cpu.cpuSeconds[label] ?? 0) / cpu.seconds);
  const ours = cores(EPCSCF) + cores(KAMAILIO) + cores(GENERATOR);
  const cpuCores = {
    [EPCSCF]: cores(EPCSCF), [KAMAILIO]: cores(KAMAILIO), [GENERATOR]: cores(GENERATOR), machine: cpu.machineBusyCores,
    // Work on the machine that is none of the three (other sessions, the system): it takes cores from the bench.
    other: round2(Math.max(0, cpu.machineBusyCores - ours)),
  };
  const perOp = (label: string): number => microsecondsPerOperation((cpu.cpuSeconds[label] ?? 0) / cpu.seconds, point.opsPerSecond);
  const usPerOp = { [EPCSCF]: perOp(EPCSCF), [KAMAILIO]: perOp(KAMAILIO), [GENERATOR]: perOp(GENERATOR) };
  return {
    processes: nodes.length, scenario, concurrency: CONCURRENCY, seconds: point.seconds, operations: point.operations,
    errors: point.errors, opsPerSecond: point.opsPerSecond, latency: point.latency,
    ...(point.firstError !== undefined ? { firstError: point.firstError } : {}),
    cpuCores, epcscfCoresPerProcess: nodes.map((node) => cores(node.nodeId)),
    cpuSystemShare: { [EPCSCF]: cpu.systemShare[EPCSCF] ?? 0, [KAMAILIO]: cpu.systemShare[KAMAILIO] ?? 0, [GENERATOR]: cpu.systemShare[GENERATOR] ?? 0 },
    cpuMicrosecondsPerOperation: { ...usPerOp, total: usPerOp[EPCSCF] + usPerOp[KAMAILIO] + usPerOp[GENERATOR] },
  };
}

async function main(): Promise<void> {
  if (!flag('no-build')) buildDist(REPO_ROOT);
  const loadAtStart = flag('wait-quiet') ? await waitForQuietMachine(180) : loadavg()[0] as number;
  const maxProcesses = Math.max(...PROCESSES);
  const [corePort = 0, ...nodePorts] = await allocatePorts(1 + 2 * maxProcesses);
  const points: ScalePoint[] = [];
  const errors: string[] = [];
  const core = await startCore(corePort);
  write(`kamailio IMS core on udp:127.0.0.1:${corePort} (pid ${core.peer.pid})`);
  try {
    for (const processes of PROCESSES) {
      const ports = Array.from({ length: processes }, (_, i) => ({ w2Port: nodePorts[2 * i] as number, mwPort: nodePorts[2 * i + 1] as number }));
      let nodes: EpcscfNode[] = [];
      try {
        nodes = await startNodes(core, ports, MW_TRANSPORT);
        write(`${processes} epcscf process${processes > 1 ? 'es' : ''}: ${nodes.map((n) => `${n.nodeId} pid ${n.daemon.pid} W2 ${n.w2Port} Mw ${MW_TRANSPORT}:${n.mwPort}`).join('; ')}`);
        for (const scenario of SCENARIOS) {
          const point = await measurePoint(core, nodes, scenario);
          points.push(point);
          write(`${processes} proc ${scenario} c=${CONCURRENCY}: ${point.opsPerSecond} ops/s, p50 ${point.latency.p50Ms} ms, p99 ${point.latency.p99Ms} ms, errors ${point.errors}`
            + `${point.firstError !== undefined ? ` (${point.firstError})` : ''}; epcscf ${point.cpuCores[EPCSCF]} cores (${point.cpuMicrosecondsPerOperation[EPCSCF]} µs/op), machine ${point.cpuCores['machine']} busy`);
          await sleep(500); // closed connections and their cleanup settle
        }
      } catch (error) {
        const message = `${processes} processes: ${(error as Error).message.split('\n')[0] ?? String(error)}`;
        errors.push(message);
        write(`FAILED ${message}\n${nodes.map((n) => `--- ${n.nodeId} ---\n${n.daemon.output().slice(-2000)}`).join('\n')}\n--- kamailio ---\n${core.peer.output().slice(-2000)}`);
      } finally {
        await stopNodes(nodes);
      }
    }
  } finally {
    await core.stop();
  }
  const result: ScaleBenchResult = {
    bench: 'scale',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: MACHINE_CORES, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    node: process.version,
    kamailio: kamailioVersion(),
    settings: {
      processes: PROCESSES, secondsPerPoint: SECONDS, warmupSeconds: WARMUP_SECONDS, concurrency: CONCURRENCY, scenarios: SCENARIOS,
      openFilesLimit: openFilesLimit(), source: sourceState(REPO_ROOT),
      loadAverageAtStart: round2(loadAtStart), loadAverageAtEnd: round2(loadavg()[0] as number),
      operations: {
        register: 'REGISTER → 401 → REGISTER with digest → 200; N clients, one WebSocket each, client i on node i mod K',
        call: 'INVITE → 100 → 200 → ACK, BYE → 200; N caller/callee pairs, with K = 2 the caller on node 1 and the callee on node 2 (INVITE: node 1 → Kamailio → node 2 by the callee\'s Path)',
      },
      topology: 'one Kamailio IMS core stand-in (ims-core-standin.cfg, tuned as bench/sip-ws); K epcscf processes (dist/, log warn, media off), each its own W2 and Mw port and cluster.nodeId, no shared state: each node\'s Path names its own Mw address',
      generator: 'one Node process (this one), raw ws clients speaking RFC 7118 SIP (bench/lib), closed loop; shares the machine\'s cores with epcscf and Kamailio',
      cpu: 'utime + stime of each process group (/proc) over the measured window only; machine = busy time of all cores (/proc/stat), anyone\'s work; µs/op = cores / ops per second',
      epcscf: { build: 'dist/ (tsc)', logLevel: 'warn', mw: MW_TRANSPORT, media: 'off (signalling only)' },
      kamailio: KAMAILIO_SETTINGS,
      caveat: `on ${MACHINE_CORES} cores the generator and Kamailio share the CPUs with the epcscf processes, so a second epcscf process only gets the CPU the others leave: the ≥ 1.8× target needs a machine with cores to spare; the CPU per operation shows whether the work itself splits without extra cost`,
    },
    points,
    comparison: compare(points, MACHINE_CORES),
    errors,
  };
  write(`\n${formatTable(result)}`);
  write(`note: ${result.settings['caveat'] as string}`);
  if (!flag('no-write')) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    write(`\nwrote ${OUT}`);
  }
  if (errors.length > 0) process.exitCode = 1;
}

await main();
