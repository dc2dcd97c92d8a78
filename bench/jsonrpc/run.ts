// bench/jsonrpc (issue #5): registrations/s and calls/s of JSON-RPC 2.0 clients
// (plugins/jsonrpc-ws driving one core/ua virtual UE per client) through epcscf into Kamailio as
// the IMS core stand-in, at concurrency 10/50/200, beside the latest bench/sip-ws figures, plus
// a census of what one operation costs on Mw (counted, not assumed).
//
// Usage: npm run bench:jsonrpc [-- --seconds 8 --warmup 1 --concurrency 10,50,200 --scenarios register,call
//          --resume-grace 120 --census-operations 5 --no-census --cpu-profile DIR --wait-quiet --no-build --out FILE --no-write]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { allocatePorts } from '../../test/support/peers/ports.js';
import { groupCpuSeconds, ownCpuSeconds } from '../lib/proc-stats.js';
import { KAMAILIO_SETTINGS, REPO_ROOT } from '../lib/epcscf-with-core.js';
import { RAISED_FLOOD, startJsonRpcTarget, type RunningJsonRpcTarget } from './epcscf-target.js';
import { runJsonRpcPoint, type JsonRpcScenario } from './load-point.js';
import { takeMwCensus } from './mw-census.js';
import { besideSipWs, formatTable, type JsonRpcBenchResult, type JsonRpcTargetResult, type MeasuredJsonRpcPoint } from './report.js';
import { buildDist, flag, kamailioVersion, openFilesLimit, option, sleep, sourceState, waitForQuietMachine } from '../lib/bench-runner.js';

const SECONDS = Number(option('seconds') ?? 8);
const WARMUP_SECONDS = Number(option('warmup') ?? 1);
const CONCURRENCY = (option('concurrency') ?? '10,50,200').split(',').map(Number);
const SCENARIOS = (option('scenarios') ?? 'register,call').split(',').filter((s): s is JsonRpcScenario => s === 'register' || s === 'call');
// The plugin's default: a dropped client may resume for 120 s (session.unregister voids the token).
const RESUME_GRACE_SECONDS = Number(option('resume-grace') ?? 120);
const CENSUS_OPERATIONS = Number(option('census-operations') ?? 5);
const CPU_PROFILE_DIR = option('cpu-profile');
const OUT = option('out') ?? join(REPO_ROOT, 'bench/results/jsonrpc.json');
const SIP_WS_RESULTS = join(REPO_ROOT, 'bench/results/sip-ws.json');
const DOMAIN = 'ims.test';
const PASSWORD = 'secret'; // ims-core-standin.cfg: every user but alice has "secret"
/** Bound on one operation, as bench/sip-ws. */
const TIMEOUT_MS = 5000;

const cpuOf = (groups: Readonly<Record<string, number>>): Record<string, number> =>
  Object.fromEntries(Object.entries(groups).map(([label, pgid]) => [label, groupCpuSeconds(pgid)]));

async function runPoints(target: RunningJsonRpcTarget, result: JsonRpcTargetResult): Promise<void> {
  for (const scenario of SCENARIOS) {
    for (const concurrency of CONCURRENCY) {
      const cpuBefore = cpuOf(target.groups);
      const generatorBefore = ownCpuSeconds();
      const wallBefore = process.hrtime.bigint();
      let epcscfAtOpen: number | undefined;
      let epcscfAtClose: number | undefined;
      const epcscfPid = target.groups['epcscf'] as number;
      const point = await runJsonRpcPoint({
        url: target.url, scenario, concurrency, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS,
        userPrefix: `j${scenario[0]}${concurrency}x`, domain: DOMAIN, password: PASSWORD, timeoutMs: TIMEOUT_MS,
        onWindow: (edge) => {
          if (edge === 'open') epcscfAtOpen = groupCpuSeconds(epcscfPid);
          else epcscfAtClose = groupCpuSeconds(epcscfPid);
        },
      });
      const wall = Number(process.hrtime.bigint() - wallBefore) / 1e9;
      const cpuCores: Record<string, number> = {};
      for (const [label, seconds] of Object.entries(cpuOf(target.groups))) {
        cpuCores[label] = Math.round(((seconds - (cpuBefore[label] ?? 0)) / wall) * 100) / 100;
      }
      cpuCores['generator'] = Math.round(((ownCpuSeconds() - generatorBefore) / wall) * 100) / 100;
      const windowCpu = epcscfAtOpen !== undefined && epcscfAtClose !== undefined ? epcscfAtClose - epcscfAtOpen : 0;
      const epcscfCpuMsPerOperation = point.operations > 0 ? Math.round((windowCpu * 1000 / point.operations) * 1000) / 1000 : 0;
      const measured: MeasuredJsonRpcPoint = { ...point, cpuCores, epcscfCpuMsPerOperation };
      result.points.push(measured);
      process.stdout.write(`jsonrpc ${scenario} c=${concurrency}: ${point.opsPerSecond} ops/s, p50 ${point.latency.p50Ms} ms, p99 ${point.latency.p99Ms} ms, errors ${point.errors}, epcscf ${epcscfCpuMsPerOperation} CPU ms/op${point.firstError ? ` (${point.firstError})` : ''}\n`);
      await sleep(500); // let closed connections and their cleanup settle
    }
  }
}

async function benchTarget(ports: number[]): Promise<JsonRpcTargetResult> {
  const result: JsonRpcTargetResult = {
    description: 'epcscf (dist build, own process, log warn, plugins sip-ws + jsonrpc-ws, media off) with mw.nextHop = Kamailio ims-core-standin.cfg over UDP',
    points: [],
  };
  let target: RunningJsonRpcTarget | undefined;
  try {
    target = await startJsonRpcTarget({
      w2Port: ports[0] as number, mwPort: ports[1] as number, corePort: ports[2] as number, resumeGraceSeconds: RESUME_GRACE_SECONDS,
      ...(CPU_PROFILE_DIR !== undefined ? { cpuProfileDir: CPU_PROFILE_DIR } : {}),
    });
    await runPoints(target, result);
  } catch (error) {
    result.error = (error as Error).message.split('\n')[0] ?? String(error);
    process.stdout.write(`epcscf FAILED: ${(error as Error).message}\n${target?.output().slice(-3000) ?? ''}\n`);
  } finally {
    await target?.stop();
  }
  return result;
}

async function census(): Promise<JsonRpcBenchResult['mwPerOperation']> {
  if (flag('no-census') || CENSUS_OPERATIONS <= 0) return null;
  process.stdout.write(`Mw census: ${CENSUS_OPERATIONS} operations of each kind, one at a time...\n`);
  try {
    return await takeMwCensus(CENSUS_OPERATIONS);
  } catch (error) {
    process.stdout.write(`Mw census FAILED: ${(error as Error).message}\n`);
    return { error: (error as Error).message.split('\n')[0] ?? String(error) };
  }
}

async function main(): Promise<void> {
  const source = sourceState(REPO_ROOT);
  if (!flag('no-build')) buildDist(REPO_ROOT);
  const loadAtStart = flag('wait-quiet') ? await waitForQuietMachine(180) : loadavg()[0] as number;
  const ports = await allocatePorts(3);
  const epcscf = await benchTarget(ports);
  // After the load points, so that its in-process epcscf never shares the CPU with them.
  const mwPerOperation = await census();
  const result: JsonRpcBenchResult = {
    bench: 'jsonrpc',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    node: process.version,
    kamailio: kamailioVersion(),
    settings: {
      source,
      secondsPerPoint: SECONDS, warmupSeconds: WARMUP_SECONDS, concurrency: CONCURRENCY, openFilesLimit: openFilesLimit(),
      loadAverageAtStart: Math.round(loadAtStart * 100) / 100, loadAverageAtEnd: Math.round((loadavg()[0] as number) * 100) / 100,
      operations: {
        register: 'session.register (IMPU + password; a new virtual UE, so REGISTER → 401 → REGISTER with digest → 200 on Mw) then session.unregister (REGISTER Expires: 0, pre-authorized → 200); N clients, one WebSocket each; registrations/s = ops/s',
        call: 'call.invite (plain SDP) → callee call.incoming → call.answer → caller call.answered → call.hangup → call.ended on both sides; N caller/callee pairs (2N WebSockets, all registered)',
      },
      generator: 'one Node process (this one), raw ws clients speaking JSON-RPC 2.0 (bench/jsonrpc/rpc-connection.ts), closed loop, one operation bounded by 5 s; shares the 2 cores with the target',
      epcscf: {
        build: 'dist/ (tsc)', logLevel: 'warn', mw: 'udp', media: 'off', w2PingIntervalSeconds: 25,
        sipWs: RAISED_FLOOD, jsonrpcWs: { ...RAISED_FLOOD, resumeGraceSeconds: RESUME_GRACE_SECONDS },
      },
      kamailio: { ...KAMAILIO_SETTINGS, note: 'examples/kamailio/ims-core-standin.cfg copied with these globals rewritten, as bench/sip-ws' },
    },
    targets: { epcscf },
    mwPerOperation,
    besideSipWs: besideSipWs(SIP_WS_RESULTS, epcscf.points, mwPerOperation),
  };
  process.stdout.write(`\n${formatTable(result)}\n`);
  if (!flag('no-write')) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\nwrote ${OUT}\n`);
  }
}

await main();
