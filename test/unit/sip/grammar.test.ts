// Grammar edge cases and the typed header views of the canonical model (issue #2).
import t, { type Test } from 'tap';
import {
  parseMessage, SipParseError, getHeader, getHeaders, contacts, nameAddrList, authValues, chargingVector, privacy,
  optionTags, expires, parseNameAddr, parseUri, formatNameAddr, formatAuth, parseAuthValue, unquote, getParam,
  createResponse, setHeader, addHeader, removeHeader, withBody, serializeMessage, to, tagOf, cseq, callId,
  type ContactBinding, type SipRequest,
} from '../../../core/sip/index.js';

const base = [
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7;rport',
  'Max-Forwards: 70',
  'From: "Alice" <sip:alice@ims.test>;tag=a73kszlfl',
  'To: <sip:alice@ims.test>',
  'Call-ID: 1j9FpLxk3uxtm8tn@ims.test',
];
function msg(extra: string[], cseqLine = 'CSeq: 1 REGISTER', start = 'REGISTER sip:ims.test SIP/2.0'): SipRequest {
  return parseMessage([start, ...base, cseqLine, ...extra, '', ''].join('\r\n')) as SipRequest;
}
function rejects(t: Test, text: string, status: number | 'drop' = 400) {
  const err = t.throws(() => parseMessage(text, { datagram: true })) as SipParseError;
  t.equal(err.status, status, err.reason);
}

t.test('compact header forms are resolved (i f t v m l c k s e o r b x)', async (t) => {
  const m = parseMessage([
    'INVITE sip:bob@ims.test SIP/2.0', 'v: SIP/2.0/UDP h;branch=z9hG4bK1', 'f: <sip:a@ims.test>;tag=1', 't: <sip:bob@ims.test>',
    'i: abc', 'CSeq: 1 INVITE', 'm: <sip:a@h>', 'c: text/plain', 'k: 100rel', 's: hi', 'e: gzip', 'o: presence',
    'r: <sip:c@ims.test>', 'b: <sip:a@ims.test>', 'x: 1800', 'l: 2', '', 'ok',
  ].join('\r\n'));
  t.equal(callId(m), 'abc');
  t.equal(getHeader(m, 'Call-ID'), 'abc');
  t.equal(getHeader(m, 'i'), 'abc');
  t.equal(getHeader(m, 'Supported'), '100rel');
  t.equal(getHeader(m, 'Subject'), 'hi');
  t.equal(getHeader(m, 'Content-Encoding'), 'gzip');
  t.equal(getHeader(m, 'Event'), 'presence');
  t.equal(getHeader(m, 'Refer-To'), '<sip:c@ims.test>');
  t.equal(getHeader(m, 'Referred-By'), '<sip:a@ims.test>');
  t.equal(getHeader(m, 'Session-Expires'), '1800');
  t.equal(getHeader(m, 'content-length'), '2');
  t.equal(getHeader(m, 'CONTENT-TYPE'), 'text/plain', 'case-insensitive');
  t.same(m.headers.map((h) => h.name).slice(0, 3), ['Via', 'From', 'To']);
});

t.test('getHeaders splits list headers but never WWW-Authenticate or unknown headers', async (t) => {
  const m = msg([
    'Route: <sip:pcscf.ims.test;lr>, <sip:scscf.ims.test;lr>', 'Route: <sip:as.ims.test;lr>;x="a,b"',
    'Supported: path, outbound,gruu', 'WWW-Authenticate: Digest realm="ims.test", nonce="a,b", qop="auth"',
    'X-Thing: a, b',
  ]);
  t.same(getHeaders(m, 'Route'), ['<sip:pcscf.ims.test;lr>', '<sip:scscf.ims.test;lr>', '<sip:as.ims.test;lr>;x="a,b"']);
  t.equal(getHeader(m, 'Route'), '<sip:pcscf.ims.test;lr>', 'first value of a list');
  t.same(optionTags(m, 'Supported'), ['path', 'outbound', 'gruu']);
  t.equal(getHeaders(m, 'WWW-Authenticate').length, 1);
  t.same(getHeaders(m, 'X-Thing'), ['a, b']);
  t.same(nameAddrList(m, 'Route').map((r) => r.uri.kind === 'sip' && r.uri.host), ['pcscf.ims.test', 'scscf.ims.test', 'as.ims.test']);
});

t.test('Contact: *, expires, +sip.instance, reg-id, q (RFC 3261 §20.10, RFC 5626 §4.2)', async (t) => {
  const m = msg(['Contact: <sip:x7f@df7jal23ls0d.invalid;transport=ws>;expires=600;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>";reg-id=1;q=0.5']);
  const c = contacts(m)[0] as ContactBinding;
  t.equal(getParam(c.params, 'expires'), '600');
  t.equal(unquote(getParam(c.params, '+sip.instance')), '<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>');
  t.equal(getParam(c.params, 'reg-id'), '1');
  t.ok(c.uri.kind === 'sip' && getParam(c.uri.params, 'transport') === 'ws');
  const star = msg(['Contact: *', 'Expires: 0']);
  t.same(contacts(star), [{ star: true }]);
  t.equal(expires(star), 0);
});

t.test('Authorization: Digest params and both Bearer forms (R-REG-2)', async (t) => {
  const m = msg([
    'Authorization: Digest username="alice@ims.test", realm="ims.test", nonce="abc==", uri="sip:ims.test", response="0123", algorithm=MD5, qop=auth, nc=00000001, cnonce="xyz"',
  ]);
  const d = authValues(m, 'Authorization')[0]!;
  t.equal(d.scheme, 'Digest');
  t.equal(d.params['username'], 'alice@ims.test');
  t.equal(d.params['nc'], '00000001');
  t.equal(d.params['qop'], 'auth');
  t.equal(parseAuthValue('Bearer mF_9.B5f-4.1JqM').token, 'mF_9.B5f-4.1JqM', 'RFC 6750 token68 form');
  t.equal(parseAuthValue('Bearer access_token="eyJhbGciOi.x.y"').token, 'eyJhbGciOi.x.y', 'TS 24.371 A.3.2 form');
  t.equal(formatAuth({ scheme: 'Bearer', params: {}, token: 'abc' }), 'Bearer abc');
  t.equal(formatAuth({ scheme: 'Digest', params: { realm: 'r', qop: 'auth', algorithm: 'MD5' } }, { challenge: true }), 'Digest realm="r", qop="auth", algorithm=MD5');
  t.equal(formatAuth({ scheme: 'Digest', params: { username: 'u', qop: 'auth', nc: '00000001' } }), 'Digest username="u", qop=auth, nc=00000001');
  t.throws(() => parseAuthValue('Digest realm'), SipParseError);
});

t.test('IMS headers: PAI, PPI, P-Associated-URI, P-Charging-Vector, Privacy, Path, Service-Route', async (t) => {
  const m = msg([
    'P-Preferred-Identity: "Alice" <sip:alice@ims.test>', 'P-Asserted-Identity: <sip:alice@ims.test>, <tel:+15551234>',
    'P-Associated-URI: <sip:alice@ims.test>, <sip:+15551234@ims.test;user=phone>',
    'P-Charging-Vector: icid-value="AyretyU0dm+6O2IrT5tAFrbHLso=";orig-ioi=home.ims.test', 'Privacy: id; header ;user',
    'Path: <sip:term@pcscf.ims.test;lr;ob>', 'Service-Route: <sip:orig@scscf.ims.test:6060;lr>',
  ]);
  const pai = nameAddrList(m, 'P-Asserted-Identity');
  t.equal(pai.length, 2);
  t.equal(pai[1]?.uri.kind, 'tel');
  t.equal(nameAddrList(m, 'P-Preferred-Identity')[0]?.displayName, 'Alice');
  t.equal(nameAddrList(m, 'P-Associated-URI').length, 2);
  t.equal(chargingVector(m)?.icidValue, 'AyretyU0dm+6O2IrT5tAFrbHLso=');
  t.same(privacy(m), ['id', 'header', 'user']);
  const path = nameAddrList(m, 'Path')[0]!;
  t.ok(path.uri.kind === 'sip' && path.uri.user === 'term' && getParam(path.uri.params, 'ob') === null);
  const sr = nameAddrList(m, 'Service-Route')[0]!;
  t.ok(sr.uri.kind === 'sip' && sr.uri.port === 6060);
});

t.test('URIs: tel, sips, IPv6, params and headers; formatNameAddr keeps params where they belong', async (t) => {
  const tel = parseUri('tel:+1-201-555-0123;phone-context=ims.test');
  t.ok(tel.kind === 'tel' && tel.number === '+1-201-555-0123');
  const u = parseUri('sips:alice:pw@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi%20there');
  t.ok(u.kind === 'sip' && u.scheme === 'sips' && u.password === 'pw' && u.port === 5061);
  t.ok(u.kind === 'sip' && u.headers[0]?.value === 'hi there');
  const na = parseNameAddr('sip:bob@ims.test;tag=xyz');
  t.ok(na.uri.kind === 'sip' && na.uri.params.length === 0);
  t.equal(formatNameAddr(na), '<sip:bob@ims.test>;tag=xyz');
  t.equal(formatNameAddr(parseNameAddr('"A \\"q\\"" <sip:a@h;lr>;p=1')), '"A \\"q\\"" <sip:a@h;lr>;p=1');
  for (const bad of ['sip:', 'sip:@host', 'sip:host:99999', 'sip:host:', 'sip:a@[::1', 'sip:a@[zz::1]', '<sip:a@h>', 'si p:x', 'sip:a@h;', 'sip:a%2@h']) {
    t.throws(() => parseUri(bad), SipParseError, bad);
  }
});

t.test('malformed input is a coded 400 (or drop for responses), never a crash', async (t) => {
  const ok = ['INVITE sip:b@h SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@h>;tag=1', 'To: <sip:b@h>', 'Call-ID: c', 'CSeq: 1 INVITE'];
  const build = (lines: string[]) => lines.join('\r\n') + '\r\n\r\n';
  t.doesNotThrow(() => parseMessage(build(ok)));
  rejects(t, build(ok.filter((l) => !l.startsWith('Via'))));
  rejects(t, build([...ok, 'Max-Forwards: 256']));
  rejects(t, build([...ok, 'Max-Forwards: x']));
  rejects(t, build([...ok.slice(0, 5), 'CSeq: 4294967296 INVITE']));
  rejects(t, build([...ok.slice(0, 5), 'CSeq: 1']));
  rejects(t, build([...ok, 'Content-Length: 1e3']));
  rejects(t, build([...ok, 'no colon here']));
  rejects(t, build([...ok, 'Bad Name: x']));
  rejects(t, build([' folded-first', ...ok]));
  rejects(t, build(['INVITE sip:b@h SIP/2.0', ' cont', ...ok.slice(1)]));
  rejects(t, build([...ok, 'Contact: <sip:a@h>,,<sip:b@h>']));
  rejects(t, build([...ok, 'Contact: <sip:a@h']));
  rejects(t, build(['INVITE sip:b@h SIP/3.0', ...ok.slice(1)]), 505);
  rejects(t, build(['INVITE sip:b@h HTTP/1.1', ...ok.slice(1)]));
  rejects(t, build(['SIP/2.0 99 Low', ...ok.slice(1)]), 'drop');
  rejects(t, build(['SIP/2.0 700 High', ...ok.slice(1)]), 'drop');
  rejects(t, build(['SIP/2.0 200 OK', ...ok.slice(1, 5)]), 'drop');
  rejects(t, 'garbage');
  rejects(t, '');
  rejects(t, '\r\n\r\n');
  t.equal((t.throws(() => parseMessage(build(ok).replace('\r\n\r\n', '\r\n\r\nbody'))) as SipParseError).status, 400, 'stream: body without Content-Length');
});

t.test('builders: createResponse copies per RFC 3261 §8.2.6.2; edits are immutable', async (t) => {
  const m = msg(['Timestamp: 54', 'Contact: <sip:x@y.invalid;transport=ws>']);
  const r = createResponse(m, 200, undefined, { toTag: 'srv1', headers: [['Expires', '600']] });
  t.equal(r.reason, 'OK');
  t.same(r.headers.map((h) => h.name), ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Timestamp', 'Expires']);
  t.equal(tagOf(to(r)), 'srv1');
  t.equal(tagOf(to(createResponse(m, 100))), undefined, '100 Trying gets no To tag');
  t.equal(cseq(r).seq, 1);
  const m2 = addHeader(m, 'Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKp', { first: true });
  t.match(getHeaders(m2, 'Via')[0] ?? '', /127\.0\.0\.1/);
  t.equal(getHeaders(m, 'Via').length, 1, 'the original is untouched');
  const m3 = setHeader(removeHeader(m2, 'Timestamp'), 'Max-Forwards', '69');
  t.equal(getHeader(m3, 'Max-Forwards'), '69');
  t.equal(getHeader(m3, 'Timestamp'), undefined);
  const m4 = withBody(m3, 'v=0\r\n', 'application/sdp');
  t.match(serializeMessage(m4).toString(), /Content-Type: application\/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n$/);
  t.throws(() => createResponse(m, 99));
});
