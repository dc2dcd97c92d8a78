/** RFC 3263 next-hop resolution (NAPTR → SRV → A/AAAA, or a static next hop) and failover. */
export { resolveNextHop, defaultPort } from './resolve-next-hop.js';
export type { ResolveOptions } from './resolve-next-hop.js';
export { NodeDnsLookup } from './dns-lookup.js';
export type { DnsLookup, NaptrRecord, SrvRecord, NodeDnsLookupOptions } from './dns-lookup.js';
export { orderSrvRecords } from './srv-order.js';
export { TargetSet, sendWithFailover, shouldTryNextTarget } from './target-set.js';
export type { AttemptOutcome, FailoverResult } from './target-set.js';
