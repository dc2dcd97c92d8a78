import t from 'tap';
import { parseUri, type SipUri } from '../../../core/sip/index.js';
import { NodeDnsLookup, orderSrvRecords, resolveNextHop, type SrvRecord } from '../../../core/sip/resolve/index.js';
import { TestDnsServer } from '../../support/dns-server.js';

const dnsServer = new TestDnsServer({
  // RFC 3263 §4.1: NAPTR picks the transport (order, then preference), SRV the hosts.
  'ims.test': [
    { type: 'NAPTR', order: 30, preference: 10, flags: 's', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.ims.test' },
    { type: 'NAPTR', order: 20, preference: 20, flags: 's', service: 'SIP+D2T', regexp: '', replacement: '_sip._tcp.ims.test' },
    { type: 'NAPTR', order: 20, preference: 10, flags: 's', service: 'SIPS+D2T', regexp: '', replacement: '_sips._tcp.ims.test' },
    { type: 'NAPTR', order: 5, preference: 10, flags: 's', service: 'SIP+D2W', regexp: '', replacement: '_sip._ws.ims.test' },
    { type: 'NAPTR', order: 6, preference: 10, flags: 'u', service: 'SIP+D2T', regexp: '!^.*$!sip:x@y!', replacement: '.' },
  ],
  '_sips._tcp.ims.test': [{ type: 'SRV', priority: 10, weight: 0, port: 5061, target: 'scscf1.ims.test' }],
  '_sip._tcp.ims.test': [
    { type: 'SRV', priority: 20, weight: 0, port: 5070, target: 'backup.ims.test' },
    { type: 'SRV', priority: 10, weight: 10, port: 5060, target: 'icscf1.ims.test' },
  ],
  '_sip._udp.ims.test': [{ type: 'SRV', priority: 10, weight: 10, port: 5060, target: 'icscf1.ims.test' }],
  '_sip._ws.ims.test': [{ type: 'SRV', priority: 10, weight: 10, port: 443, target: 'ws.ims.test' }],
  'scscf1.ims.test': [{ type: 'A', address: '10.0.0.1' }, { type: 'AAAA', address: 'fd00::1' }],
  'icscf1.ims.test': [{ type: 'A', address: '10.0.0.2' }, { type: 'A', address: '10.0.0.3' }],
  'backup.ims.test': [{ type: 'A', address: '10.0.0.9' }],
  // No NAPTR: SRV for TCP only.
  'srvonly.test': [{ type: 'A', address: '10.1.0.1' }],
  '_sip._tcp.srvonly.test': [{ type: 'SRV', priority: 1, weight: 1, port: 5080, target: 'edge.srvonly.test' }],
  'edge.srvonly.test': [{ type: 'A', address: '10.1.0.2' }],
  // Neither NAPTR nor SRV.
  'plain.test': [{ type: 'A', address: '10.2.0.1' }, { type: 'AAAA', address: '2001:db8::1' }],
  // NAPTR lookups for this name fail (SERVFAIL); SRV still works.
  'broken.test': [],
  '_sip._udp.broken.test': [{ type: 'SRV', priority: 1, weight: 1, port: 5062, target: 'plain.test' }],
});
dnsServer.failing.add('broken.test');

t.before(() => dnsServer.start());
t.teardown(() => dnsServer.stop());

function dns(): NodeDnsLookup {
  return new NodeDnsLookup({ servers: [dnsServer.server], timeoutMs: 500, tries: 1 });
}

function sip(text: string): SipUri {
  return parseUri(text) as SipUri;
}

function queriesDuring(): () => string[] {
  const start = dnsServer.queries.length;
  return () => dnsServer.queries.slice(start).map((q) => `${q.type} ${q.name}`);
}

t.test('RFC 3263 §4.1/§4.2: NAPTR order then preference, SRV priority, then A/AAAA addresses', async (t) => {
  const targets = await resolveNextHop(sip('sip:ims.test'), { dns: dns() });
  t.same(targets, [
    // order 20 pref 10: SIPS+D2T; the TLS identity is the URI domain (RFC 5922 §7.2).
    { transport: 'tls', host: '10.0.0.1', port: 5061, tlsServerName: 'ims.test' },
    { transport: 'tls', host: 'fd00::1', port: 5061, tlsServerName: 'ims.test' },
    // order 20 pref 20: SIP+D2T, SRV priority 10 before 20.
    { transport: 'tcp', host: '10.0.0.2', port: 5060 },
    { transport: 'tcp', host: '10.0.0.3', port: 5060 },
    { transport: 'tcp', host: '10.0.0.9', port: 5070 },
    // order 30: SIP+D2U.
    { transport: 'udp', host: '10.0.0.2', port: 5060 },
    { transport: 'udp', host: '10.0.0.3', port: 5060 },
  ]);
});

t.test('RFC 3263 §4.1: only the transports we support are taken from NAPTR (no D2W on Mw)', async (t) => {
  const targets = await resolveNextHop(sip('sip:ims.test'), { dns: dns(), transports: ['udp'] });
  t.same(targets.map((x) => `${x.transport}:${x.host}:${x.port}`), ['udp:10.0.0.2:5060', 'udp:10.0.0.3:5060']);
});

t.test('RFC 3261 §26.2.2: a sips URI yields only TLS targets', async (t) => {
  const targets = await resolveNextHop(sip('sips:ims.test'), { dns: dns() });
  t.same(targets.map((x) => x.transport), ['tls', 'tls']);
  const plain = await resolveNextHop(sip('sips:plain.test'), { dns: dns() });
  t.same(plain, [
    { transport: 'tls', host: '10.2.0.1', port: 5061, tlsServerName: 'plain.test' },
    { transport: 'tls', host: '2001:db8::1', port: 5061, tlsServerName: 'plain.test' },
  ]);
});

t.test('RFC 3263 §4.1: without NAPTR, SRV is tried for _sip._udp, _sip._tcp and _sips._tcp', async (t) => {
  const seen = queriesDuring();
  const targets = await resolveNextHop(sip('sip:srvonly.test'), { dns: dns() });
  t.same(targets, [{ transport: 'tcp', host: '10.1.0.2', port: 5080 }]);
  t.match(seen(), ['NAPTR srvonly.test']);
  t.ok(seen().includes('SRV _sip._udp.srvonly.test') && seen().includes('SRV _sips._tcp.srvonly.test'));
});

t.test('RFC 3263 §4.2: without NAPTR or SRV, A/AAAA with the default port over UDP', async (t) => {
  const targets = await resolveNextHop(sip('sip:alice@plain.test'), { dns: dns() });
  t.same(targets, [{ transport: 'udp', host: '10.2.0.1', port: 5060 }, { transport: 'udp', host: '2001:db8::1', port: 5060 }]);
  const v4only = await resolveNextHop(sip('sip:plain.test'), { dns: dns(), ipv6: false });
  t.same(v4only, [{ transport: 'udp', host: '10.2.0.1', port: 5060 }]);
});

t.test('RFC 3263 §4.2: an explicit port means A/AAAA only, no NAPTR or SRV', async (t) => {
  let seen = queriesDuring();
  // ims.test has NAPTR and SRV records but no address: with a port, only A/AAAA count.
  await t.rejects(resolveNextHop(sip('sip:ims.test:5099'), { dns: dns() }), { code: 'EPC_ERR_SIP_RESOLVE' });
  t.same(seen().sort(), ['A ims.test', 'AAAA ims.test']);
  seen = queriesDuring();
  const targets = await resolveNextHop(sip('sip:plain.test:5099;transport=tcp'), { dns: dns() });
  t.same(targets, [{ transport: 'tcp', host: '10.2.0.1', port: 5099 }, { transport: 'tcp', host: '2001:db8::1', port: 5099 }]);
  t.same(seen().sort(), ['A plain.test', 'AAAA plain.test']);
});

t.test('RFC 3263 §4.1: a transport parameter skips NAPTR and looks up that SRV, else A/AAAA', async (t) => {
  const seen = queriesDuring();
  t.same(await resolveNextHop(sip('sip:srvonly.test;transport=tcp'), { dns: dns() }), [{ transport: 'tcp', host: '10.1.0.2', port: 5080 }]);
  t.notOk(seen().some((q) => q.startsWith('NAPTR')), 'no NAPTR query');
  t.same(await resolveNextHop(sip('sip:plain.test;transport=TCP'), { dns: dns(), ipv6: false }), [{ transport: 'tcp', host: '10.2.0.1', port: 5060 }]);
  t.same(await resolveNextHop(sip('sips:plain.test;transport=tcp'), { dns: dns(), ipv6: false }),
    [{ transport: 'tls', host: '10.2.0.1', port: 5061, tlsServerName: 'plain.test' }], 'sips over tcp means TLS');
  await t.rejects(resolveNextHop(sip('sips:plain.test;transport=udp'), { dns: dns() }), { code: 'EPC_ERR_SIP_RESOLVE', message: /transport=udp/ });
  await t.rejects(resolveNextHop(sip('sip:plain.test;transport=sctp'), { dns: dns() }), { code: 'EPC_ERR_SIP_RESOLVE', message: /transport=sctp/ });
});

t.test('RFC 3263 §4.2: a numeric IP is used directly with the default port', async (t) => {
  const seen = queriesDuring();
  t.same(await resolveNextHop(sip('sip:127.0.0.1'), { dns: dns() }), [{ transport: 'udp', host: '127.0.0.1', port: 5060 }]);
  t.same(await resolveNextHop(sip('sips:[::1]'), { dns: dns() }), [{ transport: 'tls', host: '::1', port: 5061 }]);
  t.same(await resolveNextHop(sip('sip:10.0.0.1:5080;transport=tcp'), { dns: dns() }), [{ transport: 'tcp', host: '10.0.0.1', port: 5080 }]);
  t.same(seen(), [], 'no DNS traffic');
});

t.test('a static next hop is used as configured, without DNS', async (t) => {
  const seen = queriesDuring();
  const configured = [{ transport: 'tcp' as const, host: '192.0.2.10', port: 5060 }, { transport: 'udp' as const, host: '192.0.2.11', port: 5060 }];
  t.same(await resolveNextHop(sip('sip:ims.test'), { dns: dns(), staticTargets: configured }), configured);
  t.same(seen(), []);
});

t.test('RFC 3263 §4.1: a failing NAPTR query (SERVFAIL) falls through to SRV', async (t) => {
  const targets = await resolveNextHop(sip('sip:broken.test'), { dns: dns(), ipv6: false });
  t.same(targets, [{ transport: 'udp', host: '10.2.0.1', port: 5062 }]);
});

t.test('EPC_ERR_SIP_RESOLVE names the URI when nothing resolves', async (t) => {
  await t.rejects(resolveNextHop(sip('sip:nowhere.test'), { dns: dns() }), {
    code: 'EPC_ERR_SIP_RESOLVE', message: /no address found for sip:nowhere\.test/,
  });
  const lookup = dns();
  await t.rejects(lookup.a('broken.test'), { code: 'EPC_ERR_SIP_RESOLVE', message: /DNS A query for broken\.test failed: ESERVFAIL/ });
  t.same(await lookup.a('nowhere.test'), [], 'NXDOMAIN is an empty answer');
  t.same(await lookup.aaaa('srvonly.test'), [], 'no data is an empty answer');
});

t.test('RFC 2782: SRV records by priority; weighted random order within a priority', async (t) => {
  const records: SrvRecord[] = [
    { priority: 20, weight: 0, port: 1, name: 'late' },
    { priority: 10, weight: 60, port: 1, name: 'heavy' },
    { priority: 10, weight: 40, port: 1, name: 'light' },
    { priority: 10, weight: 0, port: 1, name: 'zero' },
    { priority: 5, weight: 0, port: 1, name: '.' },
  ];
  // random 0 → pick 0 → the weight-0 record placed first is chosen.
  t.same(orderSrvRecords(records, () => 0).map((r) => r.name), ['zero', 'heavy', 'light', 'late'], '"." is dropped');
  // random just below 1 → pick = total → the last record of the running sum.
  t.same(orderSrvRecords(records, () => 0.9999).map((r) => r.name), ['light', 'heavy', 'zero', 'late']);
  let heavyFirst = 0;
  const runs = 2000;
  for (let i = 0; i < runs; i++) if (orderSrvRecords(records)[0]!.name === 'heavy') heavyFirst++;
  // Expected 60/101 ≈ 0.59; the bound is loose enough to never flake, tight enough to catch a uniform pick (0.33).
  t.ok(heavyFirst / runs > 0.5 && heavyFirst / runs < 0.68, `heavy first in ${heavyFirst}/${runs}`);
});
