/**
 * cluster.redis.username / password / sentinelPassword / tls (issue #15: a production Redis needs
 * AUTH and TLS): the keys reach the typed config for sentinels and clusterNodes, from the file or
 * EPCSCF_CLUSTER_REDIS_PASSWORD; with url they are a config error (the URL carries them); the
 * password never shows in an error message; and each option reaches ioredis (ioredisOptions /
 * ioredisClusterOptions): TLS cannot be exercised here without certificates, so this is its proof.
 */
import t from 'tap';
import { resolveConfig } from '../../../core/config/index.js';
import type { RedisConfig } from '../../../core/config/config-types.js';
import { ioredisClusterOptions, ioredisOptions } from '../../../core/state/redis/redis-link.js';

const noEnv = { configDir: '/etc/epcscf', env: {} };
const seeds = [{ host: '10.0.0.1', port: 7000 }];
const sentinels = [{ host: '10.0.0.1', port: 26379 }];
const SECRET = 'Sup3r-s3cret-pw';

function redisOf(redis: Record<string, unknown>, env: Record<string, string> = {}): RedisConfig {
  const config = resolveConfig({ cluster: { redis } }, { ...noEnv, env });
  if (config.cluster.redis === undefined) throw new Error('cluster.redis missing');
  return config.cluster.redis;
}

t.test('clusterNodes / sentinels: username, password, sentinelPassword and tls reach the config (tls only when true)', async (t) => {
  t.same(redisOf({ clusterNodes: seeds, username: 'epcscf', password: SECRET, tls: true }),
    { keyPrefix: 'epcscf:', commandTimeoutMs: 1000, dialogTtlMs: 86_400_000, clusterNodes: seeds, username: 'epcscf', password: SECRET, tls: true });
  const sentinel = redisOf({ sentinels, name: 'state', password: SECRET, sentinelPassword: 'sent-pw' });
  t.equal(sentinel.password, SECRET);
  t.equal(sentinel.sentinelPassword, 'sent-pw');
  t.equal(sentinel.tls, undefined, 'tls defaults to false (absent from the typed config)');
  t.equal(redisOf({ clusterNodes: seeds, tls: false }).tls, undefined, 'tls: false is the default');
});

t.test('EPCSCF_CLUSTER_REDIS_PASSWORD sets cluster.redis.password, verbatim', async (t) => {
  t.equal(redisOf({ clusterNodes: seeds, password: 'from-file' }, { EPCSCF_CLUSTER_REDIS_PASSWORD: ' env pw ' }).password, ' env pw ', 'over the file, spaces kept');
  t.equal(redisOf({ sentinels, name: 'm' }, { EPCSCF_CLUSTER_REDIS_PASSWORD: SECRET }).password, SECRET);
});

t.test('EPC_ERR_CONFIG_INVALID: with url the URL carries user, password and TLS', async (t) => {
  const invalid = (redis: Record<string, unknown>, message: RegExp, why: string, env: Record<string, string> = {}): void => {
    t.throws(() => resolveConfig({ cluster: { redis } }, { ...noEnv, env }), { code: 'EPC_ERR_CONFIG_INVALID', message }, why);
  };
  const url = 'redis://10.0.0.5:6379';
  invalid({ url, password: SECRET }, /cluster\.redis\.password: is for sentinels or clusterNodes; with cluster\.redis\.url put the password in the URL \(redis:\/\/user:password@host:port\)/, 'url + password');
  invalid({ url, username: 'u' }, /cluster\.redis\.username: is for sentinels or clusterNodes; with cluster\.redis\.url put the user in the URL/, 'url + username');
  invalid({ url, sentinelPassword: 'x' }, /cluster\.redis\.sentinelPassword: is for sentinels or clusterNodes/, 'url + sentinelPassword');
  invalid({ url, tls: true }, /cluster\.redis\.tls: is for sentinels or clusterNodes; with cluster\.redis\.url use a rediss:\/\/ URL/, 'url + tls');
  invalid({ url }, /cluster\.redis\.password: .*\(set by EPCSCF_CLUSTER_REDIS_PASSWORD\)/, 'url + the env password names the variable', { EPCSCF_CLUSTER_REDIS_PASSWORD: SECRET });
  invalid({ clusterNodes: seeds, sentinelPassword: 'x' }, /cluster\.redis\.sentinelPassword: is the password of the Sentinels and needs cluster\.redis\.sentinels/, 'sentinelPassword without sentinels');
  t.doesNotThrow(() => resolveConfig({ cluster: { redis: { url, tls: false } } }, noEnv), 'tls: false (the default) is fine with url');
});

t.test('a password never shows in a config error, whatever is wrong with it', async (t) => {
  for (const [redis, env] of [
    [{ url: 'redis://h', password: SECRET }, {}],
    [{ clusterNodes: seeds, password: 12345678 }, {}],
    [{ sentinels, name: 'm', sentinelPassword: 87654321 }, {}],
    [{ url: 'redis://h' }, { EPCSCF_CLUSTER_REDIS_PASSWORD: SECRET }],
  ] as const) {
    try {
      resolveConfig({ cluster: { redis } }, { ...noEnv, env });
      t.fail('accepted');
    } catch (error) {
      const message = (error as Error).message;
      t.match(message, /cluster\.redis\.\w*[pP]assword/, 'the key is named');
      t.notMatch(message, /Sup3r-s3cret-pw|12345678|87654321/, `the value is not: ${message.split('\n')[0] ?? ''}`);
    }
  }
});

t.test('ioredis options: AUTH and TLS reach the primary and Sentinels, or every cluster node', async (t) => {
  const sentinel = ioredisOptions(redisOf({ sentinels, name: 'state', username: 'epcscf', password: SECRET, sentinelPassword: 'sent-pw', tls: true }), 1000);
  t.match(sentinel, { username: 'epcscf', password: SECRET, sentinelPassword: 'sent-pw', tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} });
  const plain = ioredisOptions(redisOf({ sentinels, name: 'state' }), 1000);
  for (const key of ['username', 'password', 'sentinelPassword', 'tls', 'enableTLSForSentinelMode', 'sentinelTLS'] as const) t.equal(plain[key], undefined, `no ${key} unless configured`);

  const cluster = ioredisClusterOptions(1000, redisOf({ clusterNodes: seeds, username: 'epcscf', password: SECRET, tls: true }));
  t.match(cluster.redisOptions, { username: 'epcscf', password: SECRET, tls: {}, commandTimeout: 1000 }, 'every node connection: AUTH + TLS (system CAs)');
  const plainCluster = ioredisClusterOptions(1000, redisOf({ clusterNodes: seeds }));
  t.equal(plainCluster.redisOptions.tls, undefined, 'no TLS unless configured');
  t.equal(plainCluster.redisOptions.password, undefined);
});
