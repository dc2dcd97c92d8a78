// bench/xmpp (issue #12): logins/s, chat messages/s and calls/s of XMPP-over-WebSocket clients
// (plugins/xmpp-ws, one core/ua virtual UE per session) through epcscf into Kamailio as the IMS
// core stand-in, at concurrency 10/50/200, beside sip-ws's and jsonrpc-ws's registrations and
// calls measured against the same epcscf process in the same run; then the memory per idle
// logged-in session (xmpp-ws, and sip-ws's idle registered WebSocket beside it) on fresh instances.
//
// Usage: npm run bench:xmpp [-- --seconds 5 --warmup 1 --concurrency 10,50,200 --scenarios login,message,call
//          --beside sip-ws,jsonrpc|none --sessions 2000 --idle 15 --cpu-profile DIR --wait-quiet --no-build --out FILE --no-write --smoke]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { allocatePorts } from '../../test/support/peers/ports.js';
import { runJsonRpcPoint } from '../jsonrpc/load-point.js';
import { measureIdleConnections } from '../sip-ws/memory.js';
import { buildDist, flag, kamailioVersion, openFilesLimit, option, sleep, sourceState, waitForQuietMachine } from '../lib/bench-runner.js';
import { RAISED_FLOOD } from '../lib/epcscf-config.js';
import { KAMAILIO_SETTINGS, REPO_ROOT } from '../lib/epcscf-with-core.js';
import { describeIdleMemory, measureIdleSessions } from '../lib/idle-memory.js';
import { runLoadPoint, type PointFigures } from '../lib/load-point.js';
import { groupCpuSeconds, ownCpuSeconds } from '../lib/proc-stats.js';
import { startThreePluginTarget, TARGET_PLUGINS, type TargetPorts, type ThreePluginTarget } from './epcscf-target.js';
import { loginUsers, runXmppPoint, type XmppScenario } from './load-point.js';
import { formatTable, type MeasuredPoint, type MemoryResult, type OperationKind, type Protocol, type XmppBenchResult } from './report.js';

const SMOKE = flag('smoke');
const SECONDS = Number(option('seconds') ?? (SMOKE ? 2 : 5));
const WARMUP_SECONDS = Number(option('warmup') ?? (SMOKE ? 0.5 : 1));
const CONCURRENCY = (option('concurrency') ?? (SMOKE ? '10' : '10,50,200')).split(',').map(Number);
const SCENARIOS = (option('scenarios') ?? 'login,message,call').split(',').filter((s): s is XmppScenario => s === 'login' || s === 'message' || s === 'call');
const BESIDE = (option('beside') ?? 'sip-ws,jsonrpc').split(',').filter((b) => b === 'sip-ws' || b === 'jsonrpc');
const SESSIONS = Number(option('sessions') ?? (SMOKE ? 200 : 2000));
const IDLE_SECONDS = Number(option('idle') ?? (SMOKE ? 3 : 15));
const CPU_PROFILE_DIR = option('cpu-profile');
const OUT = option('out') ?? join(REPO_ROOT, 'bench/results/xmpp.json');
const WRITE = !flag('no-write') && !SMOKE;
const DOMAIN = 'ims.test';
const PASSWORD = 'secret'; // ims-core-standin.cfg: every user but alice has "secret"
/** Bound on one operation, as the other benches. */
const TIMEOUT_MS = 5000;
const PARALLEL_LOGINS = 100;


type WindowHook = (edge: 'open' | 'close') => void;

const cpuOf = (groups: Readonly<Record<string, number>>): Record<string, number> =>
  Object.fromEntries(Object.entries(groups).map(([label, pgid]) => [label, groupCpuSeconds(pgid)]));

/** Runs one point and adds the CPU it cost (per process group; epcscf per operation inside the window when `run` calls the hook). */
async function measure(target: ThreePluginTarget, protocol: Protocol, kind: OperationKind, scenario: string, concurrency: number,
  run: (onWindow: WindowHook) => Promise<PointFigures>): Promise<MeasuredPoint> {
  const cpuBefore = cpuOf(target.groups);
  const generatorBefore = ownCpuSeconds();
  const wallBefore = process.hrtime.bigint();
  let atOpen: number | undefined;
  let atClose: number | undefined;
  const figures = await run((edge) => {
    if (edge === 'open') atOpen = groupCpuSeconds(target.measuredPid);
    else atClose = groupCpuSeconds(target.measuredPid);
  });
  const wall = Number(process.hrtime.bigint() - wallBefore) / 1e9;
  const cpuCores: Record<string, number> = {};
  for (const [label, seconds] of Object.entries(cpuOf(target.groups))) cpuCores[label] = Math.round(((seconds - (cpuBefore[label] ?? 0)) / wall) * 100) / 100;
  cpuCores['generator'] = Math.round(((ownCpuSeconds() - generatorBefore) / wall) * 100) / 100;
  const epcscfCpuMsPerOperation = atOpen !== undefined && atClose !== undefined && figures.operations > 0
    ? Math.round((((atClose - atOpen) * 1000) / figures.operations) * 1000) / 1000 : null;
  const point: MeasuredPoint = {
    protocol, kind, scenario, concurrency, seconds: figures.seconds, operations: figures.operations, errors: figures.errors,
    opsPerSecond: figures.opsPerSecond, messagesPerOperation: figures.messagesPerOperation, latency: figures.latency,
    cpuCores, epcscfCpuMsPerOperation, ...(figures.firstError !== undefined ? { firstError: figures.firstError } : {}),
  };
  process.stdout.write(`${protocol} ${scenario} c=${concurrency}: ${point.opsPerSecond} ops/s, p50 ${point.latency.p50Ms} ms, p99 ${point.latency.p99Ms} ms, `
    + `errors ${point.errors}, epcscf ${epcscfCpuMsPerOperation ?? '?'} CPU ms/op, ${point.messagesPerOperation} frames/op${point.firstError ? ` (${point.firstError})` : ''}\n`);
  await sleep(500); // let closed connections and their de-registrations settle
  return point;
}

const XMPP_KIND: Record<XmppScenario, OperationKind> = { login: 'registration', message: 'message', call: 'call' };

async function loadPoints(target: ThreePluginTarget): Promise<MeasuredPoint[]> {
  const points: MeasuredPoint[] = [];
  const common = { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, domain: DOMAIN, password: PASSWORD, timeoutMs: TIMEOUT_MS };
  for (const scenario of SCENARIOS) {
    for (const concurrency of CONCURRENCY) {
      points.push(await measure(target, 'xmpp-ws', XMPP_KIND[scenario], scenario, concurrency, (onWindow) => runXmppPoint({
        ...common, url: target.urls.xmpp, scenario, concurrency, userPrefix: `x${scenario[0]}${concurrency}x`, onWindow,
      })));
      if (scenario === 'message') continue; // the other two benches have no chat scenario
      const sipScenario = scenario === 'login' ? 'register' : 'call';
      if (BESIDE.includes('jsonrpc')) {
        points.push(await measure(target, 'jsonrpc-ws', XMPP_KIND[scenario], sipScenario, concurrency, (onWindow) => runJsonRpcPoint({
          ...common, url: target.urls.jsonrpc, scenario: sipScenario, concurrency, userPrefix: `j${sipScenario[0]}${concurrency}x`, onWindow,
        })));
      }
      if (BESIDE.includes('sip-ws')) {
        // bench/lib's sip-ws point has no window hook: its CPU is reported per point only.
        points.push(await measure(target, 'sip-ws', XMPP_KIND[scenario], sipScenario, concurrency, () => runLoadPoint({
          ...common, url: target.urls.sipWs, scenario: sipScenario, concurrency, userPrefix: `s${sipScenario[0]}${concurrency}x`,
        })));
      }
    }
  }
  return points;
}

/** Memory per idle session of `protocol` on a fresh instance (garbage from the load points would blur it). */
async function memory(protocol: 'xmpp-ws' | 'sip-ws', ports: TargetPorts): Promise<MemoryResult | { protocol: Protocol; error: string }> {
  process.stdout.write(`${protocol}: ${SESSIONS} idle logged-in sessions on a fresh instance...\n`);
  let target: ThreePluginTarget | undefined;
  try {
    target = await startThreePluginTarget(ports);
    const common = { measure: 'process' as const, count: SESSIONS, parallel: PARALLEL_LOGINS, idleSeconds: IDLE_SECONDS, warmupConnections: 200, userPrefix: `${protocol[0]}idle` };
    const xmppUrl = target.urls.xmpp;
    const result = protocol === 'xmpp-ws'
      ? await measureIdleSessions({
        ...common, target,
        openSessions: (userPrefix, count, parallel) => loginUsers({ url: xmppUrl, domain: DOMAIN, password: PASSWORD, userPrefix, timeoutMs: 30_000 }, count, parallel),
      })
      : await measureIdleConnections({ ...common, target: { ...target, url: target.urls.sipWs }, domain: DOMAIN, password: PASSWORD });
    process.stdout.write(`${protocol}: ${describeIdleMemory(result)}\n`);
    return { protocol, ...result };
  } catch (error) {
    process.stdout.write(`${protocol} memory run failed: ${(error as Error).message}\n${target?.output().slice(-3000) ?? ''}\n`);
    return { protocol, error: (error as Error).message.split('\n')[0] ?? String(error) };
  } finally {
    await target?.stop();
  }
}

async function main(): Promise<void> {
  const source = sourceState(REPO_ROOT);
  if (!flag('no-build')) buildDist(REPO_ROOT);
  const loadAtStart = flag('wait-quiet') ? await waitForQuietMachine(180) : loadavg()[0] as number;
  const [w2Port, mwPort, corePort] = await allocatePorts(3) as [number, number, number];
  const ports = { w2Port, mwPort, corePort };
  let points: MeasuredPoint[] = [];
  let error: string | undefined;
  let target: ThreePluginTarget | undefined;
  try {
    target = await startThreePluginTarget(ports, CPU_PROFILE_DIR);
    points = await loadPoints(target);
  } catch (failure) {
    error = (failure as Error).message.split('\n')[0] ?? String(failure);
    process.stdout.write(`epcscf FAILED: ${(failure as Error).message}\n${target?.output().slice(-3000) ?? ''}\n`);
  } finally {
    await target?.stop();
  }
  const memoryResults: XmppBenchResult['memory'] = [];
  if (SESSIONS > 0) {
    memoryResults.push(await memory('xmpp-ws', ports));
    if (BESIDE.includes('sip-ws')) memoryResults.push(await memory('sip-ws', ports));
  }
  const result: XmppBenchResult = {
    bench: 'xmpp',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), kernel: release() },
    node: process.version,
    kamailio: kamailioVersion(),
    settings: {
      source, secondsPerPoint: SECONDS, warmupSeconds: WARMUP_SECONDS, concurrency: CONCURRENCY, scenarios: SCENARIOS, beside: BESIDE,
      idleSessions: SESSIONS, idleSeconds: IDLE_SECONDS, openFilesLimit: openFilesLimit(),
      loadAverageAtStart: Math.round(loadAtStart * 100) / 100, loadAverageAtEnd: Math.round((loadavg()[0] as number) * 100) / 100,
      operations: {
        'xmpp-ws login': 'WebSocket open, <open/>, SASL PLAIN (REGISTER → 401 → REGISTER with digest → 200 on Mw before <success/>), <open/>, bind, <close/> until the WebSocket closed (REGISTER Expires: 0 follows); N clients, a new session each time',
        'xmpp-ws message': 'chat message to the paired logged-in user (SIP MESSAGE through Kamailio back to epcscf), done when the receiver session gets it; N pairs',
        'xmpp-ws call': 'session-initiate (PCMU, one ICE-UDP host candidate) → callee session-initiate + result + session-accept → caller session-accept → session-terminate; done when the callee has had session-terminate; N pairs',
        'jsonrpc-ws register / call': 'as bench/jsonrpc (session.register + session.unregister; call.invite … call.ended on both sides)',
        'sip-ws register / call': 'as bench/sip-ws (REGISTER → 401 → REGISTER → 200; INVITE/200/ACK, BYE/200)',
      },
      generator: 'one Node process (this one), raw ws clients (bench/xmpp/xmpp-wire.ts string templates, no XML parser), closed loop, one operation bounded by 5 s; shares the 2 cores with the target',
      epcscf: { build: 'dist/ (tsc)', logLevel: 'warn', mw: 'udp', media: 'off', plugins: TARGET_PLUGINS, flood: RAISED_FLOOD },
      kamailio: { ...KAMAILIO_SETTINGS, note: 'examples/kamailio/ims-core-standin.cfg copied with these globals rewritten, as bench/sip-ws' },
    },
    points,
    memory: memoryResults,
    ...(error !== undefined ? { error } : {}),
  };
  process.stdout.write(`\n${formatTable(result)}\n`);
  if (WRITE) {
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\nwrote ${OUT}\n`);
  }
  // --smoke: a quick check that every xmpp scenario completed operations.
  if (SMOKE && (error !== undefined || points.some((p) => p.protocol === 'xmpp-ws' && p.operations === 0))) process.exitCode = 1;
}

await main();
