/**
 * Prometheus metrics of one epcscf node, on its own prom-client Registry (never the global
 * one: two servers in one process, e.g. in tests, must not clash). The runtime feeds the
 * counters through the hooks below; registrations, calls and media legs are read from the
 * AdminBackend at scrape time, so the numbers are never out of step with the state they count.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { W2_REFUSAL_REASONS, type W2RefusalReason } from '../contract/host.js';
import type { AdminBackend, AdminCounts } from './backend.js';

export type SipSide = 'w2' | 'mw';
export type SipDirection = 'in' | 'out';

export interface EpcscfMetrics {
  /** The registry behind `metrics()`; other modules (media-gw...) may register their own metrics on it. */
  readonly registry: Registry;
  /** The exposition format's Content-Type: `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  /** A W2 session opened for `plugin` (WebSocket upgrade done). */
  sessionOpened(plugin: string): void;
  /** That session ended (any cause). */
  sessionClosed(plugin: string): void;
  /** A plugin hook threw or rejected (the session was closed with 1011). */
  pluginError(plugin: string, hook: string): void;
  /** A guard refused a connection or request, or cut a client off (issue 11: w2.limits, flood control). */
  refused(reason: W2RefusalReason): void;
  /** One SIP response seen on `side`, counted by class (RFC 3261 §21: 1xx..6xx); other statuses are ignored. Per message: allocation-free. */
  sipResponse(side: SipSide, direction: SipDirection, status: number): void;
  /**
   * A P-CSCF routing guard refused or dropped a message (issue 11: `unknown-dialog`, `stray-ack`,
   * `stray-response`, `unprocessable-response`; see RelayGuard in core/pcscf). Allocation-free.
   */
  relayGuard(guard: string): void;
  /** The media-leg audit released a leg no dialog or pending transaction owned. */
  mediaLegOrphaned(): void;
  /** Where the scrape-time gauges (registrations, calls, media legs) read their numbers. */
  bindBackend(backend: Pick<AdminBackend, 'counts'>): void;
  /** The Prometheus text exposition of every metric in `registry`. */
  metrics(): Promise<string>;
}

const SIDES: readonly SipSide[] = ['w2', 'mw'];
const DIRECTIONS: readonly SipDirection[] = ['in', 'out'];
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', '6xx'] as const;

interface PluginConnectionMetrics {
  open: number;
  readonly gauge: Gauge.Internal<'plugin'>;
  readonly total: Counter.Internal;
}

class PrometheusEpcscfMetrics implements EpcscfMetrics {
  readonly registry = new Registry();
  readonly contentType: string = Registry.PROMETHEUS_CONTENT_TYPE;
  readonly #connections: Gauge<'plugin'>;
  readonly #connectionsTotal: Counter<'plugin'>;
  readonly #pluginErrors: Counter<'plugin' | 'hook'>;
  readonly #mediaLegsOrphaned: Counter;
  readonly #refused = new Map<W2RefusalReason, Counter.Internal>();
  readonly #byPlugin = new Map<string, PluginConnectionMetrics>();
  readonly #relayGuards: Counter<'guard'>;
  /** Bound children per guard name (a few): no label hashing per trip. */
  readonly #relayGuardChildren = new Map<string, Counter.Internal>();
  /**
   * SIP responses counted per [side][direction][class] (flattened) in a plain array and
   * handed to prom-client at scrape time: prom-client hashes and validates labels on every
   * inc(), too much for a per-message hook.
   */
  readonly #responseDeltas = new Float64Array(SIDES.length * DIRECTIONS.length * CLASSES.length);
  readonly #responseLabels: Array<Record<'side' | 'direction' | 'class', string>> = [];
  #backend: Pick<AdminBackend, 'counts'> | undefined;
  #countsInFlight: Promise<AdminCounts | undefined> | undefined;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#connections = new Gauge({ name: 'epcscf_w2_connections', help: 'Open W2 WebSocket sessions per plugin', labelNames: ['plugin'], registers });
    this.#connectionsTotal = new Counter({ name: 'epcscf_w2_connections_total', help: 'W2 WebSocket sessions opened per plugin since start', labelNames: ['plugin'], registers });
    this.#pluginErrors = new Counter({ name: 'epcscf_plugin_errors_total', help: 'Plugin hook faults (each closed its session with 1011) per plugin and hook', labelNames: ['plugin', 'hook'], registers });
    this.#relayGuards = new Counter({
      name: 'epcscf_relay_guard_total',
      help: 'Messages a P-CSCF routing guard refused or dropped (issue 11), by guard: unknown-dialog (481), stray-ack, stray-response, unprocessable-response (502)',
      labelNames: ['guard'], registers,
    });
    for (const guard of ['unknown-dialog', 'stray-ack', 'stray-response', 'unprocessable-response']) this.#relayGuard(guard).inc(0);
    this.#mediaLegsOrphaned = new Counter({ name: 'epcscf_media_legs_orphaned_total', help: 'Media legs the audit released because no dialog or pending transaction owned them', registers });
    const refused = new Counter({
      name: 'epcscf_w2_refused_total',
      help: `Clients refused, throttled or cut off by a guard, by reason (${W2_REFUSAL_REASONS.join(', ')})`,
      labelNames: ['reason'], registers,
    });
    // Every reason exists from the start at 0, so increase() sees the first refusal.
    for (const reason of W2_REFUSAL_REASONS) {
      const series = refused.labels(reason);
      series.inc(0);
      this.#refused.set(reason, series);
    }
    const deltas = this.#responseDeltas;
    const labelSets = this.#responseLabels;
    for (const side of SIDES) {
      for (const direction of DIRECTIONS) {
        for (const klass of CLASSES) labelSets.push({ side, direction, class: klass });
      }
    }
    const responses = new Counter({
      name: 'epcscf_sip_responses_total',
      help: 'SIP responses by interface side (w2, mw), direction (in, out) and class (1xx..6xx)',
      labelNames: ['side', 'direction', 'class'],
      registers,
      collect() {
        for (let i = 0; i < deltas.length; i++) {
          const delta = deltas[i] ?? 0;
          if (delta === 0) continue;
          deltas[i] = 0;
          this.inc(labelSets[i] ?? {}, delta);
        }
      },
    });
    // Every series exists from the start at 0, so increase() sees the first response.
    for (const labels of labelSets) responses.inc(labels, 0);
    this.#scrapeTimeGauge('epcscf_registrations', 'Registered contact bindings', (counts) => counts.registrations);
    this.#scrapeTimeGauge('epcscf_calls', 'INVITE dialogs (early or confirmed) through this node', (counts) => counts.calls);
    this.#scrapeTimeGauge('epcscf_media_legs', 'Media legs the IMS-ALG owns on the media gateway (calls being set up or up); 0 when idle', (counts) => counts.mediaLegs);
  }

  sessionOpened(plugin: string): void {
    const metrics = this.#pluginMetrics(plugin);
    metrics.open += 1;
    metrics.gauge.set(metrics.open);
    metrics.total.inc();
  }

  sessionClosed(plugin: string): void {
    const metrics = this.#pluginMetrics(plugin);
    // A close without a matching open (hooks wired late) must not drive the gauge negative.
    metrics.open = Math.max(0, metrics.open - 1);
    metrics.gauge.set(metrics.open);
  }

  pluginError(plugin: string, hook: string): void {
    this.#pluginErrors.labels(plugin, hook).inc();
  }

  mediaLegOrphaned(): void {
    this.#mediaLegsOrphaned.inc();
  }

  refused(reason: W2RefusalReason): void {
    this.#refused.get(reason)?.inc();
  }

  sipResponse(side: SipSide, direction: SipDirection, status: number): void {
    const klass = Math.trunc(status / 100);
    if (klass < 1 || klass > 6) return;
    const index = (side === 'w2' ? 0 : 12) + (direction === 'in' ? 0 : 6) + klass - 1;
    this.#responseDeltas[index] = (this.#responseDeltas[index] ?? 0) + 1;
  }

  relayGuard(guard: string): void {
    this.#relayGuard(guard).inc();
  }

  #relayGuard(guard: string): Counter.Internal {
    let child = this.#relayGuardChildren.get(guard);
    if (child === undefined) {
      child = this.#relayGuards.labels(guard);
      this.#relayGuardChildren.set(guard, child);
    }
    return child;
  }

  bindBackend(backend: Pick<AdminBackend, 'counts'>): void {
    this.#backend = backend;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  #pluginMetrics(plugin: string): PluginConnectionMetrics {
    let metrics = this.#byPlugin.get(plugin);
    if (metrics === undefined) {
      metrics = { open: 0, gauge: this.#connections.labels(plugin), total: this.#connectionsTotal.labels(plugin) };
      // Both series exist from the first sight of a plugin, so rate() has a starting point.
      metrics.gauge.set(0);
      metrics.total.inc(0);
      this.#byPlugin.set(plugin, metrics);
    }
    return metrics;
  }

  #scrapeTimeGauge(name: string, help: string, pick: (counts: AdminCounts) => number): void {
    const read = (): Promise<AdminCounts | undefined> => this.#readCounts();
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        const counts = await read();
        // Without a backend (or when it fails) the gauge keeps its last value rather than lying with 0.
        if (counts !== undefined) this.set(pick(counts));
      },
    });
  }

  /** The three gauges collect concurrently within one scrape: they share one backend read. */
  #readCounts(): Promise<AdminCounts | undefined> {
    const backend = this.#backend;
    if (backend === undefined) return Promise.resolve(undefined);
    if (this.#countsInFlight === undefined) {
      // Called through a resolved promise so a synchronous throw is caught like a rejection.
      const pending = Promise.resolve().then(() => backend.counts()).then((counts) => counts, () => undefined);
      this.#countsInFlight = pending;
      void pending.then(() => { this.#countsInFlight = undefined; });
    }
    return this.#countsInFlight;
  }
}

export function createEpcscfMetrics(): EpcscfMetrics {
  return new PrometheusEpcscfMetrics();
}
