import t from 'tap';
import { EventEmitter } from 'node:events';
import { createEpcscfMetrics, observeW2Sessions } from '../../../core/admin/index.js';
import type { W2Observer, W2ObserverEvents } from '../../../core/contract/host.js';
import { fakeBackend } from './fake-backend.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.js';

t.test('Prometheus text format 0.0.4: the exposition parses and declares the epcscf families with their types', async (t) => {
  const metrics = createEpcscfMetrics();
  t.equal(metrics.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  const families = parsePrometheusText(await metrics.metrics());
  const types = Object.fromEntries([...families].map(([name, family]) => [name, family.type]));
  t.match(types, {
    epcscf_w2_connections: 'gauge',
    epcscf_w2_connections_total: 'counter',
    epcscf_registrations: 'gauge',
    epcscf_calls: 'gauge',
    epcscf_media_legs: 'gauge',
    epcscf_sip_responses_total: 'counter',
    epcscf_plugin_errors_total: 'counter',
  });
  t.ok(families.has('process_cpu_user_seconds_total'), 'default process_* metrics are collected');
  t.ok([...families.keys()].some((name) => name.startsWith('nodejs_')), 'default nodejs_* metrics are collected');
});

t.test('RFC 3261 §21: SIP responses are counted by side, direction and class; every series starts at 0', async (t) => {
  const metrics = createEpcscfMetrics();
  let families = parsePrometheusText(await metrics.metrics());
  t.equal(families.get('epcscf_sip_responses_total')?.samples.length, 24, '2 sides × 2 directions × 6 classes');
  t.equal(sampleValue(families, 'epcscf_sip_responses_total', { side: 'w2', direction: 'out', class: '6xx' }), 0);
  metrics.sipResponse('mw', 'in', 180);
  metrics.sipResponse('mw', 'in', 183);
  metrics.sipResponse('mw', 'in', 200);
  metrics.sipResponse('w2', 'out', 486);
  metrics.sipResponse('w2', 'out', 699);
  metrics.sipResponse('w2', 'in', 99);
  metrics.sipResponse('w2', 'in', 700);
  metrics.sipResponse('w2', 'in', Number.NaN);
  families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_sip_responses_total', { side: 'mw', direction: 'in', class: '1xx' }), 2);
  t.equal(sampleValue(families, 'epcscf_sip_responses_total', { side: 'mw', direction: 'in', class: '2xx' }), 1);
  t.equal(sampleValue(families, 'epcscf_sip_responses_total', { side: 'w2', direction: 'out', class: '4xx' }), 1);
  t.equal(sampleValue(families, 'epcscf_sip_responses_total', { side: 'w2', direction: 'out', class: '6xx' }), 1);
  const total = families.get('epcscf_sip_responses_total')!.samples.reduce((sum, s) => sum + s.value, 0);
  t.equal(total, 5, 'statuses outside 100..699 are not counted');
  metrics.sipResponse('mw', 'in', 200);
  families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_sip_responses_total', { side: 'mw', direction: 'in', class: '2xx' }), 2, 'a counter accumulates across scrapes');
});

t.test('W2 connections: the gauge follows open sessions per plugin, the counter only grows, a stray close never goes negative', async (t) => {
  const metrics = createEpcscfMetrics();
  metrics.sessionOpened('sip-ws');
  metrics.sessionOpened('sip-ws');
  metrics.sessionOpened('jsonrpc-ws');
  metrics.sessionClosed('sip-ws');
  metrics.sessionClosed('xmpp-ws');
  metrics.pluginError('sip-ws', 'onFrame');
  metrics.pluginError('sip-ws', 'onFrame');
  metrics.pluginError('jsonrpc-ws', 'onClose');
  const families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_w2_connections', { plugin: 'sip-ws' }), 1);
  t.equal(sampleValue(families, 'epcscf_w2_connections', { plugin: 'jsonrpc-ws' }), 1);
  t.equal(sampleValue(families, 'epcscf_w2_connections', { plugin: 'xmpp-ws' }), 0);
  t.equal(sampleValue(families, 'epcscf_w2_connections_total', { plugin: 'sip-ws' }), 2);
  t.equal(sampleValue(families, 'epcscf_w2_connections_total', { plugin: 'xmpp-ws' }), 0);
  t.equal(sampleValue(families, 'epcscf_plugin_errors_total', { plugin: 'sip-ws', hook: 'onFrame' }), 2);
  t.equal(sampleValue(families, 'epcscf_plugin_errors_total', { plugin: 'jsonrpc-ws', hook: 'onClose' }), 1);
});

t.test('registrations, calls and media legs are read from the backend at scrape time, once per scrape', async (t) => {
  const metrics = createEpcscfMetrics();
  const unbound = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(unbound, 'epcscf_registrations'), 0, 'no backend bound yet: 0');
  const backend = fakeBackend();
  metrics.bindBackend(backend);
  let families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_registrations'), 2);
  t.equal(sampleValue(families, 'epcscf_calls'), 1);
  t.equal(sampleValue(families, 'epcscf_media_legs'), 1);
  t.equal(backend.countsReads, 1, 'the three gauges share one backend read');
  backend.countsAnswer = { registrations: 7, calls: 3, mediaLegs: 6 };
  families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_registrations'), 7, 'a later scrape reads again');
  t.equal(sampleValue(families, 'epcscf_media_legs'), 6);
  t.equal(backend.countsReads, 2);
});

t.test('a failing backend read keeps the last gauge values and the scrape still succeeds', async (t) => {
  const metrics = createEpcscfMetrics();
  let fail = false;
  metrics.bindBackend({
    counts: () => {
      if (fail) throw new Error('redis down');
      return { registrations: 4, calls: 2, mediaLegs: 2 };
    },
  });
  await metrics.metrics();
  fail = true;
  const families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_registrations'), 4);
  t.equal(sampleValue(families, 'epcscf_calls'), 2);
  metrics.bindBackend({ counts: async () => Promise.reject(new Error('timeout')) });
  t.equal(sampleValue(parsePrometheusText(await metrics.metrics()), 'epcscf_calls'), 2, 'an async rejection too');
});

t.test('two metrics instances in one process do not share a registry', async (t) => {
  const a = createEpcscfMetrics();
  const b = createEpcscfMetrics();
  t.not(a.registry, b.registry);
  a.sessionOpened('sip-ws');
  t.equal(sampleValue(parsePrometheusText(await a.metrics()), 'epcscf_w2_connections', { plugin: 'sip-ws' }), 1);
  t.equal(sampleValue(parsePrometheusText(await b.metrics()), 'epcscf_w2_connections', { plugin: 'sip-ws' }), undefined);
});

t.test('observeW2Sessions feeds the connection and fault metrics from the W2 observer, and unsubscribes', async (t) => {
  const observer: W2Observer = new EventEmitter<W2ObserverEvents>();
  const metrics = createEpcscfMetrics();
  const stop = observeW2Sessions(observer, metrics);
  observer.emit('sessionopen', { connectionId: 'c1', plugin: 'sip-ws', subprotocol: 'sip', path: '/sip' });
  observer.emit('sessionopen', { connectionId: 'c2', plugin: 'sip-ws', subprotocol: 'sip', path: '/sip' });
  observer.emit('pluginerror', { connectionId: 'c1', plugin: 'sip-ws', hook: 'onFrame', error: new Error('boom') });
  observer.emit('sessionclose', { connectionId: 'c1', plugin: 'sip-ws', reason: { cause: 'fault', code: 1011, reason: '' } });
  let families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_w2_connections', { plugin: 'sip-ws' }), 1);
  t.equal(sampleValue(families, 'epcscf_w2_connections_total', { plugin: 'sip-ws' }), 2);
  t.equal(sampleValue(families, 'epcscf_plugin_errors_total', { plugin: 'sip-ws', hook: 'onFrame' }), 1);
  stop();
  t.equal(observer.listenerCount('sessionopen') + observer.listenerCount('sessionclose') + observer.listenerCount('pluginerror'), 0);
  observer.emit('sessionopen', { connectionId: 'c3', plugin: 'sip-ws', subprotocol: 'sip', path: '/sip' });
  families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_w2_connections_total', { plugin: 'sip-ws' }), 2);
});

t.test('issue 11: every guard refusal is counted in epcscf_w2_refused_total by reason (from the W2 observer), each reason from 0', async (t) => {
  const observer: W2Observer = new EventEmitter<W2ObserverEvents>();
  const metrics = createEpcscfMetrics();
  const stop = observeW2Sessions(observer, metrics);
  let families = parsePrometheusText(await metrics.metrics());
  t.equal(families.get('epcscf_w2_refused_total')?.type, 'counter');
  for (const reason of ['connections', 'connections_per_ip', 'upgrade_timeout', 'first_frame_timeout', 'flood', 'calls_per_client', 'calls_per_ip', 'pending_transactions', 'registrations_per_ip']) {
    t.equal(sampleValue(families, 'epcscf_w2_refused_total', { reason }), 0, `${reason} starts at 0`);
  }
  observer.emit('refused', { reason: 'connections_per_ip', remoteAddress: '192.0.2.1' });
  observer.emit('refused', { reason: 'connections_per_ip', remoteAddress: '192.0.2.1' });
  observer.emit('refused', { reason: 'flood', remoteAddress: '192.0.2.2', connectionId: 'c9' });
  families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_w2_refused_total', { reason: 'connections_per_ip' }), 2);
  t.equal(sampleValue(families, 'epcscf_w2_refused_total', { reason: 'flood' }), 1);
  stop();
  t.equal(observer.listenerCount('refused'), 0, 'unsubscribed');
});

t.test('sipResponse stays cheap: a million calls take well under a second', async (t) => {
  const metrics = createEpcscfMetrics();
  const started = process.hrtime.bigint();
  for (let i = 0; i < 1_000_000; i++) metrics.sipResponse(i & 1 ? 'w2' : 'mw', i & 2 ? 'in' : 'out', 100 + (i % 600));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.ok(ms < 1_000, `1e6 sipResponse calls in ${ms.toFixed(0)} ms`);
  const families = parsePrometheusText(await metrics.metrics());
  t.equal(families.get('epcscf_sip_responses_total')!.samples.reduce((sum, s) => sum + s.value, 0), 1_000_000);
});

t.test('issue 11: routing-guard trips are counted per guard, every guard series starting at 0', async (t) => {
  const metrics = createEpcscfMetrics();
  let families = parsePrometheusText(await metrics.metrics());
  t.equal(families.get('epcscf_relay_guard_total')?.type, 'counter');
  t.equal(sampleValue(families, 'epcscf_relay_guard_total', { guard: 'stray-ack' }), 0);
  metrics.relayGuard('unknown-dialog');
  metrics.relayGuard('unknown-dialog');
  metrics.relayGuard('unprocessable-response');
  families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_relay_guard_total', { guard: 'unknown-dialog' }), 2);
  t.equal(sampleValue(families, 'epcscf_relay_guard_total', { guard: 'unprocessable-response' }), 1);
  t.equal(sampleValue(families, 'epcscf_relay_guard_total', { guard: 'stray-response' }), 0);
});
