/** Parsing of the listen strings of the config: `127.0.0.1:8080`, `[::1]:8080`, `udp:127.0.0.1:5060`. */
import type { HostPort, MwListenPoint, MwTransport } from './config-types.js';

/** Returns undefined when the text is not host:port with a port in 0..65535. */
export function parseHostPort(text: string): HostPort | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return undefined;
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    return undefined; // a bare IPv6 address is ambiguous with the port: it needs brackets
  }
  return host.length > 0 ? { host, port } : undefined;
}

export function parseMwListen(text: string): MwListenPoint | undefined {
  const colon = text.indexOf(':');
  const transport = text.slice(0, colon);
  if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') return undefined;
  const address = parseHostPort(text.slice(colon + 1));
  return address && { transport: transport satisfies MwTransport, ...address };
}
