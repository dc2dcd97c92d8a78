/**
 * Issue 11 #10: the Mw next-hop monitor (core/pcscf/next-hop-health.ts) and what the P-CSCF does
 * with it: a dead next hop is answered 503 with Retry-After at once, counted, and shown on
 * /metrics; it is up again on the first answer.
 */
import t from 'tap';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { registerNextHopMetrics } from '../../../core/admin/next-hop-metrics.js';
import { resolveConfig } from '../../../core/config/index.js';
import { Pcscf } from '../../../core/pcscf/index.js';
import { NextHopHealth, probeRequest } from '../../../core/pcscf/next-hop-health.js';
import { getHeader } from '../../../core/sip/index.js';
import type { SipTarget } from '../../../core/sip/transport/types.js';
import { FakeImsCore } from '../../support/fake-ims-core.js';
import { FakeWic, register } from '../../support/pcscf-rig.js';

const CORE: SipTarget = { transport: 'udp', host: '127.0.0.1', port: 5070 };
const OTHER: SipTarget = { transport: 'udp', host: '127.0.0.1', port: 5080 };
const silent = pino({ level: 'silent' });

function monitor(answers: { value: boolean }, probe = { intervalMs: 0, failuresToDown: 2, retryAfterSeconds: 9 }) {
  const changes: string[] = [];
  const health = new NextHopHealth({
    probe, log: silent, probeTargets: async () => [CORE], sendProbe: async () => answers.value,
    onChange: (s) => changes.push(`${s.target} ${s.up ? 'up' : 'down'}`),
  });
  return { health, changes };
}

t.test('issue 11 #10: failuresToDown timeouts/transport errors of real traffic mark a target down; one answer brings it back', async (t) => {
  const { health, changes } = monitor({ value: true });
  const request = probeRequest('sip:127.0.0.1:5070', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1', 'sip:127.0.0.1:5060', 1);
  const message = { ...request, method: 'MESSAGE', headers: request.headers.map((h) => h.name === 'Call-ID' ? { ...h, value: 'real-1' } : h) };
  health.observe(message, CORE, 'timeout');
  t.same(health.usable([CORE]), [CORE], 'one failure is not an outage');
  health.observe(message, CORE, 'transport-error');
  t.same(health.usable([CORE, OTHER]), [OTHER], 'down: left out, the other target is still used (RFC 3263 failover)');
  t.same(health.usable([CORE]), [], 'nothing usable: the caller answers 503');
  t.equal(health.refused, 1, 'the refusal is counted');
  t.match(health.status(), [{ target: 'udp:127.0.0.1:5070', up: false, consecutiveFailures: 2, reason: 'transport error' }]);
  health.observe(message, CORE, 'response');
  t.same(health.usable([CORE]), [CORE], 'any response: up again');
  t.same(changes, ['udp:127.0.0.1:5070 down', 'udp:127.0.0.1:5070 up'], 'one event per transition');
});

t.test('issue 11 #10: OPTIONS probes decide alone for themselves (their transactions are not counted twice)', async (t) => {
  const answers = { value: false };
  const { health } = monitor(answers, { intervalMs: 50, failuresToDown: 2, retryAfterSeconds: 9 });
  const probe = probeRequest('sip:127.0.0.1:5070', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1', 'sip:127.0.0.1:5060', 1);
  health.observe(probe, CORE, 'timeout');
  health.observe(probe, CORE, 'timeout');
  t.same(health.status(), [], 'a probe transaction\'s own timeout is ignored');
  await health.probeNow();
  await health.probeNow();
  t.match(health.status(), [{ up: false, consecutiveFailures: 2 }], 'two unanswered probes: down');
  answers.value = true;
  await health.probeNow();
  t.match(health.status(), [{ up: true, consecutiveFailures: 0 }], 'an answered probe: up');
  health.close();
});

t.test('issue 11 #10: epcscf_mw_next_hop_up and epcscf_mw_next_hop_refused_total on /metrics', async (t) => {
  const { health } = monitor({ value: false });
  const registry = new Registry();
  registerNextHopMetrics(registry, health);
  const request = probeRequest('sip:x', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1', 'sip:x', 1);
  const real = { ...request, headers: request.headers.map((h) => h.name === 'Call-ID' ? { ...h, value: 'real' } : h) };
  health.observe(real, CORE, 'timeout');
  health.observe(real, CORE, 'timeout');
  health.usable([CORE]);
  const text = await registry.metrics();
  t.match(text, /^epcscf_mw_next_hop_up\{target="udp:127\.0\.0\.1:5070"\} 0$/m);
  t.match(text, /^epcscf_mw_next_hop_refused_total 1$/m);
});

t.test('issue 11 #10, RFC 3261 §21.5.4: while the next hop does not answer OPTIONS, a REGISTER gets 503 with Retry-After at once', async (t) => {
  const core = await FakeImsCore.start(); // never answers
  t.teardown(() => core.close());
  const config = resolveConfig({
    w2: { listen: '127.0.0.1:18080' },
    mw: { listen: ['udp:127.0.0.1:0'], nextHop: `sip:127.0.0.1:${core.port};transport=udp`, domain: 'ims.test', nextHopProbe: { intervalSeconds: 0.1, failuresToDown: 1, retryAfterSeconds: 12 } },
    log: { level: 'silent' },
  }, { configDir: process.cwd(), env: {} });
  const pcscf = await Pcscf.start({ config, nodeId: 'node1', flowSecret: 'x'.repeat(32) });
  t.teardown(() => pcscf.close());
  const options = await core.request('OPTIONS');
  t.equal(getHeader(options, 'Max-Forwards'), '70', 'the keep-alive is an OPTIONS toward mw.nextHop');
  const deadline = Date.now() + 5_000;
  while (pcscf.nextHops.status().every((s) => s.up) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const wic = new FakeWic('conn-1');
  pcscf.sessionOpened(wic.connection, wic);
  const started = Date.now();
  await pcscf.fromClient('conn-1', register(1));
  const answer = await wic.response(503, 'REGISTER');
  t.ok(Date.now() - started < 1_000, 'at once');
  t.equal(getHeader(answer, 'Retry-After'), '12');
  t.match(answer.reason, /IMS core not responding/);
  t.equal(core.received.filter((m) => m.kind === 'request' && m.method === 'REGISTER').length, 0, 'nothing sent toward the dead core');
});
