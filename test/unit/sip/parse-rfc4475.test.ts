// RFC 4475 (SIP torture test messages): every message, valid accepted with the semantics the RFC
// spells out, invalid rejected with the status the RFC names. Fixtures: test/fixtures/rfc4475.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ACCEPTED_INVALID, EXPECTED_REJECTION } from '../../support/rfc4475.js';
import {
  parseMessage, SipParseError, getHeader, getHeaders, from, to, tagOf, contacts, vias, cseq, maxForwards,
  authValues, bodyText, getParam, type SipMessage, type SipRequest, type ContactBinding,
} from '../../../core/sip/index.js';

const dir = new URL('../../fixtures/rfc4475/', import.meta.url);
const load = (name: string) => readFileSync(new URL(name, dir));
const parse = (name: string) => parseMessage(load(name), { datagram: true });
const req = (name: string) => parse(name) as SipRequest;
const binding = (c: ReturnType<typeof contacts>[number]) => c as ContactBinding;

const index = readFileSync(new URL('index.tsv', dir), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));

/** The status RFC 4475 §3.1.2 / §3.3 names for each invalid message. */

t.test('RFC 4475: all 49 torture messages are present', async (t) => {
  t.equal(index.length, 49);
});

for (const [file, verdict, note] of index as [string, string, string][]) {
  const section = note.split(' ')[0];
  if (verdict === 'valid' || ACCEPTED_INVALID.has(file)) {
    t.test(`RFC 4475 ${section} ${file}: accepted as well-formed`, async (t) => {
      t.doesNotThrow(() => parse(file));
    });
  } else {
    t.test(`RFC 4475 ${section} ${file}: rejected with ${EXPECTED_REJECTION[file]}`, async (t) => {
      const err = t.throws(() => parse(file)) as unknown;
      t.ok(err instanceof SipParseError, 'a SipParseError, not a crash');
      t.equal((err as SipParseError).status, EXPECTED_REJECTION[file]);
      t.ok((err as SipParseError).reason.length > 5, 'with a reason a client can read');
    });
  }
}

t.test('RFC 4475 §3.1.1.1 wsinv: folding, LWS, compact forms, leading zeros, opaque unknown headers', async (t) => {
  const m = req('wsinv.dat');
  t.equal(m.method, 'INVITE');
  t.equal(maxForwards(m), 68);
  t.same(cseq(m), { seq: 9, method: 'INVITE' });
  t.equal(tagOf(to(m)), '1918181833n');
  t.equal(from(m).displayName, 'J Rosenberg \\"');
  t.equal(tagOf(from(m)), '98asjd8');
  const v = vias(m);
  t.equal(v.length, 3);
  t.equal(v[0]?.transport, 'UDP');
  t.equal(v[0]?.host, '192.0.2.2');
  t.equal(v[1]?.branch, 'z9hG4bK9ikj8');
  t.equal(v[2]?.branch, 'z9hG4bK30239');
  t.equal(getHeader(m, 'Subject'), '');
  t.equal(getHeader(m, 'NewFangledHeader'), 'newfangled value continued newfangled value');
  t.equal(getHeader(m, 'UnknownHeaderWithUnusualValue'), ';;,,;;,;', 'kept opaque, never split or parsed');
  const c = binding(contacts(m)[0]!);
  t.equal(c.displayName, 'Quoted string ""');
  t.equal(getParam(c.params, 'newparam'), 'newvalue');
  t.equal(getParam(c.params, 'q'), '0.33');
  t.equal(m.body.length, 150);
});

t.test('RFC 4475 §3.1.1.2 intmeth: unusual but legal characters everywhere', async (t) => {
  const m = req('intmeth.dat');
  t.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
  t.equal(m.uri.kind, 'sip');
  if (m.uri.kind === 'sip') {
    t.equal(m.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    t.equal(m.uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  }
  t.equal(to(m).displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f', 'quoted-pairs resolve to the raw octets');
  t.equal(from(m).displayName, "token1~` token2'+_ token3*%!.-");
  t.equal(getHeader(m, 'Call-ID'), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
});

t.test('RFC 4475 §3.1.1.3 esc01: %-escapes are undone exactly once', async (t) => {
  const m = req('esc01.dat');
  if (m.uri.kind !== 'sip') throw new Error('sip uri expected');
  t.equal(m.uri.user, 'sips:user@example.com');
  const c = binding(contacts(m)[0]!);
  if (c.uri.kind !== 'sip') throw new Error('sip uri expected');
  t.equal(c.uri.user, 'caller');
  t.same(c.uri.params, [{ name: 'lr', value: null }, { name: 'name', value: 'value%41' }], 'value%41, not valueA');
});

t.test('RFC 4475 §3.1.1.4 escnull: escaped NULs do not truncate the user part', async (t) => {
  const m = req('escnull.dat');
  const to0 = to(m).uri;
  t.ok(to0.kind === 'sip' && to0.user === 'null-\x00-null');
  t.equal(contacts(m).length, 2);
});

t.test('RFC 4475 §3.1.1.5 esc02: % in a method or header name is not an escape', async (t) => {
  const m = req('esc02.dat');
  t.equal(m.method, 'RE%47IST%45R', 'an unknown method, not REGISTER');
  t.equal(contacts(m).length, 2, 'C%6Fntact is an unknown header, not a third Contact');
  t.equal(getHeaders(m, 'C%6Fntact').length, 1);
  t.equal(from(m).displayName, '%Z%45');
});

t.test('RFC 4475 §3.1.1.8 dblreq: octets after Content-Length in a datagram are ignored', async (t) => {
  const m = req('dblreq.dat');
  t.equal(m.method, 'REGISTER');
  t.equal(m.body.length, 0);
});

t.test('RFC 4475 §3.1.1.9 semiuri: semicolons in the user part belong to the user', async (t) => {
  const m = req('semiuri.dat');
  t.ok(m.uri.kind === 'sip' && m.uri.user === 'user;par=u@example.net');
  t.ok(m.uri.kind === 'sip' && m.uri.params.length === 0);
});

t.test('RFC 4475 §3.1.1.11 mpart01: a binary multipart body is framed by Content-Length, NULs kept', async (t) => {
  const m = req('mpart01.dat');
  t.equal(m.body.length, Number(getHeader(m, 'Content-Length')));
  t.ok(m.body.includes(0), 'the binary part with NUL octets is intact');
  t.match(getHeader(m, 'Content-Type') ?? '', /^multipart\/mixed/);
});

t.test('RFC 4475 §3.1.1.12-13: unusual and empty reason phrases', async (t) => {
  const u = parse('unreason.dat') as SipMessage;
  t.ok(u.kind === 'response' && u.status === 200 && /\u{2300}|[^\x00-\x7f]/u.test(u.reason));
  const n = parse('noreason.dat');
  t.ok(n.kind === 'response' && n.status === 100 && n.reason === '');
});

t.test('RFC 4475 §3.3.2-3.3.4: unknown URI schemes are kept opaque', async (t) => {
  const m = req('unkscm.dat');
  t.equal(m.uri.kind, 'absolute');
  t.equal(m.uri.scheme, 'nobodyknowsthisscheme');
  const n = req('novelsc.dat');
  t.equal(n.uri.scheme, 'soap.beep');
  const r = req('unksm2.dat');
  t.equal(to(r).uri.kind, 'absolute');
});

t.test('RFC 4475 §3.3.7 regaut01: an unknown Authorization scheme parses and stays opaque', async (t) => {
  const m = req('regaut01.dat');
  const a = authValues(m, 'Authorization')[0];
  t.equal(a?.scheme, 'NoOneKnowsThisScheme');
});

t.test('RFC 4475 §3.3.11 zeromf: Max-Forwards 0 is legal', async (t) => {
  t.equal(maxForwards(req('zeromf.dat')), 0);
});

t.test('RFC 4475 §3.3.12-13 cparam01/02: Contact params outside <> are header params, inside are URI params', async (t) => {
  const c1 = binding(contacts(req('cparam01.dat'))[0]!);
  t.ok(c1.uri.kind === 'sip' && c1.uri.params.length === 0, 'no URI parameter');
  t.equal(getParam(c1.params, 'unknownparam'), null, 'a header parameter');
  const c2 = binding(contacts(req('cparam02.dat'))[0]!);
  t.ok(c2.uri.kind === 'sip' && getParam(c2.uri.params, 'unknownparam') === null, 'a URI parameter');
  t.equal(c2.params.length, 0);
});

t.test('RFC 4475 §3.3.14 regescrt: an escaped header in a Contact URI is kept', async (t) => {
  const c = binding(contacts(req('regescrt.dat'))[0]!);
  t.ok(c.uri.kind === 'sip');
  if (c.uri.kind === 'sip') t.same(c.uri.headers, [{ name: 'Route', value: '<sip:sip.example.com>' }]);
});

t.test('RFC 4475 §3.4.1 inv2543: no Content-Length in a datagram means the rest of the datagram', async (t) => {
  const m = req('inv2543.dat');
  t.ok(m.body.length > 0);
  t.match(bodyText(m), /^v=0/);
});

t.test('RFC 4475 §3.1.2.2 clerr: a stream-framed message may not claim more body than it has', async (t) => {
  const err = t.throws(() => parseMessage(load('clerr.dat'))) as SipParseError;
  t.equal(err.status, 400);
});
