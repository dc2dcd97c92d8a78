import { Resolver } from 'node:dns/promises';
import { EpcError } from '../../errors.js';

export interface NaptrRecord {
  readonly order: number;
  readonly preference: number;
  /** `s` (SRV next), `a` (A/AAAA next), `u`, `p` or empty (RFC 3403 §4.1); compared case-insensitively. */
  readonly flags: string;
  /** `SIP+D2U`, `SIP+D2T`, `SIPS+D2T`, ... (RFC 3263 §4.1). */
  readonly service: string;
  readonly regexp: string;
  readonly replacement: string;
}

export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  /** Target host; `.` or empty means "service not available here" (RFC 2782). */
  readonly name: string;
}

/**
 * The DNS queries RFC 3263 needs. "No such name" and "no records of that type" are an empty
 * list; any other failure (timeout, SERVFAIL, refused) rejects with EPC_ERR_SIP_RESOLVE.
 */
export interface DnsLookup {
  naptr(name: string): Promise<NaptrRecord[]>;
  srv(name: string): Promise<SrvRecord[]>;
  a(name: string): Promise<string[]>;
  aaaa(name: string): Promise<string[]>;
}

export interface NodeDnsLookupOptions {
  /** `['10.0.0.53', '127.0.0.1:5353']`; default: the system resolver configuration. */
  readonly servers?: readonly string[];
  /** Per-try timeout (default 2000 ms) and tries (default 2), passed to c-ares. */
  readonly timeoutMs?: number;
  readonly tries?: number;
}

/** Codes meaning "the name or the record type does not exist", which is an answer, not a fault. */
const EMPTY_ANSWER = new Set(['ENODATA', 'ENOTFOUND', 'ENONAME', 'NOTFOUND', 'NODATA']);

/** DnsLookup over node:dns/promises `Resolver` (c-ares, so no thread-pool `getaddrinfo`). */
export class NodeDnsLookup implements DnsLookup {
  readonly #resolver: Resolver;

  constructor(options: NodeDnsLookupOptions = {}) {
    this.#resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
    if (options.servers) this.#resolver.setServers([...options.servers]);
  }

  naptr(name: string): Promise<NaptrRecord[]> {
    return this.#query('NAPTR', name, () => this.#resolver.resolveNaptr(name));
  }

  srv(name: string): Promise<SrvRecord[]> {
    return this.#query('SRV', name, () => this.#resolver.resolveSrv(name));
  }

  a(name: string): Promise<string[]> {
    return this.#query('A', name, () => this.#resolver.resolve4(name));
  }

  aaaa(name: string): Promise<string[]> {
    return this.#query('AAAA', name, () => this.#resolver.resolve6(name));
  }

  /** Stops outstanding queries (they reject with ECANCELLED). */
  cancel(): void {
    this.#resolver.cancel();
  }

  async #query<T>(type: string, name: string, run: () => Promise<T[]>): Promise<T[]> {
    try {
      return await run();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (EMPTY_ANSWER.has(code)) return [];
      throw new EpcError('EPC_ERR_SIP_RESOLVE', `DNS ${type} query for ${name} failed: ${code || String(err)}`, { cause: err });
    }
  }
}
