/**
 * Issue #15 on /metrics: each media gateway of an ng pool (core/pcscf/alg/media-pool.ts), up or
 * out of the pool, and the live calls this node placed on it. Read at scrape time.
 */
import { Gauge, type Registry } from 'prom-client';

export interface MediaPoolSource {
  gateways(): readonly { readonly name: string; readonly up: boolean; readonly calls: number }[];
}

export function registerMediaPoolMetrics(registry: Registry, source: MediaPoolSource): void {
  new Gauge({
    name: 'epcscf_media_gateway_up',
    help: 'Media gateway of the ng pool (ng:host:port) in the pool: 1 up, 0 out (ng pings unanswered)',
    labelNames: ['gateway'],
    registers: [registry],
    collect() {
      for (const { name, up } of source.gateways()) this.set({ gateway: name }, up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'epcscf_media_gateway_calls',
    help: 'Live ng calls this node placed on each media gateway of the pool',
    labelNames: ['gateway'],
    registers: [registry],
    collect() {
      for (const { name, calls } of source.gateways()) this.set({ gateway: name }, calls);
    },
  });
}
