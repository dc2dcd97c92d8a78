/**
 * cluster.redis.username / password / sentinelPassword (issue #15: a production Redis needs AUTH)
 * on real redis-servers started with --requirepass: a three-master Redis Cluster (clusterNodes,
 * requirepass + masterauth on every node) and a primary behind a Sentinel that has its own
 * requirepass. The right password → the StateBackend serves (a registration put and read back);
 * a wrong or missing one → the node starts all the same, not ready, health() and every operation
 * (EPC_ERR_STATE_UNAVAILABLE) name the authentication failure, and the password shows nowhere:
 * not in health, not in an error, not in any log line (debug level).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import t, { type Test } from 'tap';
import type { RedisConfig } from '../../core/config/config-types.js';
import { resolvedRedisConfig } from '../support/redis-config.js';
import { EpcError } from '../../core/errors.js';
import { RedisStateBackend } from '../../core/state/redis/index.js';
import { startRedis } from '../support/peers/redis.js';
import { startRedisCluster } from '../support/peers/redis-cluster.js';
import { startRedisSentinel } from '../support/peers/redis-sentinel.js';
import { binding } from '../support/state-conformance.js';

const PASSWORD = 'Cl4ster-pw-7f3a';
const WRONG = 'Wr0ng-pw-9c1d';
const SENTINEL_PASSWORD = 'S3ntinel-pw-2b8e';

function redisConfig(redis: Record<string, unknown>, env: Record<string, string> = {}): RedisConfig {
  return resolvedRedisConfig({ ...redis, commandTimeoutSeconds: 0.5 }, env);
}

/** A debug-level logger whose lines are kept, to prove what is (not) logged. */
function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

async function failure(operation: Promise<unknown>): Promise<EpcError> {
  try {
    await operation;
  } catch (error) {
    if (error instanceof EpcError) return error;
    throw error;
  }
  throw new Error('the operation succeeded');
}

/** Starts a backend with `config` and proves it serves: a registration put and read back. */
async function provesItServes(t: Test, config: RedisConfig, flow: string): Promise<void> {
  const state = await RedisStateBackend.connect(config, { waitMs: 5_000 });
  t.teardown(() => state.close());
  t.same(state.health(), { ok: true }, 'ready');
  const kept = binding(flow, 'sip:alice@ims.test', `sip:alice@${flow.replace('/', '-')}.invalid`);
  await state.registrations.put(kept);
  t.same(await state.registrations.byFlow(flow), [kept], 'a registration is stored and read back');
}

/** Starts a backend whose credentials Redis refuses and proves it says so, without the password, and keeps running. */
async function provesAuthRefused(t: Test, config: RedisConfig, refusal: RegExp, secrets: readonly string[]): Promise<void> {
  const { logger, lines } = capturingLogger();
  const state = await RedisStateBackend.connect(config, { waitMs: 3_000, logger });
  t.teardown(() => state.close());
  const health = state.health();
  t.equal(health.ok, false, 'not ready: /ready false');
  t.match(health.ok ? '' : health.detail, /Redis authentication failed/, 'health names the authentication failure');
  t.match(health.ok ? '' : health.detail, refusal, "with Redis's own refusal");
  const error = await failure(state.registrations.put(binding('n1/1', 'sip:alice@ims.test', 'sip:alice@n1-1.invalid')));
  t.equal(error.code, 'EPC_ERR_STATE_UNAVAILABLE', 'an operation fails with EPC_ERR_STATE_UNAVAILABLE (the P-CSCF answers 503), no crash');
  t.match(error.message, /authentication failed/, 'naming authentication');
  const everything = [health.ok ? '' : health.detail, error.message, ...lines].join('\n');
  t.ok(lines.length > 0, 'the logger saw the failure');
  for (const secret of secrets) t.notOk(everything.includes(secret), 'the password shows neither in health, errors nor logs');
}

t.test('Redis Cluster with requirepass: cluster.redis.password reaches every node', async (t) => {
  const cluster = await startRedisCluster({ password: PASSWORD });
  t.teardown(() => cluster.stop());

  await t.test('the right password (EPCSCF_CLUSTER_REDIS_PASSWORD) → the backend serves', async (t) => {
    await provesItServes(t, redisConfig({ clusterNodes: cluster.seeds, keyPrefix: 'ok:' }, { EPCSCF_CLUSTER_REDIS_PASSWORD: PASSWORD }), 'n1/1');
  });
  await t.test('a wrong password → not ready, EPC_ERR_STATE_UNAVAILABLE naming authentication, the password nowhere', async (t) => {
    await provesAuthRefused(t, redisConfig({ clusterNodes: cluster.seeds, password: WRONG }), /WRONGPASS/, [WRONG, PASSWORD]);
  });
  await t.test('no password → not ready, naming authentication (NOAUTH)', async (t) => {
    await provesAuthRefused(t, redisConfig({ clusterNodes: cluster.seeds }), /NOAUTH/, [PASSWORD]);
  });
});

t.test('Sentinel with requirepass, primary with requirepass: sentinelPassword and password', async (t) => {
  const primary = await startRedis({ password: PASSWORD });
  t.teardown(() => primary.stop());
  const sentinel = await startRedisSentinel({ masterName: 'state', masterPort: primary.port, masterPassword: PASSWORD, password: SENTINEL_PASSWORD });
  t.teardown(() => sentinel.stop());
  const sentinels = [{ host: '127.0.0.1', port: sentinel.port }];

  await t.test('both passwords right → the backend serves', async (t) => {
    await provesItServes(t, redisConfig({ sentinels, name: 'state', password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD }), 'n2/1');
  });
  await t.test("a wrong primary password → not ready, naming authentication, the password nowhere", async (t) => {
    await provesAuthRefused(t, redisConfig({ sentinels, name: 'state', password: WRONG, sentinelPassword: SENTINEL_PASSWORD }), /WRONGPASS/, [WRONG, PASSWORD, SENTINEL_PASSWORD]);
  });
});
