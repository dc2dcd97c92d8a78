// Where a request leaves on Mw (core/pcscf/routing.ts): only through what the IMS gave (the
// Route set the P-CSCF wrote, mw.nextHop, a dialog's remote target), never through a Request-URI
// a client chose (issue 11 #2). A recording DnsLookup proves no name is looked up.
import t from 'tap';
import { mwTargets, withRouteSet } from '../../../core/pcscf/routing.js';
import { createRequest, getHeaders, parseUri, type SipRequest, type SipUri } from '../../../core/sip/index.js';
import type { DnsLookup } from '../../../core/sip/resolve/index.js';

function recordingDns(): DnsLookup & { names: string[] } {
  const names: string[] = [];
  const answer = async (name: string) => { names.push(name); return []; };
  return { names, naptr: answer, srv: answer, a: async (name) => { names.push(name); return ['192.0.2.7']; }, aaaa: answer };
}

function request(method: string, uri: string, routes: string[] = []): SipRequest {
  return createRequest({ method, uri, headers: [
    ['Via', 'SIP/2.0/WS x.invalid;branch=z9hG4bKr1'], ['From', '<sip:alice@ims.test>;tag=a'], ['To', '<sip:bob@ims.test>'],
    ['Call-ID', 'r1'], ['CSeq', `1 ${method}`], ...routes.map((r): [string, string] => ['Route', r]),
  ] });
}

const routing = (dns: DnsLookup) => ({ transports: ['udp', 'tcp'] as const, dns, homeDomain: 'ims.test' });

t.test('issue 11 #2: without a Route or mw.nextHop a request finds no target: its Request-URI is the client\'s', async (t) => {
  const dns = recordingDns();
  t.same(await mwTargets(request('MESSAGE', 'sip:bob@victim.example;transport=tcp'), routing(dns)), []);
  t.same(dns.names, [], 'no DNS query');
});

t.test('issue 11 #2 / R-ORIG-10: a dialog\'s remote target (IMS-given) is the last resort', async (t) => {
  const dns = recordingDns();
  const destination = parseUri('sip:bob@198.51.100.4:5070') as SipUri;
  t.same(await mwTargets(request('BYE', 'sip:bob@victim.example'), routing(dns), destination), [{ transport: 'udp', host: '198.51.100.4', port: 5070 }]);
  t.same(dns.names, []);
});

t.test('R-REG-16 / issue 11 #2: without mw.nextHop a REGISTER goes to the home domain only', async (t) => {
  const dns = recordingDns();
  t.same(await mwTargets(request('REGISTER', 'sip:victim.example'), routing(dns)), [], 'a foreign domain: no target');
  t.same(dns.names, [], 'and no DNS query for it');
  const home = await mwTargets(request('REGISTER', 'sip:ims.test'), routing(dns));
  t.ok(home.length > 0 && dns.names.every((n) => n.endsWith('ims.test')), 'the home domain is resolved (RFC 3263)');
});

t.test('R-ORIG-4: the first Route entry wins over mw.nextHop; withRouteSet replaces the client\'s Route', async (t) => {
  const dns = recordingDns();
  const out = withRouteSet(request('INVITE', 'sip:bob@ims.test', ['<sip:192.0.2.99;lr>']), ['<sip:198.51.100.9:6060;lr>', '<sip:198.51.100.10;lr>']);
  t.same(getHeaders(out, 'Route'), ['<sip:198.51.100.9:6060;lr>', '<sip:198.51.100.10;lr>']);
  const nextHop = parseUri('sip:203.0.113.1:5060') as SipUri;
  t.same(await mwTargets(out, { ...routing(dns), nextHop }), [{ transport: 'udp', host: '198.51.100.9', port: 6060 }]);
});
