/**
 * Issue 11 #10 on /metrics: whether each Mw next hop answers, and how many requests were
 * answered 503 at once because theirs did not. Read at scrape time from the P-CSCF's monitor.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface NextHopSource {
  status(): readonly { readonly target: string; readonly up: boolean }[];
  readonly refused: number;
}

export function registerNextHopMetrics(registry: Registry, source: NextHopSource): void {
  new Gauge({
    name: 'epcscf_mw_next_hop_up',
    help: 'Mw next hop (transport:host:port) answering: 1 up, 0 down (OPTIONS keep-alive and transaction failures)',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      for (const { target, up } of source.status()) this.set({ target }, up ? 1 : 0);
    },
  });
  let counted = 0;
  new Counter({
    name: 'epcscf_mw_next_hop_refused_total',
    help: 'Requests from W2 answered 503 with Retry-After at once because their Mw next hop was down',
    registers: [registry],
    collect() {
      const now = source.refused;
      if (now > counted) this.inc(now - counted);
      counted = now;
    },
  });
}
