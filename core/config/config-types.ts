/** The typed, validated configuration (schemas/config.schema.json after defaults and env overrides). */
import type { PluginReference } from '../plugin/loader.js';

export interface HostPort {
  /** IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

export type MwTransport = 'udp' | 'tcp' | 'tls';

export interface MwListenPoint extends HostPort {
  readonly transport: MwTransport;
}

/** Absolute paths of PEM files. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

/** `w2.limits`: bounds per node, per source IP and per connection (issue 11). */
export interface W2Limits {
  /** Open TCP connections on the W2 listener. */
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Deadline for the HTTP request head (the upgrade) of a connection. */
  readonly upgradeTimeoutMs: number;
  /** Deadline for the first WebSocket message after the upgrade. */
  readonly firstFrameTimeoutMs: number;
  /** How long a server-initiated close waits for the client's close frame. */
  readonly closeTimeoutMs: number;
  /** Concurrent originated calls (dialogs + pending INVITEs) per W2 connection ... */
  readonly maxCallsPerClient: number;
  /** ... and per source IP. */
  readonly maxCallsPerIp: number;
  /** SIP server transactions open at once in the P-CSCF for one W2 connection (ACK/CANCEL never refused). */
  readonly maxPendingTransactionsPerConnection: number;
  /** Registration bindings held by all W2 connections of one source IP (refreshes always pass). */
  readonly maxRegistrationsPerIp: number;
}

export interface W2Config {
  readonly listen: HostPort;
  readonly allowedOrigins: readonly string[];
  readonly tls?: TlsFiles;
  readonly maxFrameBytes: number;
  readonly pingIntervalMs: number;
  readonly limits: W2Limits;
}

export interface MwConfig {
  readonly listen: readonly MwListenPoint[];
  /** The I-CSCF/S-CSCF URI; undefined means the embedded dev IMS core (`useDevCore`). */
  readonly nextHop?: string;
  readonly useDevCore: boolean;
  readonly domain: string;
  readonly visitedNetworkId: string;
  readonly tls?: TlsFiles;
  readonly nextHopProbe: NextHopProbeConfig;
}

/** mw.nextHopProbe: when an Mw next hop counts as down (issue 11 #10). */
export interface NextHopProbeConfig {
  /** OPTIONS keep-alive period and answer deadline; 0: no probes. */
  readonly intervalMs: number;
  readonly failuresToDown: number;
  /** Retry-After of the 503 answered while a target is down. */
  readonly retryAfterSeconds: number;
}

export interface ClusterConfig {
  /** Flow-token HMAC key; undefined: random per start. Secret: never logged. */
  readonly flowSecret?: string;
}

export interface MediaPortRange {
  readonly min: number;
  readonly max: number;
}

export interface MediaSideConfig {
  /** The local IP address media sockets bind to. */
  readonly host: string;
  /** The address written into SDP when it differs from `host`. */
  readonly advertisedAddress?: string;
  readonly ports: MediaPortRange;
}

/** Our media-gw (in this process, or `epcscf-media-gw`). */
export interface MediaGatewaySettings {
  readonly webrtc: MediaSideConfig;
  readonly ims: MediaSideConfig;
  readonly maxCalls: number;
  /** 0 disables. */
  readonly idleTimeoutSeconds: number;
  readonly consentTimeoutSeconds?: number;
  /** Relay worker threads; 0 relays in the main thread. */
  readonly relayWorkers: number;
}

export interface MediaConfig {
  /** in-process: our media-gw here; ng: a gateway over the ng protocol; off: SDP untouched. */
  readonly mode: 'in-process' | 'ng' | 'off';
  readonly ng?: { readonly address: HostPort; readonly timeoutMs: number; readonly retries: number };
  /** rtpengine `direction` interface names, for a multi-homed gateway. */
  readonly interfaces?: { readonly wic: string; readonly ims: string };
  /** How often the media-leg audit releases legs no dialog or pending transaction owns; 0 disables. */
  readonly auditIntervalSeconds: number;
  /** A leg acted on more recently than this is never an orphan. */
  readonly auditGraceSeconds: number;
  readonly gateway: MediaGatewaySettings;
}

export interface AdminConfig {
  /** Bearer key of /admin/* and /metrics; undefined: the admin API and metrics are off. */
  readonly bearerKey?: string;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface EpcscfConfig {
  /** Directory relative paths in the config are resolved against (plugin files, TLS files). */
  readonly configDir: string;
  readonly w2: W2Config;
  readonly plugins: readonly PluginReference[];
  readonly mw: MwConfig;
  readonly media: MediaConfig;
  readonly admin: AdminConfig;
  readonly cluster: ClusterConfig;
  readonly log: { readonly level: LogLevel };
}
