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

export interface W2Config {
  readonly listen: HostPort;
  readonly allowedOrigins: readonly string[];
  readonly tls?: TlsFiles;
  readonly maxFrameBytes: number;
  readonly pingIntervalMs: number;
}

export interface MwConfig {
  readonly listen: readonly MwListenPoint[];
  /** The I-CSCF/S-CSCF URI; undefined means the embedded dev IMS core (`useDevCore`). */
  readonly nextHop?: string;
  readonly useDevCore: boolean;
  readonly domain: string;
  readonly visitedNetworkId: string;
  readonly tls?: TlsFiles;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface EpcscfConfig {
  /** Directory relative paths in the config are resolved against (plugin files, TLS files). */
  readonly configDir: string;
  readonly w2: W2Config;
  readonly plugins: readonly PluginReference[];
  readonly mw: MwConfig;
  readonly log: { readonly level: LogLevel };
}
