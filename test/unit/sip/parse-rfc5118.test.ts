// RFC 5118 (SIP torture tests for IPv6). Fixtures: test/fixtures/rfc5118.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseMessage, SipParseError, vias, contacts, type SipRequest, type ContactBinding } from '../../../core/sip/index.js';

const dir = new URL('../../fixtures/rfc5118/', import.meta.url);
const parse = (name: string) => parseMessage(readFileSync(new URL(name, dir)), { datagram: true });

t.test('RFC 5118 §4.1: bracketed IPv6 in Request-URI, Via and Contact', async (t) => {
  const m = parse('ipv6-good') as SipRequest;
  t.ok(m.uri.kind === 'sip' && m.uri.host === '[2001:db8::10]' && m.uri.port === undefined);
  t.equal(vias(m)[0]?.host, '[2001:db8::9:1]');
  const c = contacts(m)[0] as ContactBinding;
  t.ok(c.uri.kind === 'sip' && c.uri.host.startsWith('[2001:db8::'));
});

t.test('RFC 5118 §4.2: IPv6 without brackets in the Request-URI is a 400', async (t) => {
  const err = t.throws(() => parse('ipv6-bad')) as SipParseError;
  t.equal(err.status, 400);
});

t.test('RFC 5118 §4.3: [2001:db8::10:5070] is all address, no port guessed', async (t) => {
  const m = parse('port-ambiguous') as SipRequest;
  t.ok(m.uri.kind === 'sip' && m.uri.host === '[2001:db8::10:5070]' && m.uri.port === undefined);
});

t.test('RFC 5118 §4.4: [2001:db8::10]:5070 has port 5070', async (t) => {
  const m = parse('port-unambiguous') as SipRequest;
  t.ok(m.uri.kind === 'sip' && m.uri.host === '[2001:db8::10]' && m.uri.port === 5070);
});

t.test('RFC 5118 §4.5: Via received= with and without IPv6 brackets', async (t) => {
  for (const name of ['via-received-param-with-delim', 'via-received-param-no-delim']) {
    const v = vias(parse(name))[0];
    t.match(v?.params.find((p) => p.name === 'received')?.value ?? '', /2001:db8::9:255/, name);
  }
});

t.test('RFC 5118 §4.6-4.9: IPv6 in SDP, several address families, IPv4-mapped IPv6', async (t) => {
  for (const name of ['ipv6-in-sdp', 'mult-ip-in-header', 'mult-ip-in-sdp', 'ipv4-mapped-ipv6']) {
    t.doesNotThrow(() => parse(name), name);
  }
  t.equal(vias(parse('mult-ip-in-header')).length, 3);
  const c = contacts(parse('ipv4-mapped-ipv6'))[0] as ContactBinding;
  t.ok(c.uri.kind === 'sip' && c.uri.host === '[::ffff:192.0.2.2]');
});

t.test('RFC 5118 §4.10: three colons is not IPv6 (400); the correct two-colon form is accepted', async (t) => {
  t.equal((t.throws(() => parse('ipv6-bug-abnf-3-colons')) as SipParseError).status, 400);
  const m = parse('ipv6-correct-abnf-2-colons') as SipRequest;
  t.ok(m.uri.kind === 'sip' && m.uri.host === '[2001:db8::192.0.2.1]');
});

t.test('RFC 5118 cl-corrected copies parse with the whole body', async (t) => {
  for (const name of ['ipv6-in-sdp', 'mult-ip-in-sdp', 'ipv4-mapped-ipv6']) {
    const m = parseMessage(readFileSync(new URL(`cl-corrected/${name}`, dir)));
    t.ok(m.body.length > 150, name);
  }
});
