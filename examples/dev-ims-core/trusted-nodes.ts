/**
 * The nodes the dev core trusts to have authenticated their users (TS 33.203 annex U): epcscf's
 * Mw addresses. Over UDP the source address and port must be one of them. Over TCP/TLS the
 * source port is ephemeral, so the source IP must match and the top Via's sent-by port must be
 * the trusted one (a demo: a real core would use a dedicated interface, TLS or IPsec).
 * A wildcard host (0.0.0.0, ::) trusts any source IP on that port.
 */
import { vias, type SipRequest } from '../../core/sip/index.js';
import type { SipSource } from '../../core/sip/transport/types.js';

export interface TrustedNodeAddress {
  readonly host: string;
  readonly port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

export class TrustedNodes {
  readonly #nodes: TrustedNodeAddress[] = [];

  constructor(nodes: readonly TrustedNodeAddress[] = []) {
    for (const node of nodes) this.add(node);
  }

  add(node: TrustedNodeAddress): void {
    const host = stripBrackets(node.host);
    if (!this.#nodes.some((n) => n.host === host && n.port === node.port)) this.#nodes.push({ host, port: node.port });
  }

  get size(): number {
    return this.#nodes.length;
  }

  trusts(source: SipSource, request: SipRequest): boolean {
    const address = stripBrackets(source.remoteAddress);
    const datagram = source.transport === 'udp';
    const port = datagram ? source.remotePort : vias(request)[0]?.port ?? 5060;
    return this.#nodes.some((n) => n.port === port && (WILDCARDS.has(n.host) || sameHost(n.host, address)));
  }
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** IPv4-mapped IPv6 (::ffff:127.0.0.1) names the same host as its IPv4 form. */
function sameHost(a: string, b: string): boolean {
  const plain = (h: string): string => (h.toLowerCase().startsWith('::ffff:') ? h.slice(7) : h.toLowerCase());
  return plain(a) === plain(b);
}
