// Serializer: canonical output, and parse -> serialize -> parse is lossless for every valid message
// (issue #2). Checked on every valid RFC 4475/5118 message and on generated messages (fast-check).
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseMessage, serializeMessage, createRequest, formatUri, parseUri, type SipMessage, type Uri } from '../../../core/sip/index.js';

function comparable(m: SipMessage) {
  const start = m.kind === 'request' ? { method: m.method, uri: m.uri } : { status: m.status, reason: m.reason };
  return { kind: m.kind, ...start, headers: m.headers, body: Buffer.from(m.body).toString('hex') };
}

const fixtures: { name: string; data: Buffer }[] = [];
const rfc4475 = new URL('../../fixtures/rfc4475/', import.meta.url);
for (const line of readFileSync(new URL('index.tsv', rfc4475), 'utf8').trim().split('\n').slice(1)) {
  const [file, verdict] = line.split('\t');
  if (verdict === 'valid') fixtures.push({ name: file!, data: readFileSync(new URL(file!, rfc4475)) });
}
const rfc5118 = new URL('../../fixtures/rfc5118/', import.meta.url);
for (const line of readFileSync(new URL('index.tsv', rfc5118), 'utf8').trim().split('\n').slice(1)) {
  const [file, verdict] = line.split('\t');
  if (verdict === 'valid') fixtures.push({ name: file!, data: readFileSync(new URL(file!, rfc5118)) });
}

t.test('round trip is lossless for every valid RFC 4475 and RFC 5118 message', async (t) => {
  t.ok(fixtures.length >= 36);
  for (const { name, data } of fixtures) {
    const first = parseMessage(data, { datagram: true });
    const wire = serializeMessage(first);
    const second = parseMessage(wire);
    t.same(comparable(second), comparable(first), name);
    t.same(serializeMessage(second), wire, `${name}: canonical form is a fixed point`);
  }
});

t.test('canonical form: long header names, no folding, single Content-Length last', async (t) => {
  const wsinv = parseMessage(readFileSync(new URL('wsinv.dat', rfc4475)), { datagram: true });
  const text = serializeMessage(wsinv).toString('utf8');
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  t.notMatch(head, /\r\n[ \t]/, 'no continuation lines');
  t.match(head, /\r\nTo: sip:vivekg@chair-dnrc\.example\.com ; {3}tag {4}= 1918181833n\r\n/);
  t.match(head, /\r\nMax-Forwards: 0068\r\n/, 'values are forwarded as received');
  t.match(head, /\r\nVia: SIP {2}\/ 2\.0 {2}\/ TCP/);
  t.equal(head.match(/Content-Length/g)?.length, 1);
  t.match(head, /Content-Length: 150$/);
});

t.test('Content-Length follows the body, whatever the headers say', async (t) => {
  const m = createRequest({ method: 'MESSAGE', uri: 'sip:bob@ims.test', headers: [['Content-Length', '999'], ['Via', 'SIP/2.0/UDP h;branch=z9hG4bK1'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:bob@ims.test>'], ['Call-ID', 'x'], ['CSeq', '1 MESSAGE']], body: 'héllo' });
  const text = serializeMessage(m).toString('utf8');
  t.match(text, /Content-Length: 6\r\n\r\nhéllo$/, 'byte length, not character length');
  t.equal(text.match(/Content-Length/g)?.length, 1);
});

// Generators for valid messages.
const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~'.split(''));
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const label = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')), minLength: 1, maxLength: 10 });
const hostname = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
const ipv6 = fc.ipV6().map((a) => `[${a}]`);
const host = fc.oneof(hostname, ipv4, ipv6);
const anyText = fc.string({ minLength: 1, maxLength: 16 }).filter((s) => !/[\r\n]/.test(s));
const param = fc.record({ name: token, value: fc.option(anyText, { nil: null }) });
const sipUri: fc.Arbitrary<Uri> = fc.record({
  scheme: fc.constantFrom('sip' as const, 'sips' as const),
  user: fc.option(anyText, { nil: undefined }),
  host,
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  params: fc.array(param, { maxLength: 3 }),
}).map(({ scheme, user, host, port, params }) => {
  const uri: Record<string, unknown> = { kind: 'sip', scheme, host, params, headers: [] };
  if (user !== undefined) uri['user'] = user;
  if (port !== undefined) uri['port'] = port;
  return uri as unknown as Uri;
});

t.test('property: formatUri/parseUri round trip any sip/sips URI (escaping applied once)', async (t) => {
  fc.assert(fc.property(sipUri, (uri) => {
    t.same(parseUri(formatUri(uri)), uri);
    return true;
  }), { numRuns: 300 });
  t.pass();
});

const headerValue = fc.string({ minLength: 0, maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ').trim());
const extraHeader = fc.tuple(fc.constantFrom('X-Custom', 'Subject', 'P-Access-Network-Info', 'User-Agent', 'Allow', 'Supported', 'Record-Route'), headerValue)
  .filter(([, v]) => v.length > 0);

t.test('property: generated requests survive serialize -> parse unchanged', async (t) => {
  const arb = fc.record({
    method: fc.constantFrom('INVITE', 'REGISTER', 'MESSAGE', 'OPTIONS', 'BYE', 'X-EXT'),
    uri: sipUri, extra: fc.array(extraHeader, { maxLength: 6 }), body: fc.uint8Array({ maxLength: 300 }),
    seq: fc.integer({ min: 0, max: 4294967295 }), branch: token,
  });
  fc.assert(fc.property(arb, ({ method, uri, extra, body, seq, branch }) => {
    const m = createRequest({
      method, uri, body,
      headers: [['Via', `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK${branch}`], ['Max-Forwards', '70'], ['From', '"A" <sip:a@ims.test>;tag=1'],
        ['To', '<sip:b@ims.test>'], ['Call-ID', 'c@h'], ['CSeq', `${seq} ${method}`], ...extra],
    });
    const back = parseMessage(serializeMessage(m));
    t.same(comparable(back), comparable(m));
    return true;
  }), { numRuns: 300 });
  t.pass();
});
