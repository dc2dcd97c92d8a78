/**
 * What the Redis state backend costs per operation (issue #15: "with Redis, the added CPU and
 * latency per operation are reported"): each store operation the P-CSCF makes on its paths, run
 * against a local redis-server (Debian, loopback, no persistence) and against the memory stores.
 *   latency: one operation in flight at a time (what one SIP request waits), p50/p99
 *   CPU: with `--concurrency` operations in flight, µs of CPU per operation in this process
 *        (ioredis, JSON) and in redis-server
 *
 *   npx tsx bench/state/run.ts [--ops 3000] [--concurrency 32]
 * Writes bench/results/state.json.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolveConfig } from '../../core/config/index.js';
import { MemoryDialogStore } from '../../core/state/dialog-store.js';
import { MemoryRegistrationStore } from '../../core/state/registration-store.js';
import { RedisStateBackend } from '../../core/state/redis/index.js';
import type { DialogStore } from '../../core/state/dialog-store.js';
import type { RegistrationStore } from '../../core/state/registration-store.js';
import type { TtlStore } from '../../core/state/state-backend.js';
import { startRedis } from '../../test/support/peers/redis.js';
import { binding, dialog } from '../../test/support/state-conformance.js';
import { LatencyRecorder, type LatencySummary } from '../lib/latency.js';
import { groupCpuSeconds, ownCpuSeconds } from '../lib/proc-stats.js';

const argValue = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const OPS = argValue('ops', 3000);
const CONCURRENCY = argValue('concurrency', 32);

interface Stores {
  readonly registrations: RegistrationStore;
  readonly dialogs: DialogStore;
  readonly tokens: TtlStore | undefined;
}

/** The operations of the P-CSCF's paths; `i` makes keys distinct. */
function operations(stores: Stores): Record<string, (i: number) => Promise<unknown>> {
  const ops: Record<string, (i: number) => Promise<unknown>> = {
    'registrations.put (REGISTER 200)': (i) => stores.registrations.put(binding(`n1/${i}`, `sip:u${i}@ims.test`, `sip:u${i}@h${i}.invalid`)),
    'registrations.byFlow (originating request)': (i) => stores.registrations.byFlow(`n1/${i}`),
    'registrations.byContactUri (terminating request)': (i) => stores.registrations.byContactUri(`sip:u${i}@h${i}.invalid`),
    'dialogs.put (INVITE 2xx)': (i) => stores.dialogs.put(dialog(`call-${i}`, 'w1', `n1/${i}`)),
    'dialogs.get (mid-dialog request)': (i) => stores.dialogs.get(`call-${i} w1`),
    'registrations.removeFlow (flow closed)': (i) => stores.registrations.removeFlow(`n1/${i}`),
  };
  const tokens = stores.tokens;
  if (tokens !== undefined) ops['namespace.set + take (resume token)'] = async (i) => { await tokens.set(`t${i}`, 'x'.repeat(200), 60_000); return tokens.take(`t${i}`); };
  return ops;
}

interface OpResult {
  readonly latency: LatencySummary;
  readonly opsPerSecond: number;
  readonly clientCpuUsPerOp: number;
  readonly redisCpuUsPerOp?: number;
}

/** Latency on keys 0..OPS-1; then CPU on keys `offset`.. (the same keys, or fresh ones for an operation that consumes them). */
async function measure(op: (i: number) => Promise<unknown>, offset: number, redisPid: number | undefined): Promise<OpResult> {
  const latency = new LatencyRecorder();
  for (let i = 0; i < OPS; i++) {
    const start = process.hrtime.bigint();
    await op(i);
    latency.recordSince(start);
  }
  const cpu0 = ownCpuSeconds();
  const redis0 = redisPid === undefined ? 0 : groupCpuSeconds(redisPid);
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < OPS) await op(offset + next++);
  }));
  const seconds = (performance.now() - started) / 1000;
  const perOp = (cpuSeconds: number): number => Math.round((cpuSeconds * 1e6) / OPS * 10) / 10;
  return {
    latency: latency.summary(), opsPerSecond: Math.round(OPS / seconds), clientCpuUsPerOp: perOp(ownCpuSeconds() - cpu0),
    ...(redisPid !== undefined ? { redisCpuUsPerOp: perOp(groupCpuSeconds(redisPid) - redis0) } : {}),
  };
}

async function run(name: string, stores: Stores, redisPid: number | undefined): Promise<Record<string, OpResult>> {
  const out: Record<string, OpResult> = {};
  const all = operations(stores);
  for (const [label, op] of Object.entries(all)) {
    // removeFlow consumes what put stored: fresh bindings for its CPU phase.
    const consumes = label.startsWith('registrations.removeFlow');
    if (consumes) for (let i = OPS; i < 2 * OPS; i++) await all['registrations.put (REGISTER 200)']?.(i);
    out[label] = await measure(op, consumes ? OPS : 0, redisPid);
    const r = out[label];
    console.log(`${name.padEnd(6)} ${label.padEnd(48)} p50 ${r.latency.p50Ms.toFixed(3)} ms  p99 ${r.latency.p99Ms.toFixed(3)} ms  ${String(r.opsPerSecond).padStart(6)}/s  CPU ${r.clientCpuUsPerOp} µs here${r.redisCpuUsPerOp !== undefined ? ` + ${r.redisCpuUsPerOp} µs redis-server` : ''}`);
  }
  return out;
}

const load0 = loadavg()[0];
const redis = await startRedis();
try {
  const config = resolveConfig({ cluster: { redis: { url: redis.url, keyPrefix: 'bench:' } } }, { configDir: process.cwd(), env: {} });
  if (config.cluster.redis === undefined) throw new Error('no cluster.redis');
  const state = await RedisStateBackend.connect(config.cluster.redis, { healthPingIntervalMs: 0 });
  const memory = await run('memory', { registrations: new MemoryRegistrationStore(), dialogs: new MemoryDialogStore(), tokens: undefined }, undefined);
  const onRedis = await run('redis', { registrations: state.registrations, dialogs: state.dialogs, tokens: state.namespace('bench') }, redis.pid);
  await state.close();
  const result = {
    bench: 'state', date: new Date().toISOString(), ops: OPS, concurrency: CONCURRENCY,
    method: 'one operation in flight for latency, then the same operations with `concurrency` in flight for ops/s and CPU per operation (this process: ioredis + JSON; redis-server from /proc); redis-server 7.0 on loopback, no persistence, one ioredis connection',
    loadAverage1m: { start: load0, end: loadavg()[0] }, memory, redis: onRedis,
  };
  writeFileSync(new URL('../results/state.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log('bench/results/state.json written');
} finally {
  await redis.stop();
}
