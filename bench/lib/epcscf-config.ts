/**
 * The epcscf.yaml the W2-plugin benches run with: W2 on loopback with the per-IP caps lifted
 * (every bench client connects from 127.0.0.1), the chosen plugins with their flood limits
 * raised, Mw toward the IMS core stand-in, media off (signalling only), log level warn.
 */

/** Flood limits raised on every plugin: the defaults (jsonrpc-ws 20 req/s, xmpp-ws 20 stanzas/s per client) would cut a closed-loop client off. */
export const RAISED_FLOOD = { floodRatePerSecond: 1_000_000, floodBurst: 1_000_000 } as const;

export interface BenchPlugin {
  readonly name: 'sip-ws' | 'jsonrpc-ws' | 'xmpp-ws';
  /** Options beside (or overriding) the raised flood limits. */
  readonly options?: Readonly<Record<string, number | string>>;
}

export interface BenchEpcscfConfig {
  readonly w2Port: number;
  readonly mwPort: number;
  readonly corePort: number;
  readonly plugins: readonly BenchPlugin[];
  /** Mw transport toward the IMS core stand-in (default udp). */
  readonly mwTransport?: 'udp' | 'tcp';
  /** cluster.nodeId: several processes on one host would otherwise all take the host name. */
  readonly nodeId?: string;
  /** The tree predates issue #15's rate keys (bench/hotpath's baseline build): leave them out. */
  readonly withoutRateLimits?: boolean;
}

/**
 * Issue #15's per-client and per-IP rates, lifted: every bench client connects from 127.0.0.1 and
 * a closed-loop client registers or calls many times a second (the defaults allow 1/s per client).
 */
export const RAISED_RATES = {
  registrationRatePerClient: { ratePerSecond: 1_000_000, burst: 1_000_000 },
  registrationRatePerIp: { ratePerSecond: 1_000_000, burst: 1_000_000 },
  callRatePerClient: { ratePerSecond: 1_000_000, burst: 1_000_000 },
  callRatePerIp: { ratePerSecond: 1_000_000, burst: 1_000_000 },
  bytesPerConnection: { ratePerSecond: 1_000_000_000, burst: 1_000_000_000 },
  framesPerIp: { ratePerSecond: 1_000_000, burst: 1_000_000 },
  framesPerConnection: { ratePerSecond: 1_000_000, burst: 1_000_000 },
  connectionRatePerIp: { ratePerSecond: 1_000_000, burst: 1_000_000 },
} as const;

export function benchEpcscfConfigYaml(config: BenchEpcscfConfig): string {
  const plugins = config.plugins.flatMap((plugin) => {
    const options = Object.entries({ ...RAISED_FLOOD, ...plugin.options }).map(([key, value]) => `${key}: ${value}`).join(', ');
    return [`  - name: ${plugin.name}`, `    options: { ${options} }`];
  });
  return [
    'w2:',
    `  listen: 127.0.0.1:${config.w2Port}`,
    '  allowedOrigins: []',
    // Every bench client connects from 127.0.0.1: the per-IP and per-node caps (w2.limits) would
    // refuse the connections, registrations and calls that a production node spreads over many IPs.
    // A closed-loop caller makes ~10 calls/s on one connection, and each answered INVITE's server
    // transaction stays open 32 s after its 2xx (RFC 6026 Timer L): more than the default 64 per
    // connection (a BYE would get 503), far more than a person calls.
    `  limits: { maxConnections: 100000, maxConnectionsPerIp: 100000, maxCallsPerIp: 1000000, maxRegistrationsPerIp: 1000000, maxPendingTransactionsPerConnection: 100000${config.withoutRateLimits === true ? '' : `, ${flowYaml(RAISED_RATES)}`} }`,
    'plugins:',
    ...plugins,
    'mw:',
    `  listen: [${config.mwTransport ?? 'udp'}:127.0.0.1:${config.mwPort}]`,
    `  nextHop: sip:127.0.0.1:${config.corePort};transport=${config.mwTransport ?? 'udp'}`,
    '  domain: ims.test',
    '  visitedNetworkId: epcscf.test',
    // Signalling only: the benches' plain offers are not WebRTC offers.
    'media:',
    '  mode: off',
    'log:',
    '  level: warn',
    ...(config.nodeId !== undefined ? ['cluster:', `  nodeId: ${config.nodeId}`] : []),
    '',
  ].join('\n');
}

/** `{ a: { b: 1 } }` as YAML flow style without braces around the whole: `a: { b: 1 }`. */
function flowYaml(value: Readonly<Record<string, Readonly<Record<string, number>>>>): string {
  return Object.entries(value).map(([key, inner]) => `${key}: { ${Object.entries(inner).map(([k, v]) => `${k}: ${v}`).join(', ')} }`).join(', ');
}
