/**
 * cluster.redis rules the schema cannot say well, and the env form of `clusterNodes`: where the
 * shared state lives is exactly one of url (one Redis), sentinels + name (a Sentinel-monitored
 * primary) or clusterNodes (Redis Cluster seeds).
 */

/** Problems of `cluster.redis` (schema-valid data), each naming the key. */
export function redisProblems(cluster: Record<string, unknown> | undefined): string[] {
  const redis = cluster?.['redis'];
  if (redis === undefined || redis === null || typeof redis !== 'object') return [];
  const r = redis as Record<string, unknown>;
  const given = (['url', 'sentinels', 'clusterNodes'] as const).filter((key) => r[key] !== undefined);
  const problems: string[] = [];
  if (given.length === 0) {
    problems.push('cluster.redis: needs exactly one of url (one Redis), sentinels + name (Redis Sentinel) or clusterNodes (Redis Cluster seed nodes); EPCSCF_CLUSTER_REDIS_URL or EPCSCF_CLUSTER_REDIS_CLUSTER_NODES set them from the environment');
  } else if (given.length > 1) {
    problems.push(`cluster.redis: give exactly one of url, sentinels + name, clusterNodes (got ${given.join(' and ')})`);
  }
  if (r['sentinels'] !== undefined && r['name'] === undefined) problems.push('cluster.redis.sentinels: needs cluster.redis.name (the Sentinel master name)');
  if (r['name'] !== undefined && r['sentinels'] === undefined) problems.push('cluster.redis.name: is the Sentinel master name and needs cluster.redis.sentinels');
  // With url the URL itself carries user, password (redis://user:pass@host) and TLS (rediss://).
  if (r['url'] !== undefined) {
    for (const key of ['username', 'password', 'sentinelPassword'] as const) {
      if (r[key] !== undefined) problems.push(`cluster.redis.${key}: is for sentinels or clusterNodes; with cluster.redis.url put the ${key === 'username' ? 'user' : 'password'} in the URL (redis://user:password@host:port)`);
    }
    if (r['tls'] === true) problems.push('cluster.redis.tls: is for sentinels or clusterNodes; with cluster.redis.url use a rediss:// URL for TLS');
  }
  if (r['sentinelPassword'] !== undefined && r['sentinels'] === undefined) problems.push('cluster.redis.sentinelPassword: is the password of the Sentinels and needs cluster.redis.sentinels');
  return problems;
}

/**
 * `host:port,host:port` (EPCSCF_CLUSTER_REDIS_CLUSTER_NODES; `[v6]:port` for IPv6) as
 * clusterNodes entries. An entry that is not host:port stays a string, so validation reports it
 * against the key.
 */
export function parseHostPortList(raw: string): unknown[] {
  return raw.split(',').map((item) => item.trim()).filter((item) => item.length > 0).map((item) => {
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(item);
    if (match === null) return item;
    return { host: match[1] ?? match[2], port: Number(match[3]) };
  });
}
