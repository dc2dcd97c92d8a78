import { isIP } from 'node:net';
import { EpcError } from '../../errors.js';
import type { MwTransportProtocol } from './transport.js';

/** One Mw listener: where to bind and what to put in Via/Record-Route when that differs. */
export interface ListenerConfig {
  readonly transport: MwTransportProtocol;
  /** Address to bind (IPv6 with or without brackets). */
  readonly host: string;
  /** 0 picks an ephemeral port. */
  readonly port: number;
  /** The sent-by for Via (RFC 3261 §18.1.1) when the bound address is a wildcard or behind NAT. */
  readonly advertise?: { readonly host: string; readonly port?: number };
}

const PROTOCOLS: readonly MwTransportProtocol[] = ['udp', 'tcp', 'tls'];

/**
 * Parses `udp:127.0.0.1:5060`, `tcp:[::1]:5060` or `tls:0.0.0.0:5061`; throws
 * EPC_ERR_CONFIG_INVALID with the offending text otherwise.
 */
export function parseListenerSpec(spec: string): ListenerConfig {
  const match = /^(udp|tcp|tls):(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(spec.trim().toLowerCase());
  const invalid = (why: string): EpcError =>
    new EpcError('EPC_ERR_CONFIG_INVALID', `listener "${spec}" ${why} (expected transport:host:port, e.g. udp:127.0.0.1:5060)`);
  if (!match) throw invalid('is not transport:host:port');
  const [, transport, rawHost, rawPort] = match;
  const port = Number(rawPort);
  if (port > 65535) throw invalid('has a port above 65535');
  const host = rawHost!.startsWith('[') ? rawHost!.slice(1, -1) : rawHost!;
  if (rawHost!.startsWith('[') && isIP(host) !== 6) throw invalid('has an invalid IPv6 address');
  if (!PROTOCOLS.includes(transport as MwTransportProtocol)) throw invalid('names an unknown transport');
  return { transport: transport as MwTransportProtocol, host, port };
}

/** A host as written in Via sent-by / SIP URIs: IPv6 references in brackets (RFC 3261 §25.1). */
export function hostForUri(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

export function isWildcardAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}
