/**
 * cluster.redis.clusterNodes (issue #15: the Redis state backend on a multi-node Redis Cluster):
 * the seeds reach the typed config, from the file or EPCSCF_CLUSTER_REDIS_CLUSTER_NODES, and
 * where the state lives is exactly one of url, sentinels + name, clusterNodes.
 */
import t from 'tap';
import { resolveConfig } from '../../../core/config/index.js';

const noEnv = { configDir: '/etc/epcscf', env: {} };
const seeds = [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }];

t.test('cluster.redis.clusterNodes: the seed nodes reach the config with the usual defaults', async (t) => {
  const config = resolveConfig({ cluster: { redis: { clusterNodes: seeds } } }, noEnv);
  t.same(config.cluster.redis, { keyPrefix: 'epcscf:', commandTimeoutMs: 1000, dialogTtlMs: 86_400_000, clusterNodes: seeds });
});

t.test('EPCSCF_CLUSTER_REDIS_CLUSTER_NODES=host:port,host:port sets the seeds (IPv6 in brackets)', async (t) => {
  const config = resolveConfig({ cluster: { redis: { keyPrefix: 'p:' } } }, { ...noEnv, env: { EPCSCF_CLUSTER_REDIS_CLUSTER_NODES: '10.0.0.1:7000, [fd00::2]:7001' } });
  t.same(config.cluster.redis?.clusterNodes, [{ host: '10.0.0.1', port: 7000 }, { host: 'fd00::2', port: 7001 }]);
  t.equal(config.cluster.redis?.keyPrefix, 'p:');
  t.throws(() => resolveConfig({}, { ...noEnv, env: { EPCSCF_CLUSTER_REDIS_CLUSTER_NODES: '10.0.0.1' } }),
    { code: 'EPC_ERR_CONFIG_INVALID', message: /cluster\.redis\.clusterNodes.*EPCSCF_CLUSTER_REDIS_CLUSTER_NODES/s }, 'an entry without a port is refused, naming the variable');
});

t.test('EPC_ERR_CONFIG_INVALID unless exactly one of url, sentinels + name, clusterNodes', async (t) => {
  const invalid = (redis: Record<string, unknown>, message: RegExp, why: string): void => {
    t.throws(() => resolveConfig({ cluster: { redis } }, noEnv), { code: 'EPC_ERR_CONFIG_INVALID', message }, why);
  };
  invalid({ url: 'redis://10.0.0.1:6379', clusterNodes: seeds }, /cluster\.redis: give exactly one of url, sentinels \+ name, clusterNodes \(got url and clusterNodes\)/, 'url and clusterNodes');
  invalid({ sentinels: seeds, name: 'm', clusterNodes: seeds }, /got sentinels and clusterNodes/, 'sentinels and clusterNodes');
  invalid({ keyPrefix: 'p:' }, /cluster\.redis: needs exactly one of url .*sentinels \+ name .*clusterNodes/, 'none of them');
  invalid({ sentinels: seeds }, /cluster\.redis\.sentinels: needs cluster\.redis\.name/, 'sentinels without the master name');
  invalid({ clusterNodes: seeds, name: 'm' }, /cluster\.redis\.name: is the Sentinel master name and needs cluster\.redis\.sentinels/, 'a master name without sentinels');
  invalid({ clusterNodes: [] }, /clusterNodes/, 'no seed at all');
  invalid({ clusterNodes: [{ host: '10.0.0.1', port: 70000 }] }, /clusterNodes\[0\]\.port/, 'a port out of range');
});
