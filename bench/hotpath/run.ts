// bench/hotpath (issue #15 "Proof": "with the memory backend, CPU per REGISTER+digest round trip and
// per call (bench/sip-ws) do not regress from before this issue (measured before and after in one
// run); with Redis, the added CPU and latency per operation are reported").
//
// Three epcscf variants, each its own process (bench/sip-ws's launcher, compiled dist/, log warn,
// media off, Mw over UDP) in front of one Kamailio IMS core stand-in:
//   baseline      the commit before issue #15 (default b6952de), built in a temporary git worktree
//   head-memory   this checkout, memory state backend (no cluster.redis: the default)
//   head-redis    this checkout, cluster.redis on a local redis-server (Debian, loopback, no persistence)
// The bench/sip-ws load point (bench/lib, raw RFC 7118 clients, closed loop) runs register and call
// against each, interleaved: every round visits the three in a rotated order, so that the machine's
// other work hits all three alike. Per point: CPU of the epcscf process (and of redis-server) over
// the measured window only (/proc, utime + stime) divided by the operations completed in it, and
// p50/p99. Figures per variant are the medians over the rounds; the deltas are head-memory vs
// baseline (the regression check) and head-redis vs head-memory (what Redis adds).
//
// Usage: npm run bench:hotpath [-- --baseline b6952de --rounds 5 --seconds 8 --warmup 2 --concurrency 20
//          --scenarios register,call --no-build --cpu-profile DIR --out FILE --no-write]
// --cpu-profile DIR writes a V8 CPU profile of each variant (node --cpu-prof) into DIR/<variant>/, for
// bench/lib/cpu-profile-top.ts (diagnosis: the profiler's own cost is in the CPU figures of that run).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { allocatePorts, releasePort } from '../../test/support/peers/ports.js';
import { startDaemon, tcpAccepts, type Daemon } from '../../test/support/peers/process.js';
import { startRedis, type RedisPeer } from '../../test/support/peers/redis.js';
import { buildDist, flag, kamailioVersion, option, sleep, sourceState } from '../lib/bench-runner.js';
import { benchEpcscfConfigYaml, RAISED_FLOOD } from '../lib/epcscf-config.js';
import { REPO_ROOT, startImsCore } from '../lib/epcscf-with-core.js';
import { runLoadPoint, type Scenario } from '../lib/load-point.js';
import type { LatencySummary } from '../lib/latency.js';
import { CpuWindow } from '../scale/cpu-window.js';
import { buildBaselineTree, type BaselineTree } from './baseline-tree.js';

const BASELINE = option('baseline') ?? 'b6952de';
const ROUNDS = Number(option('rounds') ?? 5);
const SECONDS = Number(option('seconds') ?? 8);
const WARMUP_SECONDS = Number(option('warmup') ?? 2);
const CONCURRENCY = Number(option('concurrency') ?? 20);
const SCENARIOS = (option('scenarios') ?? 'register,call').split(',').filter((s): s is Scenario => s === 'register' || s === 'call');
const CPU_PROFILE_DIR = option('cpu-profile');
const OUT = option('out') ?? join(REPO_ROOT, 'bench/results/hotpath.json');
const DOMAIN = 'ims.test';
const PASSWORD = 'secret'; // ims-core-standin.cfg: every user but alice
const VARIANTS = ['baseline', 'head-memory', 'head-redis'] as const;
type Variant = typeof VARIANTS[number];

for (const [name, value] of [['rounds', ROUNDS], ['seconds', SECONDS], ['concurrency', CONCURRENCY]] as const) {
  if (!Number.isFinite(value) || value < 1) throw new Error(`--${name} must be ≥ 1`);
}

const write = (line: string): void => { process.stdout.write(`${line}\n`); };
const round1 = (value: number): number => Math.round(value * 10) / 10;

interface Target {
  readonly variant: Variant;
  readonly tree: string;
  readonly daemon: Daemon;
  readonly url: string;
}

interface RoundFigures {
  readonly round: number;
  readonly operations: number;
  readonly errors: number;
  readonly opsPerSecond: number;
  readonly epcscfCpuUsPerOp: number;
  readonly redisCpuUsPerOp?: number;
  readonly latency: LatencySummary;
  readonly firstError?: string;
}

interface VariantFigures {
  readonly rounds: RoundFigures[];
  /** Medians over the rounds. */
  readonly median: { opsPerSecond: number; epcscfCpuUsPerOp: number; redisCpuUsPerOp?: number; p50Ms: number; p99Ms: number };
  readonly errors: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] as number : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** epcscf from `tree` through that tree's own bench launcher (its dist/). */
async function startTarget(variant: Variant, tree: string, dir: string, ports: { w2: number; mw: number }, corePort: number, redis: RedisPeer | undefined): Promise<Target> {
  let yaml = benchEpcscfConfigYaml({
    w2Port: ports.w2, mwPort: ports.mw, corePort, plugins: [{ name: 'sip-ws', options: RAISED_FLOOD }], withoutRateLimits: variant === 'baseline',
  });
  if (redis !== undefined) {
    // A one-node cluster on Redis: everything else as the memory variant.
    yaml += ['cluster:', '  nodeId: hotpath-redis', '  flowSecret: hotpath-bench-flow-secret-of-32-characters', `  redis: { url: "${redis.url}", keyPrefix: "hotpath:" }`, ''].join('\n');
  }
  const config = join(dir, `${variant}.yaml`);
  writeFileSync(config, yaml);
  const env = { ...process.env };
  delete env['EPCSCF_FROM_SOURCE']; // the compiled build of each tree
  const profile = CPU_PROFILE_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${join(CPU_PROFILE_DIR, variant)}`] : [];
  const daemon = await startDaemon({
    name: `epcscf ${variant}`, command: process.execPath, args: [...profile, join(tree, 'bench/sip-ws/epcscf-process.mjs'), '--config', config],
    cwd: tree, env,
    ready: [{ kind: 'log', pattern: /epcscf is ready/ }, { kind: 'probe', probe: () => tcpAccepts(ports.w2) }],
    readyTimeoutMs: 30_000,
  });
  return { variant, tree, daemon, url: `ws://127.0.0.1:${ports.w2}/sip` };
}

async function measure(target: Target, scenario: Scenario, round: number, redis: RedisPeer | undefined): Promise<RoundFigures> {
  const groups: Record<string, number[]> = { epcscf: [target.daemon.pid], ...(redis !== undefined ? { redis: [redis.pid] } : {}) };
  const window = new CpuWindow(groups);
  const point = await runLoadPoint({
    url: target.url, scenario, concurrency: CONCURRENCY, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS,
    userPrefix: `hp${target.variant[0]}${target.variant.length}r${round}${scenario[0]}`, domain: DOMAIN, password: PASSWORD, timeoutMs: 5000,
    onWindow: { start: () => window.start(), end: () => window.end() },
  });
  const cpu = window.result;
  // Operations completed in the window (the latency samples) over the CPU spent in the same window.
  const perOp = (label: string): number => (point.operations > 0 ? round1(((cpu.cpuSeconds[label] ?? 0) * 1e6) / point.operations) : 0);
  return {
    round, operations: point.operations, errors: point.errors, opsPerSecond: point.opsPerSecond, epcscfCpuUsPerOp: perOp('epcscf'),
    ...(redis !== undefined ? { redisCpuUsPerOp: perOp('redis') } : {}),
    latency: point.latency, ...(point.firstError !== undefined ? { firstError: point.firstError } : {}),
  };
}

function summarise(rounds: RoundFigures[]): VariantFigures {
  const redis = rounds.map((r) => r.redisCpuUsPerOp).filter((v): v is number => v !== undefined);
  return {
    rounds,
    median: {
      opsPerSecond: round1(median(rounds.map((r) => r.opsPerSecond))), epcscfCpuUsPerOp: round1(median(rounds.map((r) => r.epcscfCpuUsPerOp))),
      ...(redis.length > 0 ? { redisCpuUsPerOp: round1(median(redis)) } : {}),
      p50Ms: round1(median(rounds.map((r) => r.latency.p50Ms))), p99Ms: round1(median(rounds.map((r) => r.latency.p99Ms))),
    },
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
}

const percent = (after: number, before: number): number => (before > 0 ? round1(((after - before) / before) * 100) : 0);

async function main(): Promise<number> {
  if (!flag('no-build')) buildDist(REPO_ROOT);
  const loadAtStart = loadavg()[0] as number;
  const baseline: BaselineTree = buildBaselineTree(REPO_ROOT, BASELINE);
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-hotpath-run-'));
  const ports = await allocatePorts(7);
  const [corePort = 0, ...nodePorts] = ports;
  const targets: Target[] = [];
  let redis: RedisPeer | undefined;
  const stops: (() => Promise<unknown>)[] = [];
  const figures: Record<string, Record<Variant, RoundFigures[]>> = {};
  const failures: string[] = [];
  try {
    const core = await startImsCore(corePort, dir);
    stops.push(() => core.stop());
    redis = await startRedis();
    const startedRedis = redis;
    stops.push(() => startedRedis.stop());
    for (const [i, variant] of VARIANTS.entries()) {
      const target = await startTarget(variant, variant === 'baseline' ? baseline.dir : REPO_ROOT, dir,
        { w2: nodePorts[2 * i] as number, mw: nodePorts[2 * i + 1] as number }, corePort, variant === 'head-redis' ? redis : undefined);
      targets.push(target);
      stops.push(() => target.daemon.stop(15_000));
      write(`${variant}: pid ${target.daemon.pid} ${target.url} (${target.tree})`);
    }
    for (const scenario of SCENARIOS) figures[scenario] = { baseline: [], 'head-memory': [], 'head-redis': [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of SCENARIOS) {
        // Rotate the order each round: no variant always runs first (coldest) or last.
        const order = VARIANTS.map((_, i) => targets[(i + round - 1) % targets.length] as Target);
        for (const target of order) {
          const r = await measure(target, scenario, round, target.variant === 'head-redis' ? redis : undefined);
          (figures[scenario] as Record<Variant, RoundFigures[]>)[target.variant].push(r);
          write(`round ${round} ${scenario.padEnd(8)} ${target.variant.padEnd(11)} ${String(r.opsPerSecond).padStart(5)} ops/s  epcscf ${r.epcscfCpuUsPerOp} µs/op${r.redisCpuUsPerOp !== undefined ? ` + redis-server ${r.redisCpuUsPerOp} µs/op` : ''}  p50 ${r.latency.p50Ms} ms  p99 ${r.latency.p99Ms} ms  errors ${r.errors}${r.firstError !== undefined ? ` (${r.firstError})` : ''}`);
          await sleep(300);
        }
      }
    }
  } catch (error) {
    failures.push((error as Error).message.split('\n')[0] ?? String(error));
    write(`FAILED: ${(error as Error).message}`);
    for (const target of targets) write(`--- ${target.variant} (tail) ---\n${target.daemon.output().slice(-2000)}`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    for (const port of ports) releasePort(port);
    rmSync(dir, { recursive: true, force: true });
    baseline.remove();
  }
  const results: Record<string, Record<Variant, VariantFigures>> = {};
  const deltas: Record<string, unknown> = {};
  write('\nscenario  variant       ops/s  epcscf µs/op  redis µs/op  p50 ms  p99 ms  errors   (medians over rounds)');
  for (const [scenario, byVariant] of Object.entries(figures)) {
    const s: Record<Variant, VariantFigures> = {
      baseline: summarise(byVariant.baseline), 'head-memory': summarise(byVariant['head-memory']), 'head-redis': summarise(byVariant['head-redis']),
    };
    results[scenario] = s;
    for (const variant of VARIANTS) {
      const m = s[variant].median;
      write(`${scenario.padEnd(9)} ${variant.padEnd(12)} ${String(m.opsPerSecond).padStart(6)} ${String(m.epcscfCpuUsPerOp).padStart(13)} ${String(m.redisCpuUsPerOp ?? '-').padStart(12)} ${String(m.p50Ms).padStart(7)} ${String(m.p99Ms).padStart(7)} ${String(s[variant].errors).padStart(7)}`);
    }
    const base = s.baseline.median;
    const memory = s['head-memory'].median;
    const onRedis = s['head-redis'].median;
    deltas[scenario] = {
      memoryVsBaseline: {
        epcscfCpuUsPerOp: round1(memory.epcscfCpuUsPerOp - base.epcscfCpuUsPerOp), epcscfCpuPercent: percent(memory.epcscfCpuUsPerOp, base.epcscfCpuUsPerOp),
        p50Ms: round1(memory.p50Ms - base.p50Ms), p99Ms: round1(memory.p99Ms - base.p99Ms),
      },
      redisVsMemory: {
        epcscfCpuUsPerOp: round1(onRedis.epcscfCpuUsPerOp - memory.epcscfCpuUsPerOp), epcscfCpuPercent: percent(onRedis.epcscfCpuUsPerOp, memory.epcscfCpuUsPerOp),
        redisServerCpuUsPerOp: onRedis.redisCpuUsPerOp ?? 0,
        totalAddedCpuUsPerOp: round1(onRedis.epcscfCpuUsPerOp + (onRedis.redisCpuUsPerOp ?? 0) - memory.epcscfCpuUsPerOp),
        p50Ms: round1(onRedis.p50Ms - memory.p50Ms), p99Ms: round1(onRedis.p99Ms - memory.p99Ms),
      },
    };
    const d = deltas[scenario] as { memoryVsBaseline: { epcscfCpuPercent: number; p99Ms: number }; redisVsMemory: { totalAddedCpuUsPerOp: number; p50Ms: number; p99Ms: number } };
    write(`  ${scenario}: head-memory vs baseline CPU/op ${d.memoryVsBaseline.epcscfCpuPercent >= 0 ? '+' : ''}${d.memoryVsBaseline.epcscfCpuPercent} %, p99 ${d.memoryVsBaseline.p99Ms >= 0 ? '+' : ''}${d.memoryVsBaseline.p99Ms} ms;`
      + ` Redis adds ${d.redisVsMemory.totalAddedCpuUsPerOp} µs CPU/op (epcscf + redis-server), p50 ${d.redisVsMemory.p50Ms >= 0 ? '+' : ''}${d.redisVsMemory.p50Ms} ms, p99 ${d.redisVsMemory.p99Ms >= 0 ? '+' : ''}${d.redisVsMemory.p99Ms} ms`);
  }
  const result = {
    bench: 'hotpath',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    node: process.version,
    kamailio: kamailioVersion(),
    settings: {
      baselineCommit: baseline.commit, head: sourceState(REPO_ROOT), rounds: ROUNDS, secondsPerPoint: SECONDS, warmupSeconds: WARMUP_SECONDS,
      concurrency: CONCURRENCY, scenarios: SCENARIOS,
      loadAverageAtStart: Math.round(loadAtStart * 100) / 100, loadAverageAtEnd: Math.round((loadavg()[0] as number) * 100) / 100,
      method: 'three epcscf processes (baseline worktree build, HEAD memory, HEAD on a local redis-server) up together in front of one Kamailio ims-core-standin; each round runs the bench/sip-ws load point against each in a rotated order; CPU = utime + stime of the epcscf process (and redis-server) over the measured window / operations completed in it; medians over rounds',
      operations: {
        register: 'REGISTER → 401 → REGISTER with digest → 200, N clients, one WebSocket each',
        call: 'INVITE → 100 → 200 → ACK, BYE → 200, N caller/callee pairs on the same node',
      },
    },
    results,
    deltas,
    failures,
  };
  if (!flag('no-write')) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    write(`\nwrote ${OUT}`);
  }
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main();
