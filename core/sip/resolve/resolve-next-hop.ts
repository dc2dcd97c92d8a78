import { isIP } from 'node:net';
import { EpcError } from '../../errors.js';
import { getParam, socketHost, type SipUri } from '../model/uri.js';
import type { MwTransportProtocol } from '../transport/transport.js';
import type { SipTarget } from '../transport/types.js';
import { NodeDnsLookup, type DnsLookup, type NaptrRecord } from './dns-lookup.js';
import { orderSrvRecords } from './srv-order.js';

export interface ResolveOptions {
  /** Default: a NodeDnsLookup on the system resolver configuration. */
  readonly dns?: DnsLookup;
  /**
   * A configured next hop (e.g. `mw.nextHop`): when non-empty these are the answer and DNS is
   * not used (RFC 3261 §16.6 step 6 allows a locally configured outbound proxy).
   */
  readonly staticTargets?: readonly SipTarget[];
  /** Transports we can use, in our preference order (default udp, tcp, tls). */
  readonly transports?: readonly MwTransportProtocol[];
  /** Include AAAA addresses after the A addresses of each host (default true). */
  readonly ipv6?: boolean;
  /** For the RFC 2782 weighted choice; [0, 1). */
  readonly random?: () => number;
}

/** RFC 3263 §4.1: the NAPTR services that name SIP transports we speak. */
const NAPTR_SERVICES: Readonly<Record<string, MwTransportProtocol>> = {
  'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls',
};

const SRV_PREFIX: Readonly<Record<MwTransportProtocol, string>> = {
  udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.',
};

/** RFC 3261 §19.1.2: 5060 for sip over UDP/TCP, 5061 for TLS. */
// One resolver for the process: a node:dns Resolver per request costs more than the lookup.
let sharedLookup: DnsLookup | undefined;
function defaultLookup(): DnsLookup {
  sharedLookup ??= new NodeDnsLookup();
  return sharedLookup;
}

export function defaultPort(transport: MwTransportProtocol): number {
  return transport === 'tls' ? 5061 : 5060;
}

/**
 * RFC 3263 §4: the ordered list of targets to try for `uri` (a Request-URI or the top Route).
 *
 * - §4.1 transport: the `transport` parameter; else UDP (sip) / TLS (sips) for a numeric IP or
 *   an explicit port; else NAPTR (order, then preference) among the services we support;
 *   else the first of `_sip._udp`, `_sip._tcp`, `_sips._tcp` with SRV records; else UDP/TLS.
 * - §4.2 address: numeric IP as is; explicit port → A/AAAA only; else SRV ordered by
 *   priority and RFC 2782 weights, each target's A then AAAA records; no SRV → A/AAAA with
 *   the default port.
 * A sips URI only ever yields TLS targets (RFC 3261 §26.2.2).
 * Rejects with EPC_ERR_SIP_RESOLVE when nothing is found.
 */
export async function resolveNextHop(uri: SipUri, options: ResolveOptions = {}): Promise<SipTarget[]> {
  if (options.staticTargets && options.staticTargets.length > 0) return [...options.staticTargets];
  const ctx = new ResolveContext(uri, options);
  const host = socketHost(uri.host);
  const forced = ctx.transportParam();
  const fallback: MwTransportProtocol = ctx.secure ? 'tls' : (ctx.supported.includes('udp') ? 'udp' : ctx.supported[0] ?? 'udp');

  if (isIP(host)) {
    const transport = forced ?? fallback;
    return [{ transport, host, port: uri.port ?? defaultPort(transport) }];
  }
  if (uri.port !== undefined) {
    return ctx.finish(await ctx.addressTargets(host, forced ?? fallback, uri.port));
  }
  if (forced) {
    const viaSrv = await ctx.srvTargets(SRV_PREFIX[forced] + host, forced);
    if (viaSrv.length > 0) return viaSrv;
    return ctx.finish(await ctx.addressTargets(host, forced, defaultPort(forced)));
  }

  const naptr = await ctx.usableNaptr(host);
  if (naptr.length > 0) {
    const targets: SipTarget[] = [];
    for (const record of naptr) {
      targets.push(...await ctx.srvTargets(record.replacement, NAPTR_SERVICES[record.service.toUpperCase()]!));
    }
    if (targets.length > 0) return dedupe(targets);
  }

  // RFC 3263 §4.1: no usable NAPTR: try SRV for each transport we support, in our preference.
  const candidates = ctx.secure ? (['tls'] as const) : ctx.supported;
  const perTransport = await Promise.all(candidates.map((t) => ctx.srvTargets(SRV_PREFIX[t] + host, t)));
  const viaSrv = perTransport.flat();
  if (viaSrv.length > 0) return dedupe(viaSrv);
  return ctx.finish(await ctx.addressTargets(host, fallback, defaultPort(fallback)));
}

class ResolveContext {
  readonly secure: boolean;
  readonly supported: readonly MwTransportProtocol[];
  readonly #uri: SipUri;
  readonly #dns: DnsLookup;
  readonly #ipv6: boolean;
  readonly #random: () => number;
  /** RFC 5922 §7.2: TLS peers are checked against the domain of the URI, not the SRV target. */
  readonly #domain: string | undefined;
  #lastError: EpcError | undefined;

  constructor(uri: SipUri, options: ResolveOptions) {
    this.#uri = uri;
    this.secure = uri.scheme === 'sips';
    this.supported = options.transports ?? ['udp', 'tcp', 'tls'];
    this.#dns = options.dns ?? defaultLookup();
    this.#ipv6 = options.ipv6 ?? true;
    this.#random = options.random ?? Math.random;
    const host = socketHost(uri.host);
    this.#domain = isIP(host) ? undefined : host.toLowerCase().replace(/\.$/, '');
  }

  transportParam(): MwTransportProtocol | undefined {
    const value = getParam(this.#uri.params, 'transport');
    if (value === undefined || value === null) return undefined;
    const lower = value.toLowerCase();
    let transport: MwTransportProtocol | undefined;
    if (lower === 'udp' && !this.secure) transport = 'udp';
    else if (lower === 'tcp') transport = this.secure ? 'tls' : 'tcp';
    else if (lower === 'tls') transport = 'tls';
    if (!transport || !this.supported.includes(transport)) {
      throw new EpcError('EPC_ERR_SIP_RESOLVE',
        `${this.#uri.scheme}: URI with transport=${value} cannot be reached over ${this.supported.join('/')} (RFC 3263 §4.1)`);
    }
    return transport;
  }

  /** NAPTR records with flag `s` for services we support, by order then preference. */
  async usableNaptr(host: string): Promise<NaptrRecord[]> {
    const records = await this.#guard(this.#dns.naptr(host));
    return records
      .filter((r) => {
        const transport = NAPTR_SERVICES[r.service.toUpperCase()];
        return r.flags.toLowerCase() === 's' && transport !== undefined && this.supported.includes(transport)
          && (!this.secure || transport === 'tls');
      })
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
  }

  async srvTargets(name: string, transport: MwTransportProtocol): Promise<SipTarget[]> {
    const records = orderSrvRecords(await this.#guard(this.#dns.srv(name)), this.#random);
    const targets: SipTarget[] = [];
    for (const record of records) targets.push(...await this.addressTargets(record.name, transport, record.port));
    return targets;
  }

  async addressTargets(name: string, transport: MwTransportProtocol, port: number): Promise<SipTarget[]> {
    const tls = transport === 'tls' && this.#domain !== undefined ? { tlsServerName: this.#domain } : {};
    if (isIP(name)) return [{ transport, host: name, port, ...tls }];
    const [v4, v6] = await Promise.all([
      this.#guard(this.#dns.a(name)),
      this.#ipv6 ? this.#guard(this.#dns.aaaa(name)) : Promise.resolve([]),
    ]);
    return [...v4, ...v6].map((host) => ({ transport, host, port, ...tls }));
  }

  /** The last step: an empty answer is a resolution failure that names the URI. */
  finish(targets: SipTarget[]): SipTarget[] {
    if (targets.length > 0) return dedupe(targets);
    const detail = this.#lastError ? `; last DNS error: ${this.#lastError.message}` : '';
    throw new EpcError('EPC_ERR_SIP_RESOLVE',
      `no address found for ${this.#uri.scheme}:${this.#uri.host} (RFC 3263: NAPTR, SRV and A/AAAA gave nothing${detail})`);
  }

  /** A failed query counts as "no records" so the next RFC 3263 step still runs. */
  async #guard<T>(query: Promise<T[]>): Promise<T[]> {
    try {
      return await query;
    } catch (err) {
      this.#lastError = err instanceof EpcError ? err : new EpcError('EPC_ERR_SIP_RESOLVE', String(err), { cause: err });
      return [];
    }
  }
}

/** Keeps the first occurrence of each transport/host/port (NAPTR and SRV may repeat targets). */
function dedupe(targets: readonly SipTarget[]): SipTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.transport}|${t.host}|${t.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
