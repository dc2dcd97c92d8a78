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
  /** Issue 15 overload control: REGISTERs per second per W2 connection ... */
  readonly registrationRatePerClient: RateLimitConfig;
  /** ... and per source IP. */
  readonly registrationRatePerIp: RateLimitConfig;
  /** Initial INVITEs per second per W2 connection ... */
  readonly callRatePerClient: RateLimitConfig;
  /** ... and per source IP. */
  readonly callRatePerIp: RateLimitConfig;
  /** WebSocket message bytes per second per connection (beyond: the socket is not read for a while). */
  readonly bytesPerConnection: RateLimitConfig;
  /** WebSocket messages per second per connection (beyond: the socket is not read for a while) ... */
  readonly framesPerConnection: RateLimitConfig;
  /** ... and once over it for a while straight (a flood, not a burst), a much lower rate. */
  readonly sustainedFlood: SustainedFloodConfig;
  /** WebSocket messages per second per source IP (beyond: the sending socket is not read for a while). */
  readonly framesPerIp: RateLimitConfig;
  /** New TCP connections per second per source IP on the W2 listener (beyond: closed at accept). */
  readonly connectionRatePerIp: RateLimitConfig;
}

/** `w2.limits.sustainedFlood`: a connection over its framesPerConnection budget for `afterMs` straight is read at `framesPerSecond`. */
export interface SustainedFloodConfig {
  readonly afterMs: number;
  readonly framesPerSecond: number;
}

/** A token bucket: `burst` at once, `ratePerSecond` on average. */
export interface RateLimitConfig {
  readonly ratePerSecond: number;
  readonly burst: number;
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
  readonly overload: MwOverloadConfig;
  readonly failover: MwFailoverConfig;
}

/** mw.overload: the per-node bound on requests toward the IMS core (issue 15). */
export interface MwOverloadConfig {
  /** Forwarded requests still without any response. */
  readonly maxOutstanding: number;
  /** Requests waiting for a slot; 0: none wait. */
  readonly maxQueued: number;
  readonly maxQueueWaitMs: number;
  readonly retryAfterSeconds: number;
}

/** mw.failover: RFC 3263 §4.3 failover to the next target when one stays silent. */
export interface MwFailoverConfig {
  /** 0: only on timeout, transport error, 503, 408. */
  readonly noAnswerMs: number;
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
  /** This node's name in flow tokens, ICIDs and the directories (cluster-unique); default: the host name. */
  readonly nodeId?: string;
  /**
   * The URI every node puts in Path and Record-Route (a DNS name or SRV target that reaches all
   * nodes, RFC 3263); undefined: the node's own Mw address.
   */
  readonly mwUri?: string;
  /** The shared state home (core/state); undefined: memory, one node. */
  readonly redis?: RedisConfig;
  /**
   * How often a clustered node renews its NodeRecord (a node silent for 3 beats is dead and a
   * survivor releases its calls). Default 5.
   */
  readonly heartbeatSeconds: number;
  /**
   * Issue #15 "Faults": how long the registrations of a node that died (SIGKILL) or left
   * (SIGTERM) stay in the shared store for a JSON-RPC/XMPP client to resume on another node with
   * no REGISTER on Mw (the virtual UE's bindings only; sip-ws clients register again). Default 120.
   */
  readonly adoptGraceSeconds: number;
}

/** cluster.redis: exactly one of one Redis (url), a Sentinel-monitored primary (sentinels + name), a Redis Cluster (clusterNodes). */
export interface RedisConfig {
  /** e.g. `redis://127.0.0.1:6379/0` (`rediss://` for TLS). Secret parts (password) are never logged. */
  readonly url?: string;
  readonly sentinels?: readonly { readonly host: string; readonly port: number }[];
  /** The Sentinel master name (with `sentinels`). */
  readonly name?: string;
  /** Redis Cluster seed nodes: the client learns every master from them (CLUSTER SLOTS). */
  readonly clusterNodes?: readonly { readonly host: string; readonly port: number }[];
  /** Redis 6 ACL user (sentinels / clusterNodes only: a url carries its own). */
  readonly username?: string;
  /** AUTH password of the primary (sentinels) or of every cluster node (clusterNodes); never logged. */
  readonly password?: string;
  /** AUTH password of the Sentinels themselves (sentinels only); never logged. */
  readonly sentinelPassword?: string;
  /** TLS (system CAs) to every Redis connection (sentinels / clusterNodes only: a url says rediss://); set only when true. */
  readonly tls?: true;
  /** Prefix of every key (several deployments on one Redis); default `epcscf:`. */
  readonly keyPrefix: string;
  /** A Redis command that takes longer fails (EPC_ERR_STATE_UNAVAILABLE, 503 to the client); default 1000. */
  readonly commandTimeoutMs: number;
  /** A dialog or media-leg record lives this long after its last change (a safety net); default 24 h. */
  readonly dialogTtlMs: number;
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
  readonly ng?: NgMediaConfig;
  /** rtpengine `direction` interface names, for a multi-homed gateway. */
  readonly interfaces?: { readonly wic: string; readonly ims: string };
  /** How often the media-leg audit releases legs no dialog or pending transaction owns; 0 disables. */
  readonly auditIntervalSeconds: number;
  /** A leg acted on more recently than this is never an orphan. */
  readonly auditGraceSeconds: number;
  readonly gateway: MediaGatewaySettings;
  /** DTMF interworking RFC 4733 ⇄ SIP INFO (media-gw/README.md "DTMF"). */
  readonly dtmf: DtmfMode;
}

/** `media.ng`: one gateway, or a pool of them (core/pcscf/alg/media-pool.ts). */
export interface NgMediaConfig {
  /** The first gateway (the only one without `pool`). */
  readonly address: HostPort;
  /** Every gateway: `address` and `pool` entries, each once; one entry: no pool. */
  readonly gateways: readonly NgGatewayConfig[];
  readonly timeoutMs: number;
  readonly retries: number;
  /** Health checks of a pool. */
  readonly health: { readonly intervalSeconds: number; readonly downAfterFailures: number; readonly upAfterSuccesses: number };
}

export interface NgGatewayConfig {
  readonly address: HostPort;
  /** Share of new calls relative to the other gateways. */
  readonly weight: number;
}

/** `media.dtmf`: how DTMF crosses between the browser's RFC 4733 events and SIP INFO toward IMS. */
export type DtmfMode = 'auto' | 'rfc4733' | 'info';

export interface AdminConfig {
  /** Bearer key of /admin/* and /metrics; undefined: the admin API and metrics are off. */
  readonly bearerKey?: string;
}

/** Where an issuer's signing keys come from (a JWK Set, RFC 7517 §5). */
export type JwksSource =
  /** A JWKS file (absolute path); re-read when a token names a key it lacks and the file changed. */
  | { readonly file: string }
  /** A JWKS URL (https in production): cached, re-fetched for an unknown kid (key rotation). */
  | { readonly url: string };

/** `webAuth.issuers[]`: one WWSF/WAF this operator has an agreement with (TS 24.371 scenarios 2/3). */
export interface WebAuthIssuer {
  /** The token's `iss`. */
  readonly issuer: string;
  /** The `aud` this eP-CSCF accepts from that issuer. */
  readonly audience: string;
  readonly jwks: JwksSource;
  /** When set, the only W2 page origins (WebSocket handshake Origin) its tokens are used from. */
  readonly origins?: readonly string[];
  /** Scenario 3: the IMPUs this WWSF may hand out; a token's `impu` outside it is refused. */
  readonly impuPool?: readonly string[];
  /**
   * false (default): an expired token stops new initial requests on its flow (R-REG-3) but a
   * live registration is refreshed; true: refreshes are refused and the P-CSCF de-registers
   * the flow's trusted-node bindings at expiry.
   */
  readonly expiryEndsRegistration: boolean;
}

/** `mmtel`: the MMTel services the virtual UE (jsonrpc-ws, xmpp-ws) performs (TS 24.173). */
export interface MmtelConfig {
  /** CONF (TS 24.605 §4.2.1): configured, or derived from mw.domain per TS 23.003 §13.10. */
  readonly conferenceFactoryUri: string;
}

/** `webAuth`: web-token validation and trusted-node registration (R-REG-1..10, 25). */
export interface WebAuthConfig {
  /** No issuers: web authentication is off (a REGISTER with a Bearer token gets 403). */
  readonly issuers: readonly WebAuthIssuer[];
  /** Tolerance on exp/nbf. */
  readonly clockSkewSeconds: number;
  /** The integrity-protected value of the trusted-node Authorization on Mw (TS 24.229 §5.4.1.2.2). */
  readonly integrityProtected: string;
  /** After a JWKS URL fetch, how long an unknown kid does not trigger another fetch. */
  readonly jwksCooldownSeconds: number;
  /** A JWKS URL is re-fetched when its copy is older than this. */
  readonly jwksMaxAgeSeconds: number;
  /** Deadline of one JWKS URL fetch (then 503 Token keys unavailable). */
  readonly jwksTimeoutMs: number;
}

/** `ut`: service configuration over Ut (TS 24.623), proxied to an XCAP server; off without `xcapRoot`. */
export interface UtConfig {
  /** The XCAP root URI (RFC 4825 §6.1) of the operator's XCAP server / AS; undefined: Ut off. */
  readonly xcapRoot?: URL;
  /** Deadline of one request to the XCAP server (then EPC_ERR_UT_UNAVAILABLE, HTTP 502). */
  readonly timeoutMs: number;
  /** Largest XCAP body, either direction. */
  readonly maxBodyBytes: number;
  /** The W2 REST endpoint's path (the XCAP root sip-ws clients use). */
  readonly restPath: string;
  /** REST without a Bearer token: forward with the client's own Authorization (digest with the XCAP server), or answer 401. */
  readonly passDigestToXcap: boolean;
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
  readonly webAuth: WebAuthConfig;
  readonly ut: UtConfig;
  readonly mmtel: MmtelConfig;
  readonly log: { readonly level: LogLevel };
}
