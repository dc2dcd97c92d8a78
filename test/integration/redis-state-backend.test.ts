/**
 * Issue #15, the Redis StateBackend under faults, on a real redis-server: while Redis is gone
 * (killed) or stuck (SIGSTOP) every operation rejects quickly with EPC_ERR_STATE_UNAVAILABLE and
 * health() says why; it recovers by itself; Sentinel settings reach the client (a real Sentinel
 * names the primary); configurations it cannot work with are refused with EPC_ERR_CONFIG_INVALID.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { RedisConfig } from '../../core/config/config-types.js';
import { EpcError } from '../../core/errors.js';
import { RedisStateBackend } from '../../core/state/redis/index.js';
import type { StateBackend } from '../../core/state/state-backend.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startDaemon } from '../support/peers/process.js';
import { redisAnswersPing, startRedis } from '../support/peers/redis.js';
import { resolvedRedisConfig, settled } from '../support/redis-config.js';
import { binding } from '../support/state-conformance.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** One of each kind of operation, so that every store is seen failing. */
function someOperations(state: StateBackend): Promise<unknown>[] {
  return [
    state.registrations.put(binding('n1/1', 'sip:alice@ims.test', 'sip:alice@a.invalid')),
    state.registrations.byContactUri('sip:alice@a.invalid'),
    state.dialogs.get('call-1 w1'),
    state.flows.claim('n1/1', 'n1', 10_000),
    state.nodes.dead(),
    state.mediaLegs.byNode('n1'),
    state.namespace('jsonrpc-ws').take('token'),
  ];
}

t.test('Redis killed: every operation rejects at once with EPC_ERR_STATE_UNAVAILABLE, health says unreachable; it reconnects by itself', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const state = await RedisStateBackend.connect(resolvedRedisConfig({ url: redis.url, keyPrefix: 'kill:' }), { healthPingIntervalMs: 0 });
  t.teardown(() => state.close());
  t.same(state.health(), { ok: true });

  await redis.kill();
  await until('the client notices the closed connection', () => !state.health().ok);
  t.match(state.health(), { ok: false, detail: /^Redis unreachable/ });
  const outcomes = await Promise.all(someOperations(state).map(settled));
  for (const outcome of outcomes) {
    t.equal(outcome.code, 'EPC_ERR_STATE_UNAVAILABLE');
    t.ok(outcome.ms < 100, `rejected at once, nothing queued (${outcome.ms} ms)`);
  }

  await redis.restart();
  await until('the client reconnects', () => state.health().ok);
  const alice = binding('n1/1', 'sip:alice@ims.test', 'sip:alice@a.invalid');
  await state.registrations.put(alice);
  t.same(await state.registrations.byFlow('n1/1'), [alice], 'operations work again after the reconnect');
});

t.test('Redis stuck (SIGSTOP): an operation fails after the command timeout, health turns bad; it comes back with Redis', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const state = await RedisStateBackend.connect(resolvedRedisConfig({ url: redis.url, keyPrefix: 'pause:', commandTimeoutSeconds: 0.3 }), { healthPingIntervalMs: 100 });
  t.teardown(() => state.close());

  redis.pause();
  const stuck = await settled(state.registrations.byFlow('n1/1'));
  t.equal(stuck.code, 'EPC_ERR_STATE_UNAVAILABLE');
  t.ok(stuck.ms >= 250 && stuck.ms < 1_500, `fails after commandTimeoutSeconds, never hangs (${stuck.ms} ms)`);
  t.match(state.health(), { ok: false, detail: /does not answer/ }, 'health: connected but not answering');

  redis.resume();
  await until('a health PING gets an answer again', () => state.health().ok, 5_000);
  t.same(await state.registrations.byFlow('n1/1'), [], 'operations work again');
});

t.test('a backend started before its Redis starts unavailable and becomes available when Redis comes', async (t) => {
  const port = await allocatePort();
  t.teardown(() => releasePort(port));
  const state = await RedisStateBackend.connect(resolvedRedisConfig({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'early:' }), { healthPingIntervalMs: 0, waitMs: 200 });
  t.teardown(() => state.close());
  t.equal(state.health().ok, false);
  t.equal((await settled(state.dialogs.all())).code, 'EPC_ERR_STATE_UNAVAILABLE');
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-redis-late-'));
  const late = await startDaemon({
    name: 'redis-server', command: 'redis-server', args: ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
    ready: { kind: 'probe', probe: () => redisAnswersPing(port) },
  });
  t.teardown(async () => { await late.stop(); rmSync(dir, { recursive: true, force: true }); });
  await until('the client connects to the late Redis', () => state.health().ok);
  t.same(await state.dialogs.all(), []);
});

t.test('a Redis that accepts connections but never answers: operations reject at once, nothing waits in a queue', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => { sockets.add(socket); socket.on('error', () => undefined); });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => { for (const socket of sockets) socket.destroy(); silent.close(); });
  const { port } = silent.address() as { port: number };
  const state = await RedisStateBackend.connect(resolvedRedisConfig({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'silent:' }), { healthPingIntervalMs: 0, waitMs: 200 });
  t.teardown(() => state.close());
  t.match(state.health(), { ok: false, detail: /^Redis unreachable \((connect|connecting)\)/ });
  const outcomes = await Promise.all(someOperations(state).map(settled));
  for (const outcome of outcomes) {
    t.equal(outcome.code, 'EPC_ERR_STATE_UNAVAILABLE');
    t.ok(outcome.ms < 100, `rejected at once (${outcome.ms} ms)`);
  }
});

t.test('cluster.redis.sentinels + name: the client asks the Sentinel for the primary and uses it', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const sentinelPort = await allocatePort();
  t.teardown(() => releasePort(sentinelPort));
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-sentinel-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor epcscf-state 127.0.0.1 ${redis.port} 1`, ''].join('\n'));
  const sentinel = await startDaemon({
    name: 'redis-sentinel', command: 'redis-server', args: [conf, '--sentinel'], cwd: dir,
    ready: { kind: 'probe', probe: () => redisAnswersPing(sentinelPort) },
  });
  t.teardown(() => sentinel.stop());
  const state = await RedisStateBackend.connect(resolvedRedisConfig({ sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'epcscf-state', keyPrefix: 'sentinel:' }), { healthPingIntervalMs: 0, waitMs: 5_000 });
  t.teardown(() => state.close());
  t.same(state.health(), { ok: true }, 'connected through the Sentinel');
  await state.namespace('jsonrpc-ws').set('k', 'v', 10_000);
  const direct = await RedisStateBackend.connect(resolvedRedisConfig({ url: redis.url, keyPrefix: 'sentinel:' }), { healthPingIntervalMs: 0 });
  t.teardown(() => direct.close());
  t.equal(await direct.namespace('jsonrpc-ws').get('k'), 'v', 'the value is on the primary the Sentinel named');
});

t.test('EPC_ERR_CONFIG_INVALID for cluster.redis settings the backend cannot use', async (t) => {
  const code = (make: () => unknown): string | undefined => {
    try { make(); return undefined; } catch (error) { return error instanceof EpcError ? error.code : String(error); }
  };
  t.equal(code(() => new RedisStateBackend(resolvedRedisConfig({ sentinels: [{ host: '127.0.0.1', port: 1 }] }))), 'EPC_ERR_CONFIG_INVALID', 'sentinels without the master name');
  t.equal(code(() => new RedisStateBackend(resolvedRedisConfig({ url: 'redis://127.0.0.1:1', sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'm' }))), 'EPC_ERR_CONFIG_INVALID', 'url and sentinels at once');
  t.equal(code(() => new RedisStateBackend(resolvedRedisConfig({}))), 'EPC_ERR_CONFIG_INVALID', 'neither url nor sentinels');
  t.equal(code(() => resolvedRedisConfig({ url: 'redis://127.0.0.1:1', keyPrefix: 'a{b}:' })), 'EPC_ERR_CONFIG_INVALID', 'a brace in the key prefix (it would become every key\'s hash tag)');
});
