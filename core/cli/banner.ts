/** What `epcscf` prints once it is up: the URLs to use (the issue: "printing the URLs to use"). */
import type { RedisConfig } from '../config/config-types.js';
import type { EpcscfRuntime } from './runtime.js';

export function readyBanner(runtime: EpcscfRuntime): string {
  const { server, pcscf, devCore, config, w2, media } = runtime;
  const scheme = server.w2.secure ? 'wss' : 'ws';
  const host = w2.host.includes(':') ? `[${w2.host}]` : w2.host;
  const lines = ['epcscf is ready', ''];
  for (const route of server.plugins.routes) {
    lines.push(`  W2 ${route.plugin.name}: ${scheme}://${host}:${w2.port}${route.path}  (subprotocol ${route.subprotocols.map((s) => `"${s}"`).join(', ')})`);
  }
  for (const address of pcscf.mwAddresses) lines.push(`  Mw: ${address.transport}:${address.host}:${address.port}`);
  if (devCore !== undefined) {
    lines.push(`  IMS core: embedded dev core at ${devCore.uri} (domain ${devCore.domain}; set mw.nextHop to use a real one)`);
    lines.push('  Dev users (digest username / password, public identity):');
    for (const user of devCore.users.users) {
      if (user.password === undefined) continue; // a guest: registered by web authentication only
      lines.push(`    ${user.user} / ${user.password}  sip:${user.user}@${devCore.domain}${user.tel !== undefined ? `  tel:${user.tel}` : ''}`);
    }
  } else {
    lines.push(`  IMS core: ${config.mw.nextHop ?? ''} (domain ${config.mw.domain})`);
  }
  lines.push(`  Media: ${media}`);
  lines.push(`  State: ${stateLine(config.cluster.redis)}`);
  const http = `${server.w2.secure ? 'https' : 'http'}://${host}:${w2.port}`;
  lines.push(`  Health: ${http}/health  ${http}/ready   API docs: ${http}/docs   JSON-RPC API: ${http}/openrpc.json`);
  lines.push(config.admin.bearerKey !== undefined
    ? `  Admin API: ${http}/admin/...  Metrics: ${http}/metrics  (Authorization: Bearer <admin.bearerKey>)`
    : '  Admin API and /metrics: off (set admin.bearerKey or EPCSCF_ADMIN_KEY)');
  lines.push('', '  Ctrl-C stops it.');
  return lines.join('\n');
}

/** Where the shared state lives; never the password of a Redis URL. */
export function stateLine(redis: RedisConfig | undefined): string {
  if (redis === undefined) return 'in memory (one node; set cluster.redis to share it between nodes)';
  // sentinels / clusterNodes: whether TLS and which ACL user, never the password.
  const access = `${redis.tls === true ? ', TLS' : ''}${redis.username !== undefined ? `, user ${redis.username}` : ''}${redis.password !== undefined ? ', password set' : ''}`;
  if (redis.sentinels !== undefined) {
    return `Redis primary "${redis.name ?? ''}" via Sentinel ${redis.sentinels.map((s) => `${s.host}:${s.port}`).join(', ')} (key prefix ${redis.keyPrefix}${access})`;
  }
  if (redis.clusterNodes !== undefined) {
    return `Redis Cluster via ${redis.clusterNodes.map((n) => `${n.host}:${n.port}`).join(', ')} (key prefix ${redis.keyPrefix}${access})`;
  }
  let where = 'Redis';
  try {
    const url = new URL(redis.url ?? '');
    where = `${url.protocol === 'rediss:' ? 'Redis (TLS)' : 'Redis'} at ${url.host}${url.pathname.length > 1 ? ` db ${url.pathname.slice(1)}` : ''}`;
  } catch { /* the schema checked the scheme; anything else stays unnamed */ }
  return `${where} (key prefix ${redis.keyPrefix})`;
}
