/**
 * Mw transport guards on /metrics (issue 11): requests the parser refused (answered 400/513 or
 * dropped) and connections closed because their framing was lost or a message passed the size
 * cap. Read at scrape time from the transports' own counters.
 */
import { Counter, type Registry } from 'prom-client';

export interface MwTransportStatsSource {
  mwTransportStats(): readonly { readonly transport: string; readonly stats: { readonly malformedMessages: number; readonly framingErrors: number } }[];
}

export function registerMwTransportMetrics(registry: Registry, source: MwTransportStatsSource): void {
  counterFromTotals(registry, 'epcscf_mw_malformed_messages_total', 'Mw messages the SIP parser refused (requests answered 4xx/5xx, responses dropped), per transport',
    () => source.mwTransportStats().map(({ transport, stats }) => [transport, stats.malformedMessages]));
  counterFromTotals(registry, 'epcscf_mw_framing_errors_total', 'Mw stream connections closed: framing lost or a message past the size cap (after a 513 when one could be sent), per transport',
    () => source.mwTransportStats().map(({ transport, stats }) => [transport, stats.framingErrors]));
}

function counterFromTotals(registry: Registry, name: string, help: string, read: () => [string, number][]): void {
  const seen = new Map<string, number>();
  new Counter({
    name, help, labelNames: ['transport'], registers: [registry],
    collect() {
      for (const [transport, total] of read()) {
        const before = seen.get(transport) ?? 0;
        this.inc({ transport }, Math.max(0, total - before));
        seen.set(transport, total);
      }
    },
  });
}
