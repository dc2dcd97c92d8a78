/**
 * Issue 15 "Overload control: ... a flooding client never moves the others' p99 measurably".
 * epcscf (its own process, default w2.limits and plugin flood limits) in front of Kamailio as the
 * IMS core stand-in; N well-behaved SIP-over-WebSocket clients from 127.0.0.1 each send a
 * MESSAGE to the next every 100 ms (open loop: the pace does not depend on the answers) and
 * refresh their registration (REGISTER + digest) every 2 s. Their latencies (p50/p99) are
 * measured alone and while a flooder process on 127.0.0.2 (bench/overload/flooder.ts) blasts
 * MESSAGEs over `--flood-lanes` connections and reconnects whenever it is cut off. The two
 * conditions alternate for `--rounds` rounds (alone, flooded, alone, flooded...) and each
 * condition's samples are pooled: on a machine shared with other work, the load drifts over a
 * minute, and alternating keeps that drift out of the comparison.
 * `--without-flood-levers` lifts w2.limits.framesPerConnection (and with it sustainedFlood) and
 * connectionRatePerIp (the tree before they existed), for a before/after on one build.
 * Prints the figures and writes bench/results/overload.json.
 *
 *   npm run bench:overload -- [--clients 8] [--seconds 10] [--rounds 3] [--flood-lanes 4] [--without-flood-levers]
 */
import { spawn } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { startEpcscfWithCore, REPO_ROOT } from '../lib/epcscf-with-core.js';
import { LatencyRecorder, type LatencySummary } from '../lib/latency.js';
import { groupCpuSeconds } from '../lib/proc-stats.js';
import { flag, kamailioVersion, option, sleep, sourceState } from '../lib/bench-runner.js';
import { BenchUser } from '../lib/ws-sip-user.js';
import { readUdpCounters, udpCountersDelta } from '../lib/udp-counters.js';
import { allocatePort } from '../../test/support/peers/ports.js';

const CLIENTS = Number(option('clients') ?? 8);
const SECONDS = Number(option('seconds') ?? 10);
const ROUNDS = Number(option('rounds') ?? 3);
const FLOOD_LANES = Number(option('flood-lanes') ?? 4);
const WITHOUT_FLOOD_LEVERS = flag('without-flood-levers');
const OUT = option('out') ?? 'bench/results/overload.json';
/** At most this long for the flooder's sockets to fill before a flooded phase is measured anyway. */
const SATURATION_WAIT_MS = 15_000;
const MESSAGE_EVERY_MS = 100;
const REGISTER_EVERY_MS = 2_000;
const ADMIN_KEY = 'bench-overload-admin-key';

interface PhaseResult {
  readonly message: LatencySummary;
  readonly register: LatencySummary;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** epcscf's CPU (user+system) over the phases, as a share of one core. */
  readonly epcscfCpuShare: number;
  readonly kamailioCpuShare: number;
  /** Machine-wide UDP receive-buffer drops over the phases (/proc/net/snmp: Mw is UDP; other work on the machine counts too). */
  readonly udpRcvbufErrors: number;
}

/** One condition's samples and counters, pooled over its phases (one per round). */
class Condition {
  readonly message = new LatencyRecorder();
  readonly register = new LatencyRecorder();
  errors = 0;
  readonly errorSamples: string[] = [];
  epcscfCpuSeconds = 0;
  kamailioCpuSeconds = 0;
  seconds = 0;
  udpRcvbufErrors = 0;
  /** p99 of each phase alone (the spread between rounds shows the machine's noise). */
  readonly roundP99s: Array<{ message: number; register: number }> = [];

  failed(what: string, error: unknown): void {
    this.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  result(): PhaseResult {
    return {
      message: this.message.summary(), register: this.register.summary(), errors: this.errors, errorSamples: this.errorSamples,
      epcscfCpuShare: round(this.epcscfCpuSeconds / this.seconds), kamailioCpuShare: round(this.kamailioCpuSeconds / this.seconds),
      udpRcvbufErrors: this.udpRcvbufErrors,
    };
  }
}

function configYaml(w2Port: number, mwPort: number, corePort: number): string {
  return [
    'w2:',
    `  listen: 127.0.0.1:${w2Port}`,
    '  allowedOrigins: []',
    ...(WITHOUT_FLOOD_LEVERS ? [
      '  limits:',
      '    framesPerConnection: { ratePerSecond: 1000000, burst: 1000000 }',
      '    connectionRatePerIp: { ratePerSecond: 1000000, burst: 1000000 }',
    ] : []),
    'plugins:',
    '  - name: sip-ws',
    'mw:',
    `  listen: [udp:127.0.0.1:${mwPort}]`,
    `  nextHop: sip:127.0.0.1:${corePort};transport=udp`,
    '  domain: ims.test',
    '  visitedNetworkId: epcscf.test',
    'media:',
    '  mode: off',
    'admin:',
    `  bearerKey: ${ADMIN_KEY}`,
    'log:',
    '  level: error',
    '',
  ].join('\n');
}

async function runPhase(users: readonly BenchUser[], seconds: number, groups: Readonly<Record<string, number>>, into: Condition): Promise<void> {
  const message = new LatencyRecorder();
  const register = new LatencyRecorder();
  const record = (mine: LatencyRecorder, pooled: LatencyRecorder, t0: bigint): void => {
    mine.recordSince(t0);
    pooled.recordSince(t0);
  };
  const cpuBefore = { epcscf: groupCpuSeconds(groups['epcscf'] ?? 0), core: groupCpuSeconds(groups['kamailio (IMS core)'] ?? 0) };
  const udpBefore = readUdpCounters();
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>): void => { inFlight.add(work); void work.finally(() => inFlight.delete(work)); };
  const timers = users.flatMap((user, index) => {
    const next = users[(index + 1) % users.length] as BenchUser;
    // Spread the clients over the period so they do not all send in the same millisecond.
    const offset = Math.floor((index * MESSAGE_EVERY_MS) / users.length);
    const messageTimer = setTimeout(() => {
      const interval = setInterval(() => {
        const t0 = process.hrtime.bigint();
        track(user.message(next.aor, 'hello').then((status) => {
          if (status === 200) record(message, into.message, t0);
          else into.failed('MESSAGE', new Error(`status ${status}`));
        }, (error: unknown) => into.failed('MESSAGE', error)));
      }, MESSAGE_EVERY_MS);
      timers.push(interval);
    }, offset);
    const registerTimer = setInterval(() => {
      const t0 = process.hrtime.bigint();
      track(user.register().then(() => record(register, into.register, t0), (error: unknown) => into.failed('REGISTER', error)));
    }, REGISTER_EVERY_MS + index * 7);
    return [messageTimer, registerTimer];
  });
  await sleep(seconds * 1000);
  for (const timer of timers) clearInterval(timer);
  await Promise.allSettled([...inFlight]);
  into.seconds += (Date.now() - started) / 1000;
  into.epcscfCpuSeconds += groupCpuSeconds(groups['epcscf'] ?? 0) - cpuBefore.epcscf;
  into.kamailioCpuSeconds += groupCpuSeconds(groups['kamailio (IMS core)'] ?? 0) - cpuBefore.core;
  into.udpRcvbufErrors += udpCountersDelta(udpBefore, readUdpCounters()).rcvbufErrors;
  into.roundP99s.push({ message: message.summary().p99Ms, register: register.summary().p99Ms });
}

/** The flooder's own counts (its `flooder {...}` line), summed over the rounds. */
class FlooderTotals {
  readonly stats: Record<string, number | Record<string, number>> = {};
  cpuSeconds = 0;
  seconds = 0;
  /** Per round, how long after its start the flooder's sockets were full (or the wait ran out). */
  readonly saturationWaitMs: number[] = [];

  add(report: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(report)) {
      if (typeof value === 'number') this.stats[key] = ((this.stats[key] as number | undefined) ?? 0) + value;
      else if (typeof value === 'object' && value !== null) {
        const into = (this.stats[key] ??= {}) as Record<string, number>;
        for (const [k, n] of Object.entries(value as Record<string, number>)) into[k] = (into[k] ?? 0) + n;
      }
    }
  }
}

/** User+system CPU seconds of one process and its threads (/proc/<pid>/stat utime+stime; its child is `node` under `nice`). */
function processCpuSeconds(pid: number): number {
  const read = (p: number): number => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
    } catch {
      return 0;
    }
  };
  return read(pid);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

async function refusals(w2Port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${w2Port}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  const out: Record<string, number> = {};
  for (const match of text.matchAll(/^epcscf_w2_refused_total\{reason="([a-z_]+)"\} (\d+)/gm)) {
    if (Number(match[2]) > 0) out[match[1] as string] = Number(match[2]);
  }
  return out;
}

async function main(): Promise<void> {
  const loadAverageAtStart = loadavg();
  const [w2Port, mwPort, corePort] = [await allocatePort(), await allocatePort(), await allocatePort()];
  const target = await startEpcscfWithCore({ w2Port, corePort, configYaml: configYaml(w2Port, mwPort, corePort), tmpPrefix: 'epcscf-bench-overload-' });
  const url = `ws://127.0.0.1:${w2Port}/sip`;
  const users: BenchUser[] = [];
  let flooder: ReturnType<typeof spawn> | undefined;
  // `timeout` or Ctrl-C: stop the daemons and the flooder (they run in process groups of their own).
  const onSignal = (): void => {
    flooder?.kill('SIGKILL');
    void target.stop().finally(() => process.exit(130));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const user = await BenchUser.connect({ url, user: `bench${i}`, password: 'secret', domain: 'ims.test', timeoutMs: 10_000 });
      users.push(user);
      await user.register();
    }
    process.stdout.write(`${CLIENTS} clients registered; warming up\n`);
    await runPhase(users, 3, target.groups, new Condition());

    const alone = new Condition();
    const flooded = new Condition();
    const flood = new FlooderTotals();
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(`round ${round}/${ROUNDS}: ${CLIENTS} clients alone, ${SECONDS} s\n`);
      await runPhase(users, SECONDS, target.groups, alone);

      process.stdout.write(`round ${round}/${ROUNDS}: the same while a flooder on 127.0.0.2 blasts over ${FLOOD_LANES} connections, ${SECONDS} s\n`);
      // nice 19: on this one machine the flooder's own CPU would otherwise be taken from the
      // measured clients and epcscf alike; a real flooder sits on another host.
      const started = spawn('nice', ['-n', '19', process.execPath, '--import', 'tsx', join(REPO_ROOT, 'bench/overload/flooder.ts'), url, '127.0.0.2', String(FLOOD_LANES)], {
        cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'],
      });
      flooder = started;
      let flooderOut = '';
      started.stdout?.on('data', (chunk: Buffer) => { flooderOut += chunk.toString('utf8'); });
      // The flood is under way before the measurement starts: every lane's socket is full. Filling
      // them (MBs of frames into loopback TCP buffers) is work of the flooder's host, not the
      // server's; on this one machine it would otherwise be counted against the measured clients.
      const floodStartedAt = Date.now();
      while (!flooderOut.includes('flooder saturated') && Date.now() - floodStartedAt < SATURATION_WAIT_MS) await sleep(50);
      await sleep(Math.max(0, 2_000 - (Date.now() - floodStartedAt))); // and at least 2 s as before
      flood.saturationWaitMs.push(Date.now() - floodStartedAt);
      const flooderCpuBefore = processCpuSeconds(started.pid ?? 0);
      await runPhase(users, SECONDS, target.groups, flooded);
      flood.cpuSeconds += processCpuSeconds(started.pid ?? 0) - flooderCpuBefore;
      flood.seconds += SECONDS;
      const exited = new Promise((resolve) => started.once('exit', resolve));
      started.kill('SIGTERM');
      await Promise.race([exited, sleep(3_000)]);
      if (started.exitCode === null) started.kill('SIGKILL');
      flood.add(JSON.parse((flooderOut.match(/flooder (\{.*\})/)?.[1]) ?? '{}') as Record<string, unknown>);
      await sleep(1_000); // the flooder's connections are gone before the next quiet phase
    }
    const refused = await refusals(w2Port);

    const ratio = (a: number, b: number): number => (a > 0 ? round(b / a) : 0);
    const aloneResult = alone.result();
    const floodedResult = flooded.result();
    const result = {
      bench: 'overload', at: new Date().toISOString(), source: sourceState(REPO_ROOT),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', kamailio: kamailioVersion() },
      setup: {
        clients: CLIENTS, rounds: ROUNDS, secondsPerPhase: SECONDS, messageEveryMs: MESSAGE_EVERY_MS, registerEveryMs: REGISTER_EVERY_MS,
        floodLanes: FLOOD_LANES,
        epcscfLimits: WITHOUT_FLOOD_LEVERS
          ? 'defaults but framesPerConnection and connectionRatePerIp lifted (the tree before them), sip-ws flood 50/s burst 200, flooder from 127.0.0.2'
          : 'defaults (w2.limits incl. framesPerConnection 50/s burst 100, sustainedFlood after 3 s at 5/s, connectionRatePerIp 10/s burst 100; sip-ws flood 50/s burst 200), flooder from 127.0.0.2',
      },
      alone: aloneResult, flooded: floodedResult,
      p99Ratio: { message: ratio(aloneResult.message.p99Ms, floodedResult.message.p99Ms), register: ratio(aloneResult.register.p99Ms, floodedResult.register.p99Ms) },
      p99ByRound: { alone: alone.roundP99s, flooded: flooded.roundP99s },
      flooder: { ...flood.stats, cpuShare: round(flood.cpuSeconds / flood.seconds), nice: 19, saturationWaitMs: flood.saturationWaitMs }, refusedByReason: refused, loadAverageAtStart, loadAverage: loadavg(),
    };
    const line = (name: string, p: PhaseResult): string => `${name.padEnd(8)} MESSAGE p50 ${p.message.p50Ms} ms p99 ${p.message.p99Ms} ms (n=${p.message.count})`
      + ` | REGISTER+digest p50 ${p.register.p50Ms} ms p99 ${p.register.p99Ms} ms (n=${p.register.count}) | errors ${p.errors}`
      + ` | CPU epcscf ${p.epcscfCpuShare}, kamailio ${p.kamailioCpuShare} | UDP rcvbuf drops ${p.udpRcvbufErrors}`;
    const rounds = (c: Condition): string => c.roundP99s.map((r) => `${r.message}/${r.register}`).join(' ');
    process.stdout.write(`\n${line('alone', aloneResult)}\n${line('flooded', floodedResult)}\n`);
    process.stdout.write(`p99 by round (MESSAGE/REGISTER ms): alone ${rounds(alone)} | flooded ${rounds(flooded)}\n`);
    process.stdout.write(`p99 flooded/alone: MESSAGE ×${result.p99Ratio.message}, REGISTER ×${result.p99Ratio.register}\n`);
    process.stdout.write(`flooder (CPU ${result.flooder.cpuShare} of a core, nice 19): ${JSON.stringify(flood.stats)}\nrefused by reason: ${JSON.stringify(refused)}\nload average: at start ${loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    const out = resolve(REPO_ROOT, OUT);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`written ${OUT}\n`);
  } finally {
    if (flooder !== undefined && flooder.exitCode === null) flooder.kill('SIGKILL');
    for (const user of users) user.close();
    await target.stop();
  }
}

await main();
