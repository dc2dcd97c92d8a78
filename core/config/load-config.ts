/**
 * Loading the configuration: read YAML or JSON → normalise shorthands → apply environment
 * overrides → validate against schemas/config.schema.json (ajv fills the defaults) → check what
 * a schema cannot (port ranges, SIP URI syntax, TLS files for tls: listeners) → typed config.
 * Every problem is reported at once in one EPC_ERR_CONFIG_INVALID whose lines name the key:
 *   config.yaml: mw.listen[0]: expected transport:host:port with transport udp, tcp or tls ... (got "sctp:1.2.3.4:5060")
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { EpcError } from '../errors.js';
import { parseUri } from '../sip/index.js';
import type { PluginReference } from '../plugin/loader.js';
import type { AdminConfig, ClusterConfig, EpcscfConfig, HostPort, LogLevel, MediaConfig, MediaGatewaySettings, MediaPortRange, MmtelConfig, MwListenPoint, MwOverloadConfig, NextHopProbeConfig, NgGatewayConfig, NgMediaConfig, RateLimitConfig, SustainedFloodConfig, TlsFiles, UtConfig, W2Limits, WebAuthConfig, WebAuthIssuer } from './config-types.js';
import { applyEnvOverrides } from './env-overrides.js';
import type { Environment } from './env-overrides.js';
import { compileSchema, readRepositorySchema } from './json-schema.js';
import type { SchemaCheck } from './json-schema.js';
import { parseHostPort, parseMwListen } from './listen-address.js';
import { redisProblems } from './redis-config.js';

export interface ResolveConfigOptions {
  /** Where relative paths point; the config file's directory. */
  readonly configDir: string;
  /** Defaults to process.env. Pass `{}` to ignore the environment. */
  readonly env?: Environment;
  /** Names the source in error messages, e.g. the file name. */
  readonly source?: string;
}

let configCheck: SchemaCheck | undefined;

/** Reads and resolves a config file (`.json` as JSON, anything else as YAML). */
export async function loadConfigFile(file: string, options: { env?: Environment } = {}): Promise<EpcscfConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', `${file}: cannot read the config file: ${(error as Error).message}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', `${file}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`, { cause: error });
  }
  return resolveConfig(raw, { configDir: dirname(path), source: file, ...(options.env ? { env: options.env } : {}) });
}

/** Validates an already parsed config object (a copy is made) and returns the typed config. */
export function resolveConfig(raw: unknown, options: ResolveConfigOptions): EpcscfConfig {
  const source = options.source ?? 'config';
  const data: unknown = structuredClone(raw ?? {});
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', `${source}: (root): must be a mapping of keys (got ${JSON.stringify(data)})`);
  }
  const config = data as Record<string, unknown>;
  normaliseShorthands(config);
  const fromEnv = applyEnvOverrides(config, options.env ?? process.env);
  normaliseShorthands(config);

  configCheck ??= compileSchema(readRepositorySchema('config.schema.json'));
  const problems = configCheck(config);
  if (problems.length === 0) problems.push(...semanticProblems(config));
  if (problems.length > 0) {
    const lines = problems.map((problem) => `${source}: ${problem}${envNote(problem, fromEnv)}`);
    throw new EpcError('EPC_ERR_CONFIG_INVALID', lines.join('\n'));
  }
  return toTypedConfig(config, options.configDir);
}

/** `mw.listen: udp:...` (one string) and `plugins: [sip-ws]` (bare names) are accepted as shorthands. */
function normaliseShorthands(config: Record<string, unknown>): void {
  const mw = config['mw'];
  if (isRecord(mw) && typeof mw['listen'] === 'string') mw['listen'] = [mw['listen']];
  const plugins = config['plugins'];
  if (Array.isArray(plugins)) {
    config['plugins'] = plugins.map((entry: unknown) => (typeof entry === 'string' ? { name: entry } : entry));
  }
}

/** Rules JSON Schema cannot express well; run only on schema-valid data. */
function semanticProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const w2 = config['w2'] as Record<string, unknown>;
  const mw = config['mw'] as Record<string, unknown>;
  if (parseHostPort(w2['listen'] as string) === undefined) {
    problems.push(`w2.listen: expected host:port with a port in 0..65535 (got ${JSON.stringify(w2['listen'])})`);
  }
  const listen = mw['listen'] as string[];
  listen.forEach((entry, index) => {
    if (parseMwListen(entry) === undefined) {
      problems.push(`mw.listen[${index}]: expected transport:host:port with a port in 0..65535 (got ${JSON.stringify(entry)})`);
    }
  });
  if (listen.some((entry) => entry.startsWith('tls:')) && mw['tls'] === undefined) {
    problems.push('mw.tls: is required when mw.listen has a tls: entry (cert and key PEM files)');
  }
  const nextHop = mw['nextHop'];
  if (typeof nextHop === 'string') {
    try {
      const uri = parseUri(nextHop);
      if (uri.kind !== 'sip') problems.push(`mw.nextHop: expected a sip: or sips: URI (got ${JSON.stringify(nextHop)})`);
    } catch (error) {
      problems.push(`mw.nextHop: not a valid SIP URI: ${(error as Error).message} (got ${JSON.stringify(nextHop)})`);
    }
  }
  problems.push(...redisProblems(config['cluster'] as Record<string, unknown>));
  problems.push(...mediaProblems(config['media'] as Record<string, unknown>));
  problems.push(...webAuthProblems(config['webAuth'] as { issuers: { issuer: string }[] }));
  const factory = (config['mmtel'] as Record<string, unknown>)['conferenceFactoryUri'];
  if (typeof factory === 'string') {
    try {
      if (parseUri(factory).kind !== 'sip') problems.push(`mmtel.conferenceFactoryUri: expected a sip: or sips: URI (got ${JSON.stringify(factory)})`);
    } catch (error) {
      problems.push(`mmtel.conferenceFactoryUri: not a valid SIP URI: ${(error as Error).message} (got ${JSON.stringify(factory)})`);
    }
  }
  return problems;
}

function mediaProblems(media: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (media['mode'] === 'ng' && media['ng'] === undefined) problems.push('media.ng: is required when media.mode is ng (the gateway\'s ng address)');
  const ng = media['ng'] as Record<string, unknown> | undefined;
  if (ng !== undefined && ng['address'] !== undefined && parseHostPort(ng['address'] as string) === undefined) {
    problems.push(`media.ng.address: expected ip:port with a port in 1..65535 (got ${JSON.stringify(ng['address'])})`);
  }
  ngPoolEntries(ng).forEach((entry, index) => {
    if (parseHostPort(entry.address) === undefined) problems.push(`media.ng.pool[${index}]: expected ip:port with a port in 1..65535 (got ${JSON.stringify(entry.address)})`);
  });
  const gateway = media['gateway'] as { webrtc: { ports: MediaPortRange }; ims: { ports: MediaPortRange } };
  for (const side of ['webrtc', 'ims'] as const) {
    const { min, max } = gateway[side].ports;
    if (min > max) problems.push(`media.gateway.${side}.ports: min ${min} is above max ${max}`);
  }
  const [a, b] = [gateway.webrtc.ports, gateway.ims.ports];
  if (a.min <= b.max && b.min <= a.max) problems.push('media.gateway.ims.ports: overlaps media.gateway.webrtc.ports (each side needs its own range)');
  return problems;
}

function webAuthProblems(webAuth: { issuers: { issuer: string }[] }): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  webAuth.issuers.forEach(({ issuer }, index) => {
    if (seen.has(issuer)) problems.push(`webAuth.issuers[${index}].issuer: ${JSON.stringify(issuer)} is listed twice (one entry per issuer)`);
    seen.add(issuer);
  });
  return problems;
}

function envNote(problem: string, fromEnv: Map<string, string>): string {
  for (const [key, variable] of fromEnv) {
    if (problem.startsWith(`${key}:`) || problem.startsWith(`${key}[`) || problem.startsWith(`${key}.`)) return ` (set by ${variable})`;
  }
  return '';
}

function toTypedConfig(config: Record<string, unknown>, configDir: string): EpcscfConfig {
  const w2 = config['w2'] as Record<string, unknown>;
  const mw = config['mw'] as Record<string, unknown>;
  const log = config['log'] as Record<string, unknown>;
  const nextHop = mw['nextHop'] as string | undefined;
  const w2Tls = tlsFiles(w2['tls'], configDir);
  const mwTls = tlsFiles(mw['tls'], configDir);
  return {
    configDir,
    w2: {
      listen: parseHostPort(w2['listen'] as string) as NonNullable<ReturnType<typeof parseHostPort>>,
      allowedOrigins: w2['allowedOrigins'] as string[],
      ...(w2Tls ? { tls: w2Tls } : {}),
      maxFrameBytes: w2['maxFrameBytes'] as number,
      pingIntervalMs: Math.round((w2['pingIntervalSeconds'] as number) * 1000),
      limits: w2Limits(w2['limits'] as Record<string, unknown>),
    },
    plugins: config['plugins'] as PluginReference[],
    mw: {
      listen: (mw['listen'] as string[]).map((entry) => parseMwListen(entry) as MwListenPoint),
      ...(nextHop !== undefined ? { nextHop } : {}),
      useDevCore: nextHop === undefined,
      domain: mw['domain'] as string,
      visitedNetworkId: mw['visitedNetworkId'] as string,
      ...(mwTls ? { tls: mwTls } : {}),
      nextHopProbe: nextHopProbe(mw['nextHopProbe'] as Record<string, unknown>),
      overload: mwOverload(mw['overload'] as Record<string, number>),
      failover: { noAnswerMs: Math.round(((mw['failover'] as Record<string, number>)['noAnswerSeconds'] as number) * 1000) },
    },
    media: mediaConfig(config['media'] as Record<string, unknown>),
    admin: adminConfig(config['admin'] as Record<string, unknown>),
    cluster: clusterConfig(config['cluster'] as Record<string, unknown>),
    webAuth: webAuthConfig(config['webAuth'] as Record<string, unknown>, configDir),
    ut: utConfig(config['ut'] as Record<string, unknown>),
    mmtel: mmtelConfig(config['mmtel'] as Record<string, unknown>, mw['domain'] as string),
    log: { level: log['level'] as LogLevel },
  };
}

function w2Limits(limits: Record<string, unknown>): W2Limits {
  const ms = (seconds: unknown): number => Math.round(((seconds as number | undefined) ?? 0) * 1000);
  return {
    maxConnections: limits['maxConnections'] as number,
    maxConnectionsPerIp: limits['maxConnectionsPerIp'] as number,
    upgradeTimeoutMs: ms(limits['upgradeTimeoutSeconds']),
    firstFrameTimeoutMs: ms(limits['firstFrameTimeoutSeconds']),
    closeTimeoutMs: ms(limits['closeTimeoutSeconds']),
    maxCallsPerClient: limits['maxCallsPerClient'] as number,
    maxCallsPerIp: limits['maxCallsPerIp'] as number,
    maxPendingTransactionsPerConnection: limits['maxPendingTransactionsPerConnection'] as number,
    maxRegistrationsPerIp: limits['maxRegistrationsPerIp'] as number,
    registrationRatePerClient: limits['registrationRatePerClient'] as RateLimitConfig,
    registrationRatePerIp: limits['registrationRatePerIp'] as RateLimitConfig,
    callRatePerClient: limits['callRatePerClient'] as RateLimitConfig,
    callRatePerIp: limits['callRatePerIp'] as RateLimitConfig,
    bytesPerConnection: limits['bytesPerConnection'] as RateLimitConfig,
    framesPerConnection: limits['framesPerConnection'] as RateLimitConfig,
    sustainedFlood: sustainedFlood(limits['sustainedFlood'] as Record<string, number>),
    framesPerIp: limits['framesPerIp'] as RateLimitConfig,
    connectionRatePerIp: limits['connectionRatePerIp'] as RateLimitConfig,
  };
}

function sustainedFlood(flood: Record<string, number>): SustainedFloodConfig {
  return { afterMs: Math.round((flood['afterSeconds'] as number) * 1000), framesPerSecond: flood['framesPerSecond'] as number };
}

function mwOverload(overload: Record<string, number>): MwOverloadConfig {
  return {
    maxOutstanding: overload['maxOutstanding'] as number,
    maxQueued: overload['maxQueued'] as number,
    maxQueueWaitMs: Math.round((overload['maxQueueWaitSeconds'] as number) * 1000),
    retryAfterSeconds: overload['retryAfterSeconds'] as number,
  };
}

/** TS 24.605 §4.2.1: a configured factory URI, else the TS 23.003 §13.10 one of the home domain. */
function mmtelConfig(mmtel: Record<string, unknown>, domain: string): MmtelConfig {
  const configured = mmtel['conferenceFactoryUri'];
  return { conferenceFactoryUri: typeof configured === 'string' ? configured : `sip:mmtel@conf-factory.${domain}` };
}

function adminConfig(admin: Record<string, unknown>): AdminConfig {
  const bearerKey = admin['bearerKey'];
  return typeof bearerKey === 'string' ? { bearerKey } : {};
}

function clusterConfig(cluster: Record<string, unknown>): ClusterConfig {
  const text = (key: string): string | undefined => (typeof cluster[key] === 'string' ? cluster[key] : undefined);
  const flowSecret = text('flowSecret');
  const nodeId = text('nodeId');
  const mwUri = text('mwUri');
  const redis = cluster['redis'] as {
    url?: string; sentinels?: { host: string; port: number }[]; name?: string; username?: string; password?: string; sentinelPassword?: string; tls?: boolean; clusterNodes?: { host: string; port: number }[]; keyPrefix?: string; commandTimeoutSeconds?: number; dialogTtlSeconds?: number;
  } | undefined;
  const heartbeatSeconds = typeof cluster['heartbeatSeconds'] === 'number' ? cluster['heartbeatSeconds'] : 5;
  const adoptGraceSeconds = typeof cluster['adoptGraceSeconds'] === 'number' ? cluster['adoptGraceSeconds'] : 120;
  return {
    heartbeatSeconds, adoptGraceSeconds,
    ...(flowSecret !== undefined ? { flowSecret } : {}),
    ...(nodeId !== undefined ? { nodeId } : {}),
    ...(mwUri !== undefined ? { mwUri } : {}),
    ...(redis !== undefined ? {
      redis: {
        keyPrefix: redis.keyPrefix ?? 'epcscf:',
        commandTimeoutMs: Math.round((redis.commandTimeoutSeconds ?? 1) * 1000),
        dialogTtlMs: Math.round((redis.dialogTtlSeconds ?? 86_400) * 1000),
        ...(redis.url !== undefined ? { url: redis.url } : {}),
        ...(redis.sentinels !== undefined ? { sentinels: redis.sentinels } : {}),
        ...(redis.name !== undefined ? { name: redis.name } : {}),
        ...(redis.clusterNodes !== undefined ? { clusterNodes: redis.clusterNodes } : {}),
        ...(redis.username !== undefined ? { username: redis.username } : {}),
        ...(redis.password !== undefined ? { password: redis.password } : {}),
        ...(redis.sentinelPassword !== undefined ? { sentinelPassword: redis.sentinelPassword } : {}),
        ...(redis.tls === true ? { tls: true as const } : {}),
      },
    } : {}),
  };
}

function webAuthConfig(webAuth: Record<string, unknown>, configDir: string): WebAuthConfig {
  const issuers = (webAuth['issuers'] as Record<string, unknown>[]).map((entry): WebAuthIssuer => {
    const jwks = entry['jwks'] as { file?: string; url?: string };
    const origins = entry['origins'] as string[] | undefined;
    const pool = entry['impuPool'] as string[] | undefined;
    return {
      issuer: entry['issuer'] as string,
      audience: entry['audience'] as string,
      jwks: jwks.file !== undefined ? { file: resolve(configDir, jwks.file) } : { url: jwks.url as string },
      ...(origins !== undefined ? { origins } : {}),
      ...(pool !== undefined ? { impuPool: pool } : {}),
      expiryEndsRegistration: entry['expiryEndsRegistration'] as boolean,
    };
  });
  return {
    issuers,
    clockSkewSeconds: webAuth['clockSkewSeconds'] as number,
    integrityProtected: webAuth['integrityProtected'] as string,
    jwksCooldownSeconds: webAuth['jwksCooldownSeconds'] as number,
    jwksMaxAgeSeconds: webAuth['jwksMaxAgeSeconds'] as number,
    jwksTimeoutMs: webAuth['jwksTimeoutMs'] as number,
  };
}

function utConfig(ut: Record<string, unknown>): UtConfig {
  const root = ut['xcapRoot'];
  return {
    ...(typeof root === 'string' ? { xcapRoot: new URL(root) } : {}),
    timeoutMs: ut['timeoutMs'] as number,
    maxBodyBytes: ut['maxBodyBytes'] as number,
    restPath: ut['restPath'] as string,
    passDigestToXcap: ut['passDigestToXcap'] as boolean,
  };
}

function nextHopProbe(probe: Record<string, unknown>): NextHopProbeConfig {
  return {
    intervalMs: Math.round((probe['intervalSeconds'] as number) * 1000),
    failuresToDown: probe['failuresToDown'] as number,
    retryAfterSeconds: probe['retryAfterSeconds'] as number,
  };
}

function mediaConfig(media: Record<string, unknown>): MediaConfig {
  const ng = media['ng'] as Record<string, unknown> | undefined;
  const interfaces = media['interfaces'] as MediaConfig['interfaces'];
  return {
    mode: media['mode'] as MediaConfig['mode'],
    ...(ng ? {
      ng: ngMediaConfig(ng),
    } : {}),
    ...(interfaces ? { interfaces } : {}),
    auditIntervalSeconds: media['auditIntervalSeconds'] as number,
    auditGraceSeconds: media['auditGraceSeconds'] as number,
    gateway: media['gateway'] as MediaGatewaySettings,
    dtmf: (media['dtmf'] ?? 'auto') as MediaConfig['dtmf'],
  };
}

/** `media.ng.pool` entries as objects (an entry may be a bare `ip:port`). */
function ngPoolEntries(ng: Record<string, unknown> | undefined): { address: string; weight: number }[] {
  const pool = ng?.['pool'];
  if (!Array.isArray(pool)) return [];
  return pool.map((entry: unknown) => (typeof entry === 'string'
    ? { address: entry, weight: 1 }
    : { address: (entry as Record<string, unknown>)['address'] as string, weight: ((entry as Record<string, unknown>)['weight'] as number | undefined) ?? 1 }));
}

/** `address` and the `pool` entries, each gateway once (the first mention wins). */
function ngMediaConfig(ng: Record<string, unknown>): NgMediaConfig {
  const named = [...(typeof ng['address'] === 'string' ? [{ address: ng['address'], weight: 1 }] : []), ...ngPoolEntries(ng)];
  const gateways: NgGatewayConfig[] = [];
  for (const entry of named) {
    const address = parseHostPort(entry.address) as HostPort;
    if (!gateways.some((g) => g.address.host === address.host && g.address.port === address.port)) gateways.push({ address, weight: entry.weight });
  }
  const health = ng['health'] as NgMediaConfig['health'];
  return { address: (gateways[0] as NgGatewayConfig).address, gateways, timeoutMs: ng['timeoutMs'] as number, retries: ng['retries'] as number, health };
}

function tlsFiles(value: unknown, configDir: string): TlsFiles | undefined {
  if (!isRecord(value)) return undefined;
  return { cert: resolve(configDir, value['cert'] as string), key: resolve(configDir, value['key'] as string) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
