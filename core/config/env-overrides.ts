/**
 * Environment variables that override config keys (applied after the file is read, before
 * validation, so an override is checked like the file). The table is the documentation:
 *
 *   EPCSCF_W2_LISTEN                  w2.listen                 127.0.0.1:8080
 *   EPCSCF_W2_ALLOWED_ORIGINS         w2.allowedOrigins         comma-separated; empty = any
 *   EPCSCF_W2_TLS_CERT                w2.tls.cert               PEM file
 *   EPCSCF_W2_TLS_KEY                 w2.tls.key                PEM file
 *   EPCSCF_W2_MAX_FRAME_BYTES         w2.maxFrameBytes          integer
 *   EPCSCF_W2_PING_INTERVAL_SECONDS   w2.pingIntervalSeconds    number, 0 disables
 *   EPCSCF_W2_MAX_CONNECTIONS                      w2.limits.maxConnections                       integer
 *   EPCSCF_W2_MAX_CONNECTIONS_PER_IP               w2.limits.maxConnectionsPerIp                  integer
 *   EPCSCF_W2_UPGRADE_TIMEOUT_SECONDS              w2.limits.upgradeTimeoutSeconds                number
 *   EPCSCF_W2_FIRST_FRAME_TIMEOUT_SECONDS          w2.limits.firstFrameTimeoutSeconds             number
 *   EPCSCF_W2_CLOSE_TIMEOUT_SECONDS                w2.limits.closeTimeoutSeconds                  number
 *   EPCSCF_W2_MAX_CALLS_PER_CLIENT                 w2.limits.maxCallsPerClient                    integer
 *   EPCSCF_W2_MAX_CALLS_PER_IP                     w2.limits.maxCallsPerIp                        integer
 *   EPCSCF_W2_MAX_PENDING_TRANSACTIONS_PER_CONNECTION  w2.limits.maxPendingTransactionsPerConnection  integer
 *   EPCSCF_W2_MAX_REGISTRATIONS_PER_IP             w2.limits.maxRegistrationsPerIp                integer
 *   EPCSCF_W2_REGISTRATIONS_PER_SECOND_PER_CLIENT  w2.limits.registrationRatePerClient.ratePerSecond  number
 *   EPCSCF_W2_REGISTRATIONS_PER_SECOND_PER_IP      w2.limits.registrationRatePerIp.ratePerSecond  number
 *   EPCSCF_W2_CALLS_PER_SECOND_PER_CLIENT          w2.limits.callRatePerClient.ratePerSecond      number
 *   EPCSCF_W2_CALLS_PER_SECOND_PER_IP              w2.limits.callRatePerIp.ratePerSecond          number
 *   EPCSCF_W2_BYTES_PER_SECOND_PER_CONNECTION      w2.limits.bytesPerConnection.ratePerSecond     number
 *   EPCSCF_W2_FRAMES_PER_SECOND_PER_CONNECTION     w2.limits.framesPerConnection.ratePerSecond    number
 *   EPCSCF_W2_FRAMES_PER_SECOND_PER_IP             w2.limits.framesPerIp.ratePerSecond            number
 *   EPCSCF_W2_CONNECTIONS_PER_SECOND_PER_IP        w2.limits.connectionRatePerIp.ratePerSecond    number
 *   EPCSCF_MW_MAX_OUTSTANDING                      mw.overload.maxOutstanding                     integer
 *   EPCSCF_MW_FAILOVER_NO_ANSWER_SECONDS           mw.failover.noAnswerSeconds                    number
 *   EPCSCF_MW_LISTEN                  mw.listen                 comma-separated, e.g. udp:0.0.0.0:5060,tcp:0.0.0.0:5060
 *   EPCSCF_MW_NEXTHOP                 mw.nextHop                SIP URI; empty = the embedded dev IMS core
 *   EPCSCF_MW_DOMAIN                  mw.domain
 *   EPCSCF_MW_VISITED_NETWORK_ID      mw.visitedNetworkId
 *   EPCSCF_MEDIA_MODE                 media.mode                in-process, ng or off
 *   EPCSCF_MEDIA_NG_ADDRESS           media.ng.address          ip:port of our epcscf-media-gw or rtpengine
 *   EPCSCF_MEDIA_NG_POOL              media.ng.pool             ip:port,ip:port,... gateways as one pool
 *   EPCSCF_ADMIN_KEY                  admin.bearerKey           bearer key of /admin/* and /metrics
 *   EPCSCF_CLUSTER_FLOW_SECRET        cluster.flowSecret        flow-token HMAC key (>= 32 characters)
 *   EPCSCF_CLUSTER_NODE_ID            cluster.nodeId            this node's cluster-unique name
 *   EPCSCF_CLUSTER_MW_URI             cluster.mwUri             the Path/Record-Route URI of every node
 *   EPCSCF_CLUSTER_REDIS_URL          cluster.redis.url         redis://host:port/db of the shared state
 *   EPCSCF_CLUSTER_REDIS_CLUSTER_NODES  cluster.redis.clusterNodes  host:port,host:port Redis Cluster seed nodes
 *   EPCSCF_CLUSTER_REDIS_PASSWORD     cluster.redis.password    AUTH password (sentinels / clusterNodes), taken verbatim
 *   EPCSCF_LOG_LEVEL                  log.level
 */

import { parseHostPortList } from './redis-config.js';

/** secret: taken verbatim (a password may begin or end with a space). */
type Kind = 'string' | 'list' | 'number' | 'optional-string' | 'host-port-list' | 'secret';

const OVERRIDES: ReadonlyArray<readonly [variable: string, path: readonly string[], kind: Kind]> = [
  ['EPCSCF_W2_LISTEN', ['w2', 'listen'], 'string'],
  ['EPCSCF_ADMIN_KEY', ['admin', 'bearerKey'], 'string'],
  ['EPCSCF_W2_ALLOWED_ORIGINS', ['w2', 'allowedOrigins'], 'list'],
  ['EPCSCF_W2_TLS_CERT', ['w2', 'tls', 'cert'], 'string'],
  ['EPCSCF_W2_TLS_KEY', ['w2', 'tls', 'key'], 'string'],
  ['EPCSCF_W2_MAX_FRAME_BYTES', ['w2', 'maxFrameBytes'], 'number'],
  ['EPCSCF_W2_PING_INTERVAL_SECONDS', ['w2', 'pingIntervalSeconds'], 'number'],
  ['EPCSCF_W2_MAX_CONNECTIONS', ['w2', 'limits', 'maxConnections'], 'number'],
  ['EPCSCF_W2_MAX_CONNECTIONS_PER_IP', ['w2', 'limits', 'maxConnectionsPerIp'], 'number'],
  ['EPCSCF_W2_UPGRADE_TIMEOUT_SECONDS', ['w2', 'limits', 'upgradeTimeoutSeconds'], 'number'],
  ['EPCSCF_W2_FIRST_FRAME_TIMEOUT_SECONDS', ['w2', 'limits', 'firstFrameTimeoutSeconds'], 'number'],
  ['EPCSCF_W2_CLOSE_TIMEOUT_SECONDS', ['w2', 'limits', 'closeTimeoutSeconds'], 'number'],
  ['EPCSCF_W2_MAX_CALLS_PER_CLIENT', ['w2', 'limits', 'maxCallsPerClient'], 'number'],
  ['EPCSCF_W2_MAX_CALLS_PER_IP', ['w2', 'limits', 'maxCallsPerIp'], 'number'],
  ['EPCSCF_W2_MAX_PENDING_TRANSACTIONS_PER_CONNECTION', ['w2', 'limits', 'maxPendingTransactionsPerConnection'], 'number'],
  ['EPCSCF_W2_MAX_REGISTRATIONS_PER_IP', ['w2', 'limits', 'maxRegistrationsPerIp'], 'number'],
  ['EPCSCF_W2_REGISTRATIONS_PER_SECOND_PER_CLIENT', ['w2', 'limits', 'registrationRatePerClient', 'ratePerSecond'], 'number'],
  ['EPCSCF_W2_REGISTRATIONS_PER_SECOND_PER_IP', ['w2', 'limits', 'registrationRatePerIp', 'ratePerSecond'], 'number'],
  ['EPCSCF_W2_CALLS_PER_SECOND_PER_CLIENT', ['w2', 'limits', 'callRatePerClient', 'ratePerSecond'], 'number'],
  ['EPCSCF_W2_CALLS_PER_SECOND_PER_IP', ['w2', 'limits', 'callRatePerIp', 'ratePerSecond'], 'number'],
  ['EPCSCF_W2_BYTES_PER_SECOND_PER_CONNECTION', ['w2', 'limits', 'bytesPerConnection', 'ratePerSecond'], 'number'],
  ['EPCSCF_W2_FRAMES_PER_SECOND_PER_CONNECTION', ['w2', 'limits', 'framesPerConnection', 'ratePerSecond'], 'number'],
  ['EPCSCF_W2_FRAMES_PER_SECOND_PER_IP', ['w2', 'limits', 'framesPerIp', 'ratePerSecond'], 'number'],
  ['EPCSCF_W2_CONNECTIONS_PER_SECOND_PER_IP', ['w2', 'limits', 'connectionRatePerIp', 'ratePerSecond'], 'number'],
  ['EPCSCF_MW_MAX_OUTSTANDING', ['mw', 'overload', 'maxOutstanding'], 'number'],
  ['EPCSCF_MW_FAILOVER_NO_ANSWER_SECONDS', ['mw', 'failover', 'noAnswerSeconds'], 'number'],
  ['EPCSCF_MW_LISTEN', ['mw', 'listen'], 'list'],
  ['EPCSCF_MW_NEXTHOP', ['mw', 'nextHop'], 'optional-string'],
  ['EPCSCF_MW_DOMAIN', ['mw', 'domain'], 'string'],
  ['EPCSCF_MW_VISITED_NETWORK_ID', ['mw', 'visitedNetworkId'], 'string'],
  ['EPCSCF_MEDIA_MODE', ['media', 'mode'], 'string'],
  ['EPCSCF_MEDIA_NG_ADDRESS', ['media', 'ng', 'address'], 'string'],
  ['EPCSCF_MEDIA_NG_POOL', ['media', 'ng', 'pool'], 'list'],
  ['EPCSCF_CLUSTER_FLOW_SECRET', ['cluster', 'flowSecret'], 'string'],
  ['EPCSCF_CLUSTER_NODE_ID', ['cluster', 'nodeId'], 'string'],
  ['EPCSCF_CLUSTER_MW_URI', ['cluster', 'mwUri'], 'string'],
  ['EPCSCF_CLUSTER_REDIS_URL', ['cluster', 'redis', 'url'], 'string'],
  ['EPCSCF_CLUSTER_REDIS_CLUSTER_NODES', ['cluster', 'redis', 'clusterNodes'], 'host-port-list'],
  ['EPCSCF_CLUSTER_REDIS_PASSWORD', ['cluster', 'redis', 'password'], 'secret'],
  ['EPCSCF_LOG_LEVEL', ['log', 'level'], 'string'],
];

export const ENV_OVERRIDE_VARIABLES: readonly string[] = OVERRIDES.map(([variable]) => variable);

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Writes the overrides present in `env` into `config` (a plain object from the file, modified
 * in place) and returns which dotted key each variable set, for error messages.
 */
export function applyEnvOverrides(config: Record<string, unknown>, env: Environment): Map<string, string> {
  const applied = new Map<string, string>();
  for (const [variable, path, kind] of OVERRIDES) {
    const raw = env[variable];
    if (raw === undefined) continue;
    const parent = ensurePath(config, path.slice(0, -1));
    if (parent === undefined) continue; // the file has a non-object there: validation reports it
    const key = path[path.length - 1] as string;
    if (kind === 'optional-string' && raw.trim() === '') {
      delete parent[key];
    } else {
      parent[key] = convert(raw, kind);
    }
    applied.set(path.join('.'), variable);
  }
  return applied;
}

function convert(raw: string, kind: Kind): unknown {
  switch (kind) {
    case 'host-port-list':
      return parseHostPortList(raw);
    case 'secret':
      return raw;
    case 'list':
      return raw.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
    case 'number': {
      // Keep a non-number as the string so validation reports it against the key.
      const value = Number(raw);
      return raw.trim() !== '' && Number.isFinite(value) ? value : raw;
    }
    default:
      return raw.trim();
  }
}

function ensurePath(root: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | undefined {
  let node = root;
  for (const key of path) {
    const next = node[key];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      node = next as Record<string, unknown>;
    } else if (next !== undefined) {
      return undefined;
    } else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  return node;
}
